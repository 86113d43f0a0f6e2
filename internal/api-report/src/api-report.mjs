// The public surface of every published package, as the compiler publishes it: one program over all
// their sources emits declarations in memory with the build's settings (`stripInternal`, see
// scripts/emit-declarations.mjs), and each entry point in a package's `exports` is listed
// export by export, every declaration printed without comments. Written to packages/<dir>/api.md;
// the test fails when the committed report differs, so a change to the surface shows in review.
// Plain JS so `pnpm api:update` runs it with node.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { publicPackages, root } from '../../../scripts/workspace.mjs';

const SOURCE_CONDITION = '@asyncnet/source';
/** Where the in-memory declarations of `<pkg>/src/x.ts` live: `<pkg>/.api/x.d.ts`, so `./x.js` never resolves back to the source. */
const VIRTUAL = '.api';

/** The package's entry points: `[subpath, src file]` from each `exports` entry's source condition. */
function entries(pkg) {
  const exports = pkg.manifest.exports ?? {};
  return Object.entries(exports)
    .filter(([, target]) => typeof target === 'object' && target?.[SOURCE_CONDITION])
    .map(([subpath, target]) => [subpath, join(pkg.path, target[SOURCE_CONDITION])]);
}

function compilerOptions(configFile) {
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error(`cannot read ${configFile}`);
  const { configFilePath: _, ...options } = parsed.options;
  return options;
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

/** The statement that declares `decl` (a variable's whole `declare const`), printed without comments. */
function print(decl) {
  let node = decl;
  if (ts.isVariableDeclaration(node)) node = node.parent.parent;
  return printer.printNode(ts.EmitHint.Unspecified, node, node.getSourceFile()).trim();
}

/**
 * The reports, `Map<dir, markdown>` for every published package, plus `problems`: declaration
 * errors in what would be published (a public declaration naming a stripped `@internal` one).
 */
export function buildReports(packages = publicPackages()) {
  const pkgs = packages.map((p) => ({ ...p, src: join(p.path, 'src'), entries: entries(p) }));
  const options = {
    ...compilerOptions(join(pkgs[0].path, 'tsconfig.json')),
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
  const owner = (file) => pkgs.find((p) => resolve(file).startsWith(p.src + sep));
  const toVirtual = (file) => {
    const p = owner(file);
    return join(p.path, VIRTUAL, relative(p.src, resolve(file)));
  };
  const rootNames = pkgs.flatMap((p) => p.entries.map(([, file]) => file));
  const program = ts.createProgram({ rootNames, options });
  const files = new Map();
  for (const file of program.getSourceFiles()) {
    if (file.isDeclarationFile || owner(file.fileName) === undefined) continue;
    program.emit(file, (name, text) => files.set(toVirtual(name), text), undefined, true);
  }

  // A second program over the emitted declarations: what a consumer's compiler would see.
  const checkOptions = { ...options, noEmit: true, noCheck: false, skipLibCheck: true };
  const host = ts.createCompilerHost(checkOptions);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(resolve(f)) || fileExists.call(host, f);
  host.readFile = (f) => files.get(resolve(f)) ?? readFile.call(host, f);
  const virtualDirs = new Set([...files.keys()].map((f) => dirname(f)));
  const { directoryExists } = host;
  host.directoryExists = (d) => virtualDirs.has(resolve(d)) || (directoryExists?.call(host, d) ?? true);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = files.get(resolve(f));
    return text === undefined
      ? getSourceFile.call(host, f, lang, ...rest)
      : ts.createSourceFile(f, text, lang, true);
  };
  const entryDts = (file) => toVirtual(file).replace(/\.ts$/, '.d.ts');
  const dts = ts.createProgram({
    rootNames: pkgs.flatMap((p) => p.entries.map(([, f]) => entryDts(f))),
    options: checkOptions,
    host,
  });
  const checker = dts.getTypeChecker();

  const problems = [];
  for (const file of dts.getSourceFiles()) {
    if (!files.has(resolve(file.fileName))) continue;
    for (const d of dts.getSemanticDiagnostics(file)) {
      const { line } = file.getLineAndCharacterOfPosition(d.start ?? 0);
      const where = relative(root, file.fileName).replace(`${sep}${VIRTUAL}${sep}`, `${sep}src${sep}`);
      problems.push(`${where}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
  }

  const reports = new Map();
  for (const p of pkgs) {
    const out = [
      `# API report: ${p.name}`,
      '',
      '<!-- Generated by `pnpm api:update` (internal/api-report) from the declarations the build publishes. Do not edit. -->',
      '',
    ];
    for (const [subpath, file] of p.entries) {
      const source = dts.getSourceFile(entryDts(file));
      const moduleSymbol = source && checker.getSymbolAtLocation(source);
      if (moduleSymbol === undefined) throw new Error(`${p.name}: no declarations for ${file}`);
      const name = subpath === '.' ? p.name : `${p.name}/${subpath.slice(2)}`;
      out.push(`## \`${name}\``, '', '```ts');
      const exports = checker
        .getExportsOfModule(moduleSymbol)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const sym of exports) {
        const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
        const decls = target.declarations ?? [];
        const from = decls[0] && relative(p.path, decls[0].getSourceFile().fileName);
        const local = target.name === sym.name ? '' : ` as ${target.name}`;
        const origin = from?.startsWith(VIRTUAL) ? '' : ` from ${decls[0] ? moduleName(decls[0]) : '?'}`;
        out.push(`// ${sym.name}${local}${origin}`);
        if (origin === '') for (const d of decls) out.push(print(d));
        out.push('');
      }
      if (out.at(-1) === '') out.pop();
      out.push('```', '');
    }
    reports.set(p.dir, out.join('\n'));
  }
  return { reports, problems };
}

/** A declaration outside the package (a sibling's or Node's): named, not printed. */
function moduleName(decl) {
  const file = decl.getSourceFile().fileName;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (m) return m[1];
  const pkg = publicPackages().find((p) => resolve(file).startsWith(p.path + sep));
  return pkg ? pkg.name : relative(root, dirname(file));
}

/** The committed report's path for a package dir (`packages/streams` -> `packages/streams/api.md`). */
export function reportPath(dir) {
  return join(root, dir, 'api.md');
}

/** Reads the committed report, or `null` when there is none. */
export function readReport(dir) {
  try {
    return readFileSync(reportPath(dir), 'utf8');
  } catch {
    return null;
  }
}

/** Writes every report; returns the dirs whose report changed. */
export function updateReports() {
  const { reports, problems } = buildReports();
  if (problems.length > 0) throw new Error(`published declarations do not resolve:\n${problems.join('\n')}`);
  const changed = [];
  for (const [dir, text] of reports) {
    if (readReport(dir) === text) continue;
    writeFileSync(reportPath(dir), text);
    changed.push(dir);
  }
  return changed;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const changed = updateReports();
  console.log(
    changed.length === 0
      ? 'api reports: unchanged'
      : `api reports updated: ${changed.map((d) => `${d}/api.md`).join(', ')}`,
  );
}
