import { redactUrl } from '@asyncnet/streams/adapter';
import type { Redis } from 'ioredis';
import type { ChatAccountStore } from './account-store.js';
import { ChatError } from './errors.js';
import { accountNameProblem, DUMMY_HASH, MAX_PASSWORD_BYTES } from './internal/account-limits.js';
import { foldCase } from './internal/casemap.js';
import { parseScram } from './internal/scram.js';
import { hashPassword, hashScram, isPasswordHash, verifyPassword } from './passwords.js';

/** Options for {@link redisAccountStore}. */
export interface RedisAccountStoreOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /**
   * Prefix of every key (accounts are `<prefix>:account:<folded name>`); the default store of a
   * `redisBus` uses the bus's own prefix. @default 'asyncnet:chat'
   */
  prefix?: string;
  /**
   * Ms one Redis command may take; past it the login or registration fails with a reply saying
   * accounts are unavailable (a stalled Redis must not hang a client's login). @default 2000
   */
  commandTimeout?: number;
  /** Longest wait between reconnect attempts. @default 2000 */
  maxRetryDelay?: number;
}

/** Largest account record read back from Redis (name, scrypt hash, SCRAM credentials as JSON). */
const MAX_RECORD = 2_048;

interface StoredAccount {
  name: string;
  hash: string;
  scram?: string;
}

/** A record read from Redis is input like any other: null unless every field is sane. */
function parseRecord(raw: string | null, folded: string): StoredAccount | null {
  if (raw === null || raw.length > MAX_RECORD) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (typeof r.name !== 'string' || accountNameProblem(r.name) !== null || foldCase(r.name) !== folded)
    return null;
  if (!isPasswordHash(r.hash)) return null;
  const out: StoredAccount = { name: r.name, hash: r.hash };
  if (typeof r.scram === 'string' && parseScram(r.scram) !== null) out.scram = r.scram;
  return out;
}

function unavailable(url: string, err: unknown): ChatError {
  return new ChatError(
    'ERR_ACCOUNTS_UNAVAILABLE',
    `account store at ${redactUrl(url)} did not answer: ${(err as Error).message ?? String(err)}`,
    { cause: err },
  );
}

/**
 * Accounts in Redis, shared by every node on it (ioredis, loaded when the first server using the
 * store starts listening). An account is one key, `<prefix>:account:<folded name>`, holding its
 * spelling, its scrypt hash and its SCRAM-SHA-256 credentials, never the password. Registration is
 * `SET ... NX`, so when two nodes register one name at once exactly one wins and the other's
 * client is told the name is taken. While Redis is unreachable `available()` is false: servers
 * withdraw SASL and registration from IRC clients with `CAP DEL` and offer them again with
 * `CAP NEW` once it answers; a command that fails mid-login fails that login with a clear reply.
 *
 * The default account store of a server whose bus is a `redisBus` (same URL and prefix); create
 * one yourself to use another Redis, prefix or timeout.
 *
 * @param options - `url`, `prefix`, timeouts
 * @returns a store to pass as `createChatServer({ accounts: { store } })`
 * @example
 * ```ts
 * const store = redisAccountStore({ url: 'redis://127.0.0.1:6379', prefix: 'team' });
 * const server = createChatServer({ accounts: { store, registration: true } });
 * await server.listen({ ircPort: 6667 });
 * ```
 */
