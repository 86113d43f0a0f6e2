import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { ChatTransport } from '../context.js';

type Listener = Parameters<ChatTransport['setListener']>[0];

const LF = 10;
const CR = 13;
const LF_BYTES = new Uint8Array([LF]);
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * The seam between the IRC front end and a message-oriented transport: a WebSocket speaking IRC
 * per the IRCv3 WebSocket spec (one line per message, no CRLF) seen as the byte stream of
 * CRLF-terminated lines that {@link ClientConn} reads and writes, so the same IRC command handlers,
 * send queue, flood control and timeouts serve TCP and WebSocket clients.
 *
 * Back-pressure is the socket's: over `highWaterMark` buffered bytes the conn's send queue is told
 * to hold messages (and sheds a member that stops reading), on `drain` it resumes.
 */
export class WsTransport implements ChatTransport {
  readonly #ws: WebSocket;
  readonly #socket: Socket;
  readonly #binary: boolean;
  readonly #highWaterMark: number;
  readonly #serverName: string;
  #listener: Listener | null = null;
  #writePaused = false;
  #corked = false;
  #closing = false;
  #error: Error | null = null;
  #alive = true;

  /**
   * @param ws - an open WebSocket
   * @param socket - its socket (for `drain` and the peer address)
   * @param options - `binary`: `binary.ircv3.net` was negotiated (send binary messages, else
   *   text); `highWaterMark`: buffered bytes over which writes count as paused; `serverName` for
   *   the notices this layer sends itself
   */
  constructor(
    ws: WebSocket,
    socket: Socket,
    options: { binary: boolean; highWaterMark: number; serverName: string },
  ) {
    this.#ws = ws;
    this.#socket = socket;
    this.#binary = options.binary;
    this.#highWaterMark = options.highWaterMark;
    this.#serverName = options.serverName;
    ws.on('message', (data) => this.#message(data as Buffer));
    ws.on('pong', () => {
      this.#alive = true;
    });
    ws.on('error', (err) => {
      this.#error ??= err;
    });
    ws.on('close', () => {
      const l = this.#listener;
      const byPeer = !this.#closing;
      this.#closing = true;
      // A close the peer started is its quit (EOF on TCP); then the transport is gone either way.
      if (byPeer && this.#error === null) l?.eof();
      l?.closed(this.#error);
    });
  }

  #message(data: Buffer): void {
    if (this.#closing || this.#listener === null) return;
    // One IRC line per message: a trailing CRLF is tolerated, a line break inside is not (it would
    // smuggle a second command past the per-message rules). ws has already checked text is UTF-8;
    // the conn's line decoder checks binary messages and the length.
    let end = data.length;
    if (end > 0 && data[end - 1] === LF) end--;
    if (end > 0 && data[end - 1] === CR) end--;
    const inner = data.indexOf(LF);
    const innerCr = data.indexOf(CR);
    if ((inner !== -1 && inner < end) || (innerCr !== -1 && innerCr < end)) {
      this.write(
        `:${this.#serverName} NOTICE * :a WebSocket message must hold exactly one IRC line, dropped\r\n`,
      );
      return;
    }
    this.#listener.data(end === data.length ? data : data.subarray(0, end));
    this.#listener.data(LF_BYTES);
  }

  write(data: Uint8Array | string): void {
    if (this.#closing) return;
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    // Coalesce every frame of this tick into one write (a fan-out sends many small messages).
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    const opts = { binary: this.#binary };
    let start = 0;
    const n = bytes.length;
    while (start < n) {
      let nl = bytes.indexOf(LF, start);
      if (nl === -1) nl = n;
      let end = nl;
      if (end > start && bytes[end - 1] === CR) end--;
      if (end > start) this.#ws.send(bytes.subarray(start, end), opts);
      start = nl + 1;
    }
    if (!this.#writePaused && this.#ws.bufferedAmount > this.#highWaterMark) {
      this.#writePaused = true;
      this.#listener?.writePaused?.();
      this.#waitFlushed();
    }
  }

  /** An empty write's callback runs once everything written before it reached the kernel. */
  #waitFlushed(): void {
    this.#socket.write(EMPTY, () => {
      if (!this.#writePaused || this.#closing) return;
      if (this.#ws.bufferedAmount > this.#highWaterMark / 4) {
        this.#waitFlushed();
        return;
      }
      this.#writePaused = false;
      this.#listener?.writeResumed?.();
    });
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#ws.close(1000);
  }

  abort(err?: Error): void {
    this.#closing = true;
    if (err !== undefined) this.#error ??= err;
    this.#ws.terminate();
  }

  isClosing(): boolean {
    return this.#closing;
  }

  pauseReading(): void {
    if (!this.#closing) this.#ws.pause();
  }

  resumeReading(): void {
    if (!this.#closing) this.#ws.resume();
  }

  getWriteBufferSize(): number {
    return this.#ws.bufferedAmount;
  }

  getExtraInfo(name: string, dflt?: unknown): unknown {
    switch (name) {
      case 'peername':
        return this.#socket.remoteAddress === undefined
          ? dflt
          : {
              address: this.#socket.remoteAddress,
              port: this.#socket.remotePort,
              family: this.#socket.remoteFamily,
            };
      case 'sockname':
        return this.#socket.address();
      case 'socket':
        return this.#socket;
      case 'subprotocol':
        return this.#ws.protocol;
      default:
        return dflt;
    }
  }

  setListener(listener: Listener): void {
    this.#listener = listener;
  }

  /** Called when the peer did not answer a WebSocket ping in time (the conn disconnects it). */
  onUnresponsive: () => void = () => this.abort(new Error('websocket ping timeout'));

  /** Keep-alive tick: pings, or reports a peer that did not answer the previous ping. */
  keepAlive(): void {
    if (this.#closing) return;
    if (!this.#alive) {
      this.onUnresponsive();
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }
}
