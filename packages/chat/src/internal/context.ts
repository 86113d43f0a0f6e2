import type { ChatAccountStore } from '../account-store.js';
import type { ResolvedTls } from '../tls-options.js';
import type { Hub } from './hub.js';

/** The transport surface the chat front ends use (a subset of streams' StreamTransport). */
export interface ChatTransport {
  write(data: Uint8Array | string): void;
  close(): void;
  abort(err?: Error): void;
  isClosing(): boolean;
  pauseReading(): void;
  resumeReading(): void;
  getWriteBufferSize(): number;
  getExtraInfo(name: string, dflt?: unknown): unknown;
  setListener(listener: {
    data(chunk: Uint8Array): void;
    // biome-ignore lint/suspicious/noConfusingVoidType: matches streams' TransportListener
    eof(): boolean | undefined | void;
    writePaused?(): void;
    writeResumed?(): void;
    closed(error: Error | null): void;
  }): void;
}

/** Options after defaults are applied. */
export interface Resolved {
  serverName: string;
  network: string;
  maxLineLength: number;
  nickMaxLength: number;
  roomMaxLength: number;
  registrationTimeout: number;
  pingInterval: number;
  pingTimeout: number;
  idleTimeout: number;
  flood: { burst: number; rate: number; maxQueued: number } | null;
  maxConnectionsPerIp: number;
  sendQueue: { soft: number; hard: number; stuckMs: number };
  closeGrace: number;
  motd: string[];
  defaultRoom: string;
  maxRoomsPerClient: number;
  topicMaxLength: number;
  kickMaxLength: number;
  awayMaxLength: number;
  maxBans: number;
  /** Server password (PASS), plain or an scrypt hash; null when none. */
  password: string | null;
  operators: ReadonlyArray<{ name: string; password: string }>;
  admin: { location: string; email: string };
  /** Whether clients may create accounts (REGISTER, /register). */
  registration: boolean;
  /** Ms a member holding a registered account's nick has to log in (0: no nick ownership). */
  nickGrace: number;
  /** TLS for the IRC `tlsPort` listener; null when not configured. */
  tls: ResolvedTls | null;
}

/** Shared state of one server, handed to every connection. */
export interface Ctx {
  readonly opts: Resolved;
  readonly hub: Hub;
  /** Null when no `accounts` option is given (no SASL, no /login). */
  readonly accounts: ChatAccountStore | null;
  readonly disconnects: Record<string, number>;
  readonly conns: Set<{
    sweep(now: number): void;
    shutdown(notice: string): void;
    queueBytes(): number;
    queuePeak(): number;
  }>;
  readonly perIp: Map<string, number>;
  readonly log: (line: string) => void;
  readonly createdAt: Date;
  /** The TLS IRC listener's port once listening (STS `port=`), else null. */
  tlsPort: number | null;
  drops: number;
  peakQueue: number;
  closing: boolean;
}
