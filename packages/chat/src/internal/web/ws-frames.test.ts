import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ircLinesToFrames } from './ws-frames.js';

/** Reads unmasked server frames back: [opcode byte, payload] per frame. */
function readFrames(buf: Uint8Array): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let at = 0;
  while (at < buf.length) {
    const op = buf[at]!;
    let len = buf[at + 1]!;
    expect(len & 0x80).toBe(0); // never masked
    at += 2;
    if (len === 126) {
      len = (buf[at]! << 8) | buf[at + 1]!;
      at += 2;
    } else if (len === 127) {
      len = new DataView(buf.buffer, buf.byteOffset + at, 8).getUint32(4);
      at += 8;
    }
    out.push([op, Buffer.from(buf.subarray(at, at + len)).toString('utf8')]);
    at += len;
  }
  return out;
}

const enc = new TextEncoder();

describe('ircLinesToFrames', () => {
  it('makes one unmasked frame per line, without CR/LF, with every length encoding', () => {
    const lines = [
      'a',
      'x'.repeat(125),
      'y'.repeat(126),
      'z'.repeat(65_535),
      'w'.repeat(70_000),
      'é ünïcode',
    ];
    const frames = ircLinesToFrames(enc.encode(lines.map((l) => `${l}\r\n`).join('')), false, false);
    expect(readFrames(frames)).toEqual(lines.map((l) => [0x81, l]));
    expect(readFrames(ircLinesToFrames(enc.encode('PING :x\n'), true, false))).toEqual([[0x82, 'PING :x']]);
  });

  it('skips empty lines and reuses the frames of a shared message', () => {
    const shared = enc.encode('one\r\n\r\ntwo\r\n');
    const a = ircLinesToFrames(shared, false, true);
    expect(readFrames(a)).toEqual([
      [0x81, 'one'],
      [0x81, 'two'],
    ]);
    expect(ircLinesToFrames(shared, false, true)).toBe(a);
    expect(ircLinesToFrames(shared, true, true)).not.toBe(a);
    expect(ircLinesToFrames(new Uint8Array(0), false, false).length).toBe(0);
  });

  it('round-trips any lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => s.replace(/[\r\n]/g, ''))),
        (ls) => {
          const lines = ls.filter((l) => l !== '');
          const frames = ircLinesToFrames(enc.encode(ls.map((l) => `${l}\r\n`).join('')), false, false);
          expect(readFrames(frames).map(([, t]) => t)).toEqual(lines);
        },
      ),
    );
  });
});
