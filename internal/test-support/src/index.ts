// Shared test helpers for every package's suite (dev-only: never imported by shipped code).
// Tests reach it as '@asyncnet-internal/test-support' (a vitest alias and a tsconfig path).
export { makeCert } from './certs.js';
export { splitAt } from './split.js';
