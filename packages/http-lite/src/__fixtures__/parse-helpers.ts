import { HttpError } from '../errors.js';
import { ResponseParser, type ResponseParserOptions } from '../response-parser.js';

export interface Parsed {
  heads: {
    status: number;
    statusText: string;
    httpVersion: string;
    raw: [string, string][];
    framing: string;
  }[];
  body: string;
  trailers: [string, string][] | null;
  ends: boolean[];
  error: { code: string; reason: string | undefined } | null;
  /** Bytes pushed after the end of the response. */
  excess: number;
}

/** Feeds all of `bytes` cut at `cuts` (sorted offsets), then EOF when `eof`; collects a comparable result. */
export function parseSplit(
  bytes: Uint8Array,
  cuts: number[],
  options: ResponseParserOptions = {},
  eof = true,
): Parsed {
  const p = new ResponseParser(options);
  const res: Parsed = { heads: [], body: '', trailers: null, ends: [], error: null, excess: 0 };
  const bodyParts: Buffer[] = [];
  const take = (evs: ReturnType<ResponseParser['push']>) => {
    for (const e of evs) {
      if (e.type === 'head')
        res.heads.push({
          status: e.status,
          statusText: e.statusText,
          httpVersion: e.httpVersion,
          raw: e.rawHeaders.map(([a, b]) => [a, b] as [string, string]),
          framing: e.framing,
        });
      else if (e.type === 'body') bodyParts.push(Buffer.from(e.chunk));
      else if (e.type === 'trailers')
        res.trailers = e.rawTrailers.map(([a, b]) => [a, b] as [string, string]);
      else res.ends.push(e.keepAlive);
    }
  };
  try {
    let prev = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut > prev) take(p.push(bytes.subarray(prev, cut)));
      prev = Math.max(prev, cut);
    }
    if (eof && !p.done) take(p.finish());
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    res.error = { code: err.code, reason: err.reason };
  }
  res.excess = p.excess;
  res.body = Buffer.concat(bodyParts).toString('latin1');
  return res;
}
