import { createTransportPair, streamsFromTransport } from '@asyncnet/streams/adapter';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deferred } from './__fixtures__/helpers.js';
import { attachProtocol } from './adapters.js';
import type { BufferedProtocol, Protocol, Transport } from './protocol.js';

/**
 * Random pause/resume schedules: the protocol pauses after some deliveries and resumes a tick
 * later. Whatever the schedule and chunking, every byte arrives once, in order, and EOF last.
 */
describe('pauseReading/resumeReading under random schedules', () => {
  const scheduleArb = fc.array(fc.boolean(), { minLength: 1, maxLength: 30 });
  const payloadArb = fc.uint8Array({ minLength: 1, maxLength: 3000 });

  it('loses nothing with a Protocol', async () => {
    await fc.assert(
      fc.asyncProperty(payloadArb, scheduleArb, fc.nat(1000), async (payload, schedule, seed) => {
        const [a, b] = createTransportPair({ chunking: 'random', maxChunk: 97, seed: seed + 1 });
        const got: number[] = [];
        const done = deferred<string>();
        let i = 0;
        let t!: Transport;
        const p: Protocol = {
          connectionMade: (tr) => {
            t = tr;
          },
          dataReceived: (d) => {
            if (!t.isReading()) done.reject(new Error('dataReceived while paused'));
            got.push(...d);
            if (schedule[i++ % schedule.length]) {
              t.pauseReading();
              setImmediate(() => t.resumeReading());
            }
          },
          eofReceived: () => {
            done.resolve(`eof after ${got.length}`);
          },
        };
        attachProtocol(a, p);
        const [, writer] = streamsFromTransport(b);
        writer.write(payload);
        writer.writeEof();
        expect(await done.promise).toBe(`eof after ${payload.length}`);
        expect(Buffer.from(got).equals(Buffer.from(payload))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('loses nothing with a BufferedProtocol pausing mid-chunk', async () => {
    await fc.assert(
      fc.asyncProperty(
        payloadArb,
        scheduleArb,
        fc.integer({ min: 1, max: 50 }),
        fc.nat(1000),
        async (payload, schedule, size, seed) => {
          const [a, b] = createTransportPair({ chunking: 'random', maxChunk: 200, seed: seed + 1 });
          const got: number[] = [];
          const done = deferred<number>();
          const buf = new Uint8Array(size);
          let i = 0;
          let t!: Transport;
          const p: BufferedProtocol = {
            connectionMade: (tr) => {
              t = tr;
            },
            getBuffer: () => buf,
            bufferUpdated: (n) => {
              got.push(...buf.subarray(0, n));
              if (schedule[i++ % schedule.length]) {
                t.pauseReading();
                setImmediate(() => t.resumeReading());
              }
            },
            eofReceived: () => {
              done.resolve(got.length);
            },
          };
          attachProtocol(a, p);
          const [, writer] = streamsFromTransport(b);
          writer.write(payload);
          writer.writeEof();
          expect(await done.promise).toBe(payload.length);
          expect(Buffer.from(got).equals(Buffer.from(payload))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
