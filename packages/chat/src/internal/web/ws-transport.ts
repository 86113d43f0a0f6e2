import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { ChatTransport } from '../context.js';
import { ircLinesToFrames } from './ws-frames.js';

type Listener = Parameters<ChatTransport['setListener']>[0];

const LF = 10;
const CR = 13;
const LF_BYTES = new Uint8Array([LF]);
const EMPTY = new Uint8Array(0);
const OPEN = 1; // WebSocket.OPEN
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
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
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
    if (this.#closing || this.#ws.readyState !== OPEN) return;
    // Frames go straight to the socket, each in one write (ws writes its control frames the same
    // way, so frames never interleave); a fan-out's frames are built once for every member.
    const frames =
      typeof data === 'string'
        ? ircLinesToFrames(encoder.encode(data), this.#binary, false)
        : ircLinesToFrames(data, this.#binary, true);
    if (frames.length === 0) return;
    // Every frame of this tick leaves in one socket write (a fan-out sends many small messages,
    // and a write per message costs more than the copy).
    if (this.#pending.length === 0) process.nextTick(this.#flush);
    this.#pending.push(frames);
    this.#pendingBytes += frames.length;
    if (!this.#writePaused && this.getWriteBufferSize() > this.#highWaterMark) {
      this.#writePaused = true;
      this.#listener?.writePaused?.();
      this.#flush();
      this.#waitFlushed();
    }
  }

  /** Hands what this tick wrote to the socket (before any frame ws writes itself, e.g. close). */
  readonly #flush = (): void => {
    const p = this.#pending;
    if (p.length === 0) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#ws.readyState !== OPEN) return;
    this.#socket.write(p.length === 1 ? p[0]! : Buffer.concat(p));
  };

  /** An empty write's callback runs once everything written before it reached the kernel. */
  #waitFlushed(): void {
    this.#socket.write(EMPTY, () => {
      if (!this.#writePaused || this.#closing) return;
      if (this.getWriteBufferSize() > this.#highWaterMark / 4) {
        this.#waitFlushed();
        return;
      }
      this.#writePaused = false;
      this.#listener?.writeResumed?.();
    });
  }

  close(): void {
    if (this.#closing) return;
    this.#flush();
    this.#closing = true;
    this.#ws.close(1000);
  }

  abort(err?: Error): void {
    this.#pending = [];
    this.#pendingBytes = 0;
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
    return this.#ws.bufferedAmount + this.#pendingBytes;
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
