import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from '@asyncnet/streams';
import { afterEach } from 'vitest';
import { type CreateConnectionOptions, createConnection } from '../create-connection.js';
import { type CreateServerOptions, createServer } from '../create-server.js';
import type { BufferedProtocol, Protocol, Transport } from '../protocol.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls `cond` each few ms until it holds (tests rely on the per-test timeout, not on this). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** The seed's EchoProtocol: write back whatever arrives. */
export class EchoProtocol implements Protocol {
  transport!: Transport;
  connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/**
 * Records every callback in order, collects received bytes and resolves `lost` with the
 * `connectionLost` argument.
 */
export class RecordingProtocol implements Protocol {
  transport!: Transport;
  events: string[] = [];
  chunks: Buffer[] = [];
  lostCount = 0;
  readonly lost = deferred<Error | null>();
  readonly made = deferred<Transport>();
  eofResult: boolean | undefined = undefined;

  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }
  connectionMade(transport: Transport): void {
    this.transport = transport;
    this.events.push('made');
    this.made.resolve(transport);
  }
  dataReceived(data: Uint8Array): void {
    if (this.events.at(-1) !== 'data') this.events.push('data');
    this.chunks.push(Buffer.from(data));
  }
  eofReceived(): boolean | undefined {
    this.events.push('eof');
    return this.eofResult;
  }
  pauseWriting(): void {
    this.events.push('pauseWriting');
  }
  resumeWriting(): void {
    this.events.push('resumeWriting');
  }
  connectionLost(error: Error | null): void {
    this.events.push('lost');
    this.lostCount++;
    this.lost.resolve(error);
  }
}

export { makeCert } from '@asyncnet-internal/test-support';

export function tmpSocketPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'asyncnet-protocol-sock-')), 's.sock');
}

export const HOST = '127.0.0.1';

/**
 * Servers and client transports made through `serve`/`connect` (or pushed into `servers`/`transports`)
 * are torn down after each test: transports aborted, servers disposed.
 */
export function useLoopback(): {
  servers: Server[];
  transports: Transport[];
  serve: (factory: () => Protocol | BufferedProtocol, options?: CreateServerOptions) => Promise<Server>;
  connect: <T extends Protocol>(
    factory: () => T,
    port: number,
    options?: CreateConnectionOptions,
  ) => Promise<[Transport, T]>;
} {
  const servers: Server[] = [];
  const transports: Transport[] = [];
  afterEach(async () => {
    for (const t of transports.splice(0)) t.abort();
    for (const s of servers.splice(0)) await s[Symbol.asyncDispose]();
  });
  return {
    servers,
    transports,
    async serve(factory, options = {}) {
      const server = await createServer(factory, HOST, 0, options);
      servers.push(server);
      return server;
    },
    async connect(factory, port, options = {}) {
      const pair = await createConnection(factory, HOST, port, options);
      transports.push(pair[0]);
      return pair;
    },
  };
}
