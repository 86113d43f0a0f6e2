import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, readRequests, startRaw } from './__fixtures__/servers.js';
import { Agent, get } from './index.js';

// One keep-alive connection serves every run: each response is cut at random points and written with pauses.
let server: Running;
let current: { wire: Buffer; cuts: number[] } = { wire: Buffer.alloc(0), cuts: [] };
const agent = new Agent({ connections: 1 });

beforeAll(async () => {
  server = await startRaw((socket) => {
    readRequests(socket, async () => {
      const { wire, cuts } = current;
      let prev = 0;
      for (const cut of [...cuts, wire.length]) {
        if (cut <= prev) continue;
        socket.write(wire.subarray(prev, cut));
        prev = cut;
        await new Promise((r) => setTimeout(r, 1));
      }
    });
  });
});
afterAll(async () => {
  agent.destroy();
  await server.close();
});

const response = fc
  .record({
    body: fc.uint8Array({ maxLength: 2000 }),
    chunked: fc.boolean(),
    chunk: fc.integer({ min: 1, max: 300 }),
    fields: fc.array(
      fc.tuple(fc.constantFrom('X-A', 'x-b', 'Set-Cookie', 'Vary'), fc.stringMatching(/^[!-~]{1,12}$/)),
      {
        maxLength: 5,
      },
    ),
  })
  .map(({ body, chunked, chunk, fields }) => {
    let head = 'HTTP/1.1 200 OK\r\n';
    for (const [k, v] of fields) head += `${k}: ${v}\r\n`;
    const parts: Buffer[] = [];
    if (chunked) {
      parts.push(Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n`));
      for (let i = 0; i < body.length; i += chunk) {
        const piece = body.subarray(i, i + chunk);
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), Buffer.from(piece), Buffer.from('\r\n'));
      }
      parts.push(Buffer.from('0\r\nX-Trailer: t\r\n\r\n'));
    } else parts.push(Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`), Buffer.from(body));
    return { wire: Buffer.concat(parts), body, fields, chunked };
  });

describe('client over a real socket', () => {
  it('returns the same head, body and trailers whatever the split points', async () => {
    await fc.assert(
      fc.asyncProperty(
        response.chain((r) =>
          fc.tuple(
            fc.constant(r),
            fc
              .uniqueArray(fc.integer({ min: 1, max: r.wire.length - 1 }), { maxLength: 6 })
              .map((a) => a.sort((x, y) => x - y)),
          ),
        ),
        async ([r, cuts]) => {
          current = { wire: r.wire, cuts };
          const res = await get(server.origin, { agent });
          expect(res.headers.getAll('set-cookie')).toEqual(
            r.fields.filter(([k]) => k === 'Set-Cookie').map(([, v]) => v),
          );
          expect(Buffer.from(await res.body.bytes()).equals(Buffer.from(r.body))).toBe(true);
          expect(res.trailers.get('x-trailer')).toBe(r.chunked ? 't' : null);
        },
      ),
      { numRuns: 40 },
    );
    expect(server.accepted()).toBe(1);
  });
});
