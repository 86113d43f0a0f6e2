// A SCRAM-SHA-256 client written from RFC 5802 for the tests, sharing no code with the server's
// src/internal/scram.ts, so the two can disagree.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

export class ScramClient {
  readonly #user: string;
  readonly #password: string;
  readonly nonce: string;
  #bare = '';
  #serverSignature: Buffer | null = null;

  constructor(user: string, password: string, nonce = randomBytes(18).toString('base64')) {
    this.#user = user;
    this.#password = password;
    this.nonce = nonce;
  }

  /** client-first-message. */
  first(): string {
    const name = this.#user.replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.#bare = `n=${name},r=${this.nonce}`;
    return `n,,${this.#bare}`;
  }

  /** client-final-message for `serverFirst`; `tamper` changes the nonce or the proof sent. */
  final(serverFirst: string, tamper: 'nonce' | 'proof' | 'binding' | null = null): string {
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0]!, kv.slice(2)] as const));
    const nonce = attrs.get('r')!;
    if (!nonce.startsWith(this.nonce)) throw new Error(`server nonce ${nonce} does not extend ours`);
    const salt = Buffer.from(attrs.get('s')!, 'base64');
    const iterations = Number(attrs.get('i'));
    const salted = pbkdf2Sync(this.#password.normalize('NFKC'), salt, iterations, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const binding = tamper === 'binding' ? 'eSws' : 'biws';
    const sentNonce = tamper === 'nonce' ? `${nonce.slice(0, -1)}${nonce.endsWith('x') ? 'y' : 'x'}` : nonce;
    const withoutProof = `c=${binding},r=${sentNonce}`;
    const auth = `${this.#bare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, auth);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    if (tamper === 'proof') proof[0]! ^= 1;
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), auth);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Whether server-final-message proves the server knows the ServerKey. */
  verifyServer(serverFinal: string): boolean {
    if (!serverFinal.startsWith('v=') || this.#serverSignature === null) return false;
    const got = Buffer.from(serverFinal.slice(2), 'base64');
    return got.length === 32 && timingSafeEqual(got, this.#serverSignature);
  }
}

/** The AUTHENTICATE lines that carry `text` (400-byte base64 chunks, `+` after an exact multiple). */
export function authenticateLines(text: string): string[] {
  const b64 = Buffer.from(text).toString('base64');
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += 400) out.push(`AUTHENTICATE ${b64.slice(i, i + 400)}`);
  if (b64.length % 400 === 0) out.push('AUTHENTICATE +');
  return out;
}

/** Joins the base64 of server AUTHENTICATE lines back into the message they carry. */
export function joinChallenge(lines: string[]): string {
  return Buffer.from(
    lines
      .map((l) => l.replace(/^AUTHENTICATE /, ''))
      .filter((x) => x !== '+')
      .join(''),
    'base64',
  ).toString('utf8');
}
