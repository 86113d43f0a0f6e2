import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatcher, normalizeMask, validMask } from './masks.js';

/** The same glob as a regular expression: the reference for short inputs only. */
function reference(mask: string, subject: string): boolean {
  const re = mask
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(subject);
}

describe('globMatcher', () => {
  it('agrees with a regular expression on random masks and subjects', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '?', '!', '@', '.');
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 12 }),
        fc.string({ unit: alphabet, maxLength: 14 }),
        (m, s) => {
          expect(globMatcher(m)(s)).toBe(reference(m, s));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('folds case the rfc1459 way', () => {
    expect(globMatcher('NICK[]!*@*')('nick{}!u@h')).toBe(true);
    expect(globMatcher('a?c')('abd')).toBe(false);
  });
});

describe('validMask', () => {
  it('refuses empty, long, control, space, comma and leading-colon masks', () => {
    for (const bad of ['', 'x'.repeat(129), 'a\x01b', 'a b', 'a,b', ':a']) expect(validMask(bad)).toBe(false);
    expect(validMask(normalizeMask('nick'))).toBe(true);
  });
});
