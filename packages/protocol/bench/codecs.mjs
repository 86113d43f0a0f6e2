// Decode throughput of our codecs vs node:readline and hand-written split loops.
// Each measurement runs in a fresh process (`node codecs.mjs <workload> <impl>`), so one
// implementation's garbage and JIT state never land in another's timing.

import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { LengthPrefixedCodec, LinesCodec } from '../dist/index.js';

const CHUNK = 64 * 1024;

/** ~`total` bytes of text lines (10..110 bytes, a few with \r\n and non-ASCII), cut into 64 KiB chunks. */
export function makeLines(total) {
  const words = ['alpha', 'beta', 'gamma', 'délta', 'epsilon', '42', 'zeta', 'ēta'];
  const parts = [];
  let size = 0;
  let lines = 0;
  let seed = 1;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  while (size < total) {
    let line = '';
    const target = 10 + Math.floor(rnd() * 100);
    while (line.length < target) line += `${words[Math.floor(rnd() * words.length)]} `;
    line += rnd() < 0.1 ? '\r\n' : '\n';
    parts.push(line);
    size += Buffer.byteLength(line);
    lines++;
  }
  const all = Buffer.from(parts.join(''));
  return { chunks: chop(all), bytes: all.length, frames: lines };
}

/** Length-prefixed (4-byte big-endian) frames of 16..1040 bytes, cut into 64 KiB chunks. */
export function makeFrames(total) {
  const codec = new LengthPrefixedCodec();
  const bufs = [];
  let size = 0;
  let frames = 0;
  let i = 0;
  while (size < total) {
    const len = 16 + ((i++ * 7919) % 1025);
    const payload = Buffer.alloc(len, i & 0xff);
    for (const b of codec.encode(payload)) bufs.push(b);
    size += 4 + len;
    frames++;
  }
  const all = Buffer.concat(bufs);
  return { chunks: chop(all), bytes: all.length, frames };
}

function chop(all) {
  const chunks = [];
  for (let off = 0; off < all.length; off += CHUNK) chunks.push(all.subarray(off, off + CHUNK));
  return chunks;
}

/**
 * Every implementation reads fresh chunks, as from a socket (a new Buffer per read): views of
 * long-lived buffers are markedly slower to create in V8 and would distort the comparison.
 */
function* fresh(chunks) {
  for (const c of chunks) yield Buffer.from(c);
}

// --- line decoders: each returns the number of lines ---------------------------------------

export function oursLines(chunks) {
  const d = new LinesCodec().createDecoder();
  let n = 0;
  for (const c of fresh(chunks)) n += d.push(c).length;
  return n + d.end().length;
}

export function oursLinesBytes(chunks) {
  const d = new LinesCodec({ encoding: null }).createDecoder();
  let n = 0;
  for (const c of fresh(chunks)) n += d.push(c).length;
  return n + d.end().length;
}

export async function readlineLines(chunks) {
  const rl = createInterface({ input: Readable.from(fresh(chunks)), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const _line of rl) n++;
  return n;
}

/** The usual hand-written loop: decode each chunk to a string, split on '\n' from a start index. */
export function handSplitLines(chunks) {
  let rest = '';
  let n = 0;
  const out = [];
  for (const c of fresh(chunks)) {
    const s = rest + c.toString('utf8');
    let start = 0;
    let i = s.indexOf('\n', start);
    while (i !== -1) {
      out.push(s.charCodeAt(i - 1) === 13 ? s.slice(start, i - 1) : s.slice(start, i));
      start = i + 1;
      i = s.indexOf('\n', start);
    }
    rest = s.slice(start);
    n += out.length;
    out.length = 0;
  }
  return rest.length > 0 ? n + 1 : n;
}

// --- length-prefixed decoders: each returns the number of frames ----------------------------

export function oursFrames(chunks) {
  const d = new LengthPrefixedCodec().createDecoder();
  let n = 0;
  for (const c of fresh(chunks)) n += d.push(c).length;
  return n + d.end().length;
}

/** The usual hand-written loop: concat the leftover with each chunk, slice frames off the front. */
export function handSplitFrames(chunks) {
  let buf = Buffer.alloc(0);
  let n = 0;
  const out = [];
  for (const c of fresh(chunks)) {
    buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off - 4 < len) break;
      out.push(buf.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    buf = buf.subarray(off);
    n += out.length;
    out.length = 0;
  }
  return n;
}

export const codecWorkloads = {
  'lines -> strings': {
    make: makeLines,
    impls: { ours: oursLines, 'node:readline': readlineLines, 'hand-written split': handSplitLines },
  },
  'lines -> bytes': {
    make: makeLines,
    impls: { ours: oursLinesBytes, 'node:readline': readlineLines, 'hand-written split': handSplitLines },
  },
  'length-prefixed (4 B header)': {
    make: makeFrames,
    impls: { ours: oursFrames, 'hand-written split': handSplitFrames },
  },
};

/** Decodes the data REPS times after a warm-up; prints { mbs, fps } as JSON. */
async function main(workload, impl, mib, reps) {
  const w = codecWorkloads[workload];
  const fn = w.impls[impl];
  const data = w.make(mib * 1024 * 1024);
  for (let i = 0; i < 2; i++) await fn(data.chunks);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    const frames = await fn(data.chunks);
    if (frames !== data.frames) throw new Error(`${impl} decoded ${frames} frames, expected ${data.frames}`);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(
    `${JSON.stringify({ mbs: (reps * data.bytes) / s / 1e6, fps: (reps * data.frames) / s / 1e6 })}\n`,
  );
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  await main(process.argv[2], process.argv[3], Number(process.argv[4] ?? 32), Number(process.argv[5] ?? 5));
}
