// Declarations for a package's dist, emitted by the TypeScript compiler straight from the sources
// (one .d.ts per module, no rollup), plus a .d.cts twin of each for CommonJS consumers.
//
// Type errors are not checked here (`noCheck`): `pnpm typecheck` does that once, and declaration
// emit only has to be right for code that typechecks. Siblings resolve like everywhere else in the
// workspace, through the `@asyncnet/source` condition to their src, so a package's declarations
// never wait for a sibling's build; only this package's own files are emitted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * A relative specifier ending in `.js`, in `from '…'`, `import('…')` and `import '…'`. TypeScript
 * writes declarations with the specifiers of the sources, which NodeNext makes end in `.js`.
 */
const RELATIVE_JS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g;

/**
 * The CommonJS twin of an ESM declaration file: the same text with relative `.js` specifiers
 * pointing at `.cjs`, so a `require` consumer's TypeScript resolves every import to a `.d.cts`
 * (a `.d.ts` in a `"type": "module"` package is read as ESM).
 */
export function toCommonJsDeclaration(text: string): string {
  return text.replace(
    RELATIVE_JS,
    (_, lead: string, q: string, path: string) => `${lead}${q}${path}.cjs${q}`,
  );
}

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => '\n',
};

/**
 * Writes `outDir/**\/*.d.ts` and `*.d.cts` for this package's modules reachable from `entry`,
 * mirroring their layout under `srcDir`, using the package's tsconfig.json (run from the package
 * folder, as tsup does). Returns the number of files written; throws on any emit error.
 */
export function emitDeclarations({ entry = 'src/index.ts', srcDir = 'src', outDir = 'dist' } = {}): number {
  const configFile = resolve('tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.formatDiagnostic(d, formatHost));
    },
  });
  if (parsed === undefined) throw new Error(`cannot read ${configFile}`);
  // No outDir/rootDir: sibling sources are part of the program, and the compiler would refuse
  // files outside a rootDir. Each declaration is written beside its source and moved below.
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    noCheck: true,
    composite: false,
    incremental: false,
    outDir: undefined,
    rootDir: undefined,
    declarationDir: undefined,
    tsBuildInfoFile: undefined,
  };
  const src = resolve(srcDir);
  const out = resolve(outDir);
  const program = ts.createProgram({ rootNames: [resolve(entry)], options });
  const own = program
    .getSourceFiles()
    .filter((f) => !f.isDeclarationFile && resolve(f.fileName).startsWith(src + sep));

  let written = 0;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    written++;
  };
  const writeFile: ts.WriteFileCallback = (file, text) => {
    const target = join(out, relative(src, resolve(file)));
    if (!target.endsWith('.d.ts')) throw new Error(`unexpected emit: ${file}`);
    write(target, text);
    write(`${target.slice(0, -'.d.ts'.length)}.d.cts`, toCommonJsDeclaration(text));
  };
  const diagnostics: ts.Diagnostic[] = [...program.getOptionsDiagnostics()];
  for (const file of own) {
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
  return written;
}
