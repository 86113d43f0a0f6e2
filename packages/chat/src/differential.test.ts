import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient } from './__fixtures__/line-client.js';
import { findNgircd, NGIRCD_OPER, startNgircd } from './__fixtures__/ngircd.js';
import { hashPassword } from './passwords.js';
import { type ChatServer, createChatServer } from './server.js';

/**
 * The same raw IRC sessions against ngIRCd and ours, comparing the commands and numerics each
 * step gets back (not the text), both for the client that sent it and for the other client.
 *
 * A registered step is `LINE` (sent by `me`) or `peer: LINE`; a leading `~` runs the step without
 * comparing it (setup that gets both servers into the same state). Steps of the unregistered
 * session run before NICK/USER. Each step is fenced by markers (`NOTICE` to the other client and
 * `PING` for registered sessions, `CAP LIST` before registration), so every reply is attributed
 * to the step that caused it without waiting on timers.
 */
const UNREGISTERED: string[] = [
  'PRIVMSG a :b',
  'JOIN #x',
  'PING :early',
  'NICK',
  'USER a',
  'CAP LS 302',
  'CAP REQ :multi-prefix',
  'CAP REQ :no-such-cap',
  'CAP REQ :multi-prefix no-such-cap',
  'CAP LIST',
  'NICK anon',
  'USER anon 0 * :anon',
];

const REGISTERED: string[] = [
  'JOIN #d',
  'peer: JOIN #d',
  // ngIRCd creates channels without modes, we create them +nt (Modern: servers pick defaults).
  '~MODE #d +nt',
  'MODE #d',
  'MODE #d +Z',
  'MODE #d +b',
  'MODE #d +b bad!*@*',
  'MODE #d b',
  'MODE #d -b bad!*@*',
  'MODE #d +o peer',
  'MODE #d -o peer',
  'MODE #d +v peer',
  'MODE #d -v peer',
  'MODE #d +o ghost',
  'peer: MODE #d +m',
  'MODE #d +m',
  'peer: PRIVMSG #d :muted',
  'MODE #d -m',
  'peer: PRIVMSG #d :hello',
  'peer: NOTICE #d :hello',
  'peer: TOPIC #d :nope',
  'TOPIC #d',
  'TOPIC #d :hello',
  'TOPIC #d',
  'peer: TOPIC #d',
  'NAMES #d',
  'NAMES',
  'LIST',
  'LIST #d',
  'LIST #nochan',
  'WHO #d',
  'WHO peer',
  'WHOIS peer',
  'WHOIS ghost',
  'WHOIS',
  'ISON peer ghost',
  'USERHOST peer me',
  'peer: AWAY :gone',
  'PRIVMSG peer :are you there',
  'NOTICE peer :are you there',
  'peer: AWAY',
  'KICK #d ghost',
  'KICK #nochan peer',
  'peer: KICK #d me',
  'KICK #d peer :bye',
  'KICK #d peer',
  'INVITE ghost #d',
  'MODE #d +i',
  'peer: JOIN #d',
  'INVITE peer #d',
  'peer: JOIN #d',
  'INVITE peer #d',
  'MODE #d -i',
  'peer: PART #d',
  'MODE #d +k sekrit',
  'peer: JOIN #d',
  'peer: JOIN #d sekrit',
  'MODE #d -k sekrit',
  'peer: PART #d :later',
  'MODE #d +l 1',
  'peer: JOIN #d',
  'MODE #d -l',
  'MODE #d +s',
  'peer: LIST',
  'peer: NAMES #d',
  'peer: WHOIS me',
  'peer: PRIVMSG #d :from outside',
  'MODE #d -s',
  'peer: JOIN #d',
  'MODE #d +e',
  'MODE #d +e peer!*@*',
  'MODE #d e',
  'peer: MODE #d +e',
  'peer: MODE #d +e me!*@*',
  'MODE #d +b peer!*@*',
  'peer: PART #d',
  'peer: JOIN #d',
  'MODE #d -e peer!*@*',
  'peer: PART #d',
  'peer: JOIN #d',
  'MODE #d -b peer!*@*',
  'MODE #d +I',
  'MODE #d +iI peer!*@*',
  'MODE #d I',
  'peer: JOIN #d',
  'peer: PART #d',
  'MODE #d -I peer!*@*',
  'peer: JOIN #d',
  'MODE #d -i',
  'peer: JOIN #d',
  'MODE #d +imnst',
  'MODE #d -imst',
  'MODE me',
  'MODE me +i',
  'MODE me -i',
  'MODE me +w',
  'MODE me -w',
  'MODE peer +i',
  'MODE ghost +i',
  'MODE me +Q',
  'PRIVMSG #nochan :x',
  'PRIVMSG ghost :x',
  'PRIVMSG',
  'PRIVMSG peer',
  'NOTICE ghost :x',
  'NICK me2',
  'NICK me',
  'NICK peer',
  'NICK 1bad',
  'NICK',
  'WHOWAS me2',
  'WHOWAS ghost',
  // No wrong-password OPER: ngIRCd stalls the client 10 s after one (irc-commands.test covers 464).
  'peer: KILL me :x',
  'peer: WALLOPS :x',
  `OPER boss ${NGIRCD_OPER.password}`,
  'WALLOPS :hello opers',
  'KILL ghost :x',
  'VERSION',
  'TIME',
  'ADMIN',
  'INFO',
  'LUSERS',
  'MOTD',
  'MOTD other.example',
  'TIME other.example',
  'FROBNICATE',
  'JOIN',
  'JOIN #a,#b',
  'PART #a,#b :bye',
  'PART #a',
  'PART #nochan',
  'PING',
  'PING :x',
  'USER a b c d',
  'PASS x',
  'CAP LIST',
  'CAP REQ :multi-prefix',
  'NAMES #d',
  'CAP FROB',
  'JOIN 0',
];

