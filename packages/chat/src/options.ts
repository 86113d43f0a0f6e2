import type { ChatAccountStore } from './account-store.js';
import type { ChatBus } from './bus.js';
import { ChatError } from './errors.js';
import { roomProblem } from './internal/casemap.js';
import type { Resolved } from './internal/context.js';
import { isPasswordHash } from './passwords.js';
import { type ChatTlsOptions, resolveTlsOptions } from './tls-options.js';
import type { WebOptions } from './web-options.js';

/** Per-client send queue limits. */
export interface SendQueueOptions {
  /** Over this many queued bytes the oldest room messages are dropped (the client is told). @default 1048576 */
  soft?: number;
  /** Over this many queued bytes that cannot be dropped the client is disconnected. @default 4194304 */
  hard?: number;
  /** A client that stays over `soft` this long is disconnected. @default 30000 */
  stuckTimeout?: number;
}

/** Token-bucket flood control per client. */
export interface FloodControlOptions {
  /** Lines a client may send at once. @default 10 */
  burst?: number;
  /** Lines per second refilled. @default 2 */
  rate?: number;
  /**
   * Lines held back (delayed, never dropped) before the client is disconnected with
   * `ERROR :Excess Flood`. @default 100
   */
  maxQueued?: number;
}

/** Options for {@link createChatServer}. */
export interface ChatServerOptions {
  /** The bus shared with other nodes. @default a private {@link memoryBus} */
  bus?: ChatBus;
  /** Server name used as the IRC prefix. @default 'asyncnet.chat' */
  serverName?: string;
  /** Network name in IRC's 001 and 005. @default 'asyncnet' */
  network?: string;
  /** Longest plain-protocol line in bytes (IRC is fixed at 512 with CRLF). @default 1024 */
  maxLineLength?: number;
  /** Longest nick. @default 30 */
  nickMaxLength?: number;
  /** Longest room name. @default 50 */
  roomMaxLength?: number;
  /** A connection that has not registered (sent a valid nick) after this many ms is closed. @default 30000 */
  registrationTimeout?: number;
  /** IRC clients silent this long get a PING. 0 disables. @default 90000 */
  pingInterval?: number;
  /** An IRC client that does not answer a PING within this many ms is disconnected. @default 60000 */
  pingTimeout?: number;
  /** Plain clients silent this long are disconnected (nc cannot answer PING). 0 disables. @default 0 */
  idleTimeout?: number;
  /** Per-client flood control; `false` turns it off (benchmarks). @default { burst: 10, rate: 2 } */
  floodControl?: boolean | FloodControlOptions;
  /** Connections allowed from one IP address. 0 means unlimited. @default 32 */
  maxConnectionsPerIp?: number;
  /** Messages per room replayed on join. @default 20 */
  history?: number;
  /** Per-client send queue limits. */
  sendQueue?: SendQueueOptions;
  /** Message of the day lines (IRC). @default ['welcome to asyncnet chat'] */
  motd?: string[];
  /** Room plain clients join after registering. @default '#lobby' */
  defaultRoom?: string;
  /** Rooms one IRC client may be in at once (005 CHANLIMIT); more get 405. @default 20 */
  maxRoomsPerClient?: number;
  /** Longest topic (005 TOPICLEN); longer ones are cut. @default 390 */
  topicMaxLength?: number;
  /** Longest kick reason (005 KICKLEN). @default 255 */
  kickMaxLength?: number;
  /** Longest away message (005 AWAYLEN). @default 200 */
  awayMaxLength?: number;
  /**
   * Entries per room across the ban (+b), ban exception (+e) and invite exception (+I) lists
   * together (005 MAXLIST=beI; a MODE adding one more gets 478 ERR_BANLISTFULL). @default 100
   */
  maxBans?: number;
  /**
   * Server password every connection must send with PASS (IRC; 464 otherwise). Plain text or a
   * {@link hashPassword} hash. @default none
   */
  password?: string;
  /** IRC operators for OPER: name and a {@link hashPassword} hash. @default [] */
  operators?: Array<{ name: string; password: string }>;
  /**
   * Accounts for SASL PLAIN and SCRAM-SHA-256, `/login`, REGISTER and `/register`. Where they live:
   * `store` (your own {@link ChatAccountStore}, e.g. {@link redisAccountStore}); else `file`, a
   * JSON file on this node (created on first registration); else, when the bus is a
   * {@link redisBus}, Redis (same URL and prefix: an account registered on one node logs in on
   * every node); else memory. `users` are accounts from the configuration, checked before the
   * store: name -> {@link hashPassword} hash, or `{ password, scram }` with a {@link hashScram}
   * result for SCRAM logins (a bare hash logs in with PLAIN only). `registration` lets clients
   * create accounts; `nickGrace` is how many ms someone using a registered account's name as nick
   * has to log in before being renamed to a guest nick (0 turns nick ownership off).
   * @default none (no logins)
   */
  accounts?: {
    /** @default {} */
    users?: Record<string, string | { password: string; scram?: string }>;
    /** @default none (memory, or Redis with a redisBus) */
    file?: string;
    /** @default false */
    registration?: boolean;
    /** @default as described above */
    store?: ChatAccountStore;
    /** @default 30000 */
    nickGrace?: number;
  };
  /** TLS for the IRC listener on `tlsPort` (certificate files, reloadable; optional STS). @default none */
  tls?: ChatTlsOptions;
  /** ADMIN replies. @default { location: 'asyncnet chat server', email: '' } */
  admin?: { location?: string; email?: string };
  /** Per-connection transport write-buffer high-water mark in bytes. @default 65536 */
  highWaterMark?: number;
  /**
   * Another node silent this long (no events, no heartbeat) is presumed crashed and its members
   * leave; each node sends a heartbeat every quarter of it. @default 20000
   */
  nodeTimeout?: number;
  /** Where log lines go. @default one line to stderr */
  log?: (line: string) => void;
  /**
   * The web front end (IRC over WebSocket plus the bundled web client), started by
   * {@link ChatServer.listen} beside the other listeners. @default none
   */
  web?: WebOptions;
}

