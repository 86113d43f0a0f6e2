import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ChatError } from './errors.js';
import { deriveScram, formatScram, SCRAM_ITERATIONS } from './internal/scram.js';

const N = 16_384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: 128 * n * r * 2 }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });
}

/**
 * Hashes a password for `operators`, `password` and account stores (scrypt from node:crypto,
 * random salt): `scrypt$N$r$p$salt$hash`, base64.
 *
 * @param password - the secret
 * @returns the hash string to put in configuration
 * @example
 * ```ts
 * const hash = await hashPassword('s3cret');
 * createChatServer({ operators: [{ name: 'root', password: hash }] });
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Largest scrypt cost accepted from a hash (2^20: 1 GiB of memory at r=8 is already too much). */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

/**
 * Whether `s` looks like a {@link hashPassword} result with sane costs: a hash read from a shared
 * store is input like any other, and an absurd N or r would make every login allocate gigabytes.
 */
export function isPasswordHash(s: unknown): s is string {
  if (typeof s !== 'string' || s.length > 512) return false;
  const m = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$[A-Za-z0-9+/=]{1,128}\$[A-Za-z0-9+/=]{1,128}$/.exec(s);
  if (m === null) return false;
  const n = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  // N must be a power of two above 1 (scrypt's own rule).
  return n > 1 && n <= MAX_N && (n & (n - 1)) === 0 && r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P;
}

/**
 * Derives SCRAM-SHA-256 credentials for SASL `SCRAM-SHA-256` (RFC 5802, RFC 7677): salt,
 * iteration count, StoredKey and ServerKey, never the password, as
 * `scram-sha-256$iterations$salt$StoredKey$ServerKey` (base64). Put it beside the
 * {@link hashPassword} hash (`accounts.users`, a {@link ChatAccountStore}'s `scramCredentials`).
 *
 * @param password - the secret (SASLprep-mapped and NFKC-normalised first, as clients do)
 * @param options - `iterations` (PBKDF2 rounds, at least 4096; default 4096)
 * @returns the credential string
 * @example
 * ```ts
 * const users = { alice: { password: await hashPassword('s3cret'), scram: await hashScram('s3cret') } };
 * createChatServer({ accounts: { users } });
 * ```
 */
export async function hashScram(password: string, options: { iterations?: number } = {}): Promise<string> {
  const iterations = options.iterations ?? SCRAM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 4096 || iterations > 1_000_000)
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option iterations must be an integer from 4096 to 1000000, got ${String(iterations)}`,
    );
  return formatScram(await deriveScram(password, randomBytes(16), iterations));
}

/**
 * Checks `password` against a hash (constant time), or against plain text when `stored` is not a
 * hash (a server password written in the config as is).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (!isPasswordHash(stored)) {
    const a = Buffer.from(password);
    const b = Buffer.from(stored);
    return a.length === b.length && timingSafeEqual(a, b);
  }
  const [, n, r, p, salt, hash] = stored.split('$');
  const want = Buffer.from(hash!, 'base64');
  const got = await scryptAsync(password, Buffer.from(salt!, 'base64'), Number(n), Number(r), Number(p));
  return got.length === want.length && timingSafeEqual(got, want);
}
