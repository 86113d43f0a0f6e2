import { beforeAll, describe, expect, it } from 'vitest';
import { childEnv, requireBuiltCli, runCli } from './__fixtures__/run-cli.js';
import { COMMANDS } from './commands.js';

beforeAll(requireBuiltCli);

describe.concurrent('asyncnet-demo help and version', () => {
  it('prints the command list with --help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name} `);
    expect(r.stderr).toBe('');
  });

  it('prints the version from package.json with --version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^asyncnet-demo \d+\.\d+\.\d+\n$/);
  });

  it.each(COMMANDS.map((c) => c.name))('prints help for %s', async (name) => {
    const r = await runCli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`usage: asyncnet-demo ${name}`);
    expect(r.stdout).toContain('--help');
  });
});

describe.concurrent('asyncnet-demo bad input', () => {
  const usage: [string, string[], RegExp][] = [
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate".*--help/],
    ['an unknown option', ['get', '--bogus', 'http://127.0.0.1/'], /unknown option "--bogus"/],
    ['a missing url', ['get'], /missing argument for get/],
    ['a bad url', ['get', 'not a url'], /bad url "not a url"/],
    ['an unsupported scheme', ['get', 'ftp://127.0.0.1/x'], /unsupported scheme "ftp:"/],
    [
      'a url port out of range',
      ['get', 'http://127.0.0.1:99999/x'],
      /port 99999 in "http:\/\/127\.0\.0\.1:99999\/x" is out of range: use 1-65535/,
    ],
    ['a url port 0', ['get', 'http://[::1]:0/'], /port 0 in .* is out of range/],
    [
      'a port out of range',
      ['echo-server', '--port', '70000'],
      /--port must be between 0 and 65535, got 70000/,
    ],
    ['a malformed port', ['echo-client', '--port', 'eighty'], /--port must be a whole number, got "eighty"/],
    ['an option without its value', ['echo-server', '--port'], /--port needs a value/],
    ['a bad --mode', ['echo-server', '--mode', 'zip'], /--mode must be bulk or line/],
    ['a missing chat address', ['chat'], /missing argument for chat/],
    ['a chat address without a port', ['chat', 'localhost'], /expected HOST:PORT/],
    ['a bad header', ['get', '-H', 'no colon', 'http://127.0.0.1/'], /bad header "no colon"/],
    ['an extra argument', ['tour', 'extra'], /unexpected argument "extra"/],
    ['a bad --history', ['chat-server', '--history', '-3'], /--history/],
    ['a bad nick', ['chat', '127.0.0.1:7000', '--nick', '1abc'], /bad nick "1abc"/],
  ];
  it.each(usage)('exits 2 with one line on stderr for %s', async (_what, args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^asyncnet-demo: error: /);
    expect(lines[0]).toMatch(message);
  });

  it('exits 1 without a stack trace when the connection is refused', async () => {
    // Port 1 on loopback: nothing listens there on a test machine.
    for (const args of [
      ['get', 'http://127.0.0.1:1/'],
      ['echo-client', '--port', '1', 'hi'],
      ['chat', '127.0.0.1:1'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(
        /^asyncnet-demo: error: .*connection refused by 127\.0\.0\.1:1: is the server running/,
      );
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 1 with one line when Redis is unreachable for chat-server --redis', async () => {
    const r = await runCli([
      'chat-server',
      '--port',
      '0',
      '--irc-port',
      'off',
      '--redis',
      'redis://127.0.0.1:1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^asyncnet-demo: error: cannot start chat server: .*127\.0\.0\.1:1.*\n$/);
  });

  it('shows the stack trace with --debug', async () => {
    const r = await runCli(['get', 'http://127.0.0.1:1/', '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('prints no runtime warning when both NO_COLOR and FORCE_COLOR are set', async () => {
    // Node 24 warns about this pair as soon as node:http loads; the CLI settles the pair first.
    const env = childEnv({ NO_COLOR: '1', FORCE_COLOR: '1' });
    for (const args of [
      ['chat', '127.0.0.1:1'],
      ['get', 'http://127.0.0.1:1/'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^asyncnet-demo: error: [^\n]*connection refused[^\n]*\n$/);
    }
  });
});
