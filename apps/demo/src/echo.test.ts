import { beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, requireBuiltCli, runCli } from './__fixtures__/run-cli.js';

beforeAll(requireBuiltCli);

describe.concurrent('asyncnet-demo echo-server and echo-client', () => {
  it.each(['bulk', 'line'])('echoes messages in %s mode and closes gracefully on SIGTERM', async (mode) => {
    const server = new CliProcess(['echo-server', '--port', '0', '--mode', mode]);
    try {
      const port = (await server.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]!;
      const r = await runCli(['echo-client', '--port', port, 'hello', 'two words']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('hello\ntwo words\n');
      const multi = await runCli(['echo-client', '--port', port, 'one\ntwo', 'three\n', 'four']);
      expect(multi.code).toBe(0);
      expect(multi.stdout).toBe('one\ntwo\nthree\nfour\n');
      const piped = await runCli(['echo-client', '--port', port], { input: 'from\nstdin\n' });
      expect(piped.stdout).toBe('from\nstdin\n');
      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stdout).toContain('SIGTERM, closing');
    } finally {
      server.kill();
    }
  });

  it('reports a port in use as a runtime failure (exit 1)', async () => {
    const server = new CliProcess(['echo-server', '--port', '0']);
    try {
      const port = (await server.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]!;
      const r = await runCli(['echo-server', '--port', port]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `asyncnet-demo: error: cannot listen: address 127.0.0.1:${port} is already in use: pick another port with --port\n`,
      );
    } finally {
      server.kill();
    }
  });
});
