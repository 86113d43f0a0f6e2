// Server

// Accounts
export type { ChatAccountStore } from './account-store.js';
// Buses
// For bus authors: what travels between nodes
export type { BusEvent, BusHandler, BusNode, BusStats, ChatBus, MsgKind, StampedEvent } from './bus.js';
export { memoryBus } from './bus.js';
// Client
export type { ChatClientOptions, ChatEvent } from './client.js';
export { ChatClient } from './client.js';
// Errors
export type { ChatErrorCode } from './errors.js';
export { ChatError } from './errors.js';
export type {
  ChatServerOptions,
  CloseOptions,
  FloodControlOptions,
  ListenOptions,
  SendQueueOptions,
} from './options.js';
export { hashPassword } from './passwords.js';
export type { RedisBusOptions } from './redis-bus.js';
export { redisBus } from './redis-bus.js';
export type { ChatStats } from './server.js';
export { ChatServer, createChatServer } from './server.js';
export type { ChatTlsOptions, StsOptions } from './tls-options.js';
export { VERSION } from './version.js';
export type { WebOptions, WebTlsOptions } from './web-options.js';
