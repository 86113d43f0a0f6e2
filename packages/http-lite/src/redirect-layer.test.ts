import { afterEach, describe, expect, it } from 'vitest';
import { recordingCore, requestOf } from './__fixtures__/dispatch.js';
import { type Running, rejectionOf, startHttp, useAgents } from './__fixtures__/servers.js';
import { redirectLayer } from './internal/redirect.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();

describe('redirectLayer', () => {
  it('hands the request to the next dispatch unchanged, once, without maxRedirects', async () => {
    server = await startHttp((_req, res) => res.writeHead(302, { location: '/b' }).end());
    const core = recordingCore(newAgent());
    const req = requestOf(`${server.origin}/a`);
    const res = await redirectLayer(core.dispatch)(req);
    expect(res.status).toBe(302);
    expect(core.seen).toEqual([req]);
    expect(core.seen[0]).toBe(req);
    await res.body.dump();
  });

  it('sends each hop through the next dispatch: 303 becomes a GET without content fields, marked redirected', async () => {
    server = await startHttp((req, res) => {
      if (req.url === '/form') res.writeHead(303, { location: '/done' }).end();
      else res.end(`${req.method} ${req.headers['content-type']}`);
    });
    const core = recordingCore(newAgent());
    const req = {
      ...requestOf(`${server.origin}/form`, { maxRedirects: 1 }, 'POST'),
      headers: [['content-type', 'text/plain']] as const,
      body: 'a=1',
    };
    const res = await redirectLayer(core.dispatch)(req);
    expect(await res.body.text()).toBe('GET undefined');
    expect(res.redirected).toBe(true);
    expect(res.url).toBe(`${server.origin}/done`);
    expect(core.seen.map((r) => [r.method, r.url, r.body, r.headers])).toEqual([
      ['POST', `${server.origin}/form`, 'a=1', [['content-type', 'text/plain']]],
      ['GET', `${server.origin}/done`, null, []],
    ]);
  });

  it('fails with ERR_TOO_MANY_REDIRECTS once maxRedirects hops are spent', async () => {
    server = await startHttp((req, res) => res.writeHead(307, { location: `${req.url}x` }).end());
    const core = recordingCore(newAgent());
    const err = await rejectionOf(
      redirectLayer(core.dispatch)(requestOf(`${server.origin}/`, { maxRedirects: 2 })),
    );
    expect(err.code).toBe('ERR_TOO_MANY_REDIRECTS');
    expect(core.seen.map((r) => new URL(r.url).pathname)).toEqual(['/', '/x', '/xx']);
  });
});
