import type { Ctx } from './context.js';
import { type HubMember, type Room, splitModes } from './hub.js';
import { loggedIn } from './identity.js';
import { trackLogin } from './nick-ownership.js';

/** What the plain moderation commands need from their connection. */
export interface PlainSession {
  readonly ctx: Ctx;
  readonly member: HubMember;
  readonly room: Room | null;
  say(line: string): void;
  error(text: string): void;
}

export const PLAIN_MODERATION_HELP = [
  '*   /op NICK /deop NICK /voice NICK /devoice NICK   (room operators)',
  '*   /kick NICK [reason] /ban MASK /unban MASK /invite NICK',
  '*   /mode [+-imnpstklbeI args]  show or change the room modes',
  '*   /topic [text]    show or set the topic',
  '*   /away [message]  mark yourself away (no message: back)',
  '*   /whois NICK      who is that',
  '*   /login NAME PASSWORD, /register NAME PASSWORD   accounts',
];

const SHORTCUTS = { op: '+o', deop: '-o', voice: '+v', devoice: '-v', ban: '+b', unban: '-b' } as const;

const PROBLEM_TEXT: Record<string, string> = {
  'not-op': 'you are not an operator of this room',
  'key-set': 'the room already has a key',
};

function applyModes(s: PlainSession, room: Room, modes: string, args: string[]): void {
  const { problems } = s.ctx.hub.mode(s.member, room, splitModes(modes, args));
  for (const p of problems) {
    if (p.code === 'unknown') s.error(`unknown mode "${p.mode}"`);
    else if (p.code === 'no-such-nick' || p.code === 'not-on-channel')
      s.error(`"${p.nick}" is not in ${room.name}`);
    else if (p.code === 'need-param') s.error(`mode ${p.mode} needs an argument`);
    else if (p.code === 'list-full') s.error(`cannot add ${p.mask}: the room's mask lists are full`);
    else s.error(PROBLEM_TEXT[p.code]!);
  }
}

/**
 * Runs a moderation or account command for a plain client; false when `cmd` is not one.
 * Everything goes through the hub, so IRC members see the same MODE/KICK lines.
 */
export function plainModeration(s: PlainSession, cmd: string, arg: string): boolean | Promise<void> {
  const hub = s.ctx.hub;
  const words = arg === '' ? [] : arg.split(/\s+/);
  const needRoom = (): Room | null => {
    if (s.room === null) s.error('you are not in a room');
    return s.room;
  };
  const one = (modes: string): void => {
    const room = needRoom();
    if (room === null) return;
    if (words[0] === undefined) {
      s.error(`usage: /${cmd} NICK`);
      return;
    }
    applyModes(s, room, modes, [words[0]]);
  };
  switch (cmd) {
    case 'op':
    case 'deop':
    case 'voice':
    case 'devoice':
    case 'ban':
    case 'unban':
      one(SHORTCUTS[cmd]);
      return true;
    case 'mode': {
      const room = needRoom();
      if (room === null) return true;
      if (words.length === 0) {
        const [m, ...a] = room.modeParams(true);
        s.say(
          `* modes of ${room.name}: ${[m, ...a].join(' ')}${room.bans.length ? `; bans: ${room.bans.map((b) => b.mask).join(' ')}` : ''}`,
        );
        return true;
      }
      applyModes(s, room, words[0]!, words.slice(1));
      return true;
    }
    case 'kick': {
      const room = needRoom();
      if (room === null) return true;
      if (words[0] === undefined) {
        s.error('usage: /kick NICK [reason]');
        return true;
      }
      const r = hub.kick(s.member, room, words[0], words.slice(1).join(' ') || s.member.nick);
      if (r === 'not-op') s.error(PROBLEM_TEXT['not-op']!);
      else if (r !== null) s.error(`"${words[0]}" is not in ${room.name}`);
      return true;
    }
    case 'invite': {
      const room = needRoom();
      if (room === null) return true;
      if (words[0] === undefined) {
        s.error('usage: /invite NICK');
        return true;
      }
      const r = hub.invite(s.member, room, words[0]);
      if (typeof r === 'string')
        s.error(r === 'not-op' ? PROBLEM_TEXT['not-op']! : `cannot invite "${words[0]}": ${r}`);
      else {
        r.invited(s.member, room, r);
        s.say(`* invited ${r.nick} to ${room.name}`);
      }
      return true;
    }
    case 'topic': {
      const room = needRoom();
      if (room === null) return true;
      if (arg === '') s.say(room.topic === '' ? `* no topic in ${room.name}` : `* topic: ${room.topic}`);
      else if (!hub.setTopic(s.member, room, arg)) s.error(PROBLEM_TEXT['not-op']!);
      return true;
    }
    case 'away':
      hub.setAway(s.member, arg);
      s.say(arg === '' ? '* you are back' : '* you are marked as away');
      return true;
    case 'whois': {
      const m = words[0] === undefined ? undefined : hub.member(words[0]);
      if (m === undefined) {
        s.error(`no such nick "${words[0] ?? ''}"`);
        return true;
      }
      const rooms = [...m.rooms].filter((r) => !r.secret || r.members.has(s.member));
      s.say(`* ${m.nick} is ${m.user}@${m.host}${m.realname ? ` (${m.realname})` : ''}`);
      if (rooms.length > 0)
        s.say(`* ${m.nick} is in ${rooms.map((r) => r.prefix(m, false) + r.name).join(' ')}`);
      if (m.account !== '') s.say(`* ${m.nick} is logged in as ${m.account}`);
      if (m.away !== '') s.say(`* ${m.nick} is away: ${m.away}`);
      s.say(`* ${m.nick} has been idle ${Math.floor((Date.now() - m.lastActive) / 1000)} s`);
      return true;
    }
    case 'login':
    case 'register':
      return account(s, cmd, words);
    default:
      return false;
  }
}

async function account(s: PlainSession, cmd: 'login' | 'register', words: string[]): Promise<void> {
  const store = s.ctx.accounts;
  if (store === null || (cmd === 'register' && !s.ctx.opts.registration)) {
    return s.error(cmd === 'login' ? 'this server has no accounts' : 'account registration is disabled');
  }
  if (store.available?.() === false) return s.error('accounts are unavailable right now, try later');
  if (words.length !== 2) return s.error(`usage: /${cmd} NAME PASSWORD`);
  if (s.member.account !== '') return s.error(`you are already logged in as ${s.member.account}`);
  const [name, password] = words as [string, string];
  if (cmd === 'register') {
    if (!/^[A-Za-z0-9_[\]\\`^{|}-]{1,30}$/.test(name)) return s.error(`invalid account name "${name}"`);
    if (password.length < 6) return s.error('password too short (at least 6 characters)');
  }
  let got: string | null;
  try {
    if (cmd === 'register') got = (await store.register(name, password)) ? name : null;
    else got = await trackLogin(s.member, store.verify(name, password));
  } catch (err) {
    // A store that fails mid-command (its database went away) still gets the user an answer.
    s.ctx.log(`/${cmd} for ${s.member.host}: ${(err as Error).message}`);
    return s.error('accounts are unavailable right now, try later');
  }
  if (s.member.closing) return;
  if (cmd === 'register') {
    if (got === null) return s.error(`account "${name}" already exists`);
    loggedIn(s.member, name);
    s.say(`* account ${name} created; you are logged in`);
    return;
  }
  if (got === null) return s.error('login failed');
  loggedIn(s.member, got);
  s.say(`* you are logged in as ${got}`);
}
