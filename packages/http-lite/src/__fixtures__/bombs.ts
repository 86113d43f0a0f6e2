import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';

const MEMBER = 16 * 1024 * 1024;
let gzipMember: Buffer | null = null;

/** `mib` MiB of zeros as gzip, built from 16 MiB members (gzip allows concatenation): ~1 KB per MiB. */
export function gzipBomb(mib: number): Buffer {
  gzipMember ??= zlib.gzipSync(Buffer.alloc(MEMBER), { level: 9 });
  return Buffer.concat(Array.from({ length: Math.ceil((mib * 1024 * 1024) / MEMBER) }, () => gzipMember!));
}

const brotliCache = new Map<number, Buffer>();

/** `mib` MiB of zeros as one brotli stream (streamed, so it never holds the plain bytes): ~190 B per MiB. */
export async function brotliBomb(mib: number): Promise<Buffer> {
  const hit = brotliCache.get(mib);
  if (hit !== undefined) return hit;
  const enc = zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
  const parts: Buffer[] = [];
  enc.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise<void>((r) => enc.on('end', r));
  const zeros = Buffer.alloc(MEMBER);
  for (let left = mib * 1024 * 1024; left > 0; left -= MEMBER) {
    if (!enc.write(left >= MEMBER ? zeros : zeros.subarray(0, left)))
      await new Promise((r) => enc.once('drain', r));
  }
  enc.end();
  await done;
  const out = Buffer.concat(parts);
  brotliCache.set(mib, out);
  return out;
}

/** Compressible but not trivial text: `n` bytes of numbered lines. */
export function textOf(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let pos = 0;
  for (let i = 0; pos < n; i++)
    pos += out.write(`line ${i} of the body, ${(i * 7919) % 1000}\n`, pos, 'latin1');
  return out;
}

/** CPU time (user + system, every thread of the process: zlib runs on the thread pool) used during `ms`. */
export async function cpuDuring(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}
