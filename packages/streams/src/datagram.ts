import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { abortReasonToError, ConnectionClosedError, StreamsError } from './errors.js';

/** Options for {@link openDatagramEndpoint}. */
export interface DatagramEndpointOptions {
  /** Local address to bind. @default '0.0.0.0' or '::' by `type` */
  localAddress?: string | undefined;
  /** Local port to bind, 0 for any. @default 0 */
  localPort?: number | undefined;
  /** Connect to this peer: `send()` needs no address and only its datagrams are received. */
  remoteAddress?: string | undefined;
  /** Port of the connected peer. */
  remotePort?: number | undefined;
  /** Socket type. @default 'udp6' when an address contains ':', else 'udp4' */
  type?: 'udp4' | 'udp6' | undefined;
  /** Set SO_REUSEADDR. @default false */
  reuseAddr?: boolean | undefined;
  /** Allow sending to broadcast addresses. @default false */
  broadcast?: boolean | undefined;
  /** Datagrams kept while nobody calls `receive()`; beyond it new ones are dropped and counted. @default 1024 */
  queueLimit?: number | undefined;
}

/** One received datagram. */
export interface Datagram {
  /** The payload. */
  data: Buffer;
  /** Sender address. */
  address: string;
  /** Sender port. */
  port: number;
}

/**
 * A UDP endpoint with an awaitable, bounded receive queue. Created by {@link openDatagramEndpoint}.
 */
export class DatagramEndpoint implements AsyncIterable<Datagram>, AsyncDisposable {
  #socket: UdpSocket;
  /** Received datagrams, and socket errors that arrived while nobody was waiting. */
  #queue: (Datagram | Error)[] = [];
  #head = 0;
  #limit: number;
  #waiters: { resolve: (d: Datagram) => void; reject: (e: unknown) => void }[] = [];
  #closed = false;
  #error: Error | null = null;
  #connected: boolean;
  /** Datagrams dropped because the receive queue was full. */
  dropped = 0;

  /** @internal Use {@link openDatagramEndpoint}. */
  constructor(socket: UdpSocket, queueLimit: number, connected: boolean) {
    this.#socket = socket;
    this.#limit = queueLimit;
    this.#connected = connected;
    socket.on('message', (data, rinfo) => {
      const d: Datagram = { data, address: rinfo.address, port: rinfo.port };
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter.resolve(d);
      else if (this.#queue.length - this.#head < this.#limit) this.#queue.push(d);
      else this.dropped++;
    });
    socket.on('error', (err) => {
      this.#error = err;
      // ICMP errors on a connected socket (ECONNREFUSED) fail one receive, not the endpoint: the
      // pending one, or else the next one.
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter.reject(err);
      else if (this.#queue.length - this.#head < this.#limit) this.#queue.push(err);
    });
    socket.on('close', () => {
      this.#closed = true;
      const err = new ConnectionClosedError('datagram endpoint closed');
      for (const w of this.#waiters.splice(0)) w.reject(err);
    });
  }

  /**
   * Sends one datagram.
   * @param data - payload
   * @param port - destination port (omit on a connected endpoint)
   * @param address - destination address (omit on a connected endpoint)
   * @returns resolves once the datagram was handed to the kernel
   */
  send(data: Uint8Array | string, port?: number, address?: string): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError('send on a closed datagram endpoint'));
    return new Promise<void>((resolve, reject) => {
      const done = (err: Error | null) => (err ? reject(err) : resolve());
      if (this.#connected) {
        if (port !== undefined) {
          reject(
            new StreamsError('ERR_INVALID_ARGUMENT', 'send() on a connected endpoint takes no destination'),
          );
          return;
        }
        this.#socket.send(data, done);
      } else {
        if (port === undefined) {
          reject(
            new StreamsError(
              'ERR_INVALID_ARGUMENT',
              'send() needs a port and address on an unconnected endpoint',
            ),
          );
          return;
        }
        this.#socket.send(data, port, address, done);
      }
    });
  }

  /**
   * Waits for the next datagram.
   * @param options - `signal` to cancel
   * @throws {@link ConnectionClosedError} once closed, `AbortedError` / `TimeoutError` when cancelled,
   *   or a socket error (such as `ECONNREFUSED` from ICMP on a connected endpoint) once, in arrival order
   */
  receive(options: { signal?: AbortSignal | undefined } = {}): Promise<Datagram> {
    if (this.#head < this.#queue.length) {
      const d = this.#queue[this.#head++]!;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      return d instanceof Error ? Promise.reject(d) : Promise.resolve(d);
    }
    if (this.#closed)
      return Promise.reject(new ConnectionClosedError('receive on a closed datagram endpoint'));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReasonToError(signal, 'receive'));
    return new Promise<Datagram>((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        reject(abortReasonToError(signal!, 'receive'));
      };
      const waiter = {
        resolve: (d: Datagram) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(d);
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Yields datagrams until the endpoint is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Datagram> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (err) {
        if (err instanceof ConnectionClosedError) return;
        throw err;
      }
    }
  }

  /** The bound local address. */
  address(): AddressInfo {
    return this.#socket.address();
  }

  /** The last socket error (for example ICMP port unreachable on a connected endpoint), or `null`. */
  exception(): Error | null {
    return this.#error;
  }

  /** The underlying `dgram.Socket`, for options this API does not cover. */
  get socket(): UdpSocket {
    return this.#socket;
  }

  /** Closes the socket; pending receives reject with {@link ConnectionClosedError}. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  /** `await using endpoint = await openDatagramEndpoint(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens a UDP endpoint (asyncio's `create_datagram_endpoint`, with awaitable receives).
 *
 * @param options - local and remote addresses, socket type and options, queue limit
 * @returns the bound (and, with `remoteAddress`, connected) endpoint
 * @example
 * ```ts
 * const server = await openDatagramEndpoint({ localAddress: '127.0.0.1' });
 * for await (const { data, address, port } of server) await server.send(data, port, address);
 * ```
 */
export async function openDatagramEndpoint(options: DatagramEndpointOptions = {}): Promise<DatagramEndpoint> {
  const queueLimit = options.queueLimit ?? 1024;
  if (!Number.isInteger(queueLimit) || queueLimit < 0) {
    throw new StreamsError(
      'ERR_INVALID_ARGUMENT',
      `queueLimit must be a non-negative integer, got ${queueLimit}`,
    );
  }
  const hasV6 = [options.localAddress, options.remoteAddress].some((a) => a?.includes(':'));
  const type = options.type ?? (hasV6 ? 'udp6' : 'udp4');
  const socket = createSocket({ type, reuseAddr: options.reuseAddr ?? false });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: options.localAddress, port: options.localPort ?? 0 }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (options.broadcast) socket.setBroadcast(true);
    const connected = options.remotePort !== undefined;
    if (connected) {
      await new Promise<void>((resolve, reject) => {
        socket.connect(options.remotePort!, options.remoteAddress, (err?: Error) =>
          err ? reject(err) : resolve(),
        );
      });
    }
    return new DatagramEndpoint(socket, queueLimit, connected);
  } catch (err) {
    socket.close();
    throw err;
  }
}
