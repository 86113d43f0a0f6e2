// Runs on `pnpm pack` / `pnpm publish` (changesets publishes through pnpm): the published
// package.json drops the `@asyncnet/source` export condition. Inside the workspace that condition
// points tests and `tsc` at `./src/index.ts`; `src` is not in the tarball, so a consumer whose
// tooling happened to set the condition would resolve to a missing file.
const SOURCE_CONDITION = '@asyncnet/source';

function stripSource(target) {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) return target;
  const out = {};
  for (const [key, value] of Object.entries(target)) {
    if (key !== SOURCE_CONDITION) out[key] = stripSource(value);
  }
  return out;
}

module.exports = {
  hooks: {
    beforePacking(pkg) {
      if (pkg.exports !== undefined) pkg.exports = stripSource(pkg.exports);
      return pkg;
    },
  },
};
