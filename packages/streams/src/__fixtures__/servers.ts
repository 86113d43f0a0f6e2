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

/** What a `write(); await drain()` producer ended with, and how many rounds it ran. */
export interface ProducerResult {
  error: unknown;
  rounds: number;
  closing: boolean;
}

/**
 * The classic producer loop. Bounded in rounds, so a drain() that keeps resolving on a dead
 * connection shows up as a spin (thousands of rounds) instead of hanging the test.
 */
export async function produce(writer: StreamWriter, maxRounds = 5000): Promise<ProducerResult> {
  const chunk = Buffer.alloc(65_536, 0x61);
  let rounds = 0;
  try {
    for (; rounds < maxRounds; rounds++) {
      writer.write(chunk);
      await writer.drain();
    }
    return { error: null, rounds, closing: writer.isClosing() };
  } catch (error) {
    return { error, rounds, closing: writer.isClosing() };
  }
}
