import { readFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ChatError } from '../../errors.js';
import type { ResolvedWeb } from '../../web-options.js';
import type { Ctx } from '../context.js';
import { IRC_MAX_LINE, IrcConn } from '../irc-conn.js';
import { type Asset, loadAssets, SECURITY_HEADERS } from './assets.js';
import { originAllowed } from './origin.js';
import { WsTransport } from './ws-transport.js';

/** IRCv3 WebSocket subprotocols, both supported (the spec requires binary, recommends text). */
const SUBPROTOCOLS = new Set(['binary.ircv3.net', 'text.ircv3.net']);

/** The running web listener, owned by {@link ChatServer}. */
export interface WebListener {
  /** Whether it serves HTTPS/WSS. */
  readonly secure: boolean;
  address(): AddressInfo | null;
  /**
   * Stops accepting. WebSocket clients are shut down by the server like every other connection;
   * this waits up to `timeout` ms for their sockets to go, then terminates what is left.
   */
  close(timeout: number): Promise<void>;
  /**
   * Reads the certificate files again; new handshakes use them, open connections are untouched.
   * @throws ChatError `ERR_TLS_CERT` when a file cannot be read or parsed (the old one stays)
   */
  reloadTls(): Promise<void>;
}

async function readPem(tls: NonNullable<ResolvedWeb['tls']>): Promise<{ cert: Buffer; key: Buffer }> {
  try {
    const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
    return { cert, key };
  } catch (err) {
    throw new ChatError('ERR_TLS_CERT', `cannot read web tls certificate or key: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Starts the HTTP(S) listener: the web client at `/`, `/healthz`, and IRC over WebSocket on any
 * path. `ws` is imported here, so servers without a web front end never load it.
 * @throws ChatError `ERR_INVALID_ARGUMENT` when the bundled client is missing; socket errors as they come
 */
export async function startWebListener(
  ctx: Ctx,
  web: ResolvedWeb,
  host: string,
  highWaterMark: number,
): Promise<WebListener> {
  const { WebSocketServer } = await import('ws');
  let assets = new Map<string, Asset>();
  if (web.client) {
    const loaded = loadAssets();
    if (!(loaded instanceof Map))
      throw new ChatError(
        'ERR_INVALID_ARGUMENT',
        `option web.client: the bundled web client is missing (${loaded.missing}); build the package or set web.client: false`,
      );
    assets = loaded;
  }
  const secure = web.tls !== null;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    // One IRC line with tags and a tolerated CRLF; a longer message closes with 1009.
    maxPayload: IRC_MAX_LINE + 2,
    handleProtocols: (offered) => {
      // The client's order of preference wins (IRCv3 WebSocket); none agreed means text.
      for (const p of offered) if (SUBPROTOCOLS.has(p)) return p;
      return false;
    },
  });
  let server: Server;
  if (web.tls === null) server = createHttpServer();
  else {
    try {
      server = createHttpsServer(await readPem(web.tls));
    } catch (err) {
      if (err instanceof ChatError) throw err;
      throw new ChatError('ERR_TLS_CERT', `bad web tls certificate or key: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const transports = new Set<WsTransport>();
  let closing = false;
  let emptied: (() => void) | null = null;

  const clientIp = (req: IncomingMessage): string => {
    let ip = req.socket.remoteAddress ?? 'unknown';
    if (web.trustProxy) {
      const xff = req.headers['x-forwarded-for'];
      const last = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').pop()?.trim();
      if (last) ip = last;
    }
    return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      respond(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz') {
      const ok = !closing && !ctx.closing;
      respond(
        res,
        ok ? 200 : 503,
        'application/json',
        `${JSON.stringify({ status: ok ? 'ok' : 'closing' })}\n`,
        {
          'cache-control': 'no-store',
        },
      );
      return;
    }
    const asset = assets.get(path);
    if (asset === undefined) {
      respond(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, { ...SECURITY_HEADERS, etag: asset.etag, 'cache-control': 'no-cache' });
      res.end();
      return;
    }
    respond(res, 200, asset.type, asset.body, { etag: asset.etag, 'cache-control': 'no-cache' });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    if (closing || ctx.closing) return refuse(socket, 503, 'server shutting down');
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
      return refuse(socket, 400, 'not a websocket upgrade');
    if (!originAllowed(web.origins, req.headers.origin, req.headers.host, secure)) {
      ctx.disconnects['origin refused'] = (ctx.disconnects['origin refused'] ?? 0) + 1;
      return refuse(socket, 403, `origin ${String(req.headers.origin)} is not allowed`);
    }
    const ip = clientIp(req);
    const max = ctx.opts.maxConnectionsPerIp;
    if (max > 0 && (ctx.perIp.get(ip) ?? 0) >= max) {
      ctx.disconnects['too many connections'] = (ctx.disconnects['too many connections'] ?? 0) + 1;
      return refuse(socket, 429, `too many connections from ${ip}`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (closing || ctx.closing) {
        ws.terminate();
        return;
      }
      // Counted here, released by the conn when it goes (as for TCP connections).
      ctx.perIp.set(ip, (ctx.perIp.get(ip) ?? 0) + 1);
      const t = new WsTransport(ws, socket as Socket, {
        binary: ws.protocol === 'binary.ircv3.net',
        highWaterMark,
        serverName: ctx.opts.serverName,
      });
      transports.add(t);
      ws.once('close', () => {
        transports.delete(t);
        if (transports.size === 0) emptied?.();
      });
      const conn = new IrcConn(ctx, t, ip);
      t.onUnresponsive = () => conn.disconnect('ping timeout', null, true, 'ping timeout (websocket)');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(web.port, web.host ?? host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => ctx.log(`web listener error: ${err.message}`));
  server.on('clientError', (_err, socket) => socket.destroy());

  const ping =
    web.keepAlive > 0
      ? setInterval(() => {
          for (const t of transports) t.keepAlive();
        }, web.keepAlive)
      : null;
  ping?.unref();

  return {
    secure,
    address: () => (server.address() as AddressInfo | null) ?? null,
    async reloadTls(): Promise<void> {
      if (web.tls === null) return;
      const pem = await readPem(web.tls);
      try {
        (server as unknown as HttpsServer).setSecureContext(pem);
      } catch (err) {
        throw new ChatError('ERR_TLS_CERT', `bad web tls certificate or key: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
    async close(timeout: number): Promise<void> {
      if (closing) return;
      closing = true;
      if (ping !== null) clearInterval(ping);
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (transports.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((r) => {
          emptied = r;
          timer = setTimeout(r, timeout);
        });
        clearTimeout(timer);
      }
      for (const t of [...transports]) t.abort();
      server.closeAllConnections();
      await stopped;
    },
  };
}

function respond(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': String(bytes.length),
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/** Answers an upgrade request with a plain HTTP error and closes (before any WebSocket exists). */
function refuse(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1_000).unref();
}
