// The one bundle behind both entry points (see tsup.config.ts): everything either exports.
export * from './adapter.js';
export * from './index.js';
