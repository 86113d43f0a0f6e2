import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { LineClient } from './__fixtures__/line-client.js';
import { ChatError } from './errors.js';
import type { ChatServerOptions } from './options.js';
import { type ChatServer, createChatServer } from './server.js';

const servers: ChatServer[] = [];
const dirs: string[] = [];
const sockets: TLSSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function certFiles(): {
  certFile: string;
  keyFile: string;
  cert: string;
  write(c: { cert: string; key: string }): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'chat-tls-'));
  dirs.push(dir);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const first = makeCert();
  const files = {
    certFile,
    keyFile,
    cert: first.cert,
    write(c: { cert: string; key: string }) {
      writeFileSync(certFile, c.cert);
      writeFileSync(keyFile, c.key);
      files.cert = c.cert;
    },
  };
  files.write(first);
  return files;
}

async function start(options: ChatServerOptions): Promise<ChatServer> {
  const server = createChatServer({ log: () => {}, floodControl: false, ...options });
  servers.push(server);
  await server.listen({ ircPort: 0, tlsPort: 0 });
  return server;
}

/** A TLS IRC client trusting `ca`; resolves with the socket, its lines and the server's certificate. */
async function tlsClient(
  port: number,
  ca: string,
): Promise<{ s: TLSSocket; lines: string[]; waitFor(re: RegExp): Promise<string>; peer: X509Certificate }> {
  const s = await new Promise<TLSSocket>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, ca }, () => resolve(sock));
    sock.once('error', reject);
  });
  sockets.push(s);
  const lines: string[] = [];
  let buf = '';
  const waiters: Array<() => void> = [];
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    let nl = buf.indexOf('\r\n');
    while (nl !== -1) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 2);
      nl = buf.indexOf('\r\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (re: RegExp): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (let k = 0; ; ) {
      for (; k < lines.length; k++) if (re.test(lines[k]!)) return lines[k]!;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; got:\n${lines.join('\n')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { s, lines, waitFor, peer: new X509Certificate(s.getPeerX509Certificate()!.raw) };
}

describe('IRC over TLS', () => {
  it('serves IRC over TLS with the certificate files; WHOIS shows 671 for TLS users only', async () => {
    const files = certFiles();
    const server = await start({ tls: { certFile: files.certFile, keyFile: files.keyFile } });
    const port = server.tlsAddress()!.port;
    expect(port).toBeGreaterThan(0);
    const c = await tlsClient(port, files.cert);
    expect(c.s.authorized).toBe(true);
    c.s.write('NICK secure\r\nUSER s 0 * :S\r\n');
    await c.waitFor(/ 001 secure /);
    const plain = await LineClient.open(server.ircAddress()!.port);
    plain.send('NICK clear');
    plain.send('USER c 0 * :C');
    await plain.waitFor(/ 376 /);
    plain.send('WHOIS secure');
    await plain.waitFor(/ 671 clear secure :is using a secure connection/);
    c.s.write('WHOIS clear\r\n');
    await c.waitFor(/ 318 secure clear /);
    expect(c.lines.some((l) => / 671 /.test(l))).toBe(false);
    plain.close();
  });

  it('reloadTls() serves a renewed certificate to new connections and keeps open ones', async () => {
    const files = certFiles();
    const server = await start({ tls: { certFile: files.certFile, keyFile: files.keyFile } });
    const port = server.tlsAddress()!.port;
    const first = files.cert;
    const old = await tlsClient(port, first);
    old.s.write('NICK early\r\nUSER e 0 * :E\r\n');
    await old.waitFor(/ 001 early /);
    files.write(makeCert());
    await server.reloadTls();
    const fresh = await tlsClient(port, files.cert);
    expect(fresh.peer.fingerprint256).toBe(new X509Certificate(files.cert).fingerprint256);
    expect(fresh.peer.fingerprint256).not.toBe(new X509Certificate(first).fingerprint256);
    // The connection made before the reload still works.
    old.s.write('PING :still-here\r\n');
    await old.waitFor(/PONG .*still-here/);
  });

  it('keeps the certificate in use when a reload finds a broken file, and says which', async () => {
    const files = certFiles();
    const server = await start({ tls: { certFile: files.certFile, keyFile: files.keyFile } });
    const good = files.cert;
    writeFileSync(files.keyFile, 'not a key');
    const err = await server.reloadTls().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).code).toBe('ERR_TLS_CERT');
    expect((err as ChatError).message).toContain(files.keyFile);
    const c = await tlsClient(server.tlsAddress()!.port, good);
    expect(c.peer.fingerprint256).toBe(new X509Certificate(good).fingerprint256);
  });

  it('refuses to listen on tlsPort without certificate files, or with unreadable ones', async () => {
    const a = createChatServer({ log: () => {} });
    servers.push(a);
    await expect(a.listen({ tlsPort: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const b = createChatServer({
      log: () => {},
      tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' },
    });
    servers.push(b);
    await expect(b.listen({ tlsPort: 0 })).rejects.toMatchObject({ code: 'ERR_TLS_CERT' });
    expect(() => createChatServer({ tls: { certFile: '', keyFile: 'k' } })).toThrow(/tls\.certFile/);
    expect(() => createChatServer({ tls: { certFile: 'c', keyFile: 'k', sts: { duration: -1 } } })).toThrow(
      /tls\.sts\.duration/,
    );
  });

  it('advertises STS: the TLS port on plaintext, the duration on TLS; sts cannot be requested', async () => {
    const files = certFiles();
    const server = await start({
      tls: { certFile: files.certFile, keyFile: files.keyFile, sts: { duration: 86_400 } },
    });
    const tlsPort = server.tlsAddress()!.port;
    const plain = await LineClient.open(server.ircAddress()!.port);
    plain.send('CAP LS 302');
    const ls = await plain.waitFor(/ CAP \* LS /);
    expect(ls).toContain(` sts=port=${tlsPort}`);
    expect(ls).not.toContain('duration=');
    plain.send('CAP REQ :sts');
    await plain.waitFor(/ CAP \* NAK :sts$/);
    plain.close();
    const c = await tlsClient(tlsPort, files.cert);
    c.s.write('CAP LS 302\r\n');
    const secureLs = await c.waitFor(/ CAP \* LS /);
    expect(secureLs).toContain(' sts=duration=86400');
    expect(secureLs).not.toContain('port=');
  });
});
