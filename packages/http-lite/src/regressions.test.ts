// Regression tests for defects found in review; each failed before its fix.
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type Running, startHttp } from './__fixtures__/servers.js';
import { Agent, HttpError, request } from './index.js';

let server: Running | null = null;
let raw: NetServer | null = null;
const agents: Agent[] = [];
const newAgent = (o?: ConstructorParameters<typeof Agent>[0]) => {
  const a = new Agent(o);
  agents.push(a);
  return a;
};
afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  await server?.close();
  server = null;
  if (raw !== null) {
    const r = raw;
    raw = null;
    await new Promise<void>((done) => r.close(() => done()));
  }
});

describe('review regressions', () => {
  it('dump() drains a body larger than the read-ahead buffer and keeps the connection', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 97);
    server = await startHttp((_req, res) => {
      res.setHeader('content-length', big.length);
      res.end(big);
    });
    const agent = newAgent();
    const res = await request(server.origin, { agent });
    await res.body.dump();
    // Disposing after dump() (as `await using` would) must not cut the drain short.
    const res2 = await request(server.origin, { agent });
    const dumping = res2.body.dump();
    await res2[Symbol.asyncDispose]();
    await dumping;
    const res3 = await request(server.origin, { agent });
    expect((await res3.body.bytes()).length).toBe(big.length);
    expect(server.accepted()).toBe(1);
  });
});
