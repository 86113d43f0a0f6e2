import { afterEach } from 'vitest';
import { type Server, startServer } from '../server.js';
import type { StreamReader } from '../stream-reader.js';
import type { StreamWriter } from '../stream-writer.js';

/**
 * Servers registered in `servers` (or started with `start`) are closed, their clients aborted and
 * waited for after each test.
 */
export function useServers(): {
  servers: Server[];
  start: (...args: Parameters<typeof startServer>) => Promise<Server>;
} {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.close();
      s.abortClients();
      await s.waitClosed();
    }
  });
  return {
    servers,
    async start(...args) {
      const server = await startServer(...args);
      servers.push(server);
      return server;
    },
  };
}

/** The TCP port a server listens on. */
export const portOf = (s: Server): number => (s.address() as { port: number }).port;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The asyncio echo handler: every line back, with back-pressure, then close at EOF. */
export async function lineEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const line of reader) {
    writer.write(line);
    await writer.drain();
  }
  writer.close();
}
