import { EventEmitter } from 'node:events';
import { openConnection, type StreamReader, type StreamWriter } from '@asyncnet/streams';
import { ChatError } from './errors.js';

/** Something the server said, as {@link ChatClient} understands it. */
export type ChatEvent =
  /** A line said to your room (`<nick> text`); `room` is the room you were in. */
  | { type: 'message'; room: string | null; from: string; text: string }
  /** A private message (`*nick* text`). */
  | { type: 'private'; from: string; text: string }
  /**
   * An action (`/me`): `** nick text` in your room (`room` is the room you were in), or
   * `**nick** text` sent to you alone (`private`).
   */
  | { type: 'action'; room: string | null; from: string; text: string; private: boolean }
  /** A server notice (`* ...`): joins, parts, command output. */
  | { type: 'notice'; text: string }
  /** An error line (`* error: ...`); the connection stays up. */
  | { type: 'error'; text: string };

/** Options for {@link ChatClient.connect}. */
export interface ChatClientOptions {
  /** The nick to register. */
  nick: string;
  /** Ms to wait for connect and registration. @default 10000 */
  timeout?: number;
  /** Aborts connecting. */
  signal?: AbortSignal;
}

const decoder = new TextDecoder();
/** Events buffered for an async iterator before reading from the socket pauses. */
const ITERATOR_BUFFER = 1024;

/**
 * A client for the plain chat protocol. Incoming lines are emitted as `event` (every
 * {@link ChatEvent}), `message`, `private`, `action`, `notice` and `error`, and are available through
 * `for await`; `close` is emitted once when the connection ends.
 *
 * @example
 * ```ts
 * const chat = await ChatClient.connect('127.0.0.1', 6000, { nick: 'alice' });
 * chat.say('hello');
 * for await (const ev of chat) if (ev.type === 'message') console.log(`${ev.from}: ${ev.text}`);
 * ```
 */
export class ChatClient extends EventEmitter {
  readonly #reader: StreamReader;
  readonly #writer: StreamWriter;
  #nick: string;
  #room: string | null = null;
  #buffer: ChatEvent[] = [];
  #iterating = 0;
  #waiters: Array<() => void> = [];
  #space: (() => void) | null = null;
  #ended = false;
  readonly #done: Promise<void>;

  /**
   * The server's lines from registration, in order (greeting, `* you joined #lobby (N here: …)`),
   * so an interactive client can show them; later lines arrive as events.
   */
  readonly welcome: readonly string[];

  private constructor(
    reader: StreamReader,
    writer: StreamWriter,
    nick: string,
    room: string | null,
    welcome: readonly string[],
  ) {
    super();
    this.welcome = welcome;
    this.#reader = reader;
    this.#writer = writer;
    this.#nick = nick;
    this.#room = room;
    this.#done = this.#loop();
  }

