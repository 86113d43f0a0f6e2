const SCHEME_AND_SLASHES = /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]+/;

/**
 * A URL (or text that failed to parse as one) with its `user:password@` replaced, for error messages
 * and logs. The one redaction rule every asyncnet package uses.
 *
 * A parsable URL with a host loses exactly its userinfo. Anything else (an invalid host or port, no
 * scheme, `user:pw@host`) is cut from after `scheme://` to the last `@` and replaced by `***`: an
 * unparsable string has no reliable authority, so over-redacting a path is the price of never
 * printing a password.
 *
 * For adapter authors.
 *
 * @param text - a URL or URL-like text
 * @returns the text without credentials
 * @example
 * ```ts
 * redactUrl('redis://:secret@127.0.0.1:6379/0'); // 'redis://127.0.0.1:6379/0'
 * redactUrl('http://bob:pw@exa mple.com/');      // 'http://***@exa mple.com/'
 * ```
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
