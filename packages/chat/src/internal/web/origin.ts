import { ChatError } from '../../errors.js';

/** Which browser origins may open a WebSocket: the server's own always, plus these. */
export interface OriginPolicy {
  /** Any origin (`'*'` in the list). */
  any: boolean;
  /** Normalized origins (`scheme://host[:port]`, lowercase, default ports dropped). */
  allowed: ReadonlySet<string>;
}

/**
 * Validates and normalizes `web.origins`.
 * @throws ChatError `ERR_INVALID_ARGUMENT` for an entry that is not `*` or an http(s) origin
 */
export function originPolicy(origins: readonly string[]): OriginPolicy {
  if (!Array.isArray(origins))
    throw new ChatError(
      'ERR_INVALID_ARGUMENT',
      `option web.origins must be an array, got ${String(origins)}`,
    );
  const allowed = new Set<string>();
  let any = false;
  for (const o of origins) {
    if (o === '*') {
      any = true;
      continue;
    }
    const n = typeof o === 'string' ? normalize(o) : null;
    if (n === null)
      throw new ChatError(
        'ERR_INVALID_ARGUMENT',
        `option web.origins entries must be '*' or an origin like 'https://chat.example.com', got ${JSON.stringify(o)}`,
      );
    allowed.add(n);
  }
  return { any, allowed };
}

/** `scheme://host[:port]` as browsers send it in `Origin`, or null for anything else. */
function normalize(origin: string): string | null {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '') return null;
  return u.origin;
}

/**
 * Whether a WebSocket upgrade may proceed. Browsers always send `Origin` on a WebSocket; a request
 * without one is not from a web page (irssi's or gamja's server side, a bot, a test), and the
 * allow-list exists to stop other pages from using a visitor's browser, so it passes.
 * @param origin - the request's `Origin` header
 * @param host - its `Host` header (the page's own origin is `scheme://host`)
 * @param secure - whether the listener is TLS (https/wss)
 */
export function originAllowed(
  policy: OriginPolicy,
  origin: string | undefined,
  host: string | undefined,
  secure: boolean,
): boolean {
  if (origin === undefined) return true;
  if (policy.any) return true;
  const n = normalize(origin);
  if (n === null) return false;
  if (host !== undefined && n === normalize(`${secure ? 'https' : 'http'}://${host}`)) return true;
  return policy.allowed.has(n);
}
