// Server

export type {
  ChatServerOptions,
  CloseOptions,
  FloodControlOptions,
  ListenOptions,
  SendQueueOptions,
} from './options.js';
export { hashPassword, hashScram } from './passwords.js';
export type { ChatStats } from './server.js';
export { ChatServer, createChatServer } from './server.js';
export type { ChatTlsOptions, StsOptions } from './tls-options.js';
export { VERSION } from './version.js';
export type { WebOptions, WebTlsOptions } from './web-options.js';

// Client

export type { ChatClientOptions, ChatEvent } from './client.js';
export { ChatClient } from './client.js';

// Buses and shared stores

export { memoryBus } from './bus.js';
export type { RedisAccountStoreOptions } from './redis-account-store.js';
export { redisAccountStore } from './redis-account-store.js';
export type { RedisBusOptions } from './redis-bus.js';
export { redisBus } from './redis-bus.js';

// Errors

export type { ChatErrorCode } from './errors.js';
export { ChatError } from './errors.js';

// For bus and account-store authors: what travels between nodes, and the account seam

export type { ChatAccountStore } from './account-store.js';
export type {
  BusEvent,
  BusHandler,
  BusNode,
  BusRemoteStats,
  BusStats,
  ChatBus,
  HistoryEntry,
  HistoryQuery,
  HistoryStore,
  MsgKind,
  PrivateTarget,
  StampedEvent,
} from './bus.js';
