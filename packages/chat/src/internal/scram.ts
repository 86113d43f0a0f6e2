// SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), server side, without channel binding. Sans-IO:
// the AUTHENTICATE handler feeds it whole decoded messages and sends what it returns.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

/** Iterations for new credentials: RFC 7677's minimum (the server's cost at login is unaffected). */
export const SCRAM_ITERATIONS = 4096;
/** Credentials read from a store outside this range are refused (a client would spin on them). */
const MIN_ITERATIONS = 4096;
const MAX_ITERATIONS = 1_000_000;
/** Longest nonce accepted from a client, in characters. */
const MAX_NONCE = 256;
const PREFIX = 'scram-sha-256';

/** Salt, iteration count, StoredKey and ServerKey of one account (RFC 5802 §3). */
export interface ScramKeys {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, text: string | Buffer): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

// RFC 4013 (SASLprep) §2.1-2.2: non-ASCII spaces map to SPACE, "commonly mapped to nothing" code
// points are removed, then NFKC. Clients apply the same before hashing, so ASCII passwords and
// everyday Unicode ones agree; prohibited-output checks are left out (the password was accepted
// at registration, refusing it here would only lock its owner out).
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each code point is removed on its own, combining or not
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
export function saslPrep(s: string): string {
  return s.replace(MAPPED_TO_NOTHING, '').replace(NON_ASCII_SPACE, ' ').normalize('NFKC');
}

function pbkdf2Async(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, 32, 'sha256', (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });
}