  /**
   * Connects, registers `nick` and waits until the server has put the client in its first room.
   * @param host - server host
   * @param port - the server's plain-protocol port
   * @param options - `nick`, `timeout`, `signal`
   * @returns a registered client
   * @throws ChatError `ERR_NICK_IN_USE` / `ERR_INVALID_NICK` when the server refuses the nick,
   *   `ERR_CONNECTION_CLOSED` when it hangs up or refuses the connection (too many from this
   *   address), `ERR_PROTOCOL` for a nick holding CR or LF; streams' `TimeoutError` after `timeout`
   */
  static async connect(host: string, port: number, options: ChatClientOptions): Promise<ChatClient> {
    if (/[\r\n]/.test(options.nick))
      throw new ChatError('ERR_PROTOCOL', `nick holds a line break: ${JSON.stringify(options.nick)}`);
    const timeout = options.timeout ?? 10_000;
    const signal = options.signal
      ? AbortSignal.any([options.signal, AbortSignal.timeout(timeout)])
      : AbortSignal.timeout(timeout);
    const [reader, writer] = await openConnection(host, port, { signal, timeout });
    try {
      let room: string | null = null;
      let asked = false;
      const welcome: string[] = [];
      for (;;) {
        const line = await readText(reader, signal);
        if (line !== null) welcome.push(line);
        if (line === null)
          throw new ChatError(
            'ERR_CONNECTION_CLOSED',
            `server ${host}:${port} closed the connection during registration`,
          );
        if (line === '* what is your nick?') {
          asked = true;
          writer.write(`${options.nick}\r\n`);
        } else if (line.startsWith('* error: ')) {
          const text = line.slice(9);
          // Before it asks for a nick the server can only be refusing the connection itself
          // (too many connections from this address) and hangs up next.
          if (!asked)
            throw new ChatError(
              'ERR_CONNECTION_CLOSED',
              `server ${host}:${port} refused the connection: ${text}`,
            );
          throw new ChatError(
            text.includes('is taken') ? 'ERR_NICK_IN_USE' : 'ERR_INVALID_NICK',
            `server refused nick "${options.nick}": ${text}`,
          );
        } else if (line.startsWith('* you joined ')) {
          room = line.slice(13).split(' ')[0] ?? null;
          return new ChatClient(reader, writer, options.nick, room, welcome);
        }
      }
    } catch (err) {
      writer.transport.abort();
      throw err;
    }
  }

  /** The nick the server knows this client by. */
  get nick(): string {
    return this.#nick;
  }

  /** The room lines are said to, or null after /part. */
  get room(): string | null {
    return this.#room;
  }

  /**
   * Leaves the current room and joins another (created on demand).
   * @param room - `#name`
   * @throws ChatError `ERR_NOT_CONNECTED` after close
   */
  join(room: string): void {
    this.#send(`/join ${room}`);
  }

  /** Leaves the current room. @throws ChatError `ERR_NOT_CONNECTED` after close */
  part(): void {
    this.#send('/part');
  }

  /**
   * Says a line to the current room (a leading `/` is escaped, so it is never a command).
   * @param text - one line
   * @throws ChatError `ERR_NOT_CONNECTED` after close; `ERR_PROTOCOL` for a line break in `text`
   */
  say(text: string): void {
    this.#send(text.startsWith('/') ? `/${text}` : text);
  }

  /**
   * Says an action (`/me`).
   * @param text - what you do
   * @throws ChatError `ERR_NOT_CONNECTED` after close
   */
  me(text: string): void {
    this.#send(`/me ${text}`);
  }

  /**
   * Sends a private message.
   * @param nick - recipient
   * @param text - one line
   * @throws ChatError `ERR_NOT_CONNECTED` after close
   */
  msg(nick: string, text: string): void {
    this.#send(`/msg ${nick} ${text}`);
  }

  /**
   * Asks to change nick; the server answers with a notice or an error event.
   * @param nick - the new nick
   * @throws ChatError `ERR_NOT_CONNECTED` after close
   */
  setNick(nick: string): void {
    this.#send(`/nick ${nick}`);
  }

  /**
   * Sends a raw command such as `/rooms` or `/who`; output arrives as notices.
   * @param line - the command line
   * @throws ChatError `ERR_NOT_CONNECTED` after close
   */
  command(line: string): void {
    this.#send(line);
  }

