import { type ChatServerOptions, createChatServer, redisBus } from '@asyncnet/chat';
import { flag, int, list, type ParsedArgs, port, str } from '../args.js';
import { describeError, runtimeError, usageError } from '../errors.js';
import { onShutdown } from './shutdown.js';

/** `asyncnet-demo chat-server`: plain + IRC (+ web) chat on one hub, optionally over Redis. */
export async function chatServerCommand(args: ParsedArgs): Promise<number> {
  const host = str(args, 'host', '127.0.0.1');
  const plainPort = port(args, 'port', 7000);
  const ircText = str(args, 'irc-port', '6667');
  const ircPort = ircText === 'off' ? undefined : port(args, 'irc-port', 6667);
  if (ircPort !== undefined && ircPort !== 0 && ircPort === plainPort) {
    throw usageError(
      `--port and --irc-port are both ${plainPort}: give them different ports (or --irc-port off)`,
    );
  }
  const history = int(args, 'history', 20, 0, 10_000);
  const tlsCert = str(args, 'tls-cert');
  const tlsKey = str(args, 'tls-key');
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw usageError('--tls-cert and --tls-key go together: give both PEM files');
  const tlsPort = tlsCert === undefined ? undefined : port(args, 'tls-port', 6697);
  const redis = str(args, 'redis');
  // The web front end (browser page + IRC over WebSocket) only with --web-port.
  const webPort = str(args, 'web-port') === undefined ? undefined : port(args, 'web-port', 8080);
  for (const [name, p] of [
    ['--port', plainPort],
    ['--irc-port', ircPort],
    ['--tls-port', tlsPort],
  ] as const) {
    if (webPort !== undefined && webPort !== 0 && p === webPort)
      throw usageError(`${name} and --web-port are both ${webPort}: give them different ports`);
  }
  let early: string[] | null = [];
  const options: ChatServerOptions = {
    history,
    floodControl: !flag(args, 'no-flood-control'),
    log: (line) => {
      // Until the server is up, hold log lines: a failed start is reported as one line.
      if (early !== null) early.push(line);
      else process.stderr.write(`chat-server: ${line}\n`);
    },
  };
  if (tlsCert !== undefined && tlsKey !== undefined) options.tls = { certFile: tlsCert, keyFile: tlsKey };
  if (webPort !== undefined) {
    options.web = {
      port: webPort,
      origins: list(args, 'web-origin'),
      // With a certificate the page is served over HTTPS/WSS too (same files, same SIGHUP reload).
      ...(tlsCert !== undefined && tlsKey !== undefined
        ? { tls: { certFile: tlsCert, keyFile: tlsKey } }
        : {}),
    };
  }
  if (redis !== undefined) {
    let u: URL;
    try {
      u = new URL(redis);
    } catch {
      throw usageError(`bad --redis url ${JSON.stringify(redis)}: use redis://host:port`);
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
      throw usageError(`bad --redis url ${JSON.stringify(redis)}: use redis://host:port`);
    }
    options.bus = redisBus({ url: redis });
  }
  let server: ReturnType<typeof createChatServer>;
  try {
    server = createChatServer(options);
  } catch (err) {
    // An option from the command line that the server refuses (a bad --web-origin).
    throw usageError((err as Error).message);
  }
  try {
    await server.listen({
      host,
      port: plainPort,
      ...(ircPort === undefined ? {} : { ircPort }),
      ...(tlsPort === undefined ? {} : { tlsPort }),
    });
  } catch (err) {
    await server.close({ timeout: 100 }).catch(() => {});
    if (flag(args, 'debug')) for (const line of early ?? []) process.stderr.write(`chat-server: ${line}\n`);
    const e = err as { code?: unknown; port?: unknown };
    // Name the port that failed: there are two listeners.
    const where =
      redis !== undefined && !/EADDR|EACCES/.test(String(e.code))
        ? redis
        : typeof e.port === 'number'
          ? `${host}:${e.port}`
          : host;
    throw runtimeError(`cannot start chat server: ${describeError(err, where)}`, err);
  }
  for (const line of early ?? []) process.stderr.write(`chat-server: ${line}\n`);
  early = null;
  const plain = server.address();
  const irc = server.ircAddress();
  const tls = server.tlsAddress();
  // A renewed certificate is picked up without a restart; a bad one keeps the old in use.
  if (tls !== null)
    process.on('SIGHUP', () => {
      server.reloadTls().then(
        () => process.stderr.write('chat-server: SIGHUP: tls certificate reloaded\n'),
        (err: unknown) =>
          process.stderr.write(
            `chat-server: SIGHUP: ${(err as Error).message}; keeping the old certificate\n`,
          ),
      );
    });
  await new Promise<void>((resolve) => {
    // Handlers before the "listening" line: whoever reads it may signal at once.
    onShutdown(async (signal) => {
      const s = server.stats();
      process.stdout.write(`chat-server: ${signal}, closing ${s.connections} connections\n`);
      await server.close({ timeout: 2000 });
      resolve();
    });
    process.stdout.write(
      `chat-server listening: plain ${plain?.address}:${plain?.port}` +
        (irc ? `, irc ${irc.address}:${irc.port}` : '') +
        (tls ? `, irc+tls ${tls.address}:${tls.port}` : '') +
        (server.webUrl() !== null ? `, web ${server.webUrl()}` : '') +
        (redis !== undefined ? `, bus ${redis}` : ', in-memory bus') +
        '\n',
    );
  });
  return 0;
}
