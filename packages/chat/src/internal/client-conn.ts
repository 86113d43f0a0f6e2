import type { BusEvent } from '../bus.js';
import type { ChatTransport, Ctx } from './context.js';
import { TokenBucket } from './flood.js';
import type { HubMember, Outgoing, Room } from './hub.js';
import { LineDecoder, type LineSink } from './line-decoder.js';
import { SendQueue } from './send-queue.js';

const encoder = new TextEncoder();
let nextId = 1;

/** Gives back one connection slot of `ip` (maxConnectionsPerIp). */
export function releaseIp(ctx: Ctx, ip: string): void {
  const n = (ctx.perIp.get(ip) ?? 1) - 1;
  if (n <= 0) ctx.perIp.delete(ip);
  else ctx.perIp.set(ip, n);
}

/**
 * What both front ends share: line decoding, flood control, the send queue, timeouts, and a
 * disconnect that happens once with one reason. Subclasses speak the protocol.
 */
export abstract class ClientConn implements HubMember, LineSink {
  readonly id = nextId++;
  abstract readonly kind: 0 | 1;
  nick = '';
  folded = '';
  user = '';
  readonly host: string;
  readonly rooms = new Set<Room>();
  registered = false;
  realname = '';
  away = '';
  readonly umodes = new Set<string>();
  account = '';
  /** Connected over TLS (WHOIS 671, STS). */
  readonly secure: boolean = false;
  signon = Date.now();
  lastActive = Date.now();
  readonly ctx: Ctx;
  protected readonly transport: ChatTransport;
  protected readonly queue: SendQueue;
  readonly #decoder: LineDecoder;
  readonly #bucket: TokenBucket | null;
  readonly #connectedAt = Date.now();
  #pending: string[] = [];
  #busy = false;
  /** Set while flood control holds lines back (reading is paused until they are due). */
  #throttle: ReturnType<typeof setTimeout> | null = null;
  #eof = false;
  #closing = false;
  #released = false;
  #lastRead = Date.now();
  #pingSent = 0;

