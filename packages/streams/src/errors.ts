import { brandError, hasErrorBrand } from './error-brand.js';

/** Every `code` a {@link StreamsError} can carry. */
export type StreamsErrorCode =
  | 'ERR_INCOMPLETE_READ'
  | 'ERR_LIMIT_OVERRUN'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_READ_PENDING'
  | 'ERR_WRITE_AFTER_CLOSE'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_TLS_UPGRADE'
  | 'ERR_UNSUPPORTED'
  | 'ERR_MAX_CONNECTIONS';

/**
 * Base class of every error thrown by `@asyncnet/streams`.
 *
 * Node's own socket errors (`ECONNREFUSED`, `ECONNRESET`, …) reach connects and reads unchanged;
 * `drain()` and `write()` on a lost connection wrap them in a {@link ConnectionClosedError}
 * (`ERR_CONNECTION_CLOSED`) whose `cause` is the socket's error. Either way `err.code` is the thing
 * to switch on (and `err.cause.code` for the socket's reason).
 */
export class StreamsError extends Error {
  override name = 'StreamsError';
  /** Stable, machine-readable reason. */
  readonly code: StreamsErrorCode;

  /**
   * @param code - stable error code
   * @param message - lowercase description naming the value that failed
   * @param options - `cause`, when there is one
   */
  constructor(code: StreamsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    brandError(this, new.target, 'streams');
  }

  /** `instanceof` works across duplicate copies of this package (see {@link hasErrorBrand}). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being asked about
    return hasErrorBrand(this, value, 'streams');
  }
}

/**
 * EOF arrived before a read could be satisfied (asyncio's `IncompleteReadError`).
 * The bytes that did arrive are in `partial`; they have been consumed from the reader.
 */
export class IncompleteReadError extends StreamsError {
  override name = 'IncompleteReadError';
  /** The bytes read before EOF. */
  readonly partial: Buffer;
  /** How many bytes were wanted, or `null` when reading up to a separator. */
  readonly expected: number | null;

  /**
   * @param partial - bytes received before EOF
   * @param expected - bytes wanted, or `null` for a separator search
   */
  constructor(partial: Buffer, expected: number | null) {
    super(
      'ERR_INCOMPLETE_READ',
      `${partial.byteLength} bytes read on a total of ${expected === null ? 'undefined' : expected} expected bytes`,
    );
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * A line or separator search went past the reader's `limit` (asyncio's `LimitOverrunError`).
 * Unlike asyncio, the data stays in the reader's buffer and can still be read with `read()` or
 * `readExactly()`.
 */
export class LimitOverrunError extends StreamsError {
  override name = 'LimitOverrunError';
  /** Bytes that would have had to be consumed: the separator's offset, or the buffer size when not found. */
  readonly consumed: number;

  /**
   * @param message - what overran
   * @param consumed - the offset of the separator, or the bytes searched
   */
  constructor(message: string, consumed: number) {
    super('ERR_LIMIT_OVERRUN', message);
    this.consumed = consumed;
  }
}

/** An operation did not finish in time: {@link withTimeout}, a connect `timeout`, or `AbortSignal.timeout()`. */
export class TimeoutError extends StreamsError {
  override name = 'TimeoutError';
  /**
   * @param message - what timed out and after how long
   * @param options - `cause`, when there is one
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TIMEOUT', message, options);
  }
}

/** An operation was cancelled through its `AbortSignal`; `cause` is the signal's reason. */
export class AbortedError extends StreamsError {
  override name = 'AbortedError';
  /**
   * @param message - what was aborted
   * @param options - `cause`: the signal's reason
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, options);
  }
}

/** A read was started while another read on the same reader was still pending. */
export class ReadPendingError extends StreamsError {
  override name = 'ReadPendingError';
  /** @param method - the read that was refused */
  constructor(method: string) {
    super('ERR_READ_PENDING', `${method}() called while another read is pending on this reader`);
  }
}

/** `write()` after `close()`, `abort()` or `writeEof()`. */
export class WriteAfterCloseError extends StreamsError {
  override name = 'WriteAfterCloseError';
  /** @param state - what closed the write side */
  constructor(state: string) {
    super('ERR_WRITE_AFTER_CLOSE', `write after ${state}`);
  }
}

/** The connection ended while an operation (for example `drain()`) was waiting on it. */
export class ConnectionClosedError extends StreamsError {
  override name = 'ConnectionClosedError';
  /**
   * @param message - what was interrupted
   * @param options - `cause`: the connection's error, when there was one
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONNECTION_CLOSED', message, options);
  }
}

/** Turns an `AbortSignal`'s reason into a typed error: `TimeoutError` for `AbortSignal.timeout()`. */
export function abortReasonToError(signal: AbortSignal, what: string): StreamsError {
  const reason: unknown = signal.reason;
  if (reason instanceof StreamsError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new TimeoutError(`${what} timed out`, { cause: reason });
  }
  return new AbortedError(`${what} was aborted`, { cause: reason });
}
