import {
  type ChatServerOptions,
  type ChatTlsOptions,
  createChatServer,
  type RedisBusOptions,
  redisBus,
  type WebOptions,
} from '@asyncnet/chat';
import { flag, int, list, type ParsedArgs, port, str } from '../args.js';
import { loadChatConfig } from '../chat-config.js';
import { describeError, runtimeError, usageError } from '../errors.js';
import { onShutdown } from './shutdown.js';

/**
 * One line of server stats: connections, the bus's counters (buffered outgoing events, re-syncs,
 * nick conflicts resolved, lag) and, per other node, its stream ID lag and ms since its last event.
 */
export function formatStats(s: ReturnType<ReturnType<typeof createChatServer>['stats']>): string {
  const b = s.bus;
  const nodes = (b.remotes ?? []).map(
    (r) => `${r.node} lag ${r.lagMs} ms idle ${r.idleMs} ms events ${r.received}`,
  );
  return (
    `connections ${s.connections}, bus ${b.kind} ${b.connected ? 'connected' : 'DISCONNECTED'}, ` +
    `published ${b.published}, received ${b.received}, buffered ${b.buffered}, overflowed ${b.overflowed}, ` +
    `resyncs ${b.resyncs}, nick conflicts ${b.nickConflicts} (${b.nickConflictsResolved} resolved), ` +
    `lag ${b.lagMs} ms; nodes: ${nodes.length === 0 ? 'none' : nodes.join(', ')}`
  );
}

/**
 * `asyncnet-demo chat-server`: plain + IRC (+ web) chat on one hub, optionally over Redis, from
 * flags and/or a `--config` JSON file (flags win).
 */
