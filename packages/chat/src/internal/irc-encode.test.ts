import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BusEvent, MsgKind } from '../bus.js';
import { encodeIrc, splitUtf8 } from './irc-encode.js';
import { parseIrcMessage } from './irc-message.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Decodes the lines of one encoded event, checking that each fits in 512 bytes with CRLF. */
function lines(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let k = 0; k < bytes.length; k++) {
    if (bytes[k] !== 10) continue;
    expect(k + 1 - start).toBeLessThanOrEqual(512);
    expect(bytes[k - 1]).toBe(13);
    out.push(decoder.decode(bytes.subarray(start, k - 1)));
    start = k + 1;
  }
  expect(start).toBe(bytes.length);
  return out;
}

describe('encodeIrc', () => {
  it('splits long messages into lines of at most 512 bytes without losing text (property)', () => {
    // Regression: a plain client's 1,024-byte line (or any text behind a long prefix) was relayed
    // to IRC clients as one line far over RFC 1459's 512 bytes.
    const text = fc
      .array(fc.oneof(fc.constantFrom('a', ' ', 'é', '€', '😀', ':'), fc.string({ maxLength: 5 })), {
        maxLength: 700,
      })
      .map((parts) => parts.join('').replace(/[\r\n\0]/g, ''))
      .filter((t) => t.length > 0);
    fc.assert(
      fc.property(
        text,
        fc.constantFrom<MsgKind>('say', 'action', 'notice'),
        fc.boolean(),
        fc.integer({ min: 1, max: 30 }),
        (t, kind, priv, nickLen) => {
          const who = { nick: 'n'.repeat(nickLen), user: '~plain', host: '2001:db8::1' };
          const ev: BusEvent = priv
            ? { t: 'priv', to: 'me', ...who, text: t, kind }
            : { t: 'msg', room: '#some-room', ...who, text: t, kind };
          const got = lines(encodeIrc(ev, 'recipient', 'asyncnet.chat'));
          let joined = '';
          for (const line of got) {
            const m = parseIrcMessage(line)!;
            expect(m.command).toBe(kind === 'notice' ? 'NOTICE' : 'PRIVMSG');
            expect(m.params[0]).toBe(priv ? 'recipient' : '#some-room');
            let body = m.params[1]!;
            if (kind === 'action') {
              expect(body.startsWith('\x01ACTION ') && body.endsWith('\x01')).toBe(true);
              body = body.slice(8, -1);
            }
            joined += body;
          }
          expect(joined).toBe(t);
          if (encoder.encode(t).length < 300) expect(got.length).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cuts over-long part and quit reasons and topics to 512 bytes', () => {
    const who = { nick: 'alice', user: '~plain', host: '127.0.0.1' };
    for (const ev of [
      { t: 'part', room: '#r', ...who, reason: 'x'.repeat(1000) },
      { t: 'quit', ...who, reason: '€'.repeat(400), rooms: [] },
      { t: 'topic', room: '#r', ...who, topic: '😀'.repeat(300) },
    ] as BusEvent[]) {
      const got = lines(encodeIrc(ev, 'me', 'asyncnet.chat'));
      expect(got).toHaveLength(1);
      expect(encoder.encode(got[0]!).length).toBeGreaterThan(500);
    }
  });

  it('names the server it is given on server-made lines, per call (two servers in one process)', () => {
    const ev = { t: 'mode', room: '#r', nick: '', user: '', host: '', modes: '+m', args: [] } as BusEvent;
    expect(lines(encodeIrc(ev, 'me', 'a.example'))).toEqual([':a.example MODE #r +m']);
    expect(lines(encodeIrc(ev, 'me', 'b.example'))).toEqual([':b.example MODE #r +m']);
  });

  it('splitUtf8 never cuts a code point', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.integer({ min: 4, max: 40 }),
        (s, max) => {
          const pieces = splitUtf8(s, max);
          expect(pieces.join('')).toBe(s);
          for (const p of pieces) {
            expect(encoder.encode(p).length).toBeLessThanOrEqual(max);
            expect(p).toBe(decoder.decode(encoder.encode(p)));
          }
        },
      ),
    );
  });
});