/** Derives the stored SCRAM keys from a password (at registration; the password is then dropped). */
export async function deriveScram(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): Promise<ScramKeys> {
  const salted = await pbkdf2Async(saslPrep(password), salt, iterations);
  return {
    iterations,
    salt,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/** `scram-sha-256$iterations$salt$StoredKey$ServerKey`, base64 fields. */
export function formatScram(k: ScramKeys): string {
  return [
    PREFIX,
    k.iterations,
    k.salt.toString('base64'),
    k.storedKey.toString('base64'),
    k.serverKey.toString('base64'),
  ].join('$');
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SCRAM_RE =
  /^scram-sha-256\$(\d{1,7})\$([A-Za-z0-9+/=]{4,88})\$([A-Za-z0-9+/=]{44})\$([A-Za-z0-9+/=]{44})$/;

/** Parses {@link formatScram} text from a store, held to the rules of client input; null if bad. */
export function parseScram(s: unknown): ScramKeys | null {
  if (typeof s !== 'string' || s.length > 256) return null;
  const m = SCRAM_RE.exec(s);
  if (m === null) return null;
  const iterations = Number(m[1]);
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) return null;
  const salt = Buffer.from(m[2]!, 'base64');
  const storedKey = Buffer.from(m[3]!, 'base64');
  const serverKey = Buffer.from(m[4]!, 'base64');
  if (salt.length < 8 || storedKey.length !== 32 || serverKey.length !== 32) return null;
  return { iterations, salt, storedKey, serverKey };
}

/** What the server remembers between the client's first and final messages. */
export interface ScramExchange {
  /** The username as the client sent it (decoded saslname). */
  user: string;
  /** gs2-header, whose base64 the client must echo as `c=`. */
  gs2Header: string;
  clientFirstBare: string;
  serverFirst: string;
  /** Client nonce + server nonce. */
  nonce: string;
}

/** Decodes a saslname (`=2C` is `,`, `=3D` is `=`; any other `=` is malformed). */
function saslName(s: string): string | null {
  if (s === '' || /=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** An optional extension attribute (RFC 5802 §7: ALPHA "=" value); unknown ones are ignored. */
const EXTENSION = /^[A-Za-z]=/;
const PRINTABLE_NONCE = /^[\x21-\x2B\x2D-\x7E]+$/;

/**
 * Parses client-first-message. Refuses channel binding (`p=`: no -PLUS mechanism is offered),
 * the reserved `m=` extension, and an authzid other than the username (no impersonation).
 * @returns the username and the pieces the next steps need, or null
 */
export function parseClientFirst(
  msg: string,
): { user: string; gs2Header: string; bare: string; clientNonce: string } | null {
  // gs2-header: cbind-flag "," [authzid] ","
  const m = /^(n|y),(?:a=([^,]*))?,(.*)$/s.exec(msg);
  if (m === null) return null;
  const bare = m[3]!;
  const fields = bare.split(',');
  if (fields.length < 2 || !fields[0]!.startsWith('n=') || !fields[1]!.startsWith('r=')) return null;
  if (!fields.slice(2).every((f) => EXTENSION.test(f))) return null;
  const user = saslName(fields[0]!.slice(2));
  const clientNonce = fields[1]!.slice(2);
  if (user === null || clientNonce.length > MAX_NONCE || !PRINTABLE_NONCE.test(clientNonce)) return null;
  if (m[2] !== undefined) {
    const authz = saslName(m[2]);
    if (authz === null || authz !== user) return null;
  }
  return { user, gs2Header: msg.slice(0, msg.length - bare.length), bare, clientNonce };
}

/**
 * Starts the exchange: server-first-message with a fresh server nonce and the account's salt
 * and iteration count.
 */
export function serverFirst(
  cf: { user: string; gs2Header: string; bare: string; clientNonce: string },
  keys: Pick<ScramKeys, 'salt' | 'iterations'>,
  serverNonce = randomBytes(18).toString('base64'),
): ScramExchange {
  const nonce = cf.clientNonce + serverNonce;
  return {
    user: cf.user,
    gs2Header: cf.gs2Header,
    clientFirstBare: cf.bare,
    serverFirst: `r=${nonce},s=${keys.salt.toString('base64')},i=${keys.iterations}`,
    nonce,
  };
}

/**
 * Checks client-final-message against the stored keys (constant-time comparisons).
 * @returns server-final-message (`v=ServerSignature`) when the proof is right, else null
 */
export function verifyClientFinal(ex: ScramExchange, keys: ScramKeys, msg: string): string | null {
  const at = msg.lastIndexOf(',p=');
  if (at === -1) return null;
  const withoutProof = msg.slice(0, at);
  const proofB64 = msg.slice(at + 3);
  const fields = withoutProof.split(',');
  if (fields.length < 2 || !fields[0]!.startsWith('c=') || !fields[1]!.startsWith('r=')) return null;
  if (!fields.slice(2).every((f) => EXTENSION.test(f))) return null;
  if (!B64.test(proofB64)) return null;
  const binding = Buffer.from(ex.gs2Header);
  const gotBinding = Buffer.from(fields[0]!.slice(2), 'base64');
  const gotNonce = Buffer.from(fields[1]!.slice(2));
  const wantNonce = Buffer.from(ex.nonce);
  const proof = Buffer.from(proofB64, 'base64');
  const authMessage = `${ex.clientFirstBare},${ex.serverFirst},${withoutProof}`;
  const clientSignature = hmac(keys.storedKey, authMessage);
  const clientKey = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] ?? 0) ^ clientSignature[i]!;
  // Every check runs whatever the others found, so timing tells nothing about which one failed.
  let ok = proof.length === 32;
  ok = timingSafeEqual(sha256(clientKey), keys.storedKey) && ok;
  ok = gotNonce.length === wantNonce.length && timingSafeEqual(gotNonce, wantNonce) && ok;
  ok = gotBinding.length === binding.length && timingSafeEqual(gotBinding, binding) && ok;
  if (!ok) return null;
  return `v=${hmac(keys.serverKey, authMessage).toString('base64')}`;
}

const decoySecret = randomBytes(32);

/**
 * Keys for an account that does not exist (or has no SCRAM credentials): a salt that is the same
 * on every attempt for that name and a StoredKey no proof matches, so the exchange runs to the
 * end and fails like a wrong password (RFC 5802 §9 on hiding which accounts exist).
 */
export function decoyKeys(folded: string): ScramKeys {
  return {
    iterations: SCRAM_ITERATIONS,
    salt: hmac(decoySecret, `salt:${folded}`).subarray(0, 16),
    storedKey: randomBytes(32),
    serverKey: randomBytes(32),
  };
}
