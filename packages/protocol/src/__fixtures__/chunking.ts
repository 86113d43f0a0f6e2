import fc from 'fast-check';
import type { Decoder } from '../codec.js';

export { splitAt } from '@asyncnet-internal/test-support';

/** Random cut points for an input of up to `max` bytes. */
export const cutsArb = (max = 400): fc.Arbitrary<number[]> => fc.array(fc.nat(max), { maxLength: 40 });

export interface DecodeResult<T> {
  frames: T[];
  error: Error | null;
}

/**
 * Feeds every chunk to a fresh decoder and ends it, collecting frames (including the frames an
 * error carries) and the first error.
 */
export function decodeAll<T>(decoder: Decoder<T>, chunks: Uint8Array[]): DecodeResult<T> {
  const frames: T[] = [];
  try {
    // Returned frames may be views of the chunk, but pending bytes must not be: overwrite each
    // chunk after its frames are taken, so a decoder that kept a view of it gives wrong frames.
    for (const c of chunks) {
      const copy = Uint8Array.from(c);
      frames.push(...normalise(decoder.push(copy)));
      copy.fill(0xee);
    }
    frames.push(...normalise(decoder.end()));
    return { frames, error: null };
  } catch (err) {
    const carried = (err as { frames?: T[] }).frames ?? [];
    frames.push(...normalise(carried));
    return { frames, error: err as Error };
  }
}

function normalise<T>(frames: T[]): T[] {
  return frames.map((f) => (f instanceof Uint8Array ? (Buffer.from(f).toString('latin1') as T) : f));
}
