import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ChatClient } from '@asyncnet/chat';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliProcess, requireBuiltCli, runCli } from './__fixtures__/run-cli.js';
import { makeSelfSignedCert } from './cert.js';

beforeAll(requireBuiltCli);

let dir: string;
let servers: CliProcess[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'demo-config-'));
  servers = [];
});
afterEach(() => {
  for (const s of servers) s.kill();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(config: unknown, name = 'chat.json'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}

function start(args: string[]): CliProcess {
  const s = new CliProcess(['chat-server', ...args]);
  servers.push(s);
  return s;
}

/** Registers on the IRC port and returns everything up to the end of the MOTD (376). */
function ircWelcome(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
      if (/ 376 /.test(text)) {
        s.destroy();
        resolve(text);
      }
    });
    s.on('error', reject);
    s.write('NICK ann\r\nUSER ann 0 * :Ann\r\n');
  });
}

describe('asyncnet-demo chat-server --config', () => {
  it('starts the plain and IRC listeners from the file, and IRC clients see its MOTD and name', async () => {
    const file = writeConfig({
      listen: { port: 0, ircPort: 0 },
      serverName: 'irc.example.test',
      motd: ['hello from the config file', 'second line'],
      history: 3,
    });
    const server = start(['--config', file]);
    const m = await server.waitFor(
      /chat-server listening: plain 127\.0\.0\.1:(\d+), irc 127\.0\.0\.1:(\d+), in-memory bus\n/,
    );
    const welcome = await ircWelcome(Number(m[2]));
    expect(welcome).toContain(':irc.example.test 372 ann :- hello from the config file\r\n');
    expect(welcome).toContain(':irc.example.test 372 ann :- second line\r\n');
    const plain = await ChatClient.connect('127.0.0.1', Number(m[1]), { nick: 'bob' });
    expect(plain.room).toBe('#lobby');
    await plain.close();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 2 naming an unknown key and the known ones', async () => {
    const file = writeConfig({ listen: { port: 0 }, motdd: ['typo'] });
    const r = await runCli(['chat-server', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^asyncnet-demo: error: chat-server: config ${file}: unknown key "motdd" \\(known: listen, redis, serverName, network, motd, [^)]*\\)\\n$`,
      ),
    );
    const nested = writeConfig({ tls: { certFile: 'c', keyFile: 'k', stsx: {} } }, 'nested.json');
    const n = await runCli(['chat-server', '-c', nested]);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('unknown key "tls.stsx" (known: certFile, keyFile, sts)');
  });

  it('exits 2 naming a wrong type, a missing file and bad JSON', async () => {
    const file = writeConfig({ listen: { port: '7000' } });
    const r = await runCli(['chat-server', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `asyncnet-demo: error: chat-server: config ${file}: "listen.port" must be a whole number 0-65535, got "7000"\n`,
    );
    const missing = await runCli(['chat-server', '--config', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json: no such file');
    const broken = await runCli(['chat-server', '--config', writeConfig('{ "motd": [', 'broken.json')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.json: not valid JSON: /);
    // The server's own checks still apply to values from the file.
    const op = writeConfig({ operators: [{ name: 'root', password: 'plain-text' }] }, 'op.json');
    const o = await runCli(['chat-server', '--config', op]);
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/operators\[0\]\.password must be a hashPassword\(\) hash/);
  });

  it('reads certificate paths relative to the config file, not the working directory', async () => {
    const { cert, key } = makeSelfSignedCert();
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls', 'cert.pem'), cert);
    writeFileSync(join(dir, 'tls', 'key.pem'), key);
    const file = writeConfig({
      listen: { port: 0, ircPort: 'off', tlsPort: 0 },
      tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' },
    });
    // The test's working directory is apps/demo, so only the config's folder finds tls/.
    const server = start(['--config', file]);
    const port = Number((await server.waitFor(/, irc\+tls 127\.0\.0\.1:(\d+)/))[1]);
    const fingerprint = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: cert }, () => {
        resolve(new X509Certificate(s.getPeerX509Certificate()!.raw).fingerprint256);
        s.destroy();
      });
      s.once('error', reject);
    });
    expect(fingerprint).toBe(new X509Certificate(cert).fingerprint256);
    const noTls = writeConfig({ listen: { tlsPort: 0 } }, 'no-tls.json');
    const r = await runCli(['chat-server', '--config', noTls]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"listen.tlsPort" needs "tls"');
  });

  it('lets flags given on the command line override the file', async () => {
    // Port 1 needs privileges and IRC is off in the file: the flags replace both.
    const file = writeConfig({ listen: { port: 1, ircPort: 'off' }, motd: ['from the file'] });
    const server = start(['--config', file, '--port', '0', '--irc-port', '0']);
    const m = await server.waitFor(/plain 127\.0\.0\.1:(\d+), irc 127\.0\.0\.1:(\d+)/);
    // What no flag overrides still comes from the file.
    expect(await ircWelcome(Number(m[2]))).toContain(' 372 ann :- from the file\r\n');
    // Conflicts name where each value came from.
    const same = writeConfig({ listen: { port: 7123 } }, 'same.json');
    const r = await runCli(['chat-server', '--config', same, '--irc-port', '7123']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`listen.port in ${same} and --irc-port are both 7123`);
  });
});
