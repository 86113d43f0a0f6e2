import { foldCase } from './casemap.js';

/**
 * Compiles an IRC glob (`*` any run, `?` one character) matched with rfc1459 folding, as ban
 * masks and LIST/WHO masks use. Compiled once per mask, not per comparison.
 */
export function globMatcher(mask: string): (subject: string) => boolean {
  const folded = foldCase(mask);
  if (!/[*?]/.test(folded)) return (s) => foldCase(s) === folded;
  const re = new RegExp(
    `^${folded
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  );
  return (s) => re.test(foldCase(s));
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
