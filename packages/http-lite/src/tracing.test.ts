import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { type Running, startHttp } from './__fixtures__/servers.js';
import { Agent, get, post, type TraceRequest } from './index.js';

const NAMES = [
  'http-lite:request:create',
  'http-lite:request:bodySent',
  'http-lite:request:headers',
  'http-lite:request:trailers',
  'http-lite:request:error',
  'http-lite:client:sendHeaders',
  'http-lite:client:beforeConnect',
  'http-lite:client:connected',
  'http-lite:client:connectError',
] as const;

let server: Running | null = null;
const agents: Agent[] = [];
const subs: [string, (m: unknown, name: string | symbol) => void][] = [];
afterEach(async () => {
  for (const [n, f] of subs.splice(0)) unsubscribe(n, f);
  for (const a of agents.splice(0)) a.destroy();
  await server?.close();
  server = null;
});

function record(): { name: string; msg: Record<string, unknown> }[] {
  const log: { name: string; msg: Record<string, unknown> }[] = [];
  for (const n of NAMES) {
    const f = (m: unknown) => log.push({ name: n, msg: m as Record<string, unknown> });
    subscribe(n, f);
    subs.push([n, f]);
  }
  return log;
}

describe('diagnostics_channel tracing', () => {
  it('publishes create, connect, sendHeaders, bodySent, headers, trailers in order, one request object', async () => {
    server = await startHttp((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(201, { 'x-a': '1' }).end('ok'));
    });
    const agent = new Agent();
    agents.push(agent);
    const log = record();
    const res = await post(`${server.origin}/p?q=1`, 'body', {
      agent,
      headers: { authorization: 'Bearer secret-token', 'x-mine': 'v' },
    });
    await res.body.text();
    expect(log.map((l) => l.name)).toEqual([
      'http-lite:request:create',
      'http-lite:client:beforeConnect',
      'http-lite:client:connected',
      'http-lite:client:sendHeaders',
      'http-lite:request:bodySent',
      'http-lite:request:headers',
      'http-lite:request:trailers',
    ]);
    const request = log[0]!.msg.request as TraceRequest;
    for (const l of log.filter((x) => x.name.startsWith('http-lite:request:')))
      expect(l.msg.request).toBe(request);
    expect(request).toMatchObject({ origin: server.origin, method: 'POST', path: '/p?q=1', completed: true });
    expect(request.headers).toContain('x-mine: v\r\n');
    expect(request.headers).toContain('authorization: (redacted)');
    expect(request.headers).not.toContain('secret-token');
    expect(log[1]!.msg.connectParams).toEqual({
      host: '127.0.0.1',
      port: server.port,
      protocol: 'http:',
      via: undefined,
    });
    expect(log[5]!.msg.response).toMatchObject({ statusCode: 201, statusText: 'Created' });
    expect((log[5]!.msg.response as { headers: [string, string][] }).headers).toContainEqual(['x-a', '1']);
    expect(log[3]!.msg.socket).toBeDefined();
  });

  it('publishes request:error and client:connectError', async () => {
    const log = record();
    await expect(get('http://127.0.0.1:1/', { agent: new Agent() })).rejects.toThrow();
    expect(log.map((l) => l.name)).toEqual([
      'http-lite:request:create',
      'http-lite:client:beforeConnect',
      'http-lite:client:connectError',
      'http-lite:request:error',
    ]);
    expect((log[3]!.msg.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('makes each retry attempt a request of its own', async () => {
    let n = 0;
    server = await startHttp((_req, res) => res.writeHead(n++ === 0 ? 503 : 200).end());
    const agent = new Agent();
    agents.push(agent);
    const log = record();
    const res = await get(server.origin, { agent, retry: { minDelay: 1, jitter: 0 } });
    await res.body.dump();
    expect(log.filter((l) => l.name === 'http-lite:request:create')).toHaveLength(2);
    const statuses = log
      .filter((l) => l.name === 'http-lite:request:headers')
      .map((l) => (l.msg.response as { statusCode: number }).statusCode);
    expect(statuses).toEqual([503, 200]);
  });
});
