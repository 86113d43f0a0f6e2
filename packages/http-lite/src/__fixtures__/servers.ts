import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, expect } from 'vitest';
import { Agent, HttpError } from '../index.js';

export interface Running {
  port: number;
  origin: string;
  /** Sockets the server accepted so far. */
  accepted: () => number;
  close: () => Promise<void>;
}

/** A node:http server on 127.0.0.1 port 0. */
export async function startHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Running> {
  const server = createHttpServer(handler);
  let accepted = 0;
  server.on('connection', () => accepted++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A raw TCP server that hands each socket (and its connection index) to `onSocket`. */
export async function startRaw(onSocket: (socket: Socket, index: number) => void): Promise<Running> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createNetServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s, accepted++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Resolves with the next complete request head (and leaves later bytes for the next call). */
export function readRequests(socket: Socket, onRequest: (head: string, index: number) => void): void {
  let buf = '';
  let n = 0;
  socket.on('data', (d) => {
    buf += d.toString('latin1');
    for (;;) {
      const i = buf.indexOf('\r\n\r\n');
      if (i === -1) return;
      const head = buf.slice(0, i);
      const m = /content-length:\s*(\d+)/i.exec(head);
      let len = m ? Number(m[1]) : 0;
      if (/transfer-encoding:\s*chunked/i.test(head)) {
        const end = buf.indexOf('\r\n0\r\n\r\n', i + 2);
        if (end === -1) return;
        len = end + 7 - (i + 4);
      }
      if (buf.length < i + 4 + len) return;
      buf = buf.slice(i + 4 + len);
      onRequest(head, n++);
    }
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `bytes` in pieces: split at random points, or one byte at a time, pausing between writes. */
export async function writeSplit(
  socket: Socket,
  bytes: Uint8Array,
  mode: 'random' | 'bytes' = 'random',
  pauseMs = 1,
  seed = 1,
): Promise<void> {
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
  let pos = 0;
  while (pos < bytes.length) {
    const n = mode === 'bytes' ? 1 : 1 + Math.floor(rnd() * Math.min(64, bytes.length - pos));
    if (socket.destroyed) return;
    socket.write(bytes.subarray(pos, pos + n));
    pos += n;
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

/**
 * Agents made with the returned function are destroyed after each test. Call it after the file's own
 * server teardown is registered: hooks run last-registered first, so agents go before servers.
 */
export function useAgents(): (options?: ConstructorParameters<typeof Agent>[0]) => Agent {
  const agents: Agent[] = [];
  afterEach(() => {
    for (const a of agents.splice(0)) a.destroy();
  });
  return (options) => {
    const a = new Agent(options);
    agents.push(a);
    return a;
  };
}

/** The `HttpError` a promise rejects with; fails the test when it resolves or rejects otherwise. */
export async function rejectionOf(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  }
  throw new Error('expected a rejection');
}
