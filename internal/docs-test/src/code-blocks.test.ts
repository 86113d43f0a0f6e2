import { describe, expect, it } from 'vitest';
import { extractBlocks } from './code-blocks.js';

const md = (...lines: string[]) => lines.join('\n');

describe('extractBlocks', () => {
  it('finds ts and typescript blocks with their first code line, and nothing else', () => {
    const text = md(
      '# title',
      '```sh',
      'npm install x',
      '```',
      '```ts',
      'const a = 1;',
      '```',
      '',
      '```typescript',
      'const b = 2;',
      'const c = 3;',
      '```',
      '```js',
      'no',
      '```',
    );
    expect(extractBlocks(text, 'R.md')).toEqual([
      { file: 'R.md', line: 6, code: 'const a = 1;', mode: 'check', prelude: '' },
      { file: 'R.md', line: 10, code: 'const b = 2;\nconst c = 3;', mode: 'check', prelude: '' },
    ]);
  });

  it('reads run, prelude and skip directives from the comment right before the fence', () => {
    const text = md(
      '<!-- run -->',
      '```ts',
      'a();',
      '```',
      '<!-- prelude',
      "import type { StreamReader } from '@asyncnet/streams';",
      'declare const reader: StreamReader;',
      '-->',
      '',
      '```ts',
      'await reader.readLine();',
      '```',
      '<!-- skip: the asyncio trap, shown wrong on purpose -->',
      '```ts',
      'bad();',
      '```',
    );
    const [run, prelude, skip] = extractBlocks(text, 'R.md');
    expect(run?.mode).toBe('run');
    expect(prelude).toMatchObject({
      mode: 'check',
      prelude:
        "import type { StreamReader } from '@asyncnet/streams';\ndeclare const reader: StreamReader;\n",
    });
    expect(skip).toMatchObject({ mode: 'skip', reason: 'the asyncio trap, shown wrong on purpose' });
  });

  it('forgets a directive once prose comes between it and the block', () => {
    const text = md('<!-- run -->', 'Some prose.', '```ts', 'x;', '```');
    expect(extractBlocks(text, 'R.md')[0]?.mode).toBe('check');
  });

  it('keeps the code of an indented fence (in a list item) without its indent', () => {
    const text = md('- step', '  ```ts', '  const a = 1;', '    nested();', '  ```');
    expect(extractBlocks(text, 'R.md')[0]?.code).toBe('const a = 1;\n  nested();');
  });

  it('does not treat a fence inside a longer fence as a block', () => {
    const text = md('````md', '```ts', 'inner', '```', '````', '```ts', 'outer;', '```');
    expect(extractBlocks(text, 'R.md').map((b) => b.code)).toEqual(['outer;']);
  });

  it('refuses a misspelt directive, a skip without a reason and an unclosed fence', () => {
    expect(() => extractBlocks(md('<!-- runn -->', '```ts', 'x', '```'), 'R.md')).toThrow(
      /R\.md:2: unknown directive 'runn'/,
    );
    expect(() => extractBlocks(md('<!-- skip -->', '```ts', 'x', '```'), 'R.md')).toThrow(/needs a reason/);
    expect(() => extractBlocks(md('```ts', 'x'), 'R.md')).toThrow(/R\.md:1: code fence is never closed/);
  });
});