export async function chatServerCommand(args: ParsedArgs): Promise<number> {
  const configFile = str(args, 'config');
  const config = configFile === undefined ? undefined : loadChatConfig(configFile);
  // A flag given on the command line wins over the file; the file wins over the flag's default.
  const given = (name: string) => args.options.has(name);
  // Names a conflicting value by where it came from.
  const from = (flagName: string, key: string) =>
    given(flagName) || config === undefined ? `--${flagName}` : `${key} in ${config.file}`;
  const host = str(args, 'host') ?? config?.listen.host ?? '127.0.0.1';
  const plainPort = given('port') ? port(args, 'port', 7000) : (config?.listen.port ?? 7000);
  let ircPort: number | undefined;
  if (given('irc-port')) {
    ircPort = str(args, 'irc-port') === 'off' ? undefined : port(args, 'irc-port', 6667);
  } else {
    const p = config?.listen.ircPort ?? 6667;
    ircPort = p === 'off' ? undefined : p;
  }
  if (ircPort !== undefined && ircPort !== 0 && ircPort === plainPort) {
    throw usageError(
      `${from('port', 'listen.port')} and ${from('irc-port', 'listen.ircPort')} are both ${plainPort}: give them different ports (or --irc-port off)`,
    );
  }
  const history = given('history') ? int(args, 'history', 20, 0, 10_000) : (config?.options.history ?? 20);
  const tlsCert = str(args, 'tls-cert');
  const tlsKey = str(args, 'tls-key');
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw usageError('--tls-cert and --tls-key go together: give both PEM files');
  // The flags replace the file's certificate paths and keep the rest of its `tls` (sts).
  const tls: ChatTlsOptions | undefined =
    tlsCert !== undefined && tlsKey !== undefined
      ? { ...config?.options.tls, certFile: tlsCert, keyFile: tlsKey }
      : config?.options.tls;
  if (tls === undefined && config?.listen.tlsPort !== undefined)
    throw usageError(
      `chat-server: config ${config.file}: "listen.tlsPort" needs "tls" (certFile and keyFile)`,
    );
  const tlsPort =
    tls === undefined
      ? undefined
      : given('tls-port')
        ? port(args, 'tls-port', 6697)
        : (config?.listen.tlsPort ?? 6697);
  const redis: RedisBusOptions | undefined = given('redis')
    ? { ...config?.redis, url: str(args, 'redis', '') }
    : config?.redis;
  // The web front end (browser page + IRC over WebSocket) only with --web-port or `web`.
  let web: WebOptions | undefined = config?.options.web;
  if (given('web-port')) web = { ...web, port: port(args, 'web-port', 8080) };
  if (web !== undefined && given('web-origin')) web = { ...web, origins: list(args, 'web-origin') };
  // With a certificate the page is served over HTTPS/WSS too (same files, same SIGHUP reload).
  if (web !== undefined && web.tls === undefined && tls !== undefined)
    web = { ...web, tls: { certFile: tls.certFile, keyFile: tls.keyFile } };
  const webPort = web === undefined ? undefined : (web.port ?? 0);
  for (const [name, p] of [
    [from('port', 'listen.port'), plainPort],
    [from('irc-port', 'listen.ircPort'), ircPort],
    [from('tls-port', 'listen.tlsPort'), tlsPort],
  ] as const) {
    if (webPort !== undefined && webPort !== 0 && p === webPort)
      throw usageError(
        `${name} and ${from('web-port', 'web.port')} are both ${webPort}: give them different ports`,
      );
  }
  let early: string[] | null = [];
  const options: ChatServerOptions = {
    ...config?.options,
    history,
    floodControl: flag(args, 'no-flood-control') ? false : (config?.options.floodControl ?? true),
    log: (line) => {
      // Until the server is up, hold log lines: a failed start is reported as one line.
      if (early !== null) early.push(line);
      else process.stderr.write(`chat-server: ${line}\n`);
    },
  };
  if (tls !== undefined) options.tls = tls;
  if (web !== undefined) options.web = web;
  if (redis !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(redis.url);
    } catch {}
    if (u?.protocol !== 'redis:' && u?.protocol !== 'rediss:') {
      throw usageError(`bad --redis url ${JSON.stringify(redis.url)}: use redis://host:port`);
    }
    options.bus = redisBus(redis);
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
        ? redis.url
        : typeof e.port === 'number'
          ? `${host}:${e.port}`
          : host;
    throw runtimeError(`cannot start chat server: ${describeError(err, where)}`, err);
  }
  for (const line of early ?? []) process.stderr.write(`chat-server: ${line}\n`);
  early = null;
  const plain = server.address();
  const irc = server.ircAddress();
  const tlsAddress = server.tlsAddress();
  // A renewed certificate is picked up without a restart; a bad one keeps the old in use.
  if (tlsAddress !== null)
    process.on('SIGHUP', () => {
      server.reloadTls().then(
        () => process.stderr.write('chat-server: SIGHUP: tls certificate reloaded\n'),
        (err: unknown) =>
          process.stderr.write(
            `chat-server: SIGHUP: ${(err as Error).message}; keeping the old certificate\n`,
          ),
      );
    });
  // One stats line on SIGUSR2, and every --stats seconds: bus health per other node.
  const statsLine = () => process.stdout.write(`chat-server: stats: ${formatStats(server.stats())}\n`);
  process.on('SIGUSR2', statsLine);
  const every = int(args, 'stats', 0, 0, 86_400);
  const statsTimer = every > 0 ? setInterval(statsLine, every * 1000) : null;
  statsTimer?.unref();
  await new Promise<void>((resolve) => {
    // Handlers before the "listening" line: whoever reads it may signal at once.
    onShutdown(async (signal) => {
      if (statsTimer !== null) clearInterval(statsTimer);
      process.off('SIGUSR2', statsLine);
      const s = server.stats();
      process.stdout.write(`chat-server: ${signal}, closing ${s.connections} connections\n`);
      await server.close({ timeout: 2000 });
      resolve();
    });
    process.stdout.write(
      `chat-server listening: plain ${plain?.address}:${plain?.port}` +
        (irc ? `, irc ${irc.address}:${irc.port}` : '') +
        (tlsAddress ? `, irc+tls ${tlsAddress.address}:${tlsAddress.port}` : '') +
        (server.webUrl() !== null ? `, web ${server.webUrl()}` : '') +
        (redis !== undefined ? `, bus ${redis.url}` : ', in-memory bus') +
        '\n',
    );
  });
  return 0;
}
