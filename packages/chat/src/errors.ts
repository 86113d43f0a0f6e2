import { brandError, hasErrorBrand } from '@asyncnet/streams/adapter';
/** Stable codes carried by every {@link ChatError}. */
export type ChatErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_NICK'
  | 'ERR_NICK_IN_USE'
  | 'ERR_NOT_CONNECTED'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_SERVER_LISTENING'
  | 'ERR_SERVER_CLOSED'
  | 'ERR_BUS_UNAVAILABLE'
  | 'ERR_ACCOUNTS_UNAVAILABLE'
  | 'ERR_TLS_CERT'
  | 'ERR_PROTOCOL';

/**
 * Base class of every error thrown by `@asyncnet/chat`; switch on `code`, never on the message.
 *
 * @example
 * ```ts
 * try { await ChatClient.connect('127.0.0.1', port, { nick: 'alice' }); }
 * catch (err) { if (err instanceof ChatError && err.code === 'ERR_NICK_IN_USE') console.log('taken'); }
 * ```
 */
export class ChatError extends Error {
  override name = 'ChatError';
  /** Stable machine-readable code. */
  readonly code: ChatErrorCode;

  /**
   * @param code - the stable code
   * @param message - lowercase text naming the bad value
   * @param options - `cause` where one exists
   */
  constructor(code: ChatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    brandError(this, new.target, 'chat');
  }

  /** `instanceof` works across duplicate copies of this package (see `hasErrorBrand` in `@asyncnet/streams`). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being asked about
    return hasErrorBrand(this, value, 'chat');
  }
}
