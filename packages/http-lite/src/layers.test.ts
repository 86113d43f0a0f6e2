import { afterEach, describe, expect, it } from 'vitest';
import { type Running, rejectionOf, startHttp, useAgents } from './__fixtures__/servers.js';
import { Agent, type Dispatch, fetch, get, HttpError, type Layer, post, request } from './index.js';

const servers: Running[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const newAgent = useAgents();

/** Answers `METHOD path x-id` after redirecting /r to /. */
async function start(): Promise<Running> {
  const s = await startHttp((req, res) => {
    if (req.url === '/r') res.writeHead(302, { location: '/' }).end();
    else res.end(`${req.method} ${req.url} ${req.headers['x-id']}`);
  });
  servers.push(s);
  return s;
}

const withId =
  (id: string): Layer =>
  (next) =>
  (req) =>
    next({ ...req, headers: [...req.headers, ['x-id', id]] });

describe('Agent layers', () => {
  it('runs a user layer that adds a field on every request of the agent, fetch included', async () => {
    const s = await start();
    const agent = newAgent({ layers: [withId('7')] });
    expect(await (await get(`${s.origin}/a`, { agent })).body.text()).toBe('GET /a 7');
    expect(await (await post(`${s.origin}/b`, 'x', { agent })).body.text()).toBe('POST /b 7');
    expect(await (await fetch(`${s.origin}/c`, { agent })).text()).toBe('GET /c 7');
    expect(await (await get(`${s.origin}/d`, { agent: newAgent() })).body.text()).toBe('GET /d undefined');
  });

  it('composes the first layer outermost, around the built-in ones: one call per request, the final response', async () => {
    const s = await start();
    const log: string[] = [];
    const tag =
      (name: string): Layer =>
      (next) =>
      async (req) => {
        log.push(`${name} > ${req.method} ${new URL(req.url).pathname}`);
        const res = await next(req);
        log.push(`${name} < ${res.status} ${new URL(res.url).pathname}`);
        return res;
      };
    const agent = newAgent({ layers: [tag('a'), tag('b')] });
    const res = await get(`${s.origin}/r`, { agent, maxRedirects: 1 });
    expect(await res.body.text()).toBe('GET / undefined');
    expect(log).toEqual(['a > GET /r', 'b > GET /r', 'b < 200 /', 'a < 200 /']);
  });

  it('times each request with a logging layer that waits for the body end', async () => {
    const s = await start();
    const lines: string[] = [];
    const timing: Layer = (next) => async (req) => {
      const t0 = performance.now();
      const res = await next(req);
      lines.push(`${req.method} ${req.url} ${res.status} ${(performance.now() - t0).toFixed(1)} ms`);
      return res;
    };
    const agent = newAgent({ layers: [timing] });
    await (await get(`${s.origin}/t`, { agent })).body.text();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^GET ${s.origin}/t 200 [0-9.]+ ms$`));
  });

  it('sends a request a layer changed (URL, method, body) to where it now points, validated again', async () => {
    const a = await start();
    const b = await start();
    const move: Layer = (next) => (req) =>
      next({ ...req, url: `${b.origin}/moved`, method: 'put', body: 'x' });
    const res = await get(`${a.origin}/`, { agent: newAgent({ layers: [move] }) });
    expect(await res.body.text()).toBe('PUT /moved undefined');
    expect(res.url).toBe(`${b.origin}/moved`);
    expect(a.accepted()).toBe(0);
  });

  it('lets a layer call next more than once: a fallback to a mirror after a 503', async () => {
    const busy = await startHttp((_req, res) => res.writeHead(503).end('busy'));
    servers.push(busy);
    const mirror = await start();
    const fallback: Layer = (next) => async (req) => {
      const res = await next(req);
      if (res.status !== 503) return res;
      await res.body.dump();
      return next({ ...req, url: req.url.replace(busy.origin, mirror.origin) });
    };
    const res = await get(`${busy.origin}/x`, { agent: newAgent({ layers: [fallback] }) });
    expect(await res.body.text()).toBe('GET /x undefined');
    expect([busy.accepted(), mirror.accepted()]).toEqual([1, 1]);
  });

  it('refuses a field a layer adds when it could split the head', async () => {
    const s = await start();
    const agent = newAgent({ layers: [withId('1\r\nx-evil: 1')] });
    const err = await rejectionOf(get(s.origin, { agent }));
    expect(err.code).toBe('ERR_INVALID_HEADER');
    expect(s.accepted()).toBe(0);
  });

  it('rejects the request with the error a layer throws, even synchronously', async () => {
    const s = await start();
    const boom: Layer = () => () => {
      throw new Error('no');
    };
    await expect(get(s.origin, { agent: newAgent({ layers: [boom] }) })).rejects.toThrow('no');
    const deny: Layer = (next: Dispatch) => (req) =>
      req.method === 'DELETE' ? Promise.reject(new HttpError('ERR_ABORTED', 'deletes are off')) : next(req);
    const agent = newAgent({ layers: [deny] });
    expect((await rejectionOf(request(s.origin, { agent, method: 'delete' }))).message).toBe(
      'deletes are off',
    );
    expect(await (await get(s.origin, { agent })).body.text()).toBe('GET / undefined');
  });

  it('throws ERR_INVALID_ARGUMENT for a layer that is not a function or returns none', () => {
    expect(() => new Agent({ layers: [42 as never] })).toThrow(/layers\[0\] must be a function/);
    expect(() => new Agent({ layers: [withId('1'), (() => null) as never] })).toThrow(
      /layers\[1\] must return a dispatch function/,
    );
  });
});
