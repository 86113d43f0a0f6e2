import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { ChatAccountStore } from '../account-store.js';
import { ChatError } from '../errors.js';
import { hashPassword, isPasswordHash, verifyPassword } from '../passwords.js';
import { foldCase } from './casemap.js';

/**
 * Accounts for one node: name -> scrypt hash, in memory and optionally in a JSON file
 * (`{ "alice": "scrypt$..." }`) rewritten atomically on every registration.
 */
export class AccountStore implements ChatAccountStore {
  readonly #accounts = new Map<string, { name: string; hash: string }>();
  readonly #file: string | null;
  #saving: Promise<void> = Promise.resolve();

  constructor(users: Record<string, string>, file: string | null) {
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
    for (const [name, hash] of Object.entries({ ...fromFile, ...users })) {
      if (!isPasswordHash(hash))
        throw new ChatError(
          'ERR_INVALID_ARGUMENT',
          `account ${JSON.stringify(name)} needs a hashPassword() hash`,
        );
      this.#accounts.set(foldCase(name), { name, hash });
    }
  }

  async exists(name: string): Promise<boolean> {
    return this.#accounts.has(foldCase(name));
  }

  /** The account's own spelling when `password` is right, else null. */
  async verify(name: string, password: string): Promise<string | null> {
    const a = this.#accounts.get(foldCase(name));
    if (a === undefined) {
      // Spend the same time as a real check, so probing names by timing gains nothing.
      await verifyPassword(password, DUMMY);
      return null;
    }
    return (await verifyPassword(password, a.hash)) ? a.name : null;
  }

  /** Creates an account; false when the name is taken. */
  async register(name: string, password: string): Promise<boolean> {
    const f = foldCase(name);
    if (this.#accounts.has(f)) return false;
    const hash = await hashPassword(password);
    if (this.#accounts.has(f)) return false;
    this.#accounts.set(f, { name, hash });
    if (this.#file !== null) {
      const file = this.#file;
      const data = JSON.stringify(
        Object.fromEntries([...this.#accounts.values()].map((a) => [a.name, a.hash])),
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

const DUMMY = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