type Side = 'self' | 'other';
/** Intentional differences: numerics/commands we add (`extra`) or leave out (`missing`). */
type Allowance = Partial<Record<Side, { extra?: string[]; missing?: string[] }>> & { why: string };

const ALLOWED: Record<string, Allowance> = {
  register: {
    // 250 (RPL_STATSCONN) is not in Modern; Modern LUSERS "SHOULD" include 252/253/254 even at 0.
    self: { extra: ['252', '253'], missing: ['250'] },
    why: 'Modern LUSERS: RPL_LUSEROP/RPL_LUSERUNKNOWN are part of the reply; 250 is not a Modern numeric',
  },
  LUSERS: {
    self: { extra: ['252', '253'], missing: ['250'] },
    why: 'Modern LUSERS: RPL_LUSEROP/RPL_LUSERUNKNOWN are part of the reply; 250 is not a Modern numeric',
  },
  'CAP END': {
    self: { extra: ['252', '253'], missing: ['250'] },
    why: 'registration burst: same LUSERS difference as above',
  },
  'PING :early': {
    self: { extra: ['PONG'], missing: ['451'] },
    why: 'Modern: PING may be used before registration (clients measure lag during CAP); ngIRCd refuses',
  },
  NICK: {
    self: { extra: ['431'], missing: ['461'] },
    why: 'Modern NICK: ERR_NONICKNAMEGIVEN when the nickname parameter is missing',
  },
  'KICK #d ghost': {
    self: { extra: ['441'], missing: ['401'] },
    why: 'Modern KICK lists ERR_USERNOTINCHANNEL (not ERR_NOSUCHNICK) for a nick that is not on the channel',
  },
  'MODE #d +o ghost': {
    // ngIRCd answers 441 for an unknown nick; Modern's ERR_NOSUCHNICK is exact for it.
    self: { extra: ['401'], missing: ['441'] },
    why: 'Modern ERR_NOSUCHNICK: no client can be found for the supplied nickname',
  },
  'WHOIS peer': {
    // 317 (idle) is optional in Modern; ngIRCd's 378 (host) and 338 are not Modern numerics.
    self: { extra: ['317'], missing: ['378', '338'] },
    why: 'Modern WHOIS: RPL_WHOISIDLE is one of the optional replies; 378/338 are not in Modern',
  },
  'peer: WHOIS me': {
    self: { extra: ['317'], missing: ['378', '338'] },
    why: 'as WHOIS peer',
  },
  'peer: LIST': {
    // ngIRCd always lists its server-local &SERVER channel; we have no & channels (CHANTYPES=#).
    self: { missing: ['322'] },
    why: 'Modern CHANTYPES: which channel types exist is up to the server',
  },
  'WHOWAS me2': {
    // ngIRCd records WHOWAS only on QUIT; Modern WHOWAS covers a nick given up by NICK too.
    self: { extra: ['312', '314'], missing: ['406'] },
    why: 'Modern WHOWAS: a nickname that no longer exists, "either because of a NICK change or the user leaving IRC"',
  },
  'WALLOPS :hello opers': {
    self: { extra: ['WALLOPS'] },
    why: "Modern WALLOPS: servers MAY echo WALLOPS to their sender even without the 'w' user mode",
  },
  'KILL ghost :x': {
    // ngIRCd says nothing; silence would leave an operator guessing.
    self: { extra: ['401'] },
    why: 'Modern ERR_NOSUCHNICK: no client can be found for the supplied nickname',
  },
};

interface Session {
  c: LineClient;
  nick: string;
}

/** Commands/numerics of the lines from `from` on, without the markers, NOTICEs and PINGs. */
function commands(c: LineClient, from: number, to: number, marker: string): string[] {
  const out = new Set<string>();
  for (const l of c.lines.slice(from, to)) {
    if (l.includes(marker)) continue;
    const bare = l.replace(/^@\S+ /, '');
    const cmd = bare.split(' ')[bare.startsWith(':') ? 1 : 0] ?? '';
    if (cmd !== 'NOTICE' && cmd !== 'PING' && cmd !== '') out.add(cmd);
  }
  return [...out].sort();
}

