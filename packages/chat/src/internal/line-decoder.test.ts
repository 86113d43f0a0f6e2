import { splitAt } from '@asyncnet-internal/test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineDecoder } from './line-decoder.js';

type Out = { line: string } | { tooLong: true } | { invalid: true };

function decodeAll(chunks: Uint8Array[], max: number): Out[] {
  const out: Out[] = [];
  const d = new LineDecoder(max, {
    line: (line) => out.push({ line }),
    tooLong: () => out.push({ tooLong: true }),
    invalidUtf8: () => out.push({ invalid: true }),
  });
  for (const c of chunks) d.push(c);
  return out;
}

const enc = new TextEncoder();

describe('LineDecoder', () => {
  it('splits LF and CRLF lines and keeps a code point split across chunks', () => {
    const bytes = enc.encode('héllo\r\nwörld ✓\n');
    const out = decodeAll([bytes.subarray(0, 2), bytes.subarray(2, 12), bytes.subarray(12)], 100);
    expect(out).toEqual([{ line: 'héllo' }, { line: 'wörld ✓' }]);
  });

  it('reports invalid utf-8 once per line and goes on', () => {
    const out = decodeAll([Uint8Array.of(0x61, 0xff, 0xfe, 10), enc.encode('ok\n')], 100);
    expect(out).toEqual([{ invalid: true }, { line: 'ok' }]);
  });

  it('reports an over-long line once, discards it up to LF, and holds no more than the limit', () => {
    const out: Out[] = [];
    const d = new LineDecoder(8, {
      line: (line) => out.push({ line }),
      tooLong: () => out.push({ tooLong: true }),
      invalidUtf8: () => out.push({ invalid: true }),
    });
    for (let k = 0; k < 100; k++) {
      d.push(enc.encode('xxxxxxx'));
      expect(d.pending).toBeLessThanOrEqual(9);
    }
    d.push(enc.encode('yy\nshort\n12345678\r\n123456789\n'));
    expect(out).toEqual([{ tooLong: true }, { line: 'short' }, { line: '12345678' }, { tooLong: true }]);
  });

  it('gives the same result however the stream is chunked (property)', () => {
    const lineArb = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')),
      fc.uint8Array({ maxLength: 12 }).map((b) => Array.from(b.filter((x) => x !== 10 && x !== 13))),
    );
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        (lines, cuts, crlf) => {
          const parts: number[] = [];
          for (const l of lines) {
            const b = typeof l === 'string' ? Array.from(enc.encode(l)) : l;
            parts.push(...b);
            if (crlf) parts.push(13);
            parts.push(10);
          }
          const bytes = Uint8Array.from(parts);
          const whole = decodeAll([bytes], 40);
          const split = decodeAll(splitAt(bytes, cuts), 40);
          expect(split).toEqual(whole);
          expect(whole.length).toBe(lines.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
