/**
 * A `Buffer` view of `bytes` without copying (chunks from sockets already are Buffers, so they come
 * back as they are). The one helper every asyncnet package uses for it.
 *
 * For adapter authors.
 *
 * @param bytes - any `Uint8Array`
 * @returns a `Buffer` over the same memory
 * @example
 * ```ts
 * asBuffer(new Uint8Array([104, 105])).toString(); // 'hi'
 * ```
 */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
