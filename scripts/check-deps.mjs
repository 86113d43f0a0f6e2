// Dependency direction: streams uses Node built-ins only; every other package imports only
// the siblings it declares, and only through their published entry point. Checks every workspace
// package with a src/ (published ones against dependencies/peerDependencies; private tooling
// packages may also use their own and the root's devDependencies).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { root, workspacePackages } from './workspace.mjs';

const packages = workspacePackages().filter((p) => existsSync(join(p.path, 'src')));
// Private tooling packages run only inside this repository, where the root's devDependencies
// (typescript, vitest, …) resolve from every package.
const rootDev = Object.keys(
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies ?? {},
);
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const problems = [];

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    // Test fixtures use dev dependencies; only shipped code is checked.
    if (statSync(path).isDirectory()) {
      if (name !== '__fixtures__') yield* sources(path);
    } else if (/\.(ts|mts|cts)$/.test(name) && !/\.test\.ts$/.test(name)) yield path;
  }
}

const importRe =
  /(?:^|\s)(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

for (const { path, manifest: pkg } of packages) {
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...(pkg.private ? [...Object.keys(pkg.devDependencies ?? {}), ...rootDev] : []),
  ]);
  if (pkg.name === '@asyncnet/streams' && declared.size > 0) {
    problems.push(`${pkg.name} must have no runtime dependencies, found: ${[...declared].join(', ')}`);
  }
  for (const file of sources(join(path, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('.') || builtins.has(spec)) continue;
      const rel = file.slice(root.length);
      if (pkg.name === '@asyncnet/streams') {
        problems.push(`${rel}: @asyncnet/streams may import Node built-ins only, found '${spec}'`);
        continue;
      }
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (!declared.has(name))
        problems.push(`${rel}: imports '${spec}' but ${pkg.name} does not declare '${name}'`);
      else if (name.startsWith('@asyncnet/') && spec !== name && !exportsSubpath(spec, name)) {
        problems.push(`${rel}: imports sibling internals '${spec}'; use an entry point in ${name}'s exports`);
      }
    }
  }
}

/** Whether `spec` (`@asyncnet/x/sub`) is a subpath the sibling `name` lists in its `exports`. */
function exportsSubpath(spec, name) {
  const sibling = packages.find((p) => p.name === name);
  return (
    sibling !== undefined && Object.hasOwn(sibling.manifest.exports ?? {}, `.${spec.slice(name.length)}`)
  );
}

if (problems.length > 0) {
  console.error(`dependency check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dependency check: ${packages.length} packages ok (${packages.map((p) => p.name).join(', ')})`);
