// Server

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
export type { RedisBusOptions } from './redis-bus.js';
export { redisBus } from './redis-bus.js';
export type {
  ChatServerOptions,
  ChatStats,
  CloseOptions,
  FloodControlOptions,
  ListenOptions,
  SendQueueOptions,
} from './server.js';
export { ChatServer, createChatServer } from './server.js';
export { VERSION } from './version.js';
