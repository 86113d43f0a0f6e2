import type { AddressInfo } from 'node:net';
import type { Server } from '@asyncnet/streams';
import { type StreamTransport, startTransportServer } from '@asyncnet/streams/adapter';
import { type BusNode, type BusStats, type ChatBus, emptyBusStats, memoryBus } from './bus.js';
import { ChatError } from './errors.js';
import { createAccountStore } from './internal/accounts.js';
import { busEventProblem } from './internal/bus-validate.js';
import { releaseIp } from './internal/client-conn.js';
import type { ChatTransport, Ctx, Resolved } from './internal/context.js';
import { Hub } from './internal/hub.js';
import { accountsAvailability } from './internal/irc/caps.js';
import { IrcConn } from './internal/irc-conn.js';
import { PlainConn } from './internal/plain-conn.js';
import { TlsCertificate } from './internal/tls-context.js';
import { startWebListener, type WebListener } from './internal/web/web-listener.js';
import {
  type ChatServerOptions,
  type CloseOptions,
  type ListenOptions,
  positive,
  resolveOptions,
} from './options.js';
import { type ResolvedWeb, resolveWebOptions } from './web-options.js';

/** Counters from {@link ChatServer.stats}. */
export interface ChatStats {
  /** Open connections (plain and IRC, registered or not). */
  connections: number;
  /** Registered local clients. */
  clients: number;
  /** Rooms with at least one member on any node. */
  rooms: number;
  /** Chat messages received from local clients. */
  messagesIn: number;
  /** Deliveries queued to local clients (one message to N members counts N). */
  messagesOut: number;
  /** Room messages dropped from slow clients' queues. */
  drops: number;
  /** Disconnects by reason (`client quit`, `sendq stuck`, `registration timeout`, ...). */
  disconnects: Record<string, number>;
  /** Bytes queued for the most backed-up client right now. */
  largestQueue: number;
  /** Most bytes ever queued in one client's send queue. */
  peakQueue: number;
  /** Bus counters, including what was lost while Redis was away. */
  bus: BusStats;
}

/**
 * A chat server: plain line protocol and IRC on one hub, optionally sharing rooms and nicks with
 * other nodes over a bus. Create it with {@link createChatServer}.
 *
 * @example
 * ```ts
 * await using server = createChatServer({ floodControl: { burst: 20, rate: 5 } });
 * await server.listen({ port: 6000, ircPort: 6667 });
 * setInterval(() => console.log(server.stats().disconnects), 60_000).unref();
 * ```
 */
export class ChatServer {
  readonly #opts: Resolved;
  readonly #bus: ChatBus;
  readonly #ctx: Ctx;
  readonly #hub: Hub;
  readonly #highWaterMark: number;
  readonly #nodeTimeout: number;
  #node: BusNode | null = null;
  /** Bus events dropped by validation. */
  #malformed = 0;
  #plain: Server | null = null;
  #irc: Server | null = null;
  #ircTls: Server | null = null;
  #cert: TlsCertificate | null = null;
  readonly #webOptions: ResolvedWeb | null;
  #web: WebListener | null = null;
  #sweep: ReturnType<typeof setInterval> | null = null;
  #state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  readonly #unwatchAccounts: (() => void) | null;
  /** Whether listen() called the account store's open() (close() then calls its close()). */
  #accountsOpen = false;

