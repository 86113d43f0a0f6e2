import { Buffer } from 'node:buffer';
import { HttpError } from '../errors.js';

/** Anything `request()` accepts as a request body. */
export type RequestBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | ReadableStream<Uint8Array>
  | null
  | undefined;

export interface NormalizedBody {
  body: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  /** Byte length when known up front. */
  length: number | null;
  /** Can be sent again (retry, 307/308 redirect). */
  replayable: boolean;
}

export function normalizeBody(body: RequestBody): NormalizedBody {
  if (body === null || body === undefined) return { body: null, length: 0, replayable: true };
  if (typeof body === 'string') return { body, length: Buffer.byteLength(body), replayable: true };
  if (body instanceof Uint8Array) return { body, length: body.byteLength, replayable: true };
  if (body instanceof ArrayBuffer)
    return { body: new Uint8Array(body), length: body.byteLength, replayable: true };
  if (typeof (body as ReadableStream).getReader === 'function') {
    return { body: fromReadableStream(body as ReadableStream<Uint8Array>), length: null, replayable: false };
  }
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return { body: bytesOf(body as AsyncIterable<Uint8Array | string>), length: null, replayable: false };
  }
  if (typeof (body as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return { body: bytesOf(body as Iterable<Uint8Array | string>), length: null, replayable: false };
  }
  throw new HttpError(
    'ERR_INVALID_ARGUMENT',
    `unsupported request body type: ${Object.prototype.toString.call(body)}`,
  );
}

async function* bytesOf(
  src: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
): AsyncIterable<Uint8Array> {
  for await (const chunk of src) {
    if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else if (chunk instanceof Uint8Array) yield chunk;
    else
      throw new HttpError(
        'ERR_INVALID_ARGUMENT',
        `request body chunks must be Uint8Array or string, got ${typeof chunk}`,
      );
  }
}

async function* fromReadableStream(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      if (typeof value === 'string') yield Buffer.from(value, 'utf8');
      else yield value;
    }
  } finally {
    // Stopped early (the request failed or was answered first): cancel, so the source can free its resources.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
