import { afterEach, describe, expect, it } from 'vitest';
import { recordingCore, requestOf } from './__fixtures__/dispatch.js';
import { type Running, startHttp, useAgents } from './__fixtures__/servers.js';
import type { RetryInfo } from './index.js';
import { retryLayer } from './internal/retry-layer.js';

let server: Running | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const newAgent = useAgents();

describe('retryLayer', () => {
  it('hands the request to the next dispatch unchanged, once, without a retry option', async () => {
    server = await startHttp((_req, res) => res.writeHead(503).end());
    const core = recordingCore(newAgent());
    const req = requestOf(server.origin);
    const res = await retryLayer(core.dispatch)(req);
    expect(res.status).toBe(503);
    expect(core.seen).toHaveLength(1);
    expect(core.seen[0]).toBe(req);
    await res.body.dump();
  });

  it('sends the same request again after a 503 with Retry-After, and reports the attempt', async () => {
    let n = 0;
    server = await startHttp((_req, res) => {
      if (++n === 1) res.writeHead(503, { 'retry-after': '0' }).end('busy');
      else res.end('ok');
    });
    const core = recordingCore(newAgent());
    const retries: RetryInfo[] = [];
    const req = requestOf(server.origin, { retry: { retries: 3, onRetry: (i) => retries.push(i) } }, 'PUT');
    const res = await retryLayer(core.dispatch)(req);
    expect(await res.body.text()).toBe('ok');
    expect(core.seen).toEqual([req, req]);
    expect(retries).toEqual([{ attempt: 2, delay: 0, statusCode: 503 }]);
  });

  it('never repeats a POST, whatever its status', async () => {
    server = await startHttp((_req, res) => res.writeHead(503, { 'retry-after': '0' }).end());
    const core = recordingCore(newAgent());
    const res = await retryLayer(core.dispatch)(requestOf(server.origin, { retry: { retries: 3 } }, 'POST'));
    expect(res.status).toBe(503);
    expect(core.seen).toHaveLength(1);
    await res.body.dump();
  });
});
