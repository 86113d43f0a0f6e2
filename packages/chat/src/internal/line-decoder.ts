/** Receives what a {@link LineDecoder} finds in the byte stream. */
export interface LineSink {
  /** A complete, valid UTF-8 line without its CR/LF. */
  line(text: string): void;
  /** A line exceeded the limit; its bytes up to the next LF are discarded. */
  tooLong(): void;
  /** A complete line was not valid UTF-8; it is discarded. */
  invalidUtf8(): void;
}

const LF = 10;
const CR = 13;

/**
 * Splits a byte stream into lines (LF or CRLF), bounded to `maxLength` bytes of content, and
 * validates UTF-8 per complete line, so a code point split across TCP chunks is fine while
 * invalid bytes are reported instead of turning into mojibake.
 */
export class LineDecoder {
  readonly #maxLength: number;
  readonly #sink: LineSink;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true });
  #parts: Uint8Array[] = [];
  #partsLength = 0;
  #discarding = false;

  constructor(maxLength: number, sink: LineSink) {
    this.#maxLength = maxLength;
    this.#sink = sink;
  }

  /** Bytes held for an incomplete line. */
  get pending(): number {
    return this.#partsLength;
  }

  /** Feeds one chunk; calls the sink synchronously for every line it completes. */
  push(chunk: Uint8Array): void {
    let start = 0;
    const end = chunk.length;
    while (start < end) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) {
        this.#hold(chunk.subarray(start));
        return;
      }
      if (this.#discarding) {
        this.#discarding = false;
      } else if (this.#partsLength === 0) {
        this.#emit(chunk.subarray(start, nl));
      } else {
        const piece = chunk.subarray(start, nl);
        // +1 allows the CR of a CRLF that straddles the limit.
        if (this.#partsLength + piece.length > this.#maxLength + 1) {
          this.#sink.tooLong();
        } else {
          this.#parts.push(piece);
          this.#emit(joinParts(this.#parts, this.#partsLength + piece.length));
        }
        this.#parts = [];
        this.#partsLength = 0;
      }
      start = nl + 1;
    }
  }

  #hold(rest: Uint8Array): void {
    if (this.#discarding) return;
    if (this.#partsLength + rest.length > this.#maxLength + 1) {
      this.#parts = [];
      this.#partsLength = 0;
      this.#discarding = true;
      this.#sink.tooLong();
      return;
    }
    this.#parts.push(rest);
    this.#partsLength += rest.length;
  }

  #emit(bytes: Uint8Array): void {
    let len = bytes.length;
    if (len > 0 && bytes[len - 1] === CR) len--;
    if (len > this.#maxLength) {
      this.#sink.tooLong();
      return;
    }
    let text: string;
    try {
      text = this.#utf8.decode(len === bytes.length ? bytes : bytes.subarray(0, len));
    } catch {
      this.#sink.invalidUtf8();
      return;
    }
    this.#sink.line(text);
  }
}

function joinParts(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
