export { withDist as default } from '../../vitest.base.ts';
