import { createStreamPair } from '@asyncnet/streams';
import { describe, expect, it } from 'vitest';
import { deferred } from './__fixtures__/helpers.js';
import { connectProtocol } from './adapters.js';
import type { Transport } from './protocol.js';

/** Resolves after `n` turns of the event loop (a count, not a duration: robust under load). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('connectProtocol: pauseReading() and resumeReading() while the adapter waits on a read', () => {
  it('pause then resume in one tick keeps the connection: the cancelled read is retried, not reported', async () => {
    const [[reader, writer], [, peer]] = createStreamPair();
    const events: string[] = [];
    const got = deferred();
    let transport!: Transport;
    connectProtocol(
      reader,
      writer,
      {
        connectionMade: (t: Transport) => {
          transport = t;
        },
        dataReceived: (data: Uint8Array) => {
          events.push(`data ${Buffer.from(data).toString()}`);
          got.resolve();
        },
        connectionLost: (err: Error | null) => events.push(`lost ${err?.message ?? null}`),
      },
      { onError: (err) => events.push(`onError ${String(err)}`) },
    );
    await turns(5); // the adapter's read is now pending
    transport.pauseReading();
    transport.resumeReading();
    await turns(5);
    expect(transport.isClosing()).toBe(false);
    peer.write('hello');
    await got.promise;
    expect(events).toEqual(['data hello']);
  });
});