  /**
   * Says goodbye and closes; resolves once the connection is closed. Safe to call twice.
   * @param reason - quit reason others see
   * @returns when the socket is closed
   */
  async close(reason = ''): Promise<void> {
    if (!this.#writer.isClosing()) {
      this.#writer.write(reason ? `/quit ${reason}\r\n` : '/quit\r\n');
      this.#writer.close();
    }
    const t = setTimeout(() => this.#writer.transport.abort(), 2_000);
    try {
      await this.#writer.waitClosed().catch(() => {});
      await this.#done;
    } finally {
      clearTimeout(t);
    }
  }

  /**
   * Yields every {@link ChatEvent} from now on until the connection ends. While nobody iterates,
   * nothing is buffered; a slow iterator holds back reading after 1,024 buffered events.
   * @returns an async iterator of events
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<ChatEvent, void, undefined> {
    this.#iterating++;
    try {
      for (;;) {
        const ev = this.#buffer.shift();
        if (ev !== undefined) {
          if (this.#buffer.length < ITERATOR_BUFFER / 2) this.#releaseSpace();
          yield ev;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((r) => {
          this.#waiters.push(r);
        });
      }
    } finally {
      this.#iterating--;
      if (this.#iterating === 0) {
        this.#buffer = [];
        this.#releaseSpace();
      }
    }
  }

  #send(line: string): void {
    if (this.#writer.isClosing() || this.#ended)
      throw new ChatError('ERR_NOT_CONNECTED', `client ${this.#nick} is closed`);
    if (/[\r\n]/.test(line))
      throw new ChatError(
        'ERR_PROTOCOL',
        `line for ${this.#nick} holds a line break: ${JSON.stringify(line)}`,
      );
    this.#writer.write(`${line}\r\n`);
  }

  /** Wakes every waiting iterator (several may iterate one client; each event goes to one). */
  #wakeAll(): void {
    const w = this.#waiters;
    if (w.length === 0) return;
    this.#waiters = [];
    for (const f of w) f();
  }

  #releaseSpace(): void {
    const s = this.#space;
    this.#space = null;
    s?.();
  }

  async #loop(): Promise<void> {
    try {
      for (;;) {
        const line = await readText(this.#reader);
        if (line === null) break;
        const ev = this.#parse(line);
        this.emit('event', ev);
        // An 'error' event without a listener would throw (EventEmitter rule): only emit it when heard.
        if (ev.type !== 'error' || this.listenerCount('error') > 0) this.emit(ev.type, ev);
        if (this.#iterating > 0) {
          this.#buffer.push(ev);
          this.#wakeAll();
          if (this.#buffer.length >= ITERATOR_BUFFER) {
            await new Promise<void>((r) => {
              this.#space = r;
            });
          }
        }
      }
    } catch {
      // Connection errors end the stream like EOF.
    } finally {
      this.#ended = true;
      this.#wakeAll();
      if (!this.#writer.isClosing()) this.#writer.close();
      this.emit('close');
    }
  }

  #parse(line: string): ChatEvent {
    if (line.startsWith('<')) {
      const end = line.indexOf('> ');
      if (end > 0)
        return { type: 'message', room: this.#room, from: line.slice(1, end), text: line.slice(end + 2) };
    }
    if (line.startsWith('**')) {
      // `** nick text` (room) or `**nick** text` (private); nicks never hold `*` or spaces.
      const m = /^\*\* (\S+) (.*)$/.exec(line) ?? /^\*\*([^*\s]+)\*\* (.*)$/.exec(line);
      if (m !== null) {
        const priv = line.charCodeAt(2) !== 32;
        return { type: 'action', room: priv ? null : this.#room, from: m[1]!, text: m[2]!, private: priv };
      }
    }
    if (line.startsWith('* error: ')) return { type: 'error', text: line.slice(9) };
    if (line.startsWith('* ')) {
      const text = line.slice(2);
      if (text.startsWith('you joined ')) this.#room = text.slice(11).split(' ')[0] ?? null;
      else if (text.startsWith('you left ')) this.#room = null;
      else if (text.startsWith('you are now known as ')) this.#nick = text.slice(21);
      return { type: 'notice', text };
    }
    if (line.startsWith('*')) {
      const end = line.indexOf('* ', 1);
      if (end > 1) return { type: 'private', from: line.slice(1, end), text: line.slice(end + 2) };
    }
    return { type: 'notice', text: line };
  }
}

async function readText(reader: StreamReader, signal?: AbortSignal): Promise<string | null> {
  const bytes = await reader.readLine(signal ? { signal } : undefined);
  if (bytes.length === 0) return null;
  let end = bytes.length;
  if (bytes[end - 1] === 10) end--;
  if (end > 0 && bytes[end - 1] === 13) end--;
  return decoder.decode(bytes.subarray(0, end));
}