  /** @param options - see {@link ChatServerOptions} */
  constructor(options: ChatServerOptions = {}) {
    this.#opts = resolveOptions(options);
    this.#bus = options.bus ?? memoryBus();
    this.#highWaterMark = positive('highWaterMark', options.highWaterMark ?? 65_536);
    this.#nodeTimeout = positive('nodeTimeout', options.nodeTimeout ?? 20_000);
    this.#webOptions = options.web === undefined ? null : resolveWebOptions(options.web);
    const log = options.log ?? ((line: string) => process.stderr.write(`[asyncnet/chat] ${line}\n`));
    this.#hub = new Hub(positive('history', options.history ?? 20, true), log);
    this.#hub.maxListEntries = this.#opts.maxBans;
    this.#ctx = {
      opts: this.#opts,
      hub: this.#hub,
      accounts: createAccountStore(options.accounts, options.bus),
      disconnects: {},
      conns: new Set(),
      perIp: new Map(),
      log,
      createdAt: new Date(),
      tlsPort: null,
      drops: 0,
      peakQueue: 0,
      closing: false,
    };
    // A shared account store that goes away withdraws SASL from IRC clients until it is back.
    this.#unwatchAccounts =
      this.#ctx.accounts?.onAvailability?.((up) => accountsAvailability(this.#ctx, up)) ?? null;
  }

  /**
   * Attaches to the bus and starts listening.
   * @param options - host, plain port, optional IRC port
   * @returns once both listeners are bound
   * @throws ChatError `ERR_SERVER_LISTENING` when called twice, `ERR_SERVER_CLOSED` after close
   *   (also when {@link close} is called before this resolves);
   *   socket errors (EADDRINUSE) as they come; the Redis client's error when Redis is unreachable
   */
  async listen(options: ListenOptions = {}): Promise<void> {
    if (this.#state === 'listening')
      throw new ChatError('ERR_SERVER_LISTENING', 'server is already listening');
    if (this.#state !== 'new')
      throw new ChatError('ERR_SERVER_CLOSED', `server is ${this.#state}, create a new one`);
    this.#state = 'listening';
    const host = options.host ?? '127.0.0.1';
    const hub = this.#hub;
    const ctx = this.#ctx;
    try {
      this.#node = await this.#bus.attach({
        event: (ev) => {
          // Every event from the bus is held to the rules client input is held to.
          const problem = busEventProblem(ev, this.#opts);
          if (problem === null) return hub.remote(ev);
          this.#malformed++;
          if (this.#malformed === 1 || this.#malformed % 100 === 0)
            ctx.log(
              `dropped a malformed ${String(ev.t).slice(0, 20)} event from the bus: ${problem} (${this.#malformed} so far)`,
            );
          return false;
        },
        nickLost: (folded, owner) => hub.nickLost(folded, owner),
        reconnected: () => this.#reannounce(),
        log: ctx.log,
      });
    } catch (err) {
      this.#state = 'closed';
      throw err;
    }
    if (this.#state !== 'listening') {
      // close() ran while the bus was attaching: leave it and do not start listening.
      await this.#node.close();
      this.#node = null;
      throw new ChatError('ERR_SERVER_CLOSED', 'server was closed while listen() was in progress');
    }
    hub.bus = this.#node;
    const serverOptions = {
      highWaterMark: this.#highWaterMark,
      lowWaterMark: Math.floor(this.#highWaterMark / 4),
      onError: (err: unknown) => ctx.log(`connection error: ${(err as Error).message}`),
    };
    try {
      // The account store connects (Redis) before the listeners open, so SASL is offered at once.
      this.#accountsOpen = true;
      await ctx.accounts?.open?.();
      this.#plain = await startTransportServer(
        (t) => this.#accept(t, 0),
        host,
        options.port ?? 0,
        serverOptions,
      );
      if (options.ircPort !== undefined) {
        this.#irc = await startTransportServer(
          (t) => this.#accept(t, 1),
          host,
          options.ircPort,
          serverOptions,
        );
      }
      if (options.tlsPort !== undefined) {
        const tls = this.#opts.tls;
        if (tls === null)
          throw new ChatError(
            'ERR_INVALID_ARGUMENT',
            'listen option tlsPort needs the tls option (certFile, keyFile)',
          );
        this.#cert = new TlsCertificate(tls.certFile, tls.keyFile);
        await this.#cert.load();
        this.#ircTls = await startTransportServer(
          (t) => this.#accept(t, 2),
          host,
          options.tlsPort,
          serverOptions,
        );
        ctx.tlsPort = (this.#ircTls.address() as AddressInfo).port;
      }
      if (this.#webOptions !== null) {
        // Imports `ws` on demand: a server without a web front end never loads it.
        this.#web = await startWebListener(ctx, this.#webOptions, host, this.#highWaterMark);
      }
    } catch (err) {
      this.#plain?.close();
      this.#irc?.close();
      this.#ircTls?.close();
      await this.#closeAccounts();
      await this.#node.close();
      this.#state = 'closed';
      throw err;
    }
    if (this.#state !== 'listening') {
      // close() ran while the listeners were starting: it could not see them, so stop them here.
      for (const srv of [this.#plain, this.#irc, this.#ircTls]) srv?.close();
      await this.#web?.close(0);
      await this.#closeAccounts();
      this.#node.publish({ t: 'bye' });
      await this.#node.close();
      throw new ChatError('ERR_SERVER_CLOSED', 'server was closed while listen() was in progress');
    }
    const o = this.#opts;
    const every = Math.max(
      25,
      Math.min(
        o.registrationTimeout,
        o.pingInterval || Number.POSITIVE_INFINITY,
        o.pingTimeout,
        o.idleTimeout || Number.POSITIVE_INFINITY,
        this.#nodeTimeout / 4,
        5_000,
      ) / 4,
    );
    let lastBeat = Date.now();
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const c of ctx.conns) c.sweep(now);
      // Heartbeat so other nodes can tell a crashed node from a quiet one.
      if (now - lastBeat >= this.#nodeTimeout / 4) {
        lastBeat = now;
        this.#node?.publish({ t: 'beat', digest: hub.digest() });
        // While our own bus is away the silence is ours, not theirs: expire nobody.
        if (this.#node?.stats().connected !== false) hub.expireNodes(now, this.#nodeTimeout);
      }
    }, every);
    this.#sweep.unref();
    this.#node.publish({ t: 'hello' });
  }

  /** `kind`: 0 plain, 1 IRC, 2 IRC over TLS (handshake first). */
  #accept(t: StreamTransport, kind: 0 | 1 | 2): void {
    const ctx = this.#ctx;
    if (ctx.closing) {
      t.abort();
      return;
    }
    const peer = t.getExtraInfo('peername') as AddressInfo | undefined;
    const ip = peer?.address ?? 'unknown';
    const n = (ctx.perIp.get(ip) ?? 0) + 1;
    if (this.#opts.maxConnectionsPerIp > 0 && n > this.#opts.maxConnectionsPerIp) {
      ctx.disconnects['too many connections'] = (ctx.disconnects['too many connections'] ?? 0) + 1;
      // Before the handshake nothing can be said in the clear to a TLS client.
      if (kind === 2) {
        t.abort();
        return;
      }
      t.write(
        kind === 0
          ? `* error: too many connections from ${ip}\r\n`
          : `ERROR :Closing Link: ${ip} (too many connections from your address)\r\n`,
      );
      t.close();
      setTimeout(() => t.abort(), 1_000).unref();
      return;
    }
    ctx.perIp.set(ip, n);
    if (kind === 2) {
      void this.#secure(t, ip);
      return;
    }
    const transport = guard(t);
    if (kind === 0) new PlainConn(ctx, transport, ip);
    else new IrcConn(ctx, transport, ip);
  }

  /** TLS handshake with the current certificate (bounded by the registration timeout), then IRC. */
  async #secure(t: StreamTransport, ip: string): Promise<void> {
    const ctx = this.#ctx;
    const ok = await this.#cert!.upgrade(t, this.#opts.registrationTimeout);
    if (!ok || ctx.closing) {
      if (!ok) ctx.disconnects['tls handshake failed'] = (ctx.disconnects['tls handshake failed'] ?? 0) + 1;
      t.abort();
      releaseIp(ctx, ip);
      return;
    }
    new IrcConn(ctx, guard(t), ip, true);
  }

  #reannounce(): void {
    if (this.#node === null) return;
    this.#ctx.log('bus reconnected: re-announcing presence');
    this.#node.publish({ t: 'hello' });
    this.#node.publish(this.#hub.presence());
  }

  /**
   * The plain-protocol listener's address.
   * @returns node's AddressInfo, or null before {@link listen}
   */
  address(): AddressInfo | null {
    return (this.#plain?.address() as AddressInfo | null) ?? null;
  }

  /**
   * The IRC listener's address.
   * @returns node's AddressInfo, or null when IRC is not listening
   */
  ircAddress(): AddressInfo | null {
    return (this.#irc?.address() as AddressInfo | null) ?? null;
  }

  /**
   * The IRC-over-TLS listener's address.
   * @returns node's AddressInfo, or null when there is no `tlsPort` listener
   */
  tlsAddress(): AddressInfo | null {
    return (this.#ircTls?.address() as AddressInfo | null) ?? null;
  }

  /**
   * Re-reads the `tls` certificate and key files (after a renewal; the CLI calls it on SIGHUP).
   * New handshakes use them; open connections keep theirs. If the files cannot be read or do not
   * form a valid pair, the certificate in use stays and this rejects.
   * @returns once the new certificate is in use
   * @throws ChatError `ERR_TLS_CERT` naming the file and the problem; `ERR_INVALID_ARGUMENT` when
   *   there is no TLS listener
   * @example
   * ```ts
   * process.on('SIGHUP', () => server.reloadTls().catch((err) => console.error(err.message)));
   * ```
   */
  async reloadTls(): Promise<void> {
    if (this.#cert === null && this.#web?.secure !== true)
      throw new ChatError(
        'ERR_INVALID_ARGUMENT',
        'reloadTls() needs a TLS listener (tls option and tlsPort)',
      );
    await this.#cert?.load();
    // The web front end's HTTPS certificate (web.tls) is reloaded with it.
    await this.#web?.reloadTls();
    this.#ctx.log('tls certificate reloaded');
  }

  /**
   * The web front end's address (HTTP(S) and WebSocket on one port).
   * @returns node's AddressInfo, or null when the web front end is not listening
   */
  webAddress(): AddressInfo | null {
    return this.#web?.address() ?? null;
  }

  /**
   * The URL of the web client, e.g. `http://127.0.0.1:8080/` (an unspecified bind address shows
   * as localhost).
   * @returns the URL, or null when the web front end is not listening
   */
  webUrl(): string | null {
    const a = this.webAddress();
    if (a === null || this.#web === null) return null;
    const h = a.address === '0.0.0.0' || a.address === '::' ? 'localhost' : a.address;
    return `${this.#web.secure ? 'https' : 'http'}://${h.includes(':') ? `[${h}]` : h}:${a.port}/`;
  }

  /** This node's id on the bus (stamped on every event it publishes), or null before listen. */
  get nodeId(): string | null {
    return this.#node?.nodeId ?? null;
  }

  /**
   * Current counters.
   * @returns a fresh {@link ChatStats} object
   */
  stats(): ChatStats {
    const ctx = this.#ctx;
    let largest = 0;
    let peak = ctx.peakQueue;
    for (const c of ctx.conns) {
      const q = c.queueBytes();
      if (q > largest) largest = q;
      if (c.queuePeak() > peak) peak = c.queuePeak();
    }
    let rooms = 0;
    for (const r of this.#hub.rooms.values()) if (r.size > 0) rooms++;
    const bus = this.#node?.stats() ?? emptyBusStats('memory', false);
    return {
      connections: ctx.conns.size,
      clients: this.#hub.members.size,
      rooms,
      messagesIn: this.#hub.counters.messagesIn,
      messagesOut: this.#hub.counters.messagesOut,
      drops: ctx.drops,
      disconnects: { ...ctx.disconnects },
      largestQueue: largest,
      peakQueue: peak,
      bus: {
        ...bus,
        missedRemote: bus.missedRemote + this.#hub.missedRemote,
        malformed: bus.malformed + this.#malformed,
        resyncs: bus.resyncs + this.#hub.resyncs,
      },
    };
  }

  /**
   * Stops listening, tells every client, flushes their queues for up to `timeout` ms, then
   * aborts what is left and leaves the bus. Never hangs.
   * @param options - `timeout` in ms
   * @returns once every connection is closed
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    const wasListening = this.#state === 'listening';
    this.#state = 'closing';
    const ctx = this.#ctx;
    ctx.closing = true;
    const timeout = options.timeout ?? 5_000;
    this.#opts.closeGrace = timeout;
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#unwatchAccounts?.();
    for (const s of [this.#plain, this.#irc, this.#ircTls]) s?.close();
    for (const c of [...ctx.conns]) c.shutdown('server shutting down');
    if (wasListening) {
      const servers = [this.#plain, this.#irc, this.#ircTls].filter((s): s is Server => s !== null);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all([...servers.map((s) => s.waitClosed()), this.#web?.close(timeout)]),
        new Promise<void>((r) => {
          timer = setTimeout(r, timeout + 1_000);
        }),
      ]);
      clearTimeout(timer);
      for (const s of servers) s.abortClients();
    }
    await this.#closeAccounts();
    if (this.#node !== null) {
      this.#node.publish({ t: 'bye' });
      await this.#node.close();
    }
    this.#state = 'closed';
  }

  /** Closes the account store once if listen() opened it (a store may be shared by servers). */
  async #closeAccounts(): Promise<void> {
    if (!this.#accountsOpen) return;
    this.#accountsOpen = false;
    await this.#ctx.accounts?.close?.();
  }

  /** `await using server = createChatServer()` closes it at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Creates a chat server; call {@link ChatServer.listen} to start it.
 *
 * @param options - limits, policies and the bus; every field has a default
 * @returns the server, not yet listening
 * @throws ChatError `ERR_INVALID_ARGUMENT` for a negative or non-numeric limit
 * @example
 * ```ts
 * const server = createChatServer({ history: 50 });
 * await server.listen({ host: '127.0.0.1', port: 6000, ircPort: 6667 });
 * console.log(server.stats());
 * ```
 */
export function createChatServer(options: ChatServerOptions = {}): ChatServer {
  return new ChatServer(options);
}

/** Writes to a transport that is already closing are dropped instead of throwing mid-fan-out. */
function guard(t: StreamTransport): ChatTransport {
  return {
    write(data) {
      if (!t.isClosing()) t.write(data);
    },
    close: () => t.close(),
    abort: (err) => t.abort(err),
    isClosing: () => t.isClosing(),
    pauseReading: () => {
      if (!t.isClosing()) t.pauseReading();
    },
    resumeReading: () => {
      if (!t.isClosing()) t.resumeReading();
    },
    getWriteBufferSize: () => t.getWriteBufferSize(),
    getExtraInfo: (name, dflt) => t.getExtraInfo(name, dflt),
    setListener: (l) => t.setListener(l),
  };
}
