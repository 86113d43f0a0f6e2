import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingCore, requestOf } from './__fixtures__/dispatch.js';
import { type Running, startHttp, useAgents } from './__fixtures__/servers.js';
import { decompressLayer } from './internal/decompress-layer.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();

/** Answers with the gzip of the Accept-Encoding it got (identity when none was sent). */
async function start(): Promise<Running> {
  return startHttp((req, res) => {
    const asked = String(req.headers['accept-encoding']);
    res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(asked));
  });
}

describe('decompressLayer', () => {
  it('hands the request to the next dispatch unchanged without decompress (the body stays encoded)', async () => {
    server = await start();
    const core = recordingCore(newAgent());
    const req = requestOf(server.origin);
    const res = await decompressLayer(core.dispatch)(req);
    expect(core.seen[0]).toBe(req);
    expect((await res.body.bytes()).equals(gzipSync('undefined'))).toBe(true);
  });

  it('offers gzip, deflate and br, and decodes the body', async () => {
    server = await start();
    const core = recordingCore(newAgent());
    const res = await decompressLayer(core.dispatch)(requestOf(server.origin, { decompress: true }));
    expect(await res.body.text()).toBe('gzip, deflate, br');
    expect(core.seen[0]!.headers).toEqual([['Accept-Encoding', 'gzip, deflate, br']]);
  });

  it("keeps the caller's Accept-Encoding", async () => {
    server = await start();
    const core = recordingCore(newAgent());
    const req = {
      ...requestOf(server.origin, { decompress: true }),
      headers: [['accept-encoding', 'gzip']] as const,
    };
    const res = await decompressLayer(core.dispatch)(req);
    expect(await res.body.text()).toBe('gzip');
    expect(core.seen[0]!.headers).toEqual([['accept-encoding', 'gzip']]);
  });
});
