// `pnpm build:types` (turbo's root task `//#build:types`, part of `pnpm build`): the declarations
// of every published package, from ONE TypeScript program over all their sources. Per package,
// `dist/**/*.d.ts` (one per module, no rollup) and a `.d.cts` twin of each for CommonJS consumers.
//
// One program because a compiler process per package paid to load TypeScript, parse the Node
// types and re-read streams' sources four times over; that, not esbuild, was most of the build.
// Siblings resolve as everywhere in the workspace, through the `@asyncnet/source` condition to
// their src, so each source file is in the program once. Type errors are not checked here
// (`noCheck`): `pnpm typecheck` does that, and the emit only has to be right for code that
// typechecks. tsup (the packages' `build`) leaves `*.d.ts`/`*.d.cts` in dist alone.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { publicPackages, root, sourceEntries } from './workspace.mjs';

/**
 * A relative specifier ending in `.js`, in `from '…'`, `import('…')` and `import '…'`. The
 * compiler writes declarations with the sources' specifiers, which NodeNext makes end in `.js`.
 */
const RELATIVE_JS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g;

/**
 * The CommonJS twin of an ESM declaration file: relative `.js` specifiers point at `.cjs`, so a
 * `require` consumer's TypeScript resolves every import to a `.d.cts` (a `.d.ts` in a
 * `"type": "module"` package is read as ESM). scripts/check-tarballs.mjs proves each side.
 * @param {string} text
 */
export function toCommonJsDeclaration(text) {
  return text.replace(RELATIVE_JS, (_, lead, q, path) => `${lead}${q}${path}.cjs${q}`);
}

const DECLARATION = /\.d\.c?ts$/;

/** Removes every `*.d.ts`/`*.d.cts` under `dir`, so a deleted module leaves no declaration behind. */
function removeDeclarations(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) removeDeclarations(path);
    else if (DECLARATION.test(e.name)) rmSync(path);
  }
}

const formatHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => root,
  getNewLine: () => '\n',
};

/**
 * The options of a declaration-only emit: the published types, and what internal/api-report
 * reports. `@internal` declarations (members the client calls across modules) stay out; the API
 * reports prove what remains resolves.
 */
export function declarationOptions(options) {
  return {
    ...options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    stripInternal: true,
    noCheck: true,
    composite: false,
    incremental: false,
  };
}

/** A tsconfig's compiler options, as the build reads them (also used by internal/api-report). */
export function compilerOptions(configFile) {
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.formatDiagnostic(d, formatHost));
    },
  });
  if (parsed === undefined) throw new Error(`cannot read ${configFile}`);
  const { configFilePath: _, ...options } = parsed.options;
  return options;
}

/**
 * Emits the declarations of `packages` (default: every public workspace package); returns the
 * number of files written per package. One program needs one set of compiler options: every
 * package's tsconfig.json must resolve to the same ones (today they all just extend the base).
 */
export function emitDeclarations(packages = publicPackages()) {
  const [first, ...rest] = packages.map((p) => ({
    p,
    options: compilerOptions(join(p.path, 'tsconfig.json')),
  }));
  for (const { p, options } of rest) {
    if (JSON.stringify(options) !== JSON.stringify(first.options)) {
      throw new Error(
        `${p.dir}/tsconfig.json sets compiler options ${first.p.dir}/tsconfig.json does not; one declaration program cannot honour both`,
      );
    }
  }
  // No outDir/rootDir: the compiler writes each declaration beside its source; writeFile below
  // moves it into its own package's dist.
  const options = declarationOptions(first.options);
  const targets = packages.map((p) => ({
    name: p.name,
    src: join(p.path, 'src'),
    dist: join(p.path, 'dist'),
    entries: sourceEntries(p).map(([, file]) => file),
  }));
  const program = ts.createProgram({
    rootNames: targets.flatMap((t) => t.entries),
    options,
  });
  const owner = (file) => targets.find((t) => resolve(file).startsWith(t.src + sep));

  for (const t of targets) removeDeclarations(t.dist);
  const counts = new Map(targets.map((t) => [t.name, 0]));
  const write = (file, text) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  // Held until every module is emitted: only the files reachable from a package's entry points are
  // written, so an internal module that only stripped (`@internal`) members used is not published.
  const emitted = new Map();
  const writeFile = (file, text) => {
    const t = owner(file);
    if (t === undefined || !file.endsWith('.d.ts')) throw new Error(`unexpected emit: ${file}`);
    emitted.set(join(t.dist, relative(t.src, resolve(file))), { t, text });
  };

  const diagnostics = [...program.getOptionsDiagnostics()];
  for (const file of program.getSourceFiles()) {
    if (file.isDeclarationFile || owner(file.fileName) === undefined) continue;
    diagnostics.push(...program.getSyntacticDiagnostics(file));
    const result = program.emit(file, writeFile, undefined, true);
    diagnostics.push(...result.diagnostics);
    if (result.emitSkipped) throw new Error(`declaration emit skipped for ${file.fileName}`);
  }
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    throw new Error(
      `declaration emit failed:\n${ts.formatDiagnosticsWithColorAndContext(errors, formatHost)}`,
    );
  }
  const pending = targets.flatMap((t) =>
    t.entries.map((file) => join(t.dist, relative(t.src, file)).replace(/\.ts$/, '.d.ts')),
  );
  const reached = new Set();
  while (pending.length > 0) {
    const file = pending.pop();
    const entry = emitted.get(file);
    if (entry === undefined || reached.has(file)) continue;
    reached.add(file);
    for (const [, , , path] of entry.text.matchAll(RELATIVE_JS)) {
      pending.push(join(dirname(file), `${path}.d.ts`));
    }
  }
  for (const file of reached) {
    const { t, text } = emitted.get(file);
    write(file, text);
    write(`${file.slice(0, -'.d.ts'.length)}.d.cts`, toCommonJsDeclaration(text));
    counts.set(t.name, counts.get(t.name) + 2);
  }
  return counts;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const started = Date.now();
  const counts = emitDeclarations();
  const list = [...counts].map(([name, n]) => `${name} ${n}`).join(', ');
  console.log(`declarations: ${list} files in ${Date.now() - started} ms`);
}
