// Preload (--import) that makes `ioredis` unresolvable for ESM imports and CommonJS requires,
// as on an install without it: proves the package loads without touching ioredis.
import { createRequire, register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`export async function resolve(s, c, next) {
  if (s === 'ioredis' || s.startsWith('ioredis/')) throw Object.assign(new Error('blocked ioredis'), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(s, c);
}`)}`,
);
const Module = createRequire(import.meta.url)('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'ioredis' || request.startsWith('ioredis/'))
    throw Object.assign(new Error('blocked ioredis'), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
