import type { AddressInfo } from 'node:net';
import { ConnectionClosedError, type DatagramEndpoint, openDatagramEndpoint } from '@asyncnet/streams';
import { ProtocolError } from './errors.js';
import { toError } from './internal/callbacks.js';

/**
 * A UDP address as asyncio writes it: `[host, port]`.
 * @example
 * ```ts
 * transport.sendto('ping', ['127.0.0.1', 9999] satisfies DatagramAddress);
 * ```
 */
export type DatagramAddress = [host: string, port: number];

/**
 * asyncio's `DatagramProtocol`: callbacks for a UDP endpoint. Every method is optional.
 * `connectionMade` comes first and `connectionLost` exactly once, after `close()` or
 * `abort()`, or after a callback threw (the endpoint is then closed and the error passed on).
 *
 * @example
 * ```ts
 * class EchoUdp implements DatagramProtocol {
 *   transport!: DatagramTransport;
 *   connectionMade(t: DatagramTransport) { this.transport = t; }
 *   datagramReceived(data: Uint8Array, addr: DatagramAddress) { this.transport.sendto(data, addr); }
 * }
 * ```
 */
export interface DatagramProtocol {
  /**
   * The endpoint is bound (and connected, with `remoteAddr`).
   * @param transport - the endpoint
   */
  connectionMade?(transport: DatagramTransport): void;
  /**
   * One datagram arrived.
   * @param data - the payload (yours to keep)
   * @param addr - the sender
   */
  datagramReceived?(data: Uint8Array, addr: DatagramAddress): void;
  /**
   * A send or receive failed without closing the endpoint, for example `ECONNREFUSED` (ICMP
   * port unreachable) on a connected endpoint.
   * @param error - the socket error
   */
  errorReceived?(error: Error): void;
  /**
   * The endpoint is closed; called exactly once.
   * @param error - `null` after `close()`/`abort()`, else the exception a callback threw
   */
  connectionLost?(error: Error | null): void;
}

/**
 * asyncio's `DatagramTransport`.
 *
 * @example
 * ```ts
 * transport.sendto(Buffer.from('ping'), ['127.0.0.1', 9999]);
 * transport.close();
 * ```
 */
export interface DatagramTransport {
  /**
   * Sends one datagram; never blocks. Failures go to `errorReceived`.
   * @param data - payload
   * @param addr - destination; omit (or pass the peer) on an endpoint made with `remoteAddr`
   * @throws {@link ProtocolError} `ERR_TRANSPORT_CLOSED` after close; `ERR_INVALID_ARGUMENT` for a
   *   missing address, or another address than the connected peer
   */
  sendto(data: Uint8Array | string, addr?: DatagramAddress): void;
  /** Closes after the datagrams already handed to `sendto()` have been sent. */
  close(): void;
  /** Closes now. */
  abort(): void;
  /** @returns `true` once closing or closed */
  isClosing(): boolean;
  /** @returns bytes passed to `sendto()` and not yet handed to the kernel */
  getWriteBufferSize(): number;
  /**
   * @param name - `sockname` (`AddressInfo`), `peername` (`AddressInfo`, connected endpoints)
   *   or `socket` (the `dgram.Socket`)
   * @param defaultValue - returned when the detail is not available
   * @returns the detail
   */
  getExtraInfo(name: 'sockname' | 'peername' | 'socket' | (string & {}), defaultValue?: unknown): unknown;
  /** @returns the protocol receiving this endpoint's events */
  getProtocol(): DatagramProtocol;
  /** Settles (never rejects) after `connectionLost` has run. */
  readonly closed: Promise<void>;
}

/** Options of {@link createDatagramEndpoint}. */
export interface CreateDatagramEndpointOptions {
  /** Address to bind. @default ['0.0.0.0', 0] (or `'::'` for an IPv6 `remoteAddr`) */
  localAddr?: DatagramAddress | undefined;
  /** Connect to this peer: `sendto()` needs no address and only its datagrams arrive. @default unconnected */
  remoteAddr?: DatagramAddress | undefined;
  /** Set SO_REUSEADDR. @default false */
  reuseAddr?: boolean | undefined;
  /** Allow sending to broadcast addresses. @default false */
  allowBroadcast?: boolean | undefined;
  /** Called when a protocol callback throws (the endpoint is then closed). @default logs one line to stderr */
  onError?: ((error: unknown) => void) | undefined;
}

class EndpointTransport implements DatagramTransport {
  readonly #ep: DatagramEndpoint;
  readonly #protocol: DatagramProtocol;
  readonly #remote: DatagramAddress | undefined;
  readonly #onError: (error: unknown) => void;
  #closing = false;
  #failure: Error | null = null;
  #inFlight = 0;
  #inFlightBytes = 0;
  #closeWhenFlushed = false;
  #resolveClosed!: () => void;
  readonly closed: Promise<void>;

  constructor(
    ep: DatagramEndpoint,
    protocol: DatagramProtocol,
    remote: DatagramAddress | undefined,
    onError: (e: unknown) => void,
  ) {
    this.#ep = ep;
    this.#protocol = protocol;
    this.#remote = remote;
    this.#onError = onError;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  start(): void {
    try {
      this.#protocol.connectionMade?.(this);
    } catch (err) {
      this.#fail(err);
    }
    void this.#receiveLoop();
  }

