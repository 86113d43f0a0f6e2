import { Connection } from './connection.js';
import { type Buffer, fold, Model } from './model.js';
import { View } from './view.js';

const HELP = [
  '/join #room [key] — join a room · /part [reason] — leave this room · /list — browse rooms',
  '/msg nick text — private message · /query nick — open a conversation · /me action',
  '/nick name · /topic [text] · /away [message] · /back · /whois nick · /close · /quit [reason]',
  '/raw LINE — send a raw IRC line · //text sends a line starting with /',
  'Keys: Alt+↑/↓ switch buffers · Alt+1…9 go to one · Alt+A next unread · Tab completes nicks · ↑/↓ recall sent lines · Esc back to the message box',
];

function $<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/** The nick and rooms from `?nick=NAME&room=%23lobby` (room may repeat or be comma-separated). */
function fromQuery(): { nick: string; rooms: string[] } {
  const q = new URLSearchParams(location.search);
  const rooms = q
    .getAll('room')
    .flatMap((r) => r.split(','))
    .map((r) => r.trim())
    .filter((r) => r !== '')
    .map((r) => (/^[#&]/.test(r) ? r : `#${r}`));
  return { nick: (q.get('nick') ?? '').trim(), rooms };
}

const NICK_RE = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/;

class App {
  readonly view: View;
  readonly model: Model;
  conn: Connection | null = null;
  #rooms: string[] = [];
  #sent: string[] = [];
  #sentAt = 0;
  #completion: { prefix: string; matches: string[]; k: number; start: number } | null = null;
  #countdown: ReturnType<typeof setInterval> | null = null;
  /** Set with /away, so a reconnect restores it. */
  #awayText = '';

  constructor() {
    this.view = new View({
      select: (b) => this.select(b),
      query: (nick) => this.select(this.model.buffer(nick, true)!),
      join: (room) => this.joinRoom(room),
    });
    this.model = new Model(this.view, (line) => this.conn?.send(line));
    this.view.model = this.model;
  }

  start(): void {
    const { nick, rooms } = fromQuery();
    const form = $<HTMLFormElement>('connect-form');
    const nickInput = $<HTMLInputElement>('connect-nick');
    const roomsInput = $<HTMLInputElement>('connect-rooms');
    nickInput.value = nick || localStorage.getItem('asyncnet.nick') || '';
    if (rooms.length > 0) roomsInput.value = rooms.join(', ');
    else if (localStorage.getItem('asyncnet.rooms'))
      roomsInput.value = localStorage.getItem('asyncnet.rooms')!;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const n = nickInput.value.trim();
      if (!NICK_RE.test(n)) {
        $('connect-error').textContent =
          'A nick starts with a letter and has up to 30 letters, digits or -_[]\\^{}|`';
        nickInput.focus();
        return;
      }
      const rs = roomsInput.value
        .split(/[\s,]+/)
        .filter((r) => r !== '')
        .map((r) => (/^[#&]/.test(r) ? r : `#${r}`));
      localStorage.setItem('asyncnet.nick', n);
      localStorage.setItem('asyncnet.rooms', rs.join(', '));
      this.connect(n, rs);
    });
    this.#wire();
    if (nick !== '') this.connect(nick, rooms.length > 0 ? rooms : ['#lobby']);
    else {
      $('connect').hidden = false;
      nickInput.focus();
    }
  }

  connect(nick: string, rooms: string[]): void {
    $('connect').hidden = true;
    $('app').hidden = false;
    this.#rooms = rooms;
    this.model.focusOnJoin = rooms[0] === undefined ? '' : fold(rooms[0]);
    this.view.renderActive();
    this.view.self();
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/`;
    this.conn = new Connection(url, nick, {
      message: (msg) => {
        this.model.apply(msg);
        if (msg.command === 'NICK' && fold(this.model.me) === fold(msg.params[0] ?? ''))
          this.conn!.nick = this.model.me;
      },
      registered: (_nick, caps) => {
        this.model.historyCap = caps.has('draft/chathistory');
        // First connect: the rooms asked for; a reconnect: the rooms we were in (their
        // chathistory batch on join fills in what was missed).
        const want = new Map<string, string>();
        for (const r of this.#rooms) want.set(fold(r), r);
        if (want.size > 0) this.conn!.send(`JOIN ${[...want.values()].join(',')}`);
        if (this.#awayText !== '') this.conn!.sendMessage('AWAY', [this.#awayText]);
      },
      state: (state, detail) => this.#state(state, detail),
    });
    this.conn.open();
    this.view.input.focus();
  }

  #state(state: string, detail: string | number): void {
    if (this.#countdown !== null) clearInterval(this.#countdown);
    this.#countdown = null;
    switch (state) {
      case 'connecting':
        this.view.status(state, 'connecting…', false);
        break;
      case 'registering':
        this.view.status(state, 'signing in…', false);
        break;
      case 'connected':
        this.view.status(state, 'connected', false);
        break;
      case 'waiting': {
        const rejoin = this.model.disconnected();
        if (rejoin.length > 0) this.#rooms = rejoin;
        this.model.info(`disconnected; reconnecting in ${Math.round(Number(detail) / 1000)} s`, 'error');
        const tick = () => {
          const left = Math.max(0, Math.ceil(((this.conn?.retryAt ?? 0) - Date.now()) / 1000));
          this.view.status(state, `offline — reconnecting in ${left} s`, true);
        };
        tick();
        this.#countdown = setInterval(tick, 1000);
        break;
      }
      case 'closed':
        this.model.disconnected();
        this.view.status(state, 'disconnected', true);
        this.model.info(`disconnected: ${detail}`, 'error');
        break;
    }
  }

  select(buf: Buffer): void {
    this.model.setActive(buf);
    this.#closePanels();
    this.view.input.focus();
  }

  joinRoom(room: string): void {
    const name = /^[#&]/.test(room) ? room : `#${room}`;
    const existing = this.model.buffer(name, false);
    if (existing?.joined) {
      this.select(existing);
      return;
    }
    this.model.focusOnJoin = fold(name);
    if (!this.#rooms.some((r) => fold(r) === fold(name))) this.#rooms.push(name);
    this.conn?.send(`JOIN ${name}`);
  }

  /** Runs what was typed: a /command or a message to the active buffer. */
  submit(text: string): void {
    if (text.trim() === '') return;
    if (text.startsWith('/') && !text.startsWith('//')) {
      this.#command(text);
      return;
    }
    this.#say(text.startsWith('//') ? text.slice(1) : text, false);
  }

  #say(text: string, action: boolean): void {
    const b = this.model.active;
    if (b.type === 'server') {
      this.model.info(
        'this is the server buffer: join a room (/join #room) or message someone (/msg nick text)',
        'error',
      );
      return;
    }
    if (b.type === 'room' && !b.joined) {
      this.model.info(`you are not in ${b.name}; /join ${b.name}`, 'error');
      return;
    }
    this.#privmsg(b.name, action ? `\x01ACTION ${text}\x01` : text);
  }

  #privmsg(target: string, text: string): void {
    const conn = this.conn;
    if (conn === null || !conn.registered) {
      this.model.info('not connected; the message was not sent', 'error');
      return;
    }
    conn.sendMessage('PRIVMSG', [target, text]);
    if (!conn.caps.has('echo-message')) {
      // Without echo-message the server does not send our own lines back: show them here.
      this.model.apply({
        tags: { time: new Date().toISOString() },
        prefix: `${this.model.me}!~u@local`,
        command: 'PRIVMSG',
        params: [target, text],
      });
    }
  }

  #command(text: string): void {
    const sp = text.indexOf(' ');
    const cmd = (sp === -1 ? text.slice(1) : text.slice(1, sp)).toLowerCase();
    const arg = sp === -1 ? '' : text.slice(sp + 1).trim();
    const b = this.model.active;
    const conn = this.conn;
    const need = (usage: string): boolean => {
      if (arg !== '') return false;
      this.model.info(`usage: ${usage}`, 'error');
      return true;
    };
    switch (cmd) {
      case 'help':
        for (const l of HELP) this.model.info(l);
        return;
      case 'join':
      case 'j':
        if (need('/join #room [key]')) return;
        {
          const [room = '', key] = arg.split(/\s+/);
          const name = /^[#&]/.test(room) ? room : `#${room}`;
          this.model.focusOnJoin = fold(name);
          if (!this.#rooms.some((r) => fold(r) === fold(name))) this.#rooms.push(name);
          conn?.send(key === undefined ? `JOIN ${name}` : `JOIN ${name} ${key}`);
        }
        return;
      case 'part':
      case 'leave': {
        let room = b.name;
        let reason = arg;
        if (this.model.isChannel(arg.split(' ')[0] ?? '')) {
          room = arg.split(' ')[0]!;
          reason = arg.slice(room.length).trim();
        } else if (b.type !== 'room') {
          this.model.info('usage: /part [#room] [reason]', 'error');
          return;
        }
        this.#rooms = this.#rooms.filter((r) => fold(r) !== fold(room));
        conn?.sendMessage('PART', reason === '' ? [room] : [room, reason]);
        return;
      }
      case 'me':
        if (need('/me action')) return;
        this.#say(arg, true);
        return;
      case 'msg':
      case 'query':
      case 'q': {
        if (need(`/${cmd} nick [text]`)) return;
        const m = /^(\S+)(?:\s+(.*))?$/.exec(arg)!;
        const target = m[1]!;
        if (cmd === 'msg' && m[2] === undefined) {
          this.model.info('usage: /msg nick text', 'error');
          return;
        }
        if (cmd !== 'msg' || !this.model.isChannel(target)) this.select(this.model.buffer(target, true)!);
        if (m[2] !== undefined && m[2] !== '') this.#privmsg(target, m[2]);
        return;
      }
      case 'nick':
        if (need('/nick name')) return;
        conn?.send(`NICK ${arg.split(' ')[0]}`);
        return;
      case 'topic':
        if (b.type !== 'room') {
          this.model.info('/topic works in a room', 'error');
          return;
        }
        if (arg === '') conn?.send(`TOPIC ${b.name}`);
        else conn?.sendMessage('TOPIC', [b.name, arg]);
        return;
      case 'away':
        this.#awayText = arg;
        if (arg === '') conn?.send('AWAY');
        else conn?.sendMessage('AWAY', [arg]);
        return;
      case 'back':
        this.#awayText = '';
        conn?.send('AWAY');
        return;
      case 'whois':
        if (need('/whois nick')) return;
        conn?.send(`WHOIS ${arg.split(' ')[0]}`);
        return;
      case 'list':
        conn?.send('LIST');
        return;
      case 'names':
        if (b.type === 'room') conn?.send(`NAMES ${b.name}`);
        return;
      case 'close':
        if (b.type === 'room' && b.joined) {
          this.#rooms = this.#rooms.filter((r) => fold(r) !== b.key);
          conn?.sendMessage('PART', [b.name]);
        }
        this.model.close(b);
        return;
      case 'quit':
        conn?.quit(arg || 'leaving');
        return;
      case 'raw':
      case 'quote':
        if (need(`/${cmd} LINE`)) return;
        conn?.send(arg);
        return;
      default:
        this.model.info(`unknown command /${cmd}; /help lists them`, 'error');
    }
  }

  #closePanels(): void {
    for (const id of ['buffers', 'members']) {
      $(id).classList.remove('open');
      $(`toggle-${id}`).setAttribute('aria-expanded', 'false');
    }
  }

  #toggle(id: 'buffers' | 'members'): void {
    const panel = $(id);
    const open = !panel.classList.contains('open');
    this.#closePanels();
    panel.classList.toggle('open', open);
    $(`toggle-${id}`).setAttribute('aria-expanded', String(open));
    if (open) panel.querySelector<HTMLElement>('button, input')?.focus();
  }

  #cycle(step: number, unreadOnly = false): void {
    const list = this.model.ordered();
    const at = list.indexOf(this.model.active);
    for (let k = 1; k <= list.length; k++) {
      const b = list[(at + step * k + list.length * k) % list.length]!;
      if (!unreadOnly || b.unread > 0) {
        this.select(b);
        return;
      }
    }
  }

  #complete(input: HTMLInputElement): void {
    const pos = input.selectionStart ?? input.value.length;
    let c = this.#completion;
    if (c === null) {
      const before = input.value.slice(0, pos);
      const start = before.search(/\S*$/);
      const prefix = before.slice(start);
      if (prefix === '') return;
      const names = [...this.model.active.members.values()].map((m) => m.nick);
      const matches = names.filter((n) => n.toLowerCase().startsWith(prefix.toLowerCase())).sort();
      if (matches.length === 0) return;
      c = this.#completion = { prefix, matches, k: -1, start };
    }
    c.k = (c.k + 1) % c.matches.length;
    const word = c.matches[c.k]! + (c.start === 0 ? ': ' : ' ');
    const rest = input.value.slice(pos);
    input.value = input.value.slice(0, c.start) + word + rest;
    const caret = c.start + word.length;
    input.setSelectionRange(caret, caret);
  }

  #wire(): void {
    const input = this.view.input;
    $<HTMLFormElement>('input-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value;
      input.value = '';
      this.#completion = null;
      if (text.trim() !== '') {
        this.#sent.push(text);
        if (this.#sent.length > 100) this.#sent.shift();
      }
      this.#sentAt = this.#sent.length;
      this.submit(text);
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Tab' && !e.shiftKey && input.value !== '') {
        e.preventDefault();
        this.#complete(input);
        return;
      }
      this.#completion = null;
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === 'ArrowUp' && this.#sentAt > 0) {
        e.preventDefault();
        input.value = this.#sent[--this.#sentAt]!;
      } else if (e.key === 'ArrowDown' && this.#sentAt < this.#sent.length) {
        e.preventDefault();
        this.#sentAt++;
        input.value = this.#sent[this.#sentAt] ?? '';
      }
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        this.#closePanels();
        input.focus();
        return;
      }
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const k = e.key;
      if (k === 'ArrowUp' || k === 'ArrowDown') this.#cycle(k === 'ArrowUp' ? -1 : 1);
      else if (k === 'a' || k === 'A') this.#cycle(1, true);
      else if (k === 'r' || k === 'R') this.#toggle('buffers');
      else if (k === 'm' || k === 'M') this.#toggle('members');
      else if (/^[1-9]$/.test(k)) {
        const b = this.model.ordered()[Number(k) - 1];
        if (b !== undefined) this.select(b);
      } else return;
      e.preventDefault();
    });
    $('toggle-buffers').addEventListener('click', () => this.#toggle('buffers'));
    $('toggle-members').addEventListener('click', () => this.#toggle('members'));
    $('retry').addEventListener('click', () => this.conn?.retryNow());
    $('browse-rooms').addEventListener('click', () => this.conn?.send('LIST'));
    $('room-browser-close').addEventListener('click', () => $<HTMLDialogElement>('room-browser').close());
    $<HTMLFormElement>('join-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const j = $<HTMLInputElement>('join-input');
      if (j.value.trim() !== '') this.joinRoom(j.value.trim());
      j.value = '';
    });
    document.addEventListener('visibilitychange', () => {
      this.model.visible = !document.hidden;
      if (this.model.visible) this.model.seen();
    });
    this.model.visible = !document.hidden;
  }
}

const app = new App();
// For tests and the curious: the state, read-only by convention.
(window as unknown as { asyncnetChat: App }).asyncnetChat = app;
app.start();
