import { formatIrc, stripIrc } from './format.js';
import type { Buffer, Line, Member, Model, ModelEvents, RoomEntry } from './model.js';

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls = '',
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls !== '') e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A stable colour class per nick, so a speaker is easy to follow. */
function nickClass(nick: string): string {
  let h = 0;
  for (let k = 0; k < nick.length; k++) h = (h * 31 + nick.toLowerCase().charCodeAt(k)) | 0;
  return `nc-${Math.abs(h) % 8}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Callbacks from the DOM back to the app. */
export interface ViewActions {
  select(buf: Buffer): void;
  query(nick: string): void;
  join(room: string): void;
}

/** Renders the model into the page. Network text only ever reaches the DOM as Text nodes. */
export class View implements ModelEvents {
  readonly log = $<HTMLDivElement>('log');
  readonly input = $<HTMLInputElement>('input');
  readonly #bufferList = $<HTMLUListElement>('buffer-list');
  readonly #memberList = $<HTMLUListElement>('member-list');
  readonly #memberCount = $<HTMLHeadingElement>('member-count');
  readonly #name = $<HTMLHeadingElement>('buffer-name');
  readonly #topic = $<HTMLParagraphElement>('topic');
  readonly #status = $<HTMLParagraphElement>('status');
  readonly #ownNick = $<HTMLSpanElement>('own-nick');
  readonly #roomBrowser = $<HTMLDialogElement>('room-browser');
  readonly #roomList = $<HTMLUListElement>('room-browser-list');
  model!: Model;
  readonly #actions: ViewActions;

  constructor(actions: ViewActions) {
    this.#actions = actions;
  }

  // ModelEvents

  line(buf: Buffer, line: Line, appended: boolean): void {
    if (buf !== this.model.active) return;
    if (!appended) {
      this.renderLog();
      return;
    }
    const stick = this.#atBottom();
    this.log.appendChild(this.#line(line));
    // Keep the DOM as bounded as the model.
    while (this.log.childElementCount > buf.lines.length + 1) this.log.firstElementChild?.remove();
    if (stick || line.self) this.log.scrollTop = this.log.scrollHeight;
  }

  buffers(): void {
    const list = this.#bufferList;
    list.replaceChildren();
    let total = 0;
    for (const b of this.model.ordered()) {
      total += b.unread;
      const li = el('li');
      const btn = el('button', `buffer ${b.type}${b.joined || b.type !== 'room' ? '' : ' left'}`);
      btn.type = 'button';
      btn.dataset.buffer = b.name;
      if (b === this.model.active) btn.setAttribute('aria-current', 'page');
      btn.appendChild(el('span', 'buffer-name', b.type === 'server' ? this.model.network : b.name));
      if (b.unread > 0) {
        const badge = el('span', `badge${b.highlight ? ' highlight' : ''}`, String(b.unread));
        badge.setAttribute('aria-label', `${b.unread} unread${b.highlight ? ', mentions you' : ''}`);
        btn.appendChild(badge);
      }
      btn.addEventListener('click', () => this.#actions.select(b));
      li.appendChild(btn);
      list.appendChild(li);
    }
    document.title =
      total > 0
        ? `(${total}) ${this.model.active.name} · asyncnet chat`
        : `${this.model.active.name} · asyncnet chat`;
  }

  members(buf: Buffer): void {
    if (buf !== this.model.active) return;
    const list = this.#memberList;
    list.replaceChildren();
    const members = [...buf.members.values()].sort(
      (a, b) => this.model.rank(a.prefix) - this.model.rank(b.prefix) || a.nick.localeCompare(b.nick),
    );
    this.#memberCount.textContent =
      buf.type === 'room' ? `${members.length} ${members.length === 1 ? 'person' : 'people'}` : '';
    for (const m of members) list.appendChild(this.#member(m));
  }

  topic(buf: Buffer): void {
    if (buf !== this.model.active) return;
    this.#topic.replaceChildren(formatIrc(buf.topic));
    this.#topic.title = stripIrc(buf.topic);
  }

  self(): void {
    this.#ownNick.textContent = this.model.me + (this.model.away ? ' (away)' : '');
    this.#ownNick.classList.toggle('away', this.model.away);
  }

  rooms(list: RoomEntry[]): void {
    this.#roomList.replaceChildren();
    if (list.length === 0) this.#roomList.appendChild(el('li', '', 'No rooms yet.'));
    for (const r of list) {
      const li = el('li');
      const btn = el('button', 'room-entry');
      btn.type = 'button';
      btn.dataset.room = r.name;
      btn.appendChild(el('span', 'room-name', r.name));
      btn.appendChild(el('span', 'room-users', `${r.users}`));
      const topic = el('span', 'room-topic');
      topic.appendChild(formatIrc(r.topic));
      btn.appendChild(topic);
      btn.addEventListener('click', () => {
        this.#roomBrowser.close();
        this.#actions.join(r.name);
      });
      li.appendChild(btn);
      this.#roomList.appendChild(li);
    }
    if (!this.#roomBrowser.open) this.#roomBrowser.showModal();
  }

  active(): void {
    this.renderActive();
  }

  // Whole views

  /** Re-renders everything about the active buffer. */
  renderActive(): void {
    const b = this.model.active;
    this.#name.textContent = b.type === 'server' ? this.model.network : b.name;
    this.topic(b);
    this.members(b);
    document.body.dataset.buffer = b.type;
    this.renderLog();
    this.buffers();
  }

  renderLog(): void {
    const b = this.model.active;
    const frag = document.createDocumentFragment();
    let marked = false;
    for (const l of b.lines) {
      if (!marked && b.marker > 0 && l.id > b.marker) {
        marked = true;
        const m = el('div', 'unread-marker', 'new messages');
        m.setAttribute('role', 'separator');
        frag.appendChild(m);
      }
      frag.appendChild(this.#line(l));
    }
    this.log.replaceChildren(frag);
    const marker = this.log.querySelector('.unread-marker');
    if (marker !== null) marker.scrollIntoView({ block: 'center' });
    else this.log.scrollTop = this.log.scrollHeight;
  }

  status(state: string, text: string, retry: boolean): void {
    this.#status.dataset.state = state;
    this.#status.textContent = text;
    $('retry').hidden = !retry;
  }

  #atBottom(): boolean {
    const l = this.log;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 40;
  }

  #member(m: Member): HTMLLIElement {
    const li = el('li');
    li.dataset.nick = m.nick;
    const btn = el('button', `member${m.away ? ' away' : ''}`);
    btn.type = 'button';
    btn.title = m.away ? `${m.nick} is away — message them` : `Message ${m.nick}`;
    btn.appendChild(el('span', 'prefix', m.prefix));
    btn.appendChild(el('span', `nick ${nickClass(m.nick)}`, m.nick));
    if (m.away) btn.appendChild(el('span', 'sr-only', ' (away)'));
    btn.addEventListener('click', () => this.#actions.query(m.nick));
    li.appendChild(btn);
    return li;
  }

  #line(l: Line): HTMLDivElement {
    const row = el(
      'div',
      `line ${l.kind}${l.self ? ' self' : ''}${l.history ? ' history' : ''}${l.highlight ? ' highlight' : ''}`,
    );
    row.dataset.kind = l.kind;
    if (l.nick !== '') row.dataset.nick = l.nick;
    if (l.msgid !== null) row.dataset.msgid = l.msgid;
    const d = new Date(l.time);
    const t = el('time', 'ts', timeFmt.format(d));
    t.dateTime = d.toISOString();
    t.title = l.history ? `${fullFmt.format(d)} (from history)` : fullFmt.format(d);
    row.appendChild(t);
    const text = el('span', 'text');
    const nick = (n: string) => el('span', `nick ${nickClass(n)}`, n);
    switch (l.kind) {
      case 'msg':
        row.appendChild(nick(l.nick));
        text.appendChild(formatIrc(l.text));
        break;
      case 'notice':
        row.appendChild(el('span', 'nick notice-from', l.nick === '' ? '-server-' : `-${l.nick}-`));
        text.appendChild(formatIrc(l.text));
        break;
      case 'action':
        row.appendChild(el('span', 'star', '*'));
        text.append(nick(l.nick), ' ');
        text.appendChild(formatIrc(l.text));
        break;
      case 'join':
        text.append(nick(l.nick), ' joined');
        break;
      case 'part':
        text.append(nick(l.nick), ' left');
        if (l.text !== '') text.append(' (', formatIrc(l.text), ')');
        break;
      case 'quit':
        text.append(nick(l.nick), ' quit');
        if (l.text !== '') text.append(' (', formatIrc(l.text), ')');
        break;
      case 'nick':
        text.append(nick(l.nick), ' is now known as ', nick(l.text));
        break;
      case 'topic':
        text.append(nick(l.nick), ' set the topic: ');
        text.appendChild(formatIrc(l.text));
        break;
      case 'mode':
        text.append(nick(l.nick || 'server'), ` sets mode ${l.text}`);
        break;
      case 'kick': {
        const sp = l.text.indexOf(' ');
        text.append(nick(l.nick), ' kicked ', nick(sp === -1 ? l.text : l.text.slice(0, sp)));
        const reason = sp === -1 ? '' : l.text.slice(sp + 1);
        if (reason !== '') text.append(' (', formatIrc(reason), ')');
        break;
      }
      default:
        text.appendChild(formatIrc(l.text));
    }
    row.appendChild(text);
    return row;
  }
}