  constructor(ctx: Ctx, transport: ChatTransport, ip: string, maxLineLength: number) {
    this.ctx = ctx;
    this.transport = transport;
    this.host = ip;
    const flood = ctx.opts.flood;
    this.#bucket = flood === null ? null : new TokenBucket(flood.burst, flood.rate, Date.now());
    this.#decoder = new LineDecoder(maxLineLength, this);
    this.queue = new SendQueue(
      transport,
      {
        missedNotice: (n) => encoder.encode(this.missedNotice(n)),
        overflow: (reason) => this.disconnect(reason, null, true),
        dropped: (n) => {
          ctx.drops += n;
        },
      },
      ctx.opts.sendQueue,
    );
    ctx.conns.add(this);
    transport.setListener({
      data: (chunk) => {
        this.#lastRead = Date.now();
        this.#pingSent = 0;
        this.#decoder.push(chunk);
      },
      eof: () => {
        // Lines received before the FIN still count (`printf 'nick\nhello\n' | nc`): when some
        // wait behind a pending command (a nick claim on a remote registry), quit after them.
        if (this.#busy) this.#eof = true;
        else this.disconnect('client quit', null, false, 'connection closed');
        return this.#eof;
      },
      writePaused: () => this.queue.pause(),
      writeResumed: () => {
        this.queue.resume();
        if (this.queue.peak > ctx.peakQueue) ctx.peakQueue = this.queue.peak;
      },
      closed: (err) => this.#release(err === null ? 'connection closed' : 'connection error'),
    });
  }

  /** Encodes a hub event for this protocol; an empty array means "nothing to send". */
  protected abstract encode(ev: BusEvent): Uint8Array;
  protected abstract missedNotice(count: number): string;
  /** Handles one decoded line; may return a promise, and later lines wait for it. */
  protected abstract handleLine(text: string): void | Promise<void>;
  protected abstract lineTooLong(): void;
  protected abstract badUtf8(): void;
  /** Called by the idle sweep when the client has been silent for `pingInterval`. */
  protected abstract ping(): void;
  /** The protocol's last words before a server-initiated close. */
  protected abstract farewell(reason: string): string | null;

  deliver(out: Outgoing, droppable: boolean): void {
    if (this.#closing) return;
    let bytes = out.enc[this.kind];
    if (bytes === undefined) {
      bytes = this.encode(out.ev);
      out.enc[this.kind] = bytes;
    }
    if (bytes.length > 0) this.queue.push(bytes, droppable);
  }

  /** Queues protocol text (replies, notices): never dropped. */
  send(text: string): void {
    if (!this.#closing) this.queue.push(encoder.encode(text), false);
  }

  get closing(): boolean {
    return this.#closing;
  }

  queuePeak(): number {
    return this.queue.peak;
  }

  queueBytes(): number {
    return this.queue.size + this.transport.getWriteBufferSize();
  }

  // LineSink
  line(text: string): void {
    if (this.#closing) return;
    if (this.#busy || this.#throttle !== null) {
      this.#pending.push(text);
      if (this.#pending.length === 8) this.transport.pauseReading();
      // Lines already in flight when reading paused are bounded by one read; more than this is a
      // client that keeps sending far beyond its rate: ngIRCd's "Excess Flood".
      const flood = this.ctx.opts.flood;
      if (flood !== null && this.#pending.length > flood.maxQueued) {
        this.disconnect('excess flood', 'Excess Flood', false, 'Excess Flood');
      }
      return;
    }
    this.#run(text);
  }

  /** Counts `n` extra lines against flood control (one PRIVMSG to many targets). */
  penalize(n: number): void {
    if (n > 0) this.#bucket?.charge(n, Date.now());
  }

  tooLong(): void {
    if (!this.#closing) this.lineTooLong();
  }

  invalidUtf8(): void {
    if (!this.#closing) this.badUtf8();
  }

  #run(text: string): void {
    if (this.#bucket !== null && !this.#bucket.take(Date.now())) {
      // Delay, never drop (ngIRCd's penalty model): stop reading until the line is due.
      this.#pending.unshift(text);
      this.transport.pauseReading();
      this.#throttle = setTimeout(() => {
        this.#throttle = null;
        this.#done();
      }, this.#bucket.waitMs(Date.now()));
      return;
    }
    let r: void | Promise<void>;
    try {
      r = this.handleLine(text);
    } catch (err) {
      this.ctx.log(`error handling a line from ${this.host}: ${(err as Error).message}`);
      return;
    }
    if (r !== undefined) {
      this.#busy = true;
      r.then(
        () => this.#done(),
        (err: Error) => {
          this.ctx.log(`error handling a line from ${this.host}: ${err.message}`);
          this.#done();
        },
      );
    }
  }

  #done(): void {
    this.#busy = false;
    while (!this.#busy && this.#throttle === null && !this.#closing && this.#pending.length > 0)
      this.#run(this.#pending.shift()!);
    if (this.#busy || this.#throttle !== null || this.#closing) return;
    if (this.#eof) this.disconnect('client quit', null, false, 'connection closed');
    else this.transport.resumeReading();
  }

  /** Periodic check for registration and idle timeouts. */
  sweep(now: number): void {
    if (this.#closing) return;
    const o = this.ctx.opts;
    if (!this.registered) {
      if (now - this.#connectedAt >= o.registrationTimeout) {
        this.disconnect('registration timeout', 'registration timed out', false);
      }
      return;
    }
    if (this.kind === 1 && o.pingInterval > 0) {
      if (this.#pingSent === 0 && now - this.#lastRead >= o.pingInterval) {
        this.#pingSent = now;
        this.ping();
      } else if (this.#pingSent !== 0 && now - this.#pingSent >= o.pingTimeout) {
        this.disconnect(
          'ping timeout',
          `ping timeout: ${Math.round((now - this.#lastRead) / 1000)} seconds`,
          false,
        );
      }
    } else if (this.kind === 0 && o.idleTimeout > 0 && now - this.#lastRead >= o.idleTimeout) {
      this.disconnect('idle timeout', 'idle timeout', false);
    }
  }

  kill(by: string, reason: string): void {
    const r = `Killed (${by} (${reason}))`;
    this.disconnect('killed', r, false, r);
  }

  /** `from` invited `target` to `room` (the target, or an op of the room, hears of it). */
  abstract invited(from: HubMember, room: Room, target: HubMember): void;

  /** Server shutdown: say so, then close (flushing what is queued). */
  shutdown(notice: string): void {
    this.disconnect('server shutdown', notice, false);
  }

  /**
   * Ends the connection once: `reason` is counted in stats, `farewellText` is sent to the client,
   * `quitReason` is what others see. `abort` skips flushing (for a client that does not read).
   */
  disconnect(reason: string, farewellText: string | null, abort: boolean, quitReason = reason): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#throttle !== null) clearTimeout(this.#throttle);
    this.#throttle = null;
    this.ctx.disconnects[reason] = (this.ctx.disconnects[reason] ?? 0) + 1;
    if (this.folded !== '') this.ctx.hub.quit(this, quitReason);
    if (this.queue.peak > this.ctx.peakQueue) this.ctx.peakQueue = this.queue.peak;
    if (abort) {
      this.queue.close();
      this.transport.abort();
      return;
    }
    // Flush what waits, then the farewell, then close; abort if the peer will not take it.
    this.queue.flushAll();
    this.queue.close();
    const bye = farewellText === null ? null : this.farewell(farewellText);
    if (bye !== null) this.transport.write(bye);
    this.transport.close();
    const t = setTimeout(() => this.transport.abort(), this.ctx.opts.closeGrace);
    t.unref?.();
  }

  #release(reason: string): void {
    if (!this.#closing) {
      this.#closing = true;
      this.ctx.disconnects[reason] = (this.ctx.disconnects[reason] ?? 0) + 1;
      if (this.folded !== '') this.ctx.hub.quit(this, reason);
      this.queue.close();
    }
    if (this.#released) return;
    this.#released = true;
    this.#pending = [];
    if (this.#throttle !== null) clearTimeout(this.#throttle);
    this.#throttle = null;
    this.ctx.conns.delete(this);
    releaseIp(this.ctx, this.host);
  }
}
