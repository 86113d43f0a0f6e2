import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import type { CodeBlock } from './code-blocks.js';

/** A block written to disk as a module of its own. */
export interface BlockFile {
  block: CodeBlock;
  /** Absolute path of the `.ts` file. */
  path: string;
  /** Lines of prelude in front of the block's code. */
  preludeLines: number;
}

/**
 * Writes each block to `dir` as its own ES module (prelude, code, then `export {}` so even a block
 * without imports is a module and may use top-level `await`). `dir` is emptied first.
 * @param blocks - the blocks
 * @param dir - a directory inside the workspace package whose dependencies the blocks import
 * @returns one entry per block, in order
 */
export function writeBlocks(blocks: readonly CodeBlock[], dir: string): BlockFile[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return blocks.map((block) => {
    const name = `${block.file.replace(/[/\\]/g, '__').replace(/\.md$/i, '')}-L${block.line}.ts`;
    const path = join(dir, name);
    const prelude = block.prelude === '' ? '' : `${block.prelude.replace(/\s+$/, '')}\n`;
    writeFileSync(path, `${prelude}${block.code}\nexport {};\n`);
    return { block, path, preludeLines: prelude === '' ? 0 : prelude.split('\n').length - 1 };
  });
}

/**
 * The compiler options the blocks are checked with: the repository's strict base settings
 * (`strict`, `noUncheckedIndexedAccess`, `module`/`moduleResolution: nodenext`, …), with the
 * `@asyncnet/source` condition so `@asyncnet/*` resolves to the packages' source.
 * @param root - the repository root
 * @param dir - where the blocks are
 */
export function compilerOptions(root: string, dir: string): ts.CompilerOptions {
  const parsed = ts.parseJsonConfigFileContent(
    {
      extends: join(root, 'tsconfig.base.json'),
      compilerOptions: { noEmit: true, strict: true, module: 'nodenext', moduleResolution: 'nodenext' },
      files: [],
    },
    ts.sys,
    dir,
  );
  if (parsed.errors.length > 0) throw new Error(format(parsed.errors, new Map()).join('\n'));
  return parsed.options;
}

/**
 * Typechecks the written blocks in one program.
 * @param files - from {@link writeBlocks}
 * @param options - from {@link compilerOptions}
 * @returns one message per error, located in the Markdown file (`README.md:27: TS2339 …`); errors
 *   outside the blocks (in the packages' own source) are left to the packages' typecheck
 */
export function typecheck(files: readonly BlockFile[], options: ts.CompilerOptions): string[] {
  const program = ts.createProgram({ rootNames: files.map((f) => f.path), options });
  const byPath = new Map(files.map((f) => [ts.sys.resolvePath(f.path), f]));
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || byPath.has(ts.sys.resolvePath(d.file.fileName)));
  return format(diagnostics, byPath);
}

function format(diagnostics: readonly ts.Diagnostic[], byPath: Map<string, BlockFile>): string[] {
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return `TS${d.code}: ${message}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const f = byPath.get(ts.sys.resolvePath(d.file.fileName));
    if (f === undefined) return `${d.file.fileName}:${line + 1}:${character + 1}: TS${d.code}: ${message}`;
    const where =
      line < f.preludeLines
        ? `${f.block.file}:${f.block.line - 1} (prelude line ${line + 1})`
        : `${f.block.file}:${f.block.line + line - f.preludeLines}:${character + 1}`;
    return `${where}: TS${d.code}: ${message}`;
  });
}