async function register(port: number, nick: string): Promise<{ s: Session; got: string[] }> {
  const c = await LineClient.open(port);
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick}`);
  await c.waitFor(/ (376|422) /);
  return { s: { c, nick }, got: commands(c, 0, c.lines.length, '\0') };
}

type Results = Map<string, Record<Side, string[]>>;

async function runAll(port: number): Promise<Results> {
  const results: Results = new Map();
  let k = 0;
  // Before registration: CAP LIST is answered the same way by both and does not hold registration.
  const anon = await LineClient.open(port);
  for (const line of [...UNREGISTERED, 'CAP END']) {
    const from = anon.lines.length;
    anon.send(line);
    if (line === 'CAP END') {
      await anon.waitFor(/ (376|422) /, 10_000, from);
    } else {
      anon.send('CAP LIST');
      await anon.waitFor((l) => / CAP \S+ LIST/.test(l), 10_000, from);
    }
    const end = line === 'CAP END' ? anon.lines.length : anon.lines.length - 1;
    results.set(line, { self: commands(anon, from, end, '\0'), other: [] });
  }
  anon.close();

  const me = await register(port, 'me');
  const peer = await register(port, 'peer');
  results.set('register', { self: me.got, other: [] });
  for (const step of REGISTERED) {
    const compare = !step.startsWith('~');
    const bare = compare ? step : step.slice(1);
    const byPeer = bare.startsWith('peer: ');
    const line = byPeer ? bare.slice(6) : bare;
    const [actor, other] = byPeer ? [peer.s, me.s] : [me.s, peer.s];
    const marker = `mk${++k}`;
    const fromA = actor.c.lines.length;
    const fromO = other.c.lines.length;
    actor.c.send(line);
    // NOTICE never gets an automatic reply (Modern), so it fences the other side cleanly.
    actor.c.send(`NOTICE ${other.nick} :${marker}`);
    actor.c.send(`PING :${marker}`);
    await Promise.all([
      actor.c.waitFor((l) => l.includes(marker) && l.includes('PONG'), 10_000, fromA),
      other.c.waitFor((l) => l.includes(marker), 10_000, fromO),
    ]);
    if (compare)
      results.set(bare, {
        self: commands(actor.c, fromA, actor.c.lines.length, marker),
        other: commands(other.c, fromO, other.c.lines.length, marker),
      });
  }
  me.s.c.close();
  peer.s.c.close();
  return results;
}

const ngircd = findNgircd();
if (ngircd === null)
  console.warn('[differential] ngircd is not installed: SKIPPING the ngIRCd comparison (apt install ngircd)');

describe.skipIf(ngircd === null)('differential: ngIRCd vs ours', () => {
  let ref: { port: number; stop(): void };
  let ours: ChatServer;
  beforeAll(async () => {
    ref = await startNgircd(ngircd!);
    ours = createChatServer({
      log: () => {},
      floodControl: false,
      motd: ['differential test'],
      operators: [{ name: NGIRCD_OPER.name, password: await hashPassword(NGIRCD_OPER.password) }],
    });
    await ours.listen({ ircPort: 0 });
  });
  afterAll(async () => {
    ref?.stop();
    await ours?.close({ timeout: 200 });
  });

  it('answers every step with the same commands and numerics, except the allowed differences', async () => {
    const [a, b] = await Promise.all([runAll(ref.port), runAll(ours.ircAddress()!.port)]);
    const diffs: string[] = [];
    for (const [step, r] of a) {
      const mine = b.get(step)!;
      const allow = ALLOWED[step];
      for (const side of ['self', 'other'] as const) {
        const extra = mine[side].filter((x) => !r[side].includes(x) && !allow?.[side]?.extra?.includes(x));
        const missing = r[side].filter(
          (x) => !mine[side].includes(x) && !allow?.[side]?.missing?.includes(x),
        );
        if (extra.length > 0 || missing.length > 0)
          diffs.push(`${step} (${side}): ngircd [${r[side].join(' ')}] ours [${mine[side].join(' ')}]`);
      }
    }
    expect(diffs).toEqual([]);
    // The harness must see something: a run where every reply was lost would compare equal.
    expect(b.get('WHOIS peer')?.self).toContain('311');
    expect(a.get('KICK #d peer :bye')?.other).toContain('KICK');
    // Both servers list the exceptions, so +e/+I are compared, not just both refused.
    for (const r of [a, b]) {
      expect(r.get('MODE #d e')?.self).toContain('348');
      expect(r.get('MODE #d I')?.self).toContain('346');
    }
  }, 60_000);
});
