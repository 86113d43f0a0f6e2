import { ChatError } from './errors.js';
import { type OriginPolicy, originPolicy } from './internal/web/origin.js';

/**
 * HTTPS/WSS for the web front end: PEM files, the same shape as the IRC TLS listener's `tls`
 * option (often the same files), read at `listen()`.
 */
export interface WebTlsOptions {
  /** Path of the certificate chain (PEM). */
  certFile: string;
  /** Path of the private key (PEM). */
  keyFile: string;
}

/**
 * The web front end: IRC over WebSocket (IRCv3 `text.ircv3.net` / `binary.ircv3.net`) and the
 * bundled web client, on one HTTP(S) listener beside the plain and IRC ones, on the same hub.
 */
export interface WebOptions {
  /** Port; 0 picks a free one. @default 0 */
  port?: number;
  /** Address to bind. @default the `host` given to {@link ChatServer.listen} */
  host?: string;
  /**
   * Browser origins allowed to open a WebSocket besides the server's own page (always allowed),
   * e.g. `['https://chat.example.com']`; `'*'` allows any. Others get HTTP 403 before the upgrade.
   * Requests without an `Origin` (non-browser clients) are allowed. @default [] (same origin only)
   */
  origins?: string[];
  /** Serve HTTPS/WSS with this certificate. @default none (plain HTTP/WS) */
  tls?: WebTlsOptions;
  /**
   * Ms between WebSocket pings; a peer that has not answered the previous ping is dropped. (IRC
   * `PING` with `pingInterval`/`pingTimeout` applies as on TCP.) 0 disables. @default 30000
   */
  keepAlive?: number;
  /** Serve the bundled web client at `/`. @default true */
  client?: boolean;
  /**
   * Behind a reverse proxy: take the client's address (per-IP limits, hostnames) from the last
   * `X-Forwarded-For` entry. @default false
   */
  trustProxy?: boolean;
}

/** {@link WebOptions} after defaults and validation. */
export interface ResolvedWeb {
  port: number;
  host: string | null;
  origins: OriginPolicy;
  tls: WebTlsOptions | null;
  keepAlive: number;
  client: boolean;
  trustProxy: boolean;
}

/**
 * Applies defaults and validates.
 * @throws ChatError `ERR_INVALID_ARGUMENT` naming the bad field and value
 */
export function resolveWebOptions(o: WebOptions): ResolvedWeb {
  if (o === null || typeof o !== 'object')
    throw new ChatError('ERR_INVALID_ARGUMENT', `option web must be an object, got ${String(o)}`);
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option web.port must be an integer 0-65535, got ${String(port)}`,
    );
  const keepAlive = o.keepAlive ?? 30_000;
  if (typeof keepAlive !== 'number' || !(keepAlive >= 0))
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option web.keepAlive must be a non-negative number, got ${String(keepAlive)}`,
    );
  if (o.tls !== undefined) {
    for (const f of ['certFile', 'keyFile'] as const) {
      const v = o.tls?.[f];
      if (typeof v !== 'string' || v === '')
        throw new ChatError(
          'ERR_INVALID_ARGUMENT',
          `option web.tls.${f} must be a file path, got ${JSON.stringify(v)}`,
        );
    }
  }
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === ''))
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option web.host must be a non-empty string, got ${String(o.host)}`,
    );
  return {
    port,
    host: o.host ?? null,
    origins: originPolicy(o.origins ?? []),
    tls: o.tls === undefined ? null : { certFile: o.tls.certFile, keyFile: o.tls.keyFile },
    keepAlive,
    client: o.client ?? true,
    trustProxy: o.trustProxy ?? false,
  };
}
