import { once } from 'node:events';
import { connect } from 'node:net';
import { makeCert } from '@asyncnet-internal/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { lineEcho, portOf, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { startServer } from './server.js';

let cert: { key: string; cert: string };
beforeAll(() => {
  cert = makeCert();
});

const { servers } = useServers();

describe('TLS', () => {
  it('serves and connects over TLS with a certificate made for the test', async () => {
    const server = await startServer(lineEcho, '127.0.0.1', 0, { tls: { key: cert.key, cert: cert.cert } });
    servers.push(server);
    const [reader, writer] = await openConnection('localhost', portOf(server), {
      tls: { ca: cert.cert },
      family: 4,
    });
    writer.write('secret\n');
    expect((await reader.readLine()).toString()).toBe('secret\n');
    expect(writer.canWriteEof()).toBe(false);
    expect(() => writer.writeEof()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(writer.getExtraInfo('peercert')).toMatchObject({ subject: { CN: 'localhost' } });
    expect(writer.getExtraInfo('cipher')).toMatchObject({ name: expect.any(String) });
    writer.close();
    await writer.waitClosed();
  });

  it("rejects an untrusted certificate with Node's error code", async () => {
    const server = await startServer(() => {}, '127.0.0.1', 0, { tls: cert });
    servers.push(server);
    const err = await openConnection('localhost', portOf(server), { tls: true, family: 4 }).catch((e) => e);
    expect(err.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
  });

  it('waitClosed does not hang on a client that connects and never handshakes', async () => {
    const server = await startServer(() => {}, '127.0.0.1', 0, { tls: cert });
    const raw = connect({ host: '127.0.0.1', port: portOf(server) });
    raw.on('error', () => {});
    await once(raw, 'connect');
    await new Promise((r) => setTimeout(r, 20));
    server.close();
    server.closeClients();
    await server.waitClosed();
    if (!raw.destroyed) await once(raw, 'close');
    expect(raw.destroyed).toBe(true);
  });

  it('negotiates ALPN and exposes it', async () => {
    const server = await startServer((_r, w) => w.close(), '127.0.0.1', 0, {
      tls: { ...cert, ALPNProtocols: ['asyncnet/1'] },
    });
    servers.push(server);
    const [, writer] = await openConnection('127.0.0.1', portOf(server), {
      tls: { ca: cert.cert, servername: 'localhost', ALPNProtocols: ['asyncnet/1'] },
    });
    expect(writer.getExtraInfo('alpnProtocol')).toBe('asyncnet/1');
  });

  it('startTls upgrades both sides in place and keeps the same reader and writer', async () => {
    const server = await startServer(
      async (reader, writer) => {
        expect((await reader.readLine()).toString()).toBe('STARTTLS\n');
        writer.write('GO\n');
        await writer.drain();
        await writer.startTls({ key: cert.key, cert: cert.cert });
        writer.write(`secure:${writer.getExtraInfo('cipher') !== undefined}\n`);
        for await (const line of reader) writer.write(`echo:${line}`);
        writer.close();
      },
      '127.0.0.1',
      0,
    );
    servers.push(server);
    const [reader, writer] = await openConnection('127.0.0.1', portOf(server));
    writer.write('STARTTLS\n');
    expect((await reader.readLine()).toString()).toBe('GO\n');
    await writer.startTls({ ca: cert.cert, servername: 'localhost' });
    expect(writer.getExtraInfo('peercert')).toMatchObject({ subject: { CN: 'localhost' } });
    expect((await reader.readLine()).toString()).toBe('secure:true\n');
    writer.write('hi\n');
    expect((await reader.readLine()).toString()).toBe('echo:hi\n');
    writer.close();
  });

  it('a failed upgrade rejects with ERR_TLS_UPGRADE', async () => {
    const server = await startServer(
      async (reader, writer) => {
        await reader.readLine();
        writer.write('not tls at all\n'.repeat(10));
      },
      '127.0.0.1',
      0,
    );
    servers.push(server);
    const [, writer] = await openConnection('127.0.0.1', portOf(server));
    writer.write('go\n');
    await expect(writer.startTls({ ca: cert.cert, servername: 'localhost' })).rejects.toMatchObject({
      code: 'ERR_TLS_UPGRADE',
    });
  });
});
