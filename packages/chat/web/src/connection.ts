import { formatIrcMessage, type IrcMessage, parseIrcMessage } from '../../src/internal/irc-message.js';

/** Capabilities the client uses when the server offers them. */
const WANTED = [
  'away-notify',
  'batch',
  'draft/chathistory',
  'echo-message',
  'invite-notify',
  'message-tags',
  'multi-prefix',
  'server-time',
];

export type ConnState = 'connecting' | 'registering' | 'connected' | 'waiting' | 'closed';

export interface ConnEvents {
  /** Every message from the server, after the connection's own handling (PING, CAP, 433). */
  message(msg: IrcMessage): void;
  /** `detail`: the reconnect delay in ms while waiting, the close reason when closed. */
  state(state: ConnState, detail: string | number): void;
  /** 001 arrived: `nick` is the nick the server gave us. */
  registered(nick: string, caps: ReadonlySet<string>): void;
}

/**
 * One IRC session over WebSocket (IRCv3 `text.ircv3.net`: one line per message, no CRLF), with
 * CAP negotiation, registration, PING answers, a fallback nick when ours is taken, and reconnects
 * with exponential backoff (1 s doubling to 30 s, with jitter) until {@link quit}.
 */
export class Connection {
  readonly #url: string;
  readonly #events: ConnEvents;
  #ws: WebSocket | null = null;
  #nick: string;
  #wantedNick: string;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #quitting = false;
  #registered = false;
  #offered = new Set<string>();
  #caps = new Set<string>();
  #lsDone = false;
  #retryAt = 0;

  constructor(url: string, nick: string, events: ConnEvents) {
    this.#url = url;
    this.#nick = nick;
    this.#wantedNick = nick;
    this.#events = events;
  }

  get caps(): ReadonlySet<string> {
    return this.#caps;
  }

  get registered(): boolean {
    return this.#registered;
  }

  /** When the next reconnect attempt is due (ms since epoch), 0 when none is scheduled. */
  get retryAt(): number {
    return this.#retryAt;
  }

  /** The nick to register with next time (after /nick, so a reconnect keeps it). */
  set nick(nick: string) {
    this.#nick = nick;
    this.#wantedNick = nick;
  }

  open(): void {
    this.#quitting = false;
    this.#clearTimer();
    this.#registered = false;
    this.#offered = new Set();
    this.#caps = new Set();
    this.#lsDone = false;
    this.#nick = this.#wantedNick;
    this.#events.state('connecting', '');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#url, ['text.ircv3.net']);
    } catch (err) {
      this.#closed(String(err));
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      this.#events.state('registering', '');
      this.send('CAP LS 302');
      this.send(`NICK ${this.#nick}`);
      this.send(`USER ${userName(this.#nick)} 0 * :asyncnet web client`);
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      const msg = parseIrcMessage(e.data);
      if (msg !== null) this.#handle(msg);
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#closed(e.reason || (e.code === 1006 ? 'connection lost' : `closed (${e.code})`));
    };
  }

  /** Sends one line (no CRLF); dropped while not connected. */
  send(line: string): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(line);
  }

  /** Sends a message built from parts (the last parameter as trailing). */
  sendMessage(command: string, params: string[]): void {
    this.send(formatIrcMessage(null, command, params, true).slice(0, -2));
  }

  /** Leaves for good (no reconnect). */
  quit(reason: string): void {
    this.#quitting = true;
    this.#clearTimer();
    if (this.#ws !== null) {
      this.sendMessage('QUIT', [reason]);
      const ws = this.#ws;
      setTimeout(() => ws.close(1000), 500);
    } else {
      this.#events.state('closed', reason);
    }
  }

  /** Skips the rest of the backoff wait. */
  retryNow(): void {
    if (this.#timer !== null) this.open();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#retryAt = 0;
  }

  #closed(reason: string): void {
    this.#registered = false;
    if (this.#quitting) {
      this.#events.state('closed', reason);
      return;
    }
    const base = Math.min(30_000, 1_000 * 2 ** this.#attempt);
    this.#attempt++;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#retryAt = Date.now() + delay;
    this.#events.state('waiting', delay);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.open();
    }, delay);
  }

  #handle(msg: IrcMessage): void {
    switch (msg.command) {
      case 'PING':
        this.sendMessage('PONG', msg.params);
        return;
      case 'CAP':
        this.#cap(msg);
        return;
      case '001':
        this.#registered = true;
        this.#attempt = 0;
        this.#nick = msg.params[0] ?? this.#nick;
        this.#events.state('connected', '');
        this.#events.registered(this.#nick, this.#caps);
        break;
      case '433':
      case '432':
        if (!this.#registered) {
          // Taken (often by our own previous connection, not yet timed out): try a variant.
          this.#nick =
            msg.command === '432' ? `web${Math.floor(Math.random() * 10_000)}` : nextNick(this.#nick);
          this.send(`NICK ${this.#nick}`);
        }
        break;
      case 'ERROR':
        break;
    }
    this.#events.message(msg);
  }

  #cap(msg: IrcMessage): void {
    const sub = msg.params[1]?.toUpperCase();
    if (sub === 'LS') {
      // `CAP * LS * :...` continues on the next line (302 multi-line).
      const more = msg.params[2] === '*';
      const list = msg.params[more ? 3 : 2] ?? '';
      for (const item of list.split(' ')) if (item !== '') this.#offered.add(item.split('=')[0]!);
      if (more || this.#lsDone) return;
      this.#lsDone = true;
      const req = WANTED.filter((c) => this.#offered.has(c));
      if (req.length === 0) this.send('CAP END');
      else this.send(`CAP REQ :${req.join(' ')}`);
    } else if (sub === 'ACK') {
      for (const c of (msg.params[2] ?? '').split(' ')) {
        if (c.startsWith('-')) this.#caps.delete(c.slice(1));
        else if (c !== '') this.#caps.add(c);
      }
      if (!this.#registered) this.send('CAP END');
    } else if (sub === 'NAK') {
      if (!this.#registered) this.send('CAP END');
    }
  }

  /** The nick we asked for originally (a reconnect tries it again). */
  get wantedNick(): string {
    return this.#wantedNick;
  }
}

function nextNick(nick: string): string {
  return nick.length < 28 ? `${nick}_` : `${nick.slice(0, 24)}${Math.floor(Math.random() * 1000)}`;
}

function userName(nick: string): string {
  const u = nick.replace(/[^A-Za-z0-9]/g, '').slice(0, 10);
  return u === '' ? 'web' : u;
}
