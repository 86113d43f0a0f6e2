import { CookieJar } from 'tough-cookie';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingCore, requestOf } from './__fixtures__/dispatch.js';
import { type Running, startHttp, useAgents } from './__fixtures__/servers.js';
import { cookieLayer } from './internal/cookies.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();

describe('cookieLayer', () => {
  it('hands the request to the next dispatch unchanged without a jar', async () => {
    server = await startHttp((_req, res) => res.writeHead(200, { 'set-cookie': 'a=1' }).end());
    const core = recordingCore(newAgent());
    const req = requestOf(server.origin);
    await (await cookieLayer(core.dispatch)(req)).body.dump();
    expect(core.seen[0]).toBe(req);
  });

  it("adds the jar's cookies after the caller's and stores the response's", async () => {
    server = await startHttp((req, res) =>
      res.writeHead(200, { 'set-cookie': 'b=2' }).end(String(req.headers.cookie)),
    );
    const core = recordingCore(newAgent());
    const jar = new CookieJar();
    await jar.setCookie('a=1', server.origin);
    const req = {
      ...requestOf(`${server.origin}/p`, { cookieJar: jar }),
      headers: [['cookie', 'mine=0']] as const,
    };
    const res = await cookieLayer(core.dispatch)(req);
    expect(await res.body.text()).toBe('mine=0; a=1');
    expect(core.seen[0]!.headers).toEqual([['cookie', 'mine=0; a=1']]);
    expect(req.headers).toEqual([['cookie', 'mine=0']]);
    expect(await jar.getCookieString(server.origin)).toBe('a=1; b=2');
  });
});
