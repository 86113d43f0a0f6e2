import { afterEach, describe, expect, it } from 'vitest';
import { type Running, startHttp, startRaw, useAgents } from './__fixtures__/servers.js';
import { get, type HttpError, type RetryInfo, request } from './index.js';
import { backoff, parseRetryAfter, retryPolicy } from './retry.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();

/** Answers each request with the next [status, headers] of `plan`, then 200 'done'; records the methods. */
async function scripted(plan: [number, Record<string, string>][]): Promise<{ hits: string[] }> {
  const hits: string[] = [];
  server = await startHttp((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      hits.push(`${req.method} ${Buffer.concat(parts)}`);
      const next = plan.shift();
      if (next === undefined) res.end('done');
      else res.writeHead(next[0], next[1]).end(`status ${next[0]}`);
    });
  });
  return { hits };
}

const fast = { minDelay: 1, maxDelay: 50, jitter: 0 };

describe('retry', () => {
  it('retries 503 and 429, honouring Retry-After in seconds and as an HTTP-date, and reports each attempt', async () => {
    // HTTP-dates have whole seconds: 5 s ahead stays above maxDelay whatever the milliseconds now.
    const date = new Date(Date.now() + 5000).toUTCString();
    const { hits } = await scripted([
      [503, { 'retry-after': '0' }],
      [429, { 'retry-after': date }],
      [503, {}],
    ]);
    const seen: RetryInfo[] = [];
    const res = await get(server!.origin, {
      agent: newAgent(),
      retry: { retries: 3, minDelay: 5, maxDelay: 200, jitter: 0, onRetry: (i) => seen.push(i) },
    });
    expect(await res.body.text()).toBe('done');
    expect(hits).toHaveLength(4);
    expect(seen.map((s) => [s.attempt, s.statusCode])).toEqual([
      [2, 503],
      [3, 429],
      [4, 503],
    ]);
    expect(seen[0]!.delay).toBe(0);
    // The HTTP-date is seconds away: capped by maxDelay.
    expect(seen[1]!.delay).toBe(200);
    // No Retry-After: backoff minDelay * factor^2.
    expect(seen[2]!.delay).toBe(20);
  });

  it('returns the last response when the retries are spent', async () => {
    const { hits } = await scripted([
      [503, {}],
      [503, {}],
      [503, {}],
    ]);
    const res = await get(server!.origin, { agent: newAgent(), retry: { retries: 2, ...fast } });
    expect(res.status).toBe(503);
    expect(await res.body.text()).toBe('status 503');
    expect(hits).toHaveLength(3);
  });

  it('never retries POST or a stream body, and refuses non-idempotent methods in the policy', async () => {
    const { hits } = await scripted([
      [503, {}],
      [503, {}],
    ]);
    const agent = newAgent();
    expect((await request(server!.origin, { agent, method: 'POST', body: 'x', retry: fast })).status).toBe(
      503,
    );
    async function* once() {
      yield new TextEncoder().encode('s');
    }
    const put = await request(server!.origin, { agent, method: 'PUT', body: once(), retry: fast });
    expect(put.status).toBe(503);
    expect(hits).toEqual(['POST x', 'PUT s']);
    expect(() => retryPolicy({ methods: ['GET', 'POST'] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('retries PUT with a replayable body, sending the same body each time', async () => {
    const { hits } = await scripted([[502, {}]]);
    const res = await request(server!.origin, {
      agent: newAgent(),
      method: 'PUT',
      body: 'same',
      retry: fast,
    });
    expect(await res.body.text()).toBe('done');
    expect(hits).toEqual(['PUT same', 'PUT same']);
  });

  it('retries connection errors in errorCodes, and not others', async () => {
    let n = 0;
    server = await startRaw((socket) => {
      socket.once('data', () => {
        if (n++ < 2) socket.resetAndDestroy();
        else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      });
    });
    const agent = newAgent();
    const res = await get(server.origin, { agent, retry: { retries: 3, ...fast } });
    expect(await res.body.text()).toBe('ok');
    expect(n).toBe(3);
    n = 0;
    const err = await get(server.origin, {
      agent,
      retry: { retries: 3, errorCodes: ['EPIPE'], ...fast },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(n).toBe(1);
  });

  it('retries a PUT whose upload the peer resets mid-body, sending the whole body again', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024, 'p');
    const received: number[] = [];
    server = await startRaw((socket, i) => {
      let got = 0;
      socket.on('data', (d: Buffer) => {
        got += d.length;
        if (i === 0) {
          // Mid-body: the request head and some of the 4 MiB are in, no response byte went out.
          if (got > 64 * 1024) {
            received.push(got);
            socket.resetAndDestroy();
          }
          return;
        }
        if (got >= body.length) {
          received.push(got);
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        }
      });
    });
    const seen: RetryInfo[] = [];
    const res = await request(server.origin, {
      agent: newAgent(),
      method: 'PUT',
      body,
      retry: { ...fast, onRetry: (r) => seen.push(r) },
    });
    expect(await res.body.text()).toBe('ok');
    expect(seen).toHaveLength(1);
    expect(['ECONNRESET', 'EPIPE']).toContain((seen[0]!.error as HttpError).code);
    expect(received).toHaveLength(2);
    expect(received[0]).toBeLessThan(body.length);
    expect(received[1]).toBeGreaterThan(body.length); // head + the whole body again
  });

  it('never retries once the response head has arrived: a body cut by a FIN or a reset fails', async () => {
    for (const how of ['fin', 'reset'] as const) {
      let n = 0;
      server = await startRaw((socket) => {
        socket.once('data', () => {
          n++;
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart');
          setTimeout(() => (how === 'fin' ? socket.end() : socket.resetAndDestroy()), 10);
        });
      });
      const res = await get(server.origin, { agent: newAgent(), retry: { retries: 3, ...fast } });
      const err = (await res.body.text().catch((e: unknown) => e)) as HttpError;
      expect(err.code, how).toBe('ERR_PREMATURE_CLOSE');
      expect(n, how).toBe(1);
      await server.close();
      server = null;
    }
  });

  it('stops at the abort signal while waiting', async () => {
    await scripted([[503, { 'retry-after': '30' }]]);
    const ac = new AbortController();
    const p = get(server!.origin, {
      agent: newAgent(),
      signal: ac.signal,
      retry: { maxDelay: 60_000, onRetry: () => setTimeout(() => ac.abort(), 10) },
    });
    const err = (await p.catch((e: unknown) => e)) as HttpError;
    expect(err.code).toBe('ERR_ABORTED');
  });

  it('does not wait past the total timeout: the response is returned instead', async () => {
    const { hits } = await scripted([[503, { 'retry-after': '5' }]]);
    const started = Date.now();
    const res = await get(server!.origin, {
      agent: newAgent(),
      timeouts: { total: 2000 },
      retry: { maxDelay: 10_000 },
    });
    expect(res.status).toBe(503);
    expect(hits).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(2000);
    await res.body.dump();
  });
});

describe('retry helpers', () => {
  it('parses Retry-After seconds and HTTP-dates, rejecting anything else', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 3 ', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-1', now)).toBeNull();
    expect(parseRetryAfter('1.5', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('backs off by factor up to maxDelay, with jitter only shortening', () => {
    const p = retryPolicy({ minDelay: 100, maxDelay: 1000, factor: 3, jitter: 0 });
    expect([1, 2, 3, 4].map((n) => backoff(p, n))).toEqual([100, 300, 900, 1000]);
    const j = retryPolicy({ minDelay: 100, maxDelay: 1000, jitter: 0.5 });
    for (let i = 0; i < 50; i++) {
      const d = backoff(j, 1);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(100);
    }
    expect(() => retryPolicy({ jitter: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => retryPolicy({ retries: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
