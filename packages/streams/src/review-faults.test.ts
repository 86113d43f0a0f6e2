import { describe, expect, it } from 'vitest';
import { createStreamPair } from './memory-transport.js';
import type { StreamWriter } from './stream-writer.js';

/** What a `write(); await drain()` producer ended with, and how many rounds it ran. */
async function produce(writer: StreamWriter, maxRounds = 5000): Promise<{ error: unknown; rounds: number }> {
  const chunk = Buffer.alloc(65_536, 0x61);
  let rounds = 0;
  try {
    for (; rounds < maxRounds; rounds++) {
      writer.write(chunk);
      await writer.drain();
    }
    return { error: null, rounds };
  } catch (error) {
    return { error, rounds };
  }
}

/** Resolves after `n` turns of the event loop (a count, not a duration: robust under load). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('an in-memory peer that goes away while a writer waits on drain()', () => {
  // Over TCP a peer that closes with bytes it never read answers with RST: the writer's drain()
  // rejects. The in-memory pair must do the same instead of leaving drain() pending forever.
  for (const how of ['abort', 'close'] as const) {
    it(`resets the writer when the peer calls ${how}() without reading`, async () => {
      const [[, peerWriter], [, writer]] = createStreamPair();
      const pending = produce(writer);
      await turns(20);
      expect(writer.transport.getWriteBufferSize()).toBeGreaterThan(16_384); // above the low mark: drain() waits
      if (how === 'abort') peerWriter.transport.abort();
      else peerWriter.close();
      const settled = await Promise.race([pending, turns(200).then(() => 'still waiting on drain()')]);
      expect(settled).toMatchObject({
        error: { code: 'ERR_CONNECTION_CLOSED', cause: { code: 'ECONNRESET' } },
      });
      expect(writer.isClosing()).toBe(true);
    });
  }
});
