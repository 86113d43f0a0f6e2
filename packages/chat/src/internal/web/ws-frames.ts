const LF = 10;
const CR = 13;
const OP_TEXT = 0x81; // FIN + text
const OP_BINARY = 0x82; // FIN + binary

// One fan-out message is the same bytes object for every recipient (hub `Outgoing.enc`), and a
// server's frames are unmasked, so its frames are the same bytes too: built once per message and
// opcode, then every member's socket gets the one buffer. Keyed by identity, gone with the message.
const textCache = new WeakMap<Uint8Array, Uint8Array>();
const binaryCache = new WeakMap<Uint8Array, Uint8Array>();

function headerLength(n: number): number {
  return n < 126 ? 2 : n < 65_536 ? 4 : 10;
}

/**
 * CRLF-terminated IRC lines as WebSocket frames, one line per message without its CRLF (IRCv3
 * WebSocket), text or binary, server to client (unmasked, RFC 6455 section 5.2).
 * @param cache - whether `lines` is shared between recipients (worth remembering by identity)
 */
export function ircLinesToFrames(lines: Uint8Array, binary: boolean, cache: boolean): Uint8Array {
  const map = binary ? binaryCache : textCache;
  if (cache) {
    const hit = map.get(lines);
    if (hit !== undefined) return hit;
  }
  const n = lines.length;
  let total = 0;
  for (let start = 0; start < n; ) {
    let nl = lines.indexOf(LF, start);
    if (nl === -1) nl = n;
    let end = nl;
    if (end > start && lines[end - 1] === CR) end--;
    if (end > start) total += headerLength(end - start) + end - start;
    start = nl + 1;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (let start = 0; start < n; ) {
    let nl = lines.indexOf(LF, start);
    if (nl === -1) nl = n;
    let end = nl;
    if (end > start && lines[end - 1] === CR) end--;
    const len = end - start;
    if (len > 0) {
      out[at++] = binary ? OP_BINARY : OP_TEXT;
      if (len < 126) out[at++] = len;
      else if (len < 65_536) {
        out[at++] = 126;
        out[at++] = len >>> 8;
        out[at++] = len & 0xff;
      } else {
        out[at++] = 127;
        // Lines are far below 2^32 bytes: the high half of the 64-bit length is zero.
        at += 4;
        out[at++] = len >>> 24;
        out[at++] = (len >>> 16) & 0xff;
        out[at++] = (len >>> 8) & 0xff;
        out[at++] = len & 0xff;
      }
      out.set(lines.subarray(start, end), at);
      at += len;
    }
    start = nl + 1;
  }
  if (cache) map.set(lines, out);
  return out;
}
