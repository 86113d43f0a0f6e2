import { foldCase } from './casemap.js';

/** Longest ban/exception/invite-exception mask kept (longer ones are refused, not truncated). */
export const MASK_MAX_LENGTH = 128;

/**
 * Compiles an IRC glob (`*` any run, `?` one character) matched with rfc1459 folding, as ban
 * masks and LIST/WHO masks use. Compiled once per mask, not per comparison. Matching is the
 * greedy two-pointer walk, so it takes at most mask × subject steps: a hostile `*a*a*a…b` mask
 * cannot make a JOIN backtrack exponentially the way a regular expression would.
 */
export function globMatcher(mask: string): (subject: string) => boolean {
  // Runs of `*` match the same as one, and cost more steps.
  const folded = foldCase(mask).replace(/\*{2,}/g, '*');
  if (!/[*?]/.test(folded)) return (s) => foldCase(s) === folded;
  return (s) => globMatch(folded, foldCase(s));
}

function globMatch(p: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    const pc = p.charCodeAt(pi);
    if (pi < p.length && pc === 42 /* * */) {
      star = pi++;
      mark = si;
    } else if (pi < p.length && (pc === 63 /* ? */ || pc === s.charCodeAt(si))) {
      pi++;
      si++;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p.charCodeAt(pi) === 42) pi++;
  return pi === p.length;
}

/**
 * Completes a partial ban mask the way servers do: `nick` -> `nick!*@*`, `user@host` ->
 * `*!user@host`, `nick!user` -> `nick!user@*`.
 */
export function normalizeMask(mask: string): string {
  const bang = mask.indexOf('!');
  const at = mask.indexOf('@');
  if (bang === -1 && at === -1) return `${mask}!*@*`;
  if (bang === -1) return `*!${mask}`;
  if (at === -1) return `${mask}@*`;
  return mask;
}

/**
 * Whether a mask can be a list entry (+b/+e/+I): not empty, at most {@link MASK_MAX_LENGTH}
 * characters, no controls, spaces, commas or a leading `:` (those could not be sent back in a
 * 367/348/346 line as one parameter).
 */
export function validMask(mask: string): boolean {
  if (mask === '' || mask.length > MASK_MAX_LENGTH || mask.startsWith(':')) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are what is refused
  return !/[\x00-\x20,\x7f]/.test(mask);
}
