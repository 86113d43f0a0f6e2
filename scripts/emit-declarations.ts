// Declarations for a package's dist, emitted by the TypeScript compiler straight from the sources
// (one .d.ts per module, no rollup), plus a .d.cts twin of each for CommonJS consumers. Type
// errors are not checked here: `pnpm typecheck` does that once; this emit only needs to be right
// for code that typechecks, which is what `noCheck` is for.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/**
 * A relative specifier ending in `.js`, in `from '…'`, `import('…')` and `import '…'`. TypeScript
 * writes declarations with the specifiers of the sources, which NodeNext makes end in `.js`.
 */
const RELATIVE_JS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g;

/**
 * The CommonJS twin of an ESM declaration file: the same text with relative `.js` specifiers
 * pointing at `.cjs`, so a `require` consumer's TypeScript resolves every import to a `.d.cts`
 * (a `.d.ts` in a `"type": "module"` package is read as ESM, and attw would flag the mismatch).
 */
export function toCommonJsDeclaration(text: string): string {
  return text.replace(
    RELATIVE_JS,
    (_, lead: string, q: string, path: string) => `${lead}${q}${path}.cjs${q}`,
  );
}

/**
 * Writes `outDir/**\/*.d.ts` and `*.d.cts` for the modules reachable from `entry`, using the
 * package's tsconfig.json (run from the package folder, as tsup does); returns the number of files
 * written. Sibling packages resolve
 * through their published `types` (their built dist), not the `@asyncnet/source` condition:
 * their sources are not part of this package's output.
 */
export function emitDeclarations({ entry = 'src/index.ts', outDir = 'dist', rootDir = 'src' } = {}): number {
  const configFile = resolve('tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.formatDiagnostic(d, formatHost));
    },
  });
  if (parsed === undefined) throw new Error(`cannot read ${configFile}`);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    noCheck: true,
    customConditions: [],
    composite: false,
    incremental: false,
    outDir: resolve(outDir),
    rootDir: resolve(rootDir),
  };
  delete options.tsBuildInfoFile;
  const program = ts.createProgram({ rootNames: [resolve(entry)], options });
  let written = 0;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    written++;
  };
  const result = program.emit(
    undefined,
    (file, text) => {
      write(file, text);
      if (file.endsWith('.d.ts'))
        write(`${file.slice(0, -'.d.ts'.length)}.d.cts`, toCommonJsDeclaration(text));
    },
    undefined,
    true,
  );
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...result.diagnostics,
  ].filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (diagnostics.length > 0 || result.emitSkipped) {
    throw new Error(
      `declaration emit failed:\n${ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost)}`,
    );
  }
  return written;
}

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => '\n',
};
