import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What a block is checked for, from the HTML comment right before its fence. */
export type BlockMode = 'check' | 'run' | 'skip';

/** One ```ts / ```typescript block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root (`packages/streams/README.md`). */
  file: string;
  /** 1-based line of the first code line (the line after the opening fence). */
  line: number;
  /** The code, without the fences. */
  code: string;
  /** `check` (typecheck only, the default), `run` (typecheck, then execute) or `skip`. */
  mode: BlockMode;
  /** Code typechecked in front of the block (declarations the snippet assumes), or `''`. */
  prelude: string;
  /** Why a block is skipped (`<!-- skip: why -->`). */
  reason?: string;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const TS_LANGS = new Set(['ts', 'typescript', 'mts']);

/**
 * Finds every TypeScript block of a Markdown text. A block is typechecked by default; an HTML
 * comment on the lines right before its fence (blank lines between are fine) changes that:
 *
 * - `<!-- run -->`: also executed. The block must be self-contained: it starts its own servers on
 *   loopback port 0, closes them, and ends by itself.
 * - `<!-- prelude … -->`: the TypeScript between `prelude` and `-->` is typechecked in front of
 *   the block without being shown, for snippets that use names from the text
 *   (`declare const reader: StreamReader;`). `<!-- run prelude … -->` does both.
 * - `<!-- skip: reason -->`: neither (code that is wrong on purpose); the reason is required.
 *
 * @param text - the Markdown source
 * @param file - its path, copied into each block
 * @returns the blocks in order
 * @throws Error for an unknown directive (a typo must not silently disable a check), a skip
 *   without a reason, or an unclosed fence
 */
export function extractBlocks(text: string, file: string): CodeBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  let comment: { text: string; endLine: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const open = FENCE.exec(line);
    if (open === null) {
      const html = readComment(lines, i);
      if (html !== null) {
        comment = { text: html.text, endLine: html.endLine };
        i = html.endLine;
      } else if (line.trim() !== '') comment = null;
      continue;
    }
    const [, indent = '', fence = '```', lang = ''] = open;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const start = i + 1;
    let end = start;
    while (end < lines.length && !close.test(lines[end] ?? '')) end++;
    if (end >= lines.length) throw new Error(`${file}:${i + 1}: code fence is never closed`);
    if (TS_LANGS.has(lang.toLowerCase())) {
      const code = lines
        .slice(start, end)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      blocks.push({ file, line: start + 1, code, ...directive(comment?.text ?? null, file, i + 1) });
    }
    comment = null;
    i = end;
  }
  return blocks;
}

/** An HTML comment starting at `lines[i]`, possibly spanning lines, or `null`. */
function readComment(lines: string[], i: number): { text: string; endLine: number } | null {
  const first = lines[i] ?? '';
  const m = /^\s*<!--(.*)$/.exec(first);
  if (m === null) return null;
  let body = m[1] ?? '';
  let j = i;
  while (!body.includes('-->')) {
    j++;
    if (j >= lines.length) return null;
    body += `\n${lines[j]}`;
  }
  const at = body.indexOf('-->');
  if (body.slice(at + 3).trim() !== '') return null; // a comment followed by text is prose
  return { text: body.slice(0, at), endLine: j };
}

const WORD = /^\s*([a-z-]+)\b:?/;

function directive(
  comment: string | null,
  file: string,
  fenceLine: number,
): Omit<CodeBlock, 'file' | 'line' | 'code'> {
  const result: Omit<CodeBlock, 'file' | 'line' | 'code'> = { mode: 'check', prelude: '' };
  if (comment === null) return result;
  let rest = comment;
  for (;;) {
    const m = WORD.exec(rest);
    if (m === null) break;
    const word = m[1];
    if (word === 'run') {
      result.mode = 'run';
      rest = rest.slice(m[0].length);
    } else if (word === 'prelude') {
      result.prelude = rest.slice(m[0].length).replace(/^[ \t]*\n/, '');
      rest = '';
      break;
    } else if (word === 'skip') {
      const reason = rest.slice(m[0].length).trim();
      if (reason === '') throw new Error(`${file}:${fenceLine}: <!-- skip: … --> needs a reason`);
      return { mode: 'skip', prelude: '', reason };
    } else {
      // Any other comment right before a block is a directive with a typo, or prose that should
      // not sit there; either way, say so rather than guess.
      throw new Error(
        `${file}:${fenceLine}: unknown directive '${word}' before a TypeScript block (use run, prelude or skip: <reason>)`,
      );
    }
  }
  if (rest.trim() !== '') {
    throw new Error(
      `${file}:${fenceLine}: cannot read the directive <!--${comment}--> before a TypeScript block`,
    );
  }
  return result;
}

/**
 * The Markdown files whose blocks are checked: the root README, every package's and app's README,
 * examples/README.md and docs/*.md.
 * @param root - the repository root
 * @returns paths relative to `root`, sorted
 */
export function markdownFiles(root: string): string[] {
  const files: string[] = [];
  const add = (path: string) => {
    if (existsSync(path)) files.push(relative(root, path));
  };
  add(join(root, 'README.md'));
  for (const dir of ['packages', 'apps']) {
    if (!existsSync(join(root, dir))) continue;
    for (const name of readdirSync(join(root, dir))) add(join(root, dir, name, 'README.md'));
  }
  add(join(root, 'examples', 'README.md'));
  if (existsSync(join(root, 'docs'))) {
    for (const name of readdirSync(join(root, 'docs')))
      if (name.endsWith('.md')) add(join(root, 'docs', name));
  }
  return files.sort();
}

/**
 * Every block of every file {@link markdownFiles} lists.
 * @param root - the repository root
 * @returns the blocks, file by file
 */
export function repositoryBlocks(root: string): CodeBlock[] {
  return markdownFiles(root).flatMap((file) => extractBlocks(readFileSync(join(root, file), 'utf8'), file));
}
