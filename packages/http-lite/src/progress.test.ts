import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type Running, startHttp, useAgents } from './__fixtures__/servers.js';
import { get, type Progress, request } from './index.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();

const big = Buffer.alloc(300_000, 7);

describe('progress', () => {
  it('reports download progress up to the Content-Length', async () => {
    server = await startHttp((_req, res) => res.writeHead(200, { 'content-length': big.length }).end(big));
    const seen: Progress[] = [];
    const res = await get(server.origin, { agent: newAgent(), onDownloadProgress: (p) => seen.push(p) });
    expect((await res.body.bytes()).length).toBe(big.length);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toEqual({ loaded: big.length, total: big.length });
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.loaded).toBeGreaterThan(seen[i - 1]!.loaded);
  });

  it('reports decoded bytes without a total when decompressing, and no total for chunked bodies', async () => {
    const gz = gzipSync(big);
    server = await startHttp((req, res) => {
      if (req.url === '/gz')
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': gz.length }).end(gz);
      else {
        res.write('ab');
        res.end('cd');
      }
    });
    const seen: Progress[] = [];
    const res = await get(`${server.origin}/gz`, {
      agent: newAgent(),
      decompress: true,
      onDownloadProgress: (p) => seen.push(p),
    });
    await res.body.dump();
    // dump() stops the decoder: read instead.
    const res2 = await get(`${server.origin}/gz`, {
      agent: newAgent(),
      decompress: true,
      onDownloadProgress: (p) => seen.push(p),
    });
    expect((await res2.body.bytes()).length).toBe(big.length);
    expect(seen.at(-1)).toEqual({ loaded: big.length });
    const chunked: Progress[] = [];
    await (
      await get(server.origin, { agent: newAgent(), onDownloadProgress: (p) => chunked.push(p) })
    ).body.text();
    expect(chunked.at(-1)).toEqual({ loaded: 4 });
  });

  it('reports upload progress for a buffer body and per chunk for a stream', async () => {
    server = await startHttp((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const up: Progress[] = [];
    await (
      await request(server.origin, {
        agent: newAgent(),
        method: 'PUT',
        body: big,
        onUploadProgress: (p) => up.push(p),
      })
    ).body.text();
    expect(up).toEqual([{ loaded: big.length, total: big.length }]);
    async function* parts() {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(1000, i);
    }
    const streamed: Progress[] = [];
    await (
      await request(server.origin, {
        agent: newAgent(),
        method: 'POST',
        body: parts(),
        headers: { 'content-length': '4000' },
        onUploadProgress: (p) => streamed.push(p),
      })
    ).body.text();
    expect(streamed).toEqual([1000, 2000, 3000, 4000].map((loaded) => ({ loaded, total: 4000 })));
  });

  it('fails the request with the error a progress callback throws', async () => {
    server = await startHttp((_req, res) => res.end(big));
    const res = await get(server.origin, {
      agent: newAgent(),
      onDownloadProgress: () => {
        throw new Error('stop here');
      },
    });
    await expect(res.body.bytes()).rejects.toThrow('stop here');
  });
});
