// Reading and writing the length field of LengthPrefixedCodec: fixed-size unsigned integers
// (1, 2, 3, 4 or 8 bytes, either byte order) and protobuf-style varints (unsigned LEB128).

/** Longest varint: a 64-bit value in 7-bit groups. */
export const VARINT_MAX_BYTES = 10;
/** {@link scanVarint}: the 10th byte still has its continuation bit set. */
export const VARINT_TOO_LONG = -1;
/** {@link scanVarint}: the 10th byte carries bits above 2^64. */
export const VARINT_OVERFLOW = -2;

const TWO_32 = 2 ** 32;
/** Lengths above this are refused: a JavaScript number cannot count bytes exactly past it. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Reads an unsigned length field. 8-byte values above `Number.MAX_SAFE_INTEGER` come back
 * rounded but still above it, so one comparison tells the caller to refuse them.
 */
export function readLength(b: Buffer, at: number, bytes: number, little: boolean): number {
  switch (bytes) {
    case 1:
      return b[at]!;
    case 2:
      return little ? b.readUInt16LE(at) : b.readUInt16BE(at);
    case 3:
      return little ? b.readUIntLE(at, 3) : b.readUIntBE(at, 3);
    case 4:
      return little ? b.readUInt32LE(at) : b.readUInt32BE(at);
    default:
      return little
        ? b.readUInt32LE(at + 4) * TWO_32 + b.readUInt32LE(at)
        : b.readUInt32BE(at) * TWO_32 + b.readUInt32BE(at + 4);
  }
}

/** The exact value of an 8-byte field, for error messages. */
export function readLength64(b: Buffer, at: number, little: boolean): bigint {
  return little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at);
}

/** Writes `value` (an integer that fits the field) as an unsigned length field. */
export function writeLength(b: Buffer, at: number, value: number, bytes: number, little: boolean): void {
  switch (bytes) {
    case 1:
      b[at] = value;
      return;
    case 2:
      little ? b.writeUInt16LE(value, at) : b.writeUInt16BE(value, at);
      return;
    case 3:
      little ? b.writeUIntLE(value, at, 3) : b.writeUIntBE(value, at, 3);
      return;
    case 4:
      little ? b.writeUInt32LE(value, at) : b.writeUInt32BE(value, at);
      return;
    default: {
      const hi = Math.floor(value / TWO_32);
      const lo = value % TWO_32;
      if (little) {
        b.writeUInt32LE(lo, at);
        b.writeUInt32LE(hi, at + 4);
      } else {
        b.writeUInt32BE(hi, at);
        b.writeUInt32BE(lo, at + 4);
      }
    }
  }
}

/**
 * Finds the end of the varint starting at `b[at]`, looking no further than `end`.
 * @returns its size in bytes; 0 when `end` cuts it off; {@link VARINT_TOO_LONG} or
 *   {@link VARINT_OVERFLOW}. The verdict depends only on the bytes, never on where `end` falls,
 *   so a decoder reaches the same one whatever the chunking.
 */
export function scanVarint(b: Uint8Array, at: number, end: number): number {
  const last = Math.min(end, at + VARINT_MAX_BYTES);
  for (let i = at; i < last; i++) {
    const byte = b[i]!;
    if (i - at === VARINT_MAX_BYTES - 1) {
      if (byte & 0x80) return VARINT_TOO_LONG;
      return byte > 1 ? VARINT_OVERFLOW : VARINT_MAX_BYTES;
    }
    if ((byte & 0x80) === 0) return i - at + 1;
  }
  return 0;
}

/**
 * The value of a complete varint of `size` bytes (as found by {@link scanVarint}). Exact up to
 * `Number.MAX_SAFE_INTEGER`; larger values come back rounded but still above it.
 */
export function varintValue(b: Uint8Array, at: number, size: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < size; i++) {
    value += (b[at + i]! & 0x7f) * scale;
    scale *= 128;
  }
  return value;
}

/** The exact value of a complete varint, for error messages. */
export function varintBigInt(b: Uint8Array, at: number, size: number): bigint {
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 7n) | BigInt(b[at + i]! & 0x7f);
  return value;
}

/** Bytes of the shortest varint for `value` (a non-negative safe integer). */
export function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 128; v = Math.floor(v / 128)) size++;
  return size;
}

/** Writes the shortest varint for `value` at `b[at]`; returns the position after it. */
export function writeVarint(b: Buffer, at: number, value: number): number {
  let v = value;
  let i = at;
  while (v >= 128) {
    b[i++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[i++] = v;
  return i;
}
