import { TimeoutError } from '@asyncnet/streams';
import { openTransport } from '@asyncnet/streams/adapter';
import type { Agent } from '../agent.js';
import { HttpError } from '../errors.js';
import { chBeforeConnect, chConnectError, chConnected, type TraceConnectParams } from '../tracing.js';
import { Connection, type ConnectionOwner } from './connection.js';
import type { PoolKey } from './dial.js';
import type { Exchange } from './exchange.js';
import { type Tickable, unwatch, watch } from './ticker.js';

/** One pool key's connections: idle ones (with deadlines), queued exchanges, connects in flight. */
export class Pool implements ConnectionOwner, Tickable {
  readonly agent: Agent;
  readonly target: PoolKey;
  idle: Connection[] = [];
  queue: Exchange[] = [];
  open = 0;
  readonly all = new Set<Connection>();
  /** Exchanges waiting for their own new connection. */
  readonly connecting = new Set<Exchange>();
  #watching = false;
  tickIndex = -1;

  constructor(agent: Agent, target: PoolKey) {
    this.agent = agent;
    this.target = target;
  }

  dispatch(ex: Exchange, fresh: boolean): void {
    if (!fresh) {
      const idle = this.idle;
      while (idle.length > 0) {
        const conn = idle.pop()!;
        if (conn.usable()) {
          conn.run(ex);
          return;
        }
        conn.destroy(null);
      }
    }
    if (this.open < this.agent.connections) this.#connect(ex);
    else {
      this.queue.push(ex);
      ex.park(() => {
        const i = this.queue.indexOf(ex);
        if (i !== -1) this.queue.splice(i, 1);
      });
    }
  }

  /** Takes the next live exchange off the queue. */
  #dequeue(): Exchange | null {
    const q = this.queue;
    while (q.length > 0) {
      const ex = q.shift()!;
      ex.park(null);
      if (!ex.settled) return ex;
    }
    return null;
  }

  #connect(ex: Exchange): void {
    this.open++;
    this.connecting.add(ex);
    const t = this.target;
    const s = ex.spec;
    // Owned by this connect: an exchange that fails first (abort, total timeout, agent destroyed)
    // aborts it, which destroys the socket (mid TLS handshake too) and frees the slot at once.
    const ac = new AbortController();
    ex.park(() => ac.abort(new HttpError('ERR_ABORTED', 'request settled before its connection was made')));
    const connectParams: TraceConnectParams | null =
      chBeforeConnect.hasSubscribers || chConnected.hasSubscribers || chConnectError.hasSubscribers
        ? { host: t.host, port: t.port, protocol: t.tls === null ? 'http:' : 'https:', via: t.via }
        : null;
    if (connectParams !== null) chBeforeConnect.publish({ connectParams });
    (t.dial === undefined
      ? openTransport(t.host, t.port, {
          timeout: s.connectTimeout || undefined,
          tls: t.tls ?? undefined,
          noDelay: true,
          signal: ac.signal,
        })
      : t.dial(t, s.connectTimeout, ac.signal)
    ).then(
      (transport) => {
        ex.park(null);
        this.connecting.delete(ex);
        if (connectParams !== null) chConnected.publish({ connectParams, transport });
        const conn = new Connection(transport, this);
        this.all.add(conn);
        if (this.agent.destroyed) {
          conn.destroy(null);
          ex.fail(new HttpError('ERR_ABORTED', 'agent destroyed'));
          return;
        }
        if (ex.settled) this.release(conn, null);
        else conn.run(ex);
      },
      (err: unknown) => {
        ex.park(null);
        this.connecting.delete(ex);
        this.open--;
        let e = err as Error;
        if (err instanceof TimeoutError) {
          e = new HttpError(
            'ERR_CONNECT_TIMEOUT',
            `connect to ${t.host}:${t.port}${t.via === undefined ? '' : ` via ${t.via}`} timed out after ${s.connectTimeout} ms`,
            {
              cause: err,
            },
          );
        }
        if (connectParams !== null) chConnectError.publish({ connectParams, error: e });
        ex.fail(e);
        this.#next();
        // A pool whose only connect failed must go too, or close() waits for it forever.
        this.#maybeDrop();
      },
    );
  }

  #next(): void {
    if (this.open >= this.agent.connections) return;
    const ex = this.#dequeue();
    if (ex !== null) this.#connect(ex);
  }

  release(conn: Connection, hint: number | null): void {
    const ex = this.#dequeue();
    if (ex !== null) {
      conn.run(ex);
      return;
    }
    if (this.agent.closing) {
      conn.destroy(null, true);
      return;
    }
    let ttl = this.agent.keepAliveTimeout;
    if (hint !== null) ttl = Math.min(ttl, hint - this.agent.keepAliveMargin);
    if (ttl <= 0) {
      conn.destroy(null, true);
      return;
    }
    conn.idleDeadline = Date.now() + ttl;
    this.idle.push(conn);
    if (!this.#watching) {
      this.#watching = true;
      watch(this);
    }
  }

  remove(conn: Connection): void {
    this.open--;
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    this.#next();
    this.#maybeDrop();
  }

  retry(ex: Exchange): void {
    this.dispatch(ex, true);
  }

  tick(now: number): void {
    const idle = this.idle;
    // Every entry: deadlines are not ordered (a server's Keep-Alive hint can shorten a later one).
    // Backwards, because destroy() removes the connection from `idle` at once.
    for (let i = idle.length - 1; i >= 0; i--) {
      const conn = idle[i];
      if (conn !== undefined && conn.idleDeadline <= now) conn.destroy(null, true);
    }
    if (idle.length === 0) {
      this.#watching = false;
      unwatch(this);
    }
  }

  #maybeDrop(): void {
    if (this.open === 0 && this.queue.length === 0) {
      if (this.#watching) {
        this.#watching = false;
        unwatch(this);
      }
      this.agent.dropPool(this.target.key, this);
    }
  }

  closeIdle(): void {
    for (const c of [...this.idle]) c.destroy(null, true);
  }

  destroyAll(err: HttpError): void {
    const queued = this.queue;
    this.queue = [];
    for (const ex of queued) ex.fail(err);
    // Failing each one aborts its connect.
    for (const ex of [...this.connecting]) ex.fail(err);
    for (const c of [...this.all]) {
      const ex = c.current;
      if (ex !== null) ex.fail(err);
      else c.destroy(null);
    }
  }
}
