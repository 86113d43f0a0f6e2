import { Buffer } from 'node:buffer';

const SCHEME_AND_SLASHES = /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]+/;
/** Fields whose values are credentials: never echoed in an error message. */
const SECRET_FIELDS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/**
 * A URL (or text that failed to parse as one) with its userinfo replaced by `***`, for error messages.
 * A parsable URL with a host loses exactly its `user:password@`. Anything else (invalid host or port,
 * no scheme, `user:pw@host`) is cut from after `scheme://` to the last `@`: an unparsable string has
 * no reliable authority, so over-redacting a path is the price of never printing a password.
 */
export function redactUrl(text: string): string {
  let u: URL | null = null;
  try {
    u = new URL(text);
  } catch {}
  if (u !== null && u.host !== '') {
    if (u.username === '' && u.password === '') return u.href;
    u.username = '';
    u.password = '';
    return u.href;
  }
  const at = text.lastIndexOf('@');
  if (at === -1) return text;
  const start = SCHEME_AND_SLASHES.exec(text)?.[0].length ?? 0;
  return at < start ? text : `${text.slice(0, start)}***${text.slice(at)}`;
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
