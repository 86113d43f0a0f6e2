import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { ChatAccountStore } from '../account-store.js';
import type { ChatBus } from '../bus.js';
import { ChatError } from '../errors.js';
import type { ChatServerOptions } from '../options.js';
import { hashPassword, hashScram, isPasswordHash, verifyPassword } from '../passwords.js';
import { redisAccountStore } from '../redis-account-store.js';
import { accountNameProblem, DUMMY_HASH, MAX_PASSWORD_BYTES } from './account-limits.js';
import { foldCase } from './casemap.js';
import { redisBusConfig } from './redis-bus-config.js';
import { parseScram } from './scram.js';

/** One account in `accounts.users` or the file: a scrypt hash, or that plus SCRAM credentials. */
export type AccountEntry = string | { password: string; scram?: string };

interface Account {
  name: string;
  hash: string;
  scram: string | null;
}

function entryOf(name: string, v: unknown): Account {
  const hash = typeof v === 'object' && v !== null ? (v as { password?: unknown }).password : v;
  const scram = typeof v === 'object' && v !== null ? (v as { scram?: unknown }).scram : undefined;
  if (!isPasswordHash(hash))
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `account ${JSON.stringify(name)} needs a hashPassword() hash`,
    );
  if (scram !== undefined && parseScram(scram) === null)
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `account ${JSON.stringify(name)}: scram must be a hashScram() result, got ${JSON.stringify(String(scram).slice(0, 20))}`,
    );
  return { name, hash, scram: (scram as string | undefined) ?? null };
}

/**
 * Accounts for one node: name -> scrypt hash (and SCRAM credentials), in memory and optionally in
 * a JSON file (`{ "alice": "scrypt$..." }` or `{ "alice": { "password": "scrypt$...", "scram":
 * "scram-sha-256$..." } }`) rewritten atomically on every registration.
 */
export class AccountStore implements ChatAccountStore {
  readonly #accounts = new Map<string, Account>();
  readonly #file: string | null;
  #saving: Promise<void> = Promise.resolve();

  constructor(users: Record<string, AccountEntry>, file: string | null) {
    this.#file = file;
    let fromFile: Record<string, unknown> = {};
    if (file !== null) {
      try {
        fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          throw new ChatError(
            'ERR_INVALID_ARGUMENT',
            `option accounts.file: cannot read ${file}: ${(err as Error).message}`,
            { cause: err },
          );
      }
    }
    for (const [name, v] of Object.entries({ ...fromFile, ...users }))
      this.#accounts.set(foldCase(name), entryOf(name, v));
  }

  /** Whether `name` is one of this store's accounts (no await: the layered store asks first). */
  has(name: string): boolean {
    return this.#accounts.has(foldCase(name));
  }

  async exists(name: string): Promise<boolean> {
    return this.has(name);
  }

  /** The account's own spelling when `password` is right, else null. */
  async verify(name: string, password: string): Promise<string | null> {
    const a =
      Buffer.byteLength(password) <= MAX_PASSWORD_BYTES ? this.#accounts.get(foldCase(name)) : undefined;
    if (a === undefined) {
      // Spend the same time as a real check, so probing names by timing gains nothing.
      await verifyPassword(password.slice(0, MAX_PASSWORD_BYTES), DUMMY_HASH);
      return null;
    }
    return (await verifyPassword(password, a.hash)) ? a.name : null;
  }

  async scramCredentials(name: string): Promise<{ account: string; scram: string } | null> {
    const a = this.#accounts.get(foldCase(name));
    return a === undefined || a.scram === null ? null : { account: a.name, scram: a.scram };
  }

  /** Creates an account; false when the name is taken. */
  async register(name: string, password: string): Promise<boolean> {
    const problem = accountNameProblem(name);
    if (problem !== null) throw new ChatError('ERR_INVALID_ARGUMENT', `account name: ${problem}`);
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
      throw new ChatError('ERR_INVALID_ARGUMENT', `password is over ${MAX_PASSWORD_BYTES} bytes`);
    const f = foldCase(name);
    if (this.#accounts.has(f)) return false;
    const hash = await hashPassword(password);
    const scram = await hashScram(password);
    if (this.#accounts.has(f)) return false;
    this.#accounts.set(f, { name, hash, scram });
    if (this.#file !== null) {
      const file = this.#file;
      const data = JSON.stringify(
        Object.fromEntries(
          [...this.#accounts.values()].map((a) => [
            a.name,
            a.scram === null ? a.hash : { password: a.hash, scram: a.scram },
          ]),
        ),
        null,
        2,
      );
      this.#saving = this.#saving.then(async () => {
        await writeFile(`${file}.tmp`, data, { mode: 0o600 });
        await rename(`${file}.tmp`, file);
      });
      await this.#saving;
    }
    return true;
  }
}

/**
 * The accounts of the configuration (`accounts.users`, the same on every node) in front of a shared
 * store (Redis): configured names are checked locally and cannot be registered in the shared store.
 */
export class LayeredAccountStore implements ChatAccountStore {
  readonly #local: AccountStore;
  readonly #shared: ChatAccountStore;

  constructor(local: AccountStore, shared: ChatAccountStore) {
    this.#local = local;
    this.#shared = shared;
  }

  verify(name: string, password: string): Promise<string | null> {
    return this.#local.has(name) ? this.#local.verify(name, password) : this.#shared.verify(name, password);
  }

  async register(name: string, password: string): Promise<boolean> {
    return !this.#local.has(name) && this.#shared.register(name, password);
  }

  async exists(name: string): Promise<boolean> {
    return this.#local.has(name) || this.#shared.exists(name);
  }

  async scramCredentials(name: string): Promise<{ account: string; scram: string } | null> {
    if (this.#local.has(name)) return this.#local.scramCredentials(name);
    return (await this.#shared.scramCredentials?.(name)) ?? null;
  }

  available(): boolean {
    return this.#shared.available?.() ?? true;
  }

  onAvailability(listener: (available: boolean) => void): () => void {
    return this.#shared.onAvailability?.(listener) ?? (() => {});
  }

  async open(): Promise<void> {
    await this.#shared.open?.();
  }

  async close(): Promise<void> {
    await this.#shared.close?.();
  }
}

/** Whether `store` offers SCRAM-SHA-256 (it keeps SCRAM credentials). */
export function hasScram(store: ChatAccountStore): boolean {
  return typeof store.scramCredentials === 'function';
}

/**
 * The store a server uses: `accounts.store`; else `accounts.file` on this node; else, on a
 * `redisBus`, Redis (same URL and prefix) behind the configured `users`; else memory.
 */
export function createAccountStore(
  accounts: ChatServerOptions['accounts'],
  bus: ChatBus | undefined,
): ChatAccountStore | null {
  if (accounts === undefined) return null;
  if (accounts.store !== undefined) return accounts.store;
  const users = accounts.users ?? {};
  const redis = bus === undefined || accounts.file !== undefined ? undefined : redisBusConfig(bus);
  if (redis === undefined) return new AccountStore(users, accounts.file ?? null);
  return new LayeredAccountStore(new AccountStore(users, null), redisAccountStore(redis));
}
