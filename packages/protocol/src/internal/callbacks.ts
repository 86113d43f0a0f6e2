import { ProtocolError } from '../errors.js';
import type { AnyProtocol, BufferedProtocol } from '../protocol.js';

/** What a protocol callback threw, as an Error (`abort()` and `connectionLost` take Errors). */
export function toError(thrown: unknown): Error {
  return thrown instanceof Error
    ? thrown
    : new Error(`protocol callback threw ${String(thrown)}`, { cause: thrown });
}

/** Whether `p` receives through `getBuffer`/`bufferUpdated` rather than `dataReceived`. */
export function isBuffered(p: AnyProtocol): p is BufferedProtocol {
  return typeof (p as BufferedProtocol).getBuffer === 'function';
}

/**
 * Copies `chunk` into the protocol's buffers. Returns the offset reached, which is short of the
 * end only when `stop()` turned true in between (reading was paused by the protocol).
 * `progress.off` is the offset reached so far, readable from inside `bufferUpdated`.
 */
export function feedBuffered(
  p: BufferedProtocol,
  chunk: Uint8Array,
  stop: () => boolean,
  progress?: { off: number },
): number {
  const len = chunk.byteLength;
  let off = 0;
  while (off < len) {
    const buf = p.getBuffer(len - off);
    const room = buf?.byteLength ?? 0;
    if (room === 0) {
      throw new ProtocolError('ERR_INVALID_ARGUMENT', `getBuffer(${len - off}) returned an empty buffer`);
    }
    const n = Math.min(room, len - off);
    buf.set(off === 0 && n === len ? chunk : chunk.subarray(off, off + n));
    off += n;
    if (progress !== undefined) progress.off = off;
    p.bufferUpdated(n);
    if (off < len && stop()) break;
  }
  return off;
}