export function redisAccountStore(options: RedisAccountStoreOptions): ChatAccountStore {
  if (typeof options?.url !== 'string' || options.url === '')
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option url must be a Redis URL, got ${String(options?.url)}`,
    );
  return new RedisAccounts(options);
}

class RedisAccounts implements ChatAccountStore {
  readonly #url: string;
  readonly #prefix: string;
  readonly #commandTimeout: number;
  readonly #maxDelay: number;
  #client: Redis | null = null;
  #opening: Promise<void> | null = null;
  /** Servers that opened the store and have not closed it yet. */
  #users = 0;
  #up = false;
  readonly #listeners = new Set<(up: boolean) => void>();

  constructor(o: RedisAccountStoreOptions) {
    this.#url = o.url;
    this.#prefix = o.prefix ?? 'asyncnet:chat';
    this.#commandTimeout = o.commandTimeout ?? 2_000;
    this.#maxDelay = o.maxRetryDelay ?? 2_000;
    for (const [k, v] of [
      ['commandTimeout', this.#commandTimeout],
      ['maxRetryDelay', this.#maxDelay],
    ] as const)
      if (typeof v !== 'number' || !(v > 0))
        throw new ChatError(
          'ERR_INVALID_ARGUMENT',
          `option ${k} must be a positive number, got ${String(v)}`,
        );
  }

  #key(folded: string): string {
    return `${this.#prefix}:account:${folded}`;
  }

  #set(up: boolean): void {
    if (up === this.#up) return;
    this.#up = up;
    for (const l of [...this.#listeners]) l(up);
  }

  available(): boolean {
    return this.#up;
  }

  onAvailability(listener: (available: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  open(): Promise<void> {
    this.#users++;
    this.#opening ??= this.#connect();
    return this.#opening;
  }

  async #connect(): Promise<void> {
    // Loaded here, not at module load: servers without Redis never need ioredis.
    const { Redis: RedisClient } = await import('ioredis');
    const client: Redis = new RedisClient(this.#url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.#commandTimeout,
      connectTimeout: this.#commandTimeout,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), this.#maxDelay),
    });
    this.#client = client;
    // Errors show as unavailability (CAP DEL); the store has no log of its own.
    client.on('error', () => {});
    client.on('ready', () => this.#set(true));
    client.on('close', () => this.#set(false));
    // A Redis that is down at start is not fatal: the store is unavailable until it answers.
    await client.connect().catch(() => {});
  }

  async close(): Promise<void> {
    if (this.#users === 0) return;
    this.#users--;
    if (this.#users > 0) return;
    // An open that failed (ioredis missing) has nothing to close.
    await this.#opening?.catch(() => {});
    const client = this.#client;
    this.#client = null;
    this.#opening = null;
    if (client === null) return;
    if (client.status === 'ready') {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        client.quit().catch(() => {}),
        new Promise<void>((r) => {
          timer = setTimeout(r, 1_000);
        }),
      ]);
      clearTimeout(timer);
    }
    client.disconnect();
    this.#set(false);
  }

  async #get(folded: string): Promise<StoredAccount | null> {
    const client = this.#client;
    if (client === null) throw unavailable(this.#url, new Error('store is not open'));
    let raw: string | null;
    try {
      raw = await client.get(this.#key(folded));
    } catch (err) {
      throw unavailable(this.#url, err);
    }
    return parseRecord(raw, folded);
  }

  async exists(name: string): Promise<boolean> {
    if (accountNameProblem(name) !== null) return false;
    return (await this.#get(foldCase(name))) !== null;
  }

  async verify(name: string, password: string): Promise<string | null> {
    const a =
      accountNameProblem(name) === null && Buffer.byteLength(password) <= MAX_PASSWORD_BYTES
        ? await this.#get(foldCase(name))
        : null;
    if (a === null) {
      // The same time as a real check, so probing names by timing gains nothing.
      await verifyPassword(password.slice(0, MAX_PASSWORD_BYTES), DUMMY_HASH);
      return null;
    }
    return (await verifyPassword(password, a.hash)) ? a.name : null;
  }

  async scramCredentials(name: string): Promise<{ account: string; scram: string } | null> {
    if (accountNameProblem(name) !== null) return null;
    const a = await this.#get(foldCase(name));
    return a?.scram === undefined ? null : { account: a.name, scram: a.scram };
  }

  async register(name: string, password: string): Promise<boolean> {
    const problem = accountNameProblem(name);
    if (problem !== null) throw new ChatError('ERR_INVALID_ARGUMENT', `account name: ${problem}`);
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
      throw new ChatError('ERR_INVALID_ARGUMENT', `password is over ${MAX_PASSWORD_BYTES} bytes`);
    const client = this.#client;
    if (client === null) throw unavailable(this.#url, new Error('store is not open'));
    const record: StoredAccount = {
      name,
      hash: await hashPassword(password),
      scram: await hashScram(password),
    };
    let res: string | null;
    try {
      // NX: of two nodes registering the name at once, exactly one sets it.
      res = await client.set(this.#key(foldCase(name)), JSON.stringify(record), 'NX');
    } catch (err) {
      throw unavailable(this.#url, err);
    }
    return res === 'OK';
  }
}
