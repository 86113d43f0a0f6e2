import { brandError, hasErrorBrand } from '@asyncnet/streams/adapter';
/** Every `code` an {@link HttpError} can carry. */
export type HttpErrorCode =
  | 'ERR_HTTP_PARSE'
  | 'ERR_HEADERS_OVERFLOW'
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_HEADERS_TIMEOUT'
  | 'ERR_BODY_TIMEOUT'
  | 'ERR_TOTAL_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_PREMATURE_CLOSE'
  | 'ERR_RESPONSE_TOO_LARGE'
  | 'ERR_INVALID_URL'
  | 'ERR_UNSUPPORTED_PROTOCOL'
  | 'ERR_TOO_MANY_REDIRECTS'
  | 'ERR_INVALID_HEADER'
  | 'ERR_CONTENT_LENGTH_MISMATCH'
  | 'ERR_UNSUPPORTED_CONTENT_ENCODING'
  | 'ERR_AGENT_CLOSED'
  | 'ERR_PROXY_CONNECT'
  | 'ERR_PROXY_AUTH_REQUIRED'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_BODY_USED';

/** Extra data an {@link HttpError} may carry. */
export interface HttpErrorDetails {
  /** For `ERR_HTTP_PARSE`: the rule that was broken, e.g. `'content-length with transfer-encoding'`. */
  reason?: string;
  /** For `ERR_PREMATURE_CLOSE`: body bytes received before the close. */
  bytesReceived?: number;
  /** For `ERR_PREMATURE_CLOSE`: the body bytes themselves, when a `text()`/`bytes()`-style reader was collecting them. */
  partial?: Uint8Array;
  /** For `ERR_PROXY_CONNECT` / `ERR_PROXY_AUTH_REQUIRED`: the proxy's status code, when it answered one. */
  statusCode?: number;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The one error class of `@asyncnet/http-lite`; `code` says what failed.
 *
 * @example
 * ```ts
 * try { await get('http://127.0.0.1:1/'); } catch (err) {
 *   if (err instanceof HttpError && err.code === 'ERR_HTTP_PARSE') console.log(err.reason);
 * }
 * ```
 */
export class HttpError extends Error {
  override name = 'HttpError';
  /** Stable machine-readable code. */
  readonly code: HttpErrorCode;
  /** For `ERR_HTTP_PARSE`: the framing rule that was broken. */
  readonly reason: string | undefined;
  /** For `ERR_PREMATURE_CLOSE`: body bytes received before the connection closed. */
  readonly bytesReceived: number | undefined;
  /** For `ERR_PREMATURE_CLOSE`: the partial body, when it was being collected. */
  partial: Uint8Array | undefined;
  /** For `ERR_PROXY_CONNECT` / `ERR_PROXY_AUTH_REQUIRED`: the proxy's reply status, if it sent one. */
  readonly statusCode: number | undefined;

  /**
   * @param code - the error code.
   * @param message - lowercase description naming the bad value.
   * @param details - reason, partial data and cause.
   */
  constructor(code: HttpErrorCode, message: string, details: HttpErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    brandError(this, new.target, 'http-lite');
    this.reason = details.reason;
    this.bytesReceived = details.bytesReceived;
    this.partial = details.partial;
    this.statusCode = details.statusCode;
  }

  /** `instanceof` works across duplicate copies of this package (see `hasErrorBrand` in `@asyncnet/streams`). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being asked about
    return hasErrorBrand(this, value, 'http-lite');
  }
}

/** @internal Builds an `ERR_HTTP_PARSE` error whose message starts with the broken rule. */
export function parseError(reason: string, detail?: string): HttpError {
  return new HttpError('ERR_HTTP_PARSE', detail ? `${reason}: ${detail}` : reason, { reason });
}
