import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ChatClient, type ChatEvent } from '@asyncnet/chat';
import { beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, eventually, requireBuiltCli, runCli } from './__fixtures__/run-cli.js';
import { makeSelfSignedCert } from './cert.js';

beforeAll(requireBuiltCli);

function next(client: ChatClient, test: (ev: ChatEvent) => boolean): Promise<ChatEvent> {
  return new Promise((resolve) => {
    const on = (ev: ChatEvent) => {
      if (test(ev)) {
        client.off('event', on);
        resolve(ev);
      }
    };
    client.on('event', on);
  });
}

describe('asyncnet-demo chat-server', () => {
  it('logs one line when listening, carries messages between two ChatClients, and closes on SIGTERM', async () => {
    const server = new CliProcess(['chat-server', '--port', '0', '--irc-port', '0', '--history', '5']);
    const clients: ChatClient[] = [];
    try {
      const m = await server.waitFor(
        /chat-server listening: plain 127\.0\.0\.1:(\d+), irc 127\.0\.0\.1:(\d+)/,
      );
      expect(server.stdout.trim().split('\n')).toHaveLength(1);
      const port = Number(m[1]);
      const alice = await ChatClient.connect('127.0.0.1', port, { nick: 'alice' });
      clients.push(alice);
      const bob = await ChatClient.connect('127.0.0.1', port, { nick: 'bob' });
      clients.push(bob);
      expect(alice.room).toBe('#lobby');
      const heard = next(bob, (e) => e.type === 'message');
      alice.say('hello bob');
      expect(await heard).toEqual({ type: 'message', room: '#lobby', from: 'alice', text: 'hello bob' });
      const whisper = next(alice, (e) => e.type === 'private');
      bob.msg('alice', 'hi alice, privately');
      expect(await whisper).toEqual({ type: 'private', from: 'bob', text: 'hi alice, privately' });
      const closed = Promise.all(clients.map((c) => new Promise((r) => c.once('close', r))));
      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      await closed;
      expect(server.stdout).toContain('SIGTERM, closing 2 connections');
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      server.kill();
    }
  });

  it('takes chat lines from a pipe with the chat command, and exits 0 at end of input', async () => {
    const server = new CliProcess(['chat-server', '--port', '0', '--irc-port', 'off']);
    const clients: ChatClient[] = [];
    try {
      const port = Number((await server.waitFor(/plain 127\.0\.0\.1:(\d+)/))[1]);
      const listener = await ChatClient.connect('127.0.0.1', port, { nick: 'listener' });
      clients.push(listener);
      const heard = next(listener, (e) => e.type === 'message');
      const r = await runCli(['chat', `127.0.0.1:${port}`, '--nick', 'piper'], {
        input: 'hello from a pipe\n',
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('* connected to');
      expect(await heard).toMatchObject({ from: 'piper', text: 'hello from a pipe' });
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      server.kill();
    }
  });

  it('chat explains a server that never greets (the IRC port) and honours --timeout', async () => {
    const server = new CliProcess(['chat-server', '--port', '0', '--irc-port', '0']);
    try {
      const irc = (await server.waitFor(/irc 127\.0\.0\.1:(\d+)/))[1]!;
      const r = await runCli(['chat', `127.0.0.1:${irc}`, '--nick', 'ann', '--timeout', '300']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `asyncnet-demo: error: cannot join chat at 127.0.0.1:${irc}: no chat greeting within 300 ms: is a chat-server's plain-protocol port (not its IRC port) there? raise --timeout if it is slow\n`,
      );
    } finally {
      server.kill();
    }
  });

  it('serves IRC over TLS with --tls-cert/--tls-key and re-reads the certificate on SIGHUP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-tls-'));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    const write = (c: { cert: string; key: string }) => {
      writeFileSync(certFile, c.cert);
      writeFileSync(keyFile, c.key);
      return c.cert;
    };
    const first = write(makeSelfSignedCert());
    const fingerprint = (port: number, ca: string) =>
      new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
          resolve(new X509Certificate(s.getPeerX509Certificate()!.raw).fingerprint256);
          s.destroy();
        });
        s.once('error', reject);
      });
    const server = new CliProcess([
      'chat-server',
      '--port',
      '0',
      '--irc-port',
      'off',
      '--tls-cert',
      certFile,
      '--tls-key',
      keyFile,
      '--tls-port',
      '0',
    ]);
    try {
      const port = Number((await server.waitFor(/, irc\+tls 127\.0\.0\.1:(\d+)/))[1]);
      expect(await fingerprint(port, first)).toBe(new X509Certificate(first).fingerprint256);
      const second = write(makeSelfSignedCert());
      server.child.kill('SIGHUP');
      await eventually('the reload line', () => server.stderr.includes('tls certificate reloaded'));
      expect(await fingerprint(port, second)).toBe(new X509Certificate(second).fingerprint256);
      writeFileSync(keyFile, 'broken');
      server.child.kill('SIGHUP');
      await eventually('the failed reload line', () => server.stderr.includes('keeping the old certificate'));
      expect(await fingerprint(port, second)).toBe(new X509Certificate(second).fingerprint256);
    } finally {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
    const half = await runCli(['chat-server', '--tls-cert', certFile]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('--tls-cert and --tls-key go together');
  });

  it('runs without an IRC listener with --irc-port off', async () => {
    const server = new CliProcess(['chat-server', '--port', '0', '--irc-port', 'off']);
    try {
      await server.waitFor(/chat-server listening: plain 127\.0\.0\.1:\d+, in-memory bus\n/);
      server.child.kill('SIGINT');
      // A signal that beat the handlers would show here as { code: null, signal: 'SIGINT' }.
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      server.kill();
    }
  });

  it('serves the web client and IRC over WebSocket with --web-port, printing the URL to open', async () => {
    const server = new CliProcess(['chat-server', '--port', '0', '--irc-port', '0', '--web-port', '0']);
    try {
      const m = await server.waitFor(
        /chat-server listening: plain 127\.0\.0\.1:(\d+), irc 127\.0\.0\.1:\d+, web (http:\/\/127\.0\.0\.1:\d+\/), in-memory bus\n/,
      );
      const page = await fetch(m[2]!);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('<script src="/app.js" defer></script>');
      expect(await (await fetch(new URL('/healthz', m[2]!))).json()).toEqual({ status: 'ok' });
      // The same hub: a plain client still works beside it.
      const c = await ChatClient.connect('127.0.0.1', Number(m[1]), { nick: 'plain' });
      await c.close();
      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      server.kill();
    }
    const bad = await runCli([
      'chat-server',
      '--port',
      '0',
      '--web-port',
      '0',
      '--web-origin',
      'not-an-origin',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/web\.origins/);
  });

  it('names the port that is in use (plain or IRC), and refuses one port for both', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = String((taken.address() as { port: number }).port);
    try {
      for (const args of [
        ['--port', port, '--irc-port', 'off'],
        ['--port', '0', '--irc-port', port],
      ]) {
        const r = await runCli(['chat-server', ...args]);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toBe(
          `asyncnet-demo: error: cannot start chat server: address 127.0.0.1:${port} is already in use: pick another port with --port\n`,
        );
      }
      const same = await runCli(['chat-server', '--port', '7123', '--irc-port', '7123']);
      expect(same.code).toBe(2);
      expect(same.stderr).toMatch(/^asyncnet-demo: error: --port and --irc-port are both 7123: .*\n$/);
    } finally {
      taken.close();
    }
  });

  const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (redisServer === undefined) console.warn('SKIPPED: the chat-server --redis test needs redis-server');

  it.skipIf(redisServer === undefined)('joins two chat-server processes over --redis', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const redis = spawn(
      redisServer!,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const servers: CliProcess[] = [];
    const clients: ChatClient[] = [];
    try {
      const url = `redis://127.0.0.1:${port}`;
      await eventually(
        'redis to listen',
        () =>
          new Promise<boolean>((resolve) => {
            const probe = connect(port, '127.0.0.1');
            probe.on('connect', () => {
              probe.destroy();
              resolve(true);
            });
            probe.on('error', () => resolve(false));
          }),
      );
      for (let i = 0; i < 2; i++)
        servers.push(new CliProcess(['chat-server', '--port', '0', '--irc-port', 'off', '--redis', url]));
      const ports = await Promise.all(
        servers.map(async (s) => Number((await s.waitFor(/plain 127\.0\.0\.1:(\d+), bus redis:/))[1])),
      );
      const ann = await ChatClient.connect('127.0.0.1', ports[0]!, { nick: 'ann' });
      clients.push(ann);
      const ben = await ChatClient.connect('127.0.0.1', ports[1]!, { nick: 'ben' });
      clients.push(ben);
      const heard = next(ben, (e) => e.type === 'message');
      // Presence travels over the bus asynchronously: repeat until ben (on the other node) hears it.
      await eventually('a message across nodes', async () => {
        ann.say('across nodes');
        return Promise.race([
          heard.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 300)),
        ]);
      });
      expect(await heard).toMatchObject({ from: 'ann', text: 'across nodes' });
      // SIGUSR2 prints one stats line: the bus, and the other node with its lag and silence.
      servers[0]!.child.kill('SIGUSR2');
      const [line] = await servers[0]!.waitFor(/chat-server: stats: .*\n/);
      expect(line).toMatch(
        /^chat-server: stats: connections 1, bus redis connected, published \d+, received \d+, buffered 0, overflowed 0, resyncs \d+, nick conflicts 0 \(0 resolved\), lag \d+ ms; nodes: \S+ lag \d+ ms idle \d+ ms events [1-9]\d*\n$/,
      );
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      for (const s of servers) s.kill();
      redis.kill('SIGKILL');
    }
  });
});
