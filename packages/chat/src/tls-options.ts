import { ChatError } from './errors.js';

/** STS (IRCv3 Strict Transport Security): tells IRC clients to use TLS from now on. */
export interface StsOptions {
  /**
   * Seconds a client must keep to TLS after seeing the policy on a TLS connection (`0` revokes a
   * policy given earlier). Choose it deliberately: clients refuse plaintext for that long.
   */
  duration: number;
  /** Consent to be listed in clients' preloaded STS lists. @default false */
  preload?: boolean;
}

/**
 * TLS for the IRC front end (the `tlsPort` listener, 6697 by convention): PEM files read at
 * `listen()` and again by {@link ChatServer.reloadTls}, so a renewed certificate is picked up
 * without a restart (the CLI does it on SIGHUP).
 */
export interface ChatTlsOptions {
  /** Path of the certificate chain (PEM). */
  certFile: string;
  /** Path of the private key (PEM). */
  keyFile: string;
  /**
   * Advertise an STS policy in `CAP LS 302`: `sts=port=<tlsPort>` on plaintext connections (clients
   * reconnect with TLS) and `sts=duration=<s>` on TLS ones. @default none (no STS)
   */
  sts?: StsOptions;
}

/** {@link ChatTlsOptions} after validation. */
export interface ResolvedTls {
  certFile: string;
  keyFile: string;
  sts: { duration: number; preload: boolean } | null;
}

/**
 * Validates the `tls` option.
 * @throws ChatError `ERR_INVALID_ARGUMENT` naming the bad field and value
 */
export function resolveTlsOptions(o: ChatTlsOptions | undefined): ResolvedTls | null {
  if (o === undefined) return null;
  const bad = (field: string, value: unknown, want: string) =>
    new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option tls.${field} must be ${want}, got ${JSON.stringify(value)}`,
    );
  if (o === null || typeof o !== 'object') throw bad('', o, 'an object');
  for (const f of ['certFile', 'keyFile'] as const)
    if (typeof o[f] !== 'string' || o[f] === '') throw bad(f, o[f], 'a file path');
  let sts: ResolvedTls['sts'] = null;
  if (o.sts !== undefined) {
    const d = o.sts?.duration;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      throw bad('sts.duration', d, 'whole seconds >= 0');
    sts = { duration: d, preload: o.sts.preload === true };
  }
  return { certFile: o.certFile, keyFile: o.keyFile, sts };
}
