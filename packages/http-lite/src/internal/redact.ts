import { Buffer } from 'node:buffer';

import { redactUrl } from '@asyncnet/streams/adapter';

// One redaction rule for every package: the core's.
export { redactUrl };

/** Fields whose values are credentials: never echoed in an error message. */
const SECRET_FIELDS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** A `name: value` line of a serialized head whose value is a credential. */
const SECRET_LINES = new RegExp(`^(${[...SECRET_FIELDS].join('|')}):[^\\r]*`, 'gim');

/** Serialized field lines (`name: value\r\n` each) fit for tracing: credential values read `(redacted)`. */
export function redactFieldLines(lines: string): string {
  return lines.replace(SECRET_LINES, '$1: (redacted)');
}

/** A header value fit for an error message: credentials are never shown. */
export function fieldForMessage(name: string, value: string): string {
  return SECRET_FIELDS.has(name.toLowerCase()) ? '(redacted)' : JSON.stringify(value);
}

/**
 * The cause to attach for a URL that did not parse: Node's `TypeError` carries the whole input
 * (`input`, and the message on some versions), password included, so it is rebuilt from the
 * redacted text with the same name, message and code.
 */
export function redactedUrlCause(err: unknown, text: string): Error {
  const e = err as { name?: unknown; code?: unknown };
  const cause = new TypeError('Invalid URL') as TypeError & { code?: unknown; input?: string };
  if (typeof e?.name === 'string') cause.name = e.name;
  if (e?.code !== undefined) cause.code = e.code;
  cause.input = redactUrl(text);
  return cause;
}

/**
 * `user:password` from a URL as the bytes of a Basic credential. The URL keeps them
 * percent-encoded; they are decoded byte by byte (a stray `%` stays as it is, where
 * decodeURIComponent would throw a URIError with no code).
 */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.concat([percentDecode(username), Buffer.from(':'), percentDecode(password)]).toString('base64')}`;
}

function percentDecode(s: string): Buffer {
  const out = Buffer.allocUnsafe(Buffer.byteLength(s));
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      out[n++] = Number.parseInt(s.slice(i + 1, i + 3), 16);
      i += 2;
    } else if (c < 0x80) out[n++] = c;
    else n += out.write(s[i]!, n, 'utf8'); // the URL parser encodes these; kept for safety
  }
  return out.subarray(0, n);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
