import { nickProblem, roomProblem } from './casemap.js';

/** The limits client input is held to; events from the bus are held to the same ones. */
export interface BusLimits {
  nickMaxLength: number;
  roomMaxLength: number;
  maxLineLength: number;
  topicMaxLength: number;
}

// What an IRC client may send (formatting bytes, CTCP \x01 pass); CR/LF/NUL/ESC and C1 never do.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const TEXT_BAD = /[\x00\x04-\x08\x0a-\x0e\x10\x12-\x15\x17-\x1c\x7f-\x9f]/;
// user@host fields: a word without controls (`~remote` and node ids included).
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const WORD_BAD = /[\s\x00-\x1f\x7f-\x9f!@,:]/;
const MODES_RE = /^[+-][+\-a-zA-Z]{0,40}$/;
const KINDS = new Set(['say', 'action', 'notice']);
/** Reasons, away messages and mode arguments: generous, but bounded like a line. */
const SHORT_MAX = 512;
const LIST_MAX = 10_000;

type Obj = Record<string, unknown>;

function str(o: Obj, k: string): string | null {
  const v = o[k];
  return typeof v === 'string' ? v : null;
}

/**
 * Returns null when `ev` (parsed JSON from another node) is a well-formed event whose nicks,
 * rooms and texts pass the rules client input passes, else a lowercase reason.
 */
export function busEventProblem(ev: unknown, lim: BusLimits): string | null {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return 'not an object';
  const o = ev as Obj;
  if (typeof o.node !== 'string' || o.node === '' || o.node.length > 100 || WORD_BAD.test(o.node))
    return 'bad node id';
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 1) return 'bad seq';
  const nick = (k: string, allowEmpty = false): string | null => {
    const v = str(o, k);
    if (v === null) return `${k} is not a string`;
    if (allowEmpty && v === '') return null;
    return nickProblem(v, lim.nickMaxLength);
  };
  const room = (v: unknown): string | null =>
    typeof v === 'string' ? roomProblem(v, lim.roomMaxLength) : 'room is not a string';
  const text = (k: string, max: number, allowEmpty = true): string | null => {
    const v = str(o, k);
    if (v === null) return `${k} is not a string`;
    if (!allowEmpty && v === '') return `${k} is empty`;
    if (Buffer.byteLength(v) > max) return `${k} is longer than ${max} bytes`;
    return TEXT_BAD.test(v) ? `${k} holds control characters` : null;
  };
  const word = (k: string, allowEmpty: boolean): string | null => {
    const v = str(o, k);
    if (v === null) return `${k} is not a string`;
    if (v === '') return allowEmpty ? null : `${k} is empty`;
    return v.length > 100 || WORD_BAD.test(v) ? `bad ${k}` : null;
  };
  const who = (allowServer = false): string | null =>
    nick('nick', allowServer) ?? word('user', allowServer) ?? word('host', allowServer);
  const rooms = (v: unknown): string | null => {
    if (!Array.isArray(v) || v.length > LIST_MAX) return 'rooms is not a list';
    for (const r of v) {
      const p = room(r);
      if (p !== null) return p;
    }
    return null;
  };
  switch (o.t) {
    case 'msg':
      if (!KINDS.has(o.kind as string)) return 'bad kind';
      if (
        o.msgid !== undefined &&
        (typeof o.msgid !== 'string' || o.msgid.length > 100 || WORD_BAD.test(o.msgid))
      )
        return 'bad msgid';
      if (o.time !== undefined && (typeof o.time !== 'number' || !Number.isFinite(o.time))) return 'bad time';
      return who() ?? room(o.room) ?? text('text', lim.maxLineLength, false);
    case 'statusmsg':
      if (o.status !== '@' && o.status !== '+') return 'bad status';
      if (!KINDS.has(o.kind as string)) return 'bad kind';
      if (
        o.msgid !== undefined &&
        (typeof o.msgid !== 'string' || o.msgid.length > 100 || WORD_BAD.test(o.msgid))
      )
        return 'bad msgid';
      if (o.time !== undefined && (typeof o.time !== 'number' || !Number.isFinite(o.time))) return 'bad time';
      return who() ?? room(o.room) ?? text('text', lim.maxLineLength, false);
    case 'priv':
      if (!KINDS.has(o.kind as string)) return 'bad kind';
      // `to` is folded (rfc1459 maps ^ to ~), so it is checked as a word.
      return who() ?? word('to', false) ?? text('text', lim.maxLineLength, false);
    case 'join':
      return who() ?? room(o.room) ?? (o.realname === undefined ? null : text('realname', SHORT_MAX));
    case 'part':
      return who() ?? room(o.room) ?? text('reason', SHORT_MAX);
    case 'quit':
      return who() ?? text('reason', SHORT_MAX) ?? rooms(o.rooms);
    case 'nick':
      return who() ?? nick('newNick') ?? rooms(o.rooms);
    case 'topic':
      return who() ?? room(o.room) ?? text('topic', lim.topicMaxLength);
    case 'mode': {
      if (typeof o.modes !== 'string' || !MODES_RE.test(o.modes)) return 'bad modes';
      if (!Array.isArray(o.args) || o.args.length > 40) return 'bad mode args';
      for (const a of o.args) {
        if (typeof a !== 'string' || a.length > SHORT_MAX || /[\s]/.test(a) || TEXT_BAD.test(a))
          return 'bad mode arg';
      }
      return who(true) ?? room(o.room);
    }
    case 'kick':
      return who() ?? room(o.room) ?? nick('target') ?? text('reason', SHORT_MAX);
    case 'away':
      return who() ?? text('away', SHORT_MAX) ?? rooms(o.rooms);
    case 'tagmsg':
      return 'tagmsg never travels on the bus';
    case 'hello':
    case 'bye':
      return null;
    case 'beat':
      return o.digest === undefined || (typeof o.digest === 'string' && /^[0-9a-f]{1,64}$/.test(o.digest))
        ? null
        : 'bad digest';
    case 'sync':
      return typeof o.to === 'string' && o.to.length <= 100 && !WORD_BAD.test(o.to)
        ? null
        : 'bad sync target';
    case 'presence': {
      const r = o.rooms;
      const t = o.topics;
      if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'rooms is not an object';
      if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'topics is not an object';
      let total = 0;
      for (const [name, nicks] of Object.entries(r as Obj)) {
        const p = room(name);
        if (p !== null) return p;
        if (!Array.isArray(nicks)) return 'room members is not a list';
        total += nicks.length;
        if (total > LIST_MAX) return 'too many members';
        for (const n of nicks) {
          if (typeof n !== 'string') return 'member is not a string';
          const bare = n.replace(/^[@+]{1,2}/, '');
          const np = nickProblem(bare, lim.nickMaxLength);
          if (np !== null) return np;
        }
      }
      for (const [name, topic] of Object.entries(t as Obj)) {
        const p = room(name);
        if (p !== null) return p;
        if (
          typeof topic !== 'string' ||
          Buffer.byteLength(topic) > lim.topicMaxLength ||
          TEXT_BAD.test(topic)
        )
          return 'bad topic';
      }
      if (o.nicks !== undefined) {
        if (!Array.isArray(o.nicks) || o.nicks.length > LIST_MAX) return 'nicks is not a list';
        for (const n of o.nicks) {
          const np = typeof n === 'string' ? nickProblem(n, lim.nickMaxLength) : 'nick is not a string';
          if (np !== null) return np;
        }
      }
      return null;
    }
    default:
      return `unknown event type ${JSON.stringify(String(o.t)).slice(0, 40)}`;
  }
}
