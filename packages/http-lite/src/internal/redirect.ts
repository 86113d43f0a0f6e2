import type { Dispatch, DispatchRequest, Layer } from '../dispatch.js';
import { HttpError } from '../errors.js';
import type { RequestTlsOptions } from '../request.js';
import type { HttpResponse } from '../response.js';
import { derive, stateOf } from './dispatch-state.js';
import { redactedUrlCause, redactUrl } from './redact.js';
import { type NormalizedBody, normalizeBody } from './request-body.js';
import { resolveTarget, type Target, withUrlAuth } from './target.js';

/** The statuses the redirect layer follows (fetch's `redirect: 'error'` refuses the same ones). */
export const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * The redirect layer (`maxRedirects` option): follows each redirect {@link redirectHop} allows with a new
 * request through the layers inside it (cookies, retries, decompression). Without the option it is one
 * function call.
 */
export const redirectLayer: Layer = (next) => (req) => {
  const max = req.options.maxRedirects ?? 0;
  return max === 0 ? next(req) : follow(next, req, max);
};

async function follow(next: Dispatch, req: DispatchRequest, max: number): Promise<HttpResponse> {
  for (let redirects = 0; ; redirects++) {
    const res = await next(req);
    const st = stateOf(req);
    const hop = await redirectHop(res, st, redirects, max, req.options.tls);
    if (hop === null) return res;
    req = derive(req, { ...hop, redirected: true });
  }
}

/** What changes from one redirect hop to the next. */
export interface Hop {
  method: string;
  body: NormalizedBody;
  headers: [string, string][];
  target: Target;
}

/**
 * The redirect layer (RFC 9110 15.4): the next hop for `res`, or `null` to hand `res` to the caller (not a
 * redirect, no Location, or a one-shot body that would have to be sent again). The 3xx body is discarded
 * before a hop or a throw.
 * @throws {@link HttpError} `ERR_TOO_MANY_REDIRECTS`, `ERR_INVALID_URL` (Location redacted)
 */
export async function redirectHop(
  res: HttpResponse,
  hop: Hop,
  redirects: number,
  maxRedirects: number,
  tls: RequestTlsOptions | undefined,
): Promise<Hop | null> {
  if (!REDIRECTS.has(res.status)) return null;
  const location = res.headers.get('location');
  if (location === null) return null;
  let { method, body, headers } = hop;
  const toGet =
    (res.status === 303 && method !== 'HEAD') ||
    ((res.status === 301 || res.status === 302) && method === 'POST');
  // The method and body are kept (307/308, and 301/302 for anything but POST): a spent stream cannot
  // be sent again, so hand the 3xx to the caller.
  if (!toGet && !body.replayable) return null;
  if (redirects >= maxRedirects) {
    await res.body.discard();
    throw new HttpError(
      'ERR_TOO_MANY_REDIRECTS',
      `more than ${maxRedirects} redirects, last to ${redactUrl(location)}`,
    );
  }
  let next: URL;
  try {
    next = new URL(location, hop.target.href);
  } catch (err) {
    await res.body.discard();
    throw new HttpError(
      'ERR_INVALID_URL',
      `invalid redirect location ${JSON.stringify(redactUrl(location))}`,
      {
        cause: redactedUrlCause(err, location),
      },
    );
  }
  await res.body.discard();
  const target = resolveTarget(next, tls);
  if (toGet) {
    method = 'GET';
    body = normalizeBody(null);
    headers = headers.filter(([n]) => !/^content-/i.test(n));
  }
  if (target.origin !== hop.target.origin) {
    headers = headers.filter(([n]) => {
      const l = n.toLowerCase();
      return l !== 'authorization' && l !== 'cookie' && l !== 'proxy-authorization' && l !== 'host';
    });
  }
  return { method, body, headers: withUrlAuth(headers, target), target };
}
