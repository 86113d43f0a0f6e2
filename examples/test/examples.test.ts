import { describe, expect, it } from 'vitest';
import { examples, runTypeScript } from '../run.mjs';

const addr = String.raw`127\.0\.0\.1:\d+`;

/** What each example must print: every pattern matches one line, in order unless `unordered`. */
const expected: Record<string, { lines: RegExp[]; unordered?: boolean }> = {
  'tcp-server': {
    lines: [
      new RegExp(`^Serving on ${addr}$`),
      new RegExp(`^Received "Hello World!" from ${addr}$`),
      /^Send: "Hello World!"$/,
      /^Close the connection$/,
      /^Client got "Hello World!"$/,
    ],
  },
  'tcp-client': {
    lines: [/^Send: "Hello World!"$/, /^Received: "Hello World!"$/, /^Close the connection$/],
  },
  'stream-processing': {
    lines: [
      /^-- processStream$/,
      /^Received line: first line$/,
      /^Received line: second line$/,
      /^Received line: last line, no newline$/,
      /^at EOF: true$/,
      /^-- processStreamAsyncFor$/,
      /^Received line: first line$/,
      /^Received line: second line$/,
      /^Received line: last line, no newline$/,
      /^at EOF: true$/,
    ],
  },
  'echo-protocol': {
    lines: [
      new RegExp(`^Serving on ${addr}$`),
      new RegExp(`^Connection from ${addr}$`),
      /^Data received: "Hello, protocol!"$/,
      /^Client got "Hello, protocol!"$/,
      /^Connection lost: closed cleanly$/,
    ],
  },
  gather: {
    lines: [
      /^All done: \["Message 0","Message 1","Message 2","Message 3","Message 4"\]$/,
      /^5 clients served in \d+ ms/,
      ...[0, 1, 2, 3, 4].map((i) => new RegExp(`^Received: "Message ${i}"$`)),
    ],
    unordered: true,
  },
  'http-get': {
    lines: [
      /^HTTP\/1\.1 200 OK\r?$/,
      /^content-type: text\/plain\r?$/i,
      /^Connection: close\r?$/i,
      /^hello from \/index\.html$/,
      /^http-lite: 200 text\/plain "hello from \/index\.html\\n"$/,
    ],
  },
  'chat-naive': {
    lines: [
      ...[0, 1, 2].map(() => new RegExp(`^${addr} connected$`)),
      new RegExp(`^${addr}: hello, everyone$`),
      new RegExp(`^bob got: ${addr}: hello, everyone$`),
      new RegExp(`^carol got: ${addr}: hello, everyone$`),
      ...[0, 1, 2].map(() => new RegExp(`^${addr} disconnected$`)),
    ],
    unordered: true,
  },
  'chat-hub': {
    lines: [
      new RegExp(`^chat server on ${addr}$`),
      /^bob got: <alice> hello, everyone \(in #lobby\)$/,
      /^carol got: <alice> hello, everyone \(in #lobby\)$/,
    ],
  },
  'buffered-read': {
    lines: [
      /^Read 100000 bytes; the largest chunk was (\d+) bytes$/,
      /^Message: hello$/,
      /^Message: length-prefixed$/,
      /^Message: world$/,
      /^No more messages$/,
      /^Message: whole$/,
      /^Cut off after 4 of 7 bytes$/,
    ],
  },
  'wait-for': {
    lines: [
      /^-- readWithTimeout$/,
      /^Timed out waiting for data \(ERR_TIMEOUT\)$/,
      /^Received: "finally, an answer"$/,
      /^-- readWithSignal$/,
      /^Timed out waiting for data \(ERR_TIMEOUT\)$/,
      /^Received: "finally, an answer"$/,
      /^-- ask$/,
      /^No answer within 100 ms$/,
      /^Received within the deadline: "finally, an answer"$/,
    ],
  },
};

function check(name: string, out: string): void {
  const spec = expected[name];
  if (spec === undefined) throw new Error(`no expected output for example '${name}': add it to this test`);
  const lines = out.split('\n').filter((l) => l !== '');
  if (spec.unordered) {
    const left = [...lines];
    for (const re of spec.lines) {
      const i = left.findIndex((l) => re.test(l));
      expect(i, `${re} in:\n${out}`).not.toBe(-1);
      left.splice(i, 1);
    }
    return;
  }
  let at = 0;
  for (const re of spec.lines) {
    const i = lines.findIndex((l, j) => j >= at && re.test(l));
    expect(i, `${re} (after line ${at}) in:\n${out}`).not.toBe(-1);
    at = i + 1;
  }
}

describe('examples', () => {
  const all = examples();

  it('has an expected output for every example and an example for every expected output', () => {
    expect(all.map((e) => e.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(all)('runs $name to completion with the expected output', async ({ name, file }) => {
    const result = await runTypeScript(file, { timeoutMs: 15_000 });
    expect(result.timedOut, `${name} did not finish within 15 s:\n${result.stdout}${result.stderr}`).toBe(
      false,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    check(name, result.stdout);
    if (name === 'buffered-read') {
      const largest = Number(/largest chunk was (\d+)/.exec(result.stdout)?.[1]);
      expect(largest).toBeLessThanOrEqual(1024);
    }
  });
});
