import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Agent, type HttpResponse, request } from '@asyncnet/http-lite';
import { flag, int, list, type ParsedArgs, str } from '../args.js';
import { describeError, runtimeError, usageError } from '../errors.js';
import { Progress } from '../progress.js';

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function parseUrl(text: string): URL {
  let url: URL;
  // new URL() rejects a port above 65535 with a bare "Invalid URL": say what is wrong.
  const port = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(?:\[[^\]]*\]|[^/?#:]*):(\d+)(?:[/?#]|$)/i.exec(
    text,
  )?.[1];
  if (port !== undefined && Number(port) > 65535) {
    throw usageError(`port ${port} in ${JSON.stringify(text)} is out of range: use 1-65535`);
  }
  try {
    url = new URL(text);
  } catch {
    throw usageError(`bad url ${JSON.stringify(text)}: give a full url such as http://127.0.0.1:8080/path`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(
      `unsupported scheme ${JSON.stringify(url.protocol)} in ${JSON.stringify(text)}: use http:// or https://`,
    );
  }
  if (url.port !== '' && Number(url.port) === 0) {
    throw usageError(`port 0 in ${JSON.stringify(text)} is out of range: use 1-65535`);
  }
  return url;
}

function parseHeader(h: string): [string, string] {
  const colon = h.indexOf(':');
  const name = colon === -1 ? '' : h.slice(0, colon).trim();
  if (colon <= 0 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw usageError(`bad header ${JSON.stringify(h)}: use -H 'Name: value'`);
  }
  return [name, h.slice(colon + 1).trim()];
}

function headText(res: HttpResponse): string {
  let out = `HTTP/${res.httpVersion} ${res.status} ${res.statusText}\r\n`;
  for (const [name, value] of res.rawHeaders) out += `${name}: ${value}\r\n`;
  return `${out}\r\n`;
}

async function writeAll(stream: NodeJS.WritableStream, res: HttpResponse): Promise<number> {
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.length;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  return total;
}

/** `asyncnet-demo get URL`: a curl-like client on `@asyncnet/http-lite`. */
export async function getCommand(args: ParsedArgs): Promise<number> {
  const url = parseUrl(args.positionals[0]!);
  const headers = list(args, 'header').map(parseHeader);
  // user:password in the url becomes Basic auth, as with curl, and is kept out of every message.
  if (url.username !== '' || url.password !== '') {
    let credentials: string;
    try {
      credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    } catch {
      throw usageError('bad percent-encoding in the user:password part of the url');
    }
    url.username = '';
    url.password = '';
    if (!headers.some(([name]) => name.toLowerCase() === 'authorization')) {
      headers.unshift(['Authorization', `Basic ${Buffer.from(credentials).toString('base64')}`]);
    }
  }
  const maxRedirects = int(args, 'max-redirects', 5, 0, 100);
  const timeout = int(args, 'timeout', 10_000, 1, 3_600_000);
  const head = flag(args, 'head');
  const output = str(args, 'output');
  if (output === '') throw usageError('-o needs a file name');
  const agent = new Agent({ keepAliveTimeout: 1000 });
  const target = url.href;
  // http-lite reports the body's progress (with the total from Content-Length); the bar is drawn
  // only for a download to a file on a terminal.
  const bar: { progress: Progress | null } = { progress: null };
  const onDownloadProgress =
    output !== undefined && !head && process.stderr.isTTY
      ? ({ loaded, total }: { loaded: number; total?: number | undefined }) => {
          bar.progress ??= new Progress(process.stderr, total ?? null);
          bar.progress.update(loaded);
        }
      : undefined;
  try {
    let res: HttpResponse;
    try {
      res = await request(url, {
        method: head ? 'HEAD' : 'GET',
        headers,
        agent,
        maxRedirects,
        decompress: flag(args, 'decompress'),
        timeouts: { connect: timeout, headers: timeout, body: timeout },
        onDownloadProgress,
        ...(flag(args, 'insecure') ? { tls: { rejectUnauthorized: false } } : {}),
      });
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? '');
      const tlsHint = TLS_TRUST_CODES.has(code)
        ? ': pass -k/--insecure to skip verification (only for servers you trust)'
        : '';
      throw runtimeError(`get ${target} failed: ${describeError(err, `${url.host}`)}${tlsHint}`, err);
    }
    if (head) {
      process.stdout.write(headText(res));
      await res.body.discard();
    } else if (output !== undefined) {
      const file = createWriteStream(output);
      const opened = once(file, 'open');
      await Promise.race([opened, once(file, 'error').then(([e]) => Promise.reject(e))]).catch((err) => {
        throw runtimeError(`cannot write ${output}: ${(err as Error).message}`, err);
      });
      let total: number;
      try {
        total = await writeAll(file, res);
      } catch (err) {
        bar.progress?.finish(false);
        file.destroy();
        throw runtimeError(`download of ${target} failed: ${describeError(err, url.host)}`, err);
      }
      file.end();
      await once(file, 'close');
      bar.progress?.finish(true);
      if (!process.stderr.isTTY) process.stderr.write(`saved ${total} bytes to ${output}\n`);
    } else {
      try {
        await writeAll(process.stdout, res);
      } catch (err) {
        throw runtimeError(`reading the body of ${target} failed: ${describeError(err, url.host)}`, err);
      }
    }
    if (res.status >= 400) {
      process.stderr.write(`asyncnet-demo: error: ${target} answered ${res.status} ${res.statusText}\n`);
      return 1;
    }
    return 0;
  } finally {
    agent.destroy();
  }
}
