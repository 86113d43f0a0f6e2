// Bounds on what account stores accept, so a hostile client or a poisoned shared store cannot make
// a lookup or a hash arbitrarily expensive.

/** Longest account name (REGISTER and /register allow 30; 64 leaves room for custom stores). */
export const MAX_ACCOUNT_NAME = 64;
/** Longest password hashed or checked, in UTF-8 bytes (an IRC line holds under 512). */
export const MAX_PASSWORD_BYTES = 1_024;

const NAME_RE = /^[A-Za-z0-9_[\]\\`^{|}-]+$/;

/** Null when `name` can be an account name, else a lowercase reason. */
export function accountNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name === '') return 'empty';
  if (name.length > MAX_ACCOUNT_NAME) return `longer than ${MAX_ACCOUNT_NAME} characters`;
  if (!NAME_RE.test(name)) return `${JSON.stringify(name)} has characters a nick cannot have`;
  return null;
}

/** A well-formed hash no password matches: unknown names cost the same time as known ones. */
export const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
