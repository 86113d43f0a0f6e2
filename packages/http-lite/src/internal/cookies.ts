import type { Dispatch, DispatchRequest, Layer } from '../dispatch.js';
import type { HttpResponse } from '../response.js';
import { derive, stateOf } from './dispatch-state.js';

/**
 * The two methods of a tough-cookie `CookieJar` that http-lite calls (their promise forms). http-lite imports
 * nothing: pass your own jar, so tough-cookie is loaded only by code that uses it.
 */
export interface CookieJarLike {
  getCookieString(url: string): Promise<string>;
  setCookie(cookie: string, url: string, options?: { ignoreError?: boolean }): Promise<unknown>;
}

/** The request fields with the jar's cookies for `url` added to (or after) the caller's `Cookie`. */
export async function withJarCookies(
  headers: [string, string][],
  jar: CookieJarLike,
  url: string,
): Promise<[string, string][]> {
  const fromJar = await jar.getCookieString(url);
  if (fromJar === '') return headers;
  const i = headers.findIndex(([n]) => n.toLowerCase() === 'cookie');
  if (i === -1) return [...headers, ['cookie', fromJar]];
  const out = headers.slice();
  out[i] = [out[i]![0], `${out[i]![1]}; ${fromJar}`];
  return out;
}

/** Stores every `Set-Cookie` of `res` (a redirect's too); a cookie the jar rejects is skipped, as browsers do. */
export async function storeCookies(jar: CookieJarLike, res: HttpResponse, url: string): Promise<void> {
  try {
    for (const c of res.headers.getAll('set-cookie')) await jar.setCookie(c, url, { ignoreError: true });
  } catch (err) {
    // The caller never gets this response: free its connection.
    await res.body.discard().catch(() => {});
    throw err;
  }
}

/**
 * The cookie layer (`cookieJar` option): the jar's cookies for each hop's URL go out with it, and the
 * `Set-Cookie` of the response it ends with (after retries) is stored. Without the option it is one function call.
 */
export const cookieLayer: Layer = (next) => (req) => {
  const jar = req.options.cookieJar;
  return jar === undefined ? next(req) : withJar(next, req, jar);
};

async function withJar(next: Dispatch, req: DispatchRequest, jar: CookieJarLike): Promise<HttpResponse> {
  const st = stateOf(req);
  const url = st.target.href;
  const headers = await withJarCookies(st.headers, jar, url);
  const res = await next(headers === st.headers ? req : derive(req, { headers }));
  await storeCookies(jar, res, url);
  return res;
}
