import type { Layer } from '../dispatch.js';
import { ContentDecoder, type DecoderFactory, decodingOrder } from './content-decoder.js';
import { derive, stateOf } from './dispatch-state.js';

/** What the decompression layer offers when the caller sets no `Accept-Encoding`. */
export const ACCEPT_ENCODING = 'gzip, deflate, br';

/**
 * Decodes `Content-Encoding: gzip | x-gzip | deflate | br` (stacked up to 5); none for `identity` or no field.
 * @throws {@link HttpError} `ERR_UNSUPPORTED_CONTENT_ENCODING` for any other coding.
 */
export const contentDecoding: DecoderFactory = (headers, sink, onInputDrain) => {
  const enc = headers.get('content-encoding');
  if (enc === null) return null;
  const codings = decodingOrder(enc);
  return codings.length === 0 ? null : new ContentDecoder(codings, sink, onInputDrain);
};

/**
 * The decompression layer (`decompress` option): offers gzip, deflate and br unless the caller set
 * `Accept-Encoding`, and has the response body decoded by its `Content-Encoding`. Without the option it is one
 * function call.
 */
export const decompressLayer: Layer = (next) => (req) => {
  if (req.options.decompress !== true) return next(req);
  try {
    const st = stateOf(req);
    const asked = st.headers.some(([n]) => n.length === 15 && n.toLowerCase() === 'accept-encoding');
    return next(
      derive(req, {
        headers: asked ? st.headers : [...st.headers, ['Accept-Encoding', ACCEPT_ENCODING]],
        decoder: contentDecoding,
      }),
    );
  } catch (err) {
    return Promise.reject(err);
  }
};