/** Where to listen. */
export interface ListenOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** Plain-protocol port; 0 picks a free one. @default 0 */
  port?: number;
  /** IRC port; 0 picks a free one; omitted means no IRC listener. */
  ircPort?: number;
  /** IRC-over-TLS port (needs the `tls` option; 6697 by convention); omitted means none. */
  tlsPort?: number;
}

/** Options for {@link ChatServer.close}. */
export interface CloseOptions {
  /** Ms to flush clients' queues before connections are aborted. @default 5000 */
  timeout?: number;
}

/** Validates a numeric option. */
export function positive(name: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`,
    );
  }
  return value;
}

/** Validates a text option that goes on the wire (no line breaks; `word`: no spaces either). */
function text(name: string, value: string, word: boolean): string {
  if (typeof value !== 'string' || value === '' || /[\r\n\0]/.test(value) || (word && /\s/.test(value))) {
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option ${name} must be a non-empty string without line breaks${word ? ' or spaces' : ''}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Applies defaults and validates every limit. */
export function resolveOptions(o: ChatServerOptions): Resolved {
  const fc = o.floodControl ?? true;
  const flood =
    fc === false
      ? null
      : {
          burst: positive('floodControl.burst', (fc === true ? undefined : fc.burst) ?? 10),
          rate: positive('floodControl.rate', (fc === true ? undefined : fc.rate) ?? 2),
          maxQueued: positive('floodControl.maxQueued', (fc === true ? undefined : fc.maxQueued) ?? 100),
        };
  const sq = o.sendQueue ?? {};
  const soft = positive('sendQueue.soft', sq.soft ?? 1_048_576);
  const hard = positive('sendQueue.hard', sq.hard ?? 4 * 1_048_576);
  if (hard < soft)
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option sendQueue.hard (${hard}) must be >= sendQueue.soft (${soft})`,
    );
  const roomMaxLength = positive('roomMaxLength', o.roomMaxLength ?? 50);
  const defaultRoom = o.defaultRoom ?? '#lobby';
  const problem = roomProblem(defaultRoom, roomMaxLength);
  if (problem !== null) throw new ChatError('ERR_INVALID_ARGUMENT', `option defaultRoom: ${problem}`);
  const motd = o.motd ?? ['welcome to asyncnet chat'];
  for (const line of motd) text('motd', line, false);
  return {
    serverName: text('serverName', o.serverName ?? 'asyncnet.chat', true),
    network: text('network', o.network ?? 'asyncnet', true),
    maxLineLength: positive('maxLineLength', o.maxLineLength ?? 1024),
    nickMaxLength: positive('nickMaxLength', o.nickMaxLength ?? 30),
    roomMaxLength,
    registrationTimeout: positive('registrationTimeout', o.registrationTimeout ?? 30_000),
    pingInterval: positive('pingInterval', o.pingInterval ?? 90_000, true),
    pingTimeout: positive('pingTimeout', o.pingTimeout ?? 60_000),
    idleTimeout: positive('idleTimeout', o.idleTimeout ?? 0, true),
    flood,
    maxConnectionsPerIp: positive('maxConnectionsPerIp', o.maxConnectionsPerIp ?? 32, true),
    sendQueue: { soft, hard, stuckMs: positive('sendQueue.stuckTimeout', sq.stuckTimeout ?? 30_000) },
    closeGrace: 5_000,
    motd,
    defaultRoom,
    maxRoomsPerClient: positive('maxRoomsPerClient', o.maxRoomsPerClient ?? 20),
    topicMaxLength: positive('topicMaxLength', o.topicMaxLength ?? 390),
    kickMaxLength: positive('kickMaxLength', o.kickMaxLength ?? 255),
    awayMaxLength: positive('awayMaxLength', o.awayMaxLength ?? 200),
    maxBans: positive('maxBans', o.maxBans ?? 100),
    password: o.password === undefined ? null : text('password', o.password, true),
    operators: (o.operators ?? []).map((op, k) => {
      text(`operators[${k}].name`, op?.name, true);
      if (!isPasswordHash(op.password))
        throw new ChatError(
          'ERR_INVALID_ARGUMENT',
          `option operators[${k}].password must be a hashPassword() hash, got ${JSON.stringify(String(op.password).slice(0, 12))}`,
        );
      return { name: op.name, password: op.password };
    }),
    registration: o.accounts?.registration ?? false,
    nickGrace: positive('accounts.nickGrace', o.accounts?.nickGrace ?? 30_000, true),
    tls: resolveTlsOptions(o.tls),
    admin: {
      location: text('admin.location', o.admin?.location ?? 'asyncnet chat server', false),
      email: o.admin?.email ?? '',
    },
  };
}