  async #receiveLoop(): Promise<void> {
    const ep = this.#ep;
    for (;;) {
      let d: Awaited<ReturnType<DatagramEndpoint['receive']>>;
      try {
        d = await ep.receive();
      } catch (err) {
        if (err instanceof ConnectionClosedError) break;
        this.#call(() => this.#protocol.errorReceived?.(toError(err)));
        continue;
      }
      this.#call(() => this.#protocol.datagramReceived?.(d.data, [d.address, d.port]));
    }
    try {
      this.#protocol.connectionLost?.(this.#failure);
    } catch (err) {
      this.#report(err);
    } finally {
      this.#resolveClosed();
    }
  }

  #call(fn: () => void): void {
    if (this.#failure !== null) return;
    try {
      fn();
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(thrown: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = toError(thrown);
    this.#report(this.#failure);
    this.abort();
  }

  #report(error: unknown): void {
    try {
      this.#onError(error);
    } catch {
      // never let reporting take the process down
    }
  }

  sendto(data: Uint8Array | string, addr?: DatagramAddress): void {
    if (this.#closing)
      throw new ProtocolError('ERR_TRANSPORT_CLOSED', 'sendto() on a closed datagram transport');
    const remote = this.#remote;
    let sent: Promise<void>;
    if (remote !== undefined) {
      if (addr !== undefined && (addr[0] !== remote[0] || addr[1] !== remote[1])) {
        throw new ProtocolError(
          'ERR_INVALID_ARGUMENT',
          `sendto() address ${addr[0]}:${addr[1]} differs from the connected peer ${remote[0]}:${remote[1]}`,
        );
      }
      sent = this.#ep.send(data);
    } else {
      if (addr === undefined) {
        throw new ProtocolError(
          'ERR_INVALID_ARGUMENT',
          'sendto() needs an address on an unconnected endpoint',
        );
      }
      sent = this.#ep.send(data, addr[1], addr[0]);
    }
    const n = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.#inFlight++;
    this.#inFlightBytes += n;
    sent.then(
      () => this.#sent(n),
      (err: unknown) => {
        this.#sent(n);
        if (!(err instanceof ConnectionClosedError))
          this.#call(() => this.#protocol.errorReceived?.(toError(err)));
      },
    );
  }

  #sent(n: number): void {
    this.#inFlight--;
    this.#inFlightBytes -= n;
    if (this.#inFlight === 0 && this.#closeWhenFlushed) void this.#ep.close();
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#inFlight === 0) void this.#ep.close();
    else this.#closeWhenFlushed = true;
  }

  abort(): void {
    this.#closing = true;
    void this.#ep.close();
  }

  isClosing(): boolean {
    return this.#closing;
  }

  getWriteBufferSize(): number {
    return this.#inFlightBytes;
  }

  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    let value: unknown;
    try {
      if (name === 'sockname') value = this.#ep.address();
      else if (name === 'peername') value = this.#ep.socket.remoteAddress() as AddressInfo;
      else if (name === 'socket') value = this.#ep.socket;
    } catch {
      value = undefined; // not connected, or already closed
    }
    return value === undefined ? defaultValue : value;
  }

  getProtocol(): DatagramProtocol {
    return this.#protocol;
  }
}

function logDatagramError(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`asyncnet: datagram protocol callback failed: ${message}\n`);
}

/**
 * Opens a UDP endpoint and runs a {@link DatagramProtocol} on it (asyncio's
 * `loop.create_datagram_endpoint`), on the core's datagram endpoint.
 *
 * @param protocolFactory - called once, after the socket is bound
 * @param options - `localAddr`, `remoteAddr`, `reuseAddr`, `allowBroadcast`, `onError`
 * @returns `[transport, protocol]`; `connectionMade` has run
 * @throws Node's bind/connect errors (`EADDRINUSE`, …); whatever the factory throws (the
 *   socket is then closed)
 *
 * @example
 * ```ts
 * const [server] = await createDatagramEndpoint(() => new EchoUdp(), { localAddr: ['127.0.0.1', 0] });
 * const { port } = server.getExtraInfo('sockname') as AddressInfo;
 * ```
 */
export async function createDatagramEndpoint<TProtocol extends DatagramProtocol>(
  protocolFactory: () => TProtocol,
  options: CreateDatagramEndpointOptions = {},
): Promise<[DatagramTransport, TProtocol]> {
  const { localAddr, remoteAddr } = options;
  const ep = await openDatagramEndpoint({
    localAddress: localAddr?.[0],
    localPort: localAddr?.[1],
    remoteAddress: remoteAddr?.[0],
    remotePort: remoteAddr?.[1],
    reuseAddr: options.reuseAddr,
    broadcast: options.allowBroadcast,
  });
  let protocol: TProtocol;
  try {
    protocol = protocolFactory();
  } catch (err) {
    await ep.close();
    throw err;
  }
  const transport = new EndpointTransport(ep, protocol, remoteAddr, options.onError ?? logDatagramError);
  transport.start();
  return [transport, protocol];
}
