// Shared test helpers for every package's suite (dev-only: never imported by shipped code).
// Packages list '@asyncnet-internal/test-support' as a `workspace:*` devDependency.
export { makeCert } from './certs.js';
export { requireDistCopy } from './dist-copy.js';
export { splitAt } from './split.js';
