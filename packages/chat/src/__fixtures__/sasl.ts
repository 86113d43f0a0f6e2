import type { LineClient } from './line-client.js';
import { authenticateLines, joinChallenge, ScramClient } from './scram-client.js';

/** Writes `text` in pieces cut at `cuts` (byte offsets), a tick apart, so they arrive apart. */
export async function writeSplit(c: LineClient, text: string, cuts: number[]): Promise<void> {
  const bytes = Buffer.from(text);
  const at = [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    if (cut <= from) continue;
    c.socket.write(bytes.subarray(from, cut));
    from = cut;
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Reads one server challenge (AUTHENTICATE chunks until one under 400 bytes, or `+`) starting at
 * line `from`; null when a SASL numeric (904...) comes instead.
 */
export async function readChallenge(
  c: LineClient,
  from: number,
): Promise<{ text: string; next: number } | null> {
  const parts: string[] = [];
  let k = from;
  for (;;) {
    const line = await c.waitFor(/^AUTHENTICATE |^:\S+ 90[4-7] /, 10_000, k);
    k = c.lines.indexOf(line, k) + 1;
    if (!line.startsWith('AUTHENTICATE ')) return null;
    parts.push(line);
    const payload = line.slice('AUTHENTICATE '.length);
    if (payload === '+' || payload.length < 400) return { text: joinChallenge(parts), next: k };
  }
}

/** Sends a client message as AUTHENTICATE lines, the bytes cut at `cuts`. */
export function sendMessage(c: LineClient, text: string, cuts: number[] = []): Promise<void> {
  return writeSplit(
    c,
    authenticateLines(text)
      .map((l) => `${l}\r\n`)
      .join(''),
    cuts,
  );
}

/**
 * Runs a SCRAM-SHA-256 login on a connection that has `sasl` enabled, up to the server's answer.
 * @returns `ok` with whether the server's signature checked out, or the numeric that ended it
 */
export async function scramLogin(
  c: LineClient,
  user: string,
  password: string,
  o: { nonce?: string; cuts?: number[]; tamper?: 'nonce' | 'proof' | 'binding' } = {},
): Promise<{ ok: true; serverVerified: boolean } | { ok: false; numeric: string }> {
  const client = new ScramClient(user, password, o.nonce);
  let k = c.lines.length;
  c.send('AUTHENTICATE SCRAM-SHA-256');
  const ready = await readChallenge(c, k);
  if (ready === null) return { ok: false, numeric: numericAfter(c, k) };
  k = ready.next;
  await sendMessage(c, client.first(), o.cuts);
  const sf = await readChallenge(c, k);
  if (sf === null) return { ok: false, numeric: numericAfter(c, k) };
  k = sf.next;
  await sendMessage(c, client.final(sf.text, o.tamper ?? null), o.cuts);
  const sfin = await readChallenge(c, k);
  if (sfin === null) return { ok: false, numeric: numericAfter(c, k) };
  k = sfin.next;
  const serverVerified = client.verifyServer(sfin.text);
  c.send('AUTHENTICATE +');
  const end = await c.waitFor(/^:\S+ 90[34] /, 10_000, k);
  return end.includes(' 903 ') ? { ok: true, serverVerified } : { ok: false, numeric: '904' };
}

function numericAfter(c: LineClient, k: number): string {
  for (let i = k; i < c.lines.length; i++) {
    const m = /^:\S+ (90[4-8]) /.exec(c.lines[i]!);
    if (m !== null && m[1] !== '908') return m[1]!;
  }
  return '?';
}
