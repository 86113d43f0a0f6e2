import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

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

/** Whether `s` looks like a {@link hashPassword} result. */
export function isPasswordHash(s: unknown): s is string {
  return typeof s === 'string' && /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(s);
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
