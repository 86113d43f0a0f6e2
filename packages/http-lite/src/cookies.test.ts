import { afterEach, describe, expect, it } from 'vitest';
import { type Running, startHttp, useAgents } from './__fixtures__/servers.js';
import { type CookieJarLike, get } from './index.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();

/** A jar with tough-cookie's promise API, host-only cookies, name=value only (enough to see what is sent). */
class TinyJar implements CookieJarLike {
  readonly stored: { host: string; pair: string; url: string }[] = [];
  async getCookieString(url: string): Promise<string> {
    const host = new URL(url).host;
    return this.stored
      .filter((c) => c.host === host)
      .map((c) => c.pair)
      .join('; ');
  }
  async setCookie(cookie: string, url: string, options?: { ignoreError?: boolean }): Promise<unknown> {
    expect(options?.ignoreError).toBe(true);
    const pair = cookie.split(';')[0]!.trim();
    const name = pair.split('=')[0];
    const host = new URL(url).host;
    const i = this.stored.findIndex((c) => c.host === host && c.pair.startsWith(`${name}=`));
    if (i !== -1) this.stored.splice(i, 1);
    this.stored.push({ host, pair, url });
    return undefined;
  }
}

describe('cookieJar', () => {
  it('stores Set-Cookie from redirects and sends the jar cookies on each hop, after the caller Cookie', async () => {
    const seen: (string | undefined)[] = [];
    server = await startHttp((req, res) => {
      seen.push(req.headers.cookie);
      if (req.url === '/login')
        res.writeHead(302, { location: '/home', 'set-cookie': ['sid=abc; HttpOnly', 'x=1'] }).end();
      else res.end('home');
    });
    const agent = newAgent();
    const jar = new TinyJar();
    const res = await get(`${server.origin}/login`, { agent, cookieJar: jar, maxRedirects: 2 });
    expect(await res.body.text()).toBe('home');
    expect(seen).toEqual([undefined, 'sid=abc; x=1']);
    expect(jar.stored.map((c) => c.url)).toEqual([`${server.origin}/login`, `${server.origin}/login`]);
    await (
      await get(`${server.origin}/again`, { agent, cookieJar: jar, headers: { cookie: 'mine=1' } })
    ).body.text();
    expect(seen[2]).toBe('mine=1; sid=abc; x=1');
  });

  it('fails with the jar error and frees the connection', async () => {
    server = await startHttp((_req, res) => res.writeHead(200, { 'set-cookie': 'a=1' }).end('x'));
    const agent = newAgent({ connections: 1 });
    const broken: CookieJarLike = {
      getCookieString: async () => '',
      setCookie: async () => {
        throw new Error('jar full');
      },
    };
    await expect(get(server.origin, { agent, cookieJar: broken })).rejects.toThrow('jar full');
    expect(await (await get(server.origin, { agent })).body.text()).toBe('x');
  });
});
