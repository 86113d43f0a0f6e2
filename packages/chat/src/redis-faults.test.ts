import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ircUser, LineClient, plainUser } from './__fixtures__/line-client.js';
import {
  ensureBuilt,
  findRedisServer,
  NodeProcess,
  RedisProcess,
  until as untilWithin,
} from './__fixtures__/redis.js';

// Fault tests of the Redis Streams bus: real redis-server and chat server child processes.
// The outage and the Redis stall last what the cluster's guarantees are stated for (Redis down
// 5 s, SIGSTOPped 10 s); a stalled node stays stopped until the other dropped it. Every wait is a
// condition with a generous deadline, never a sleep used as an assertion.

const bin = findRedisServer();

// Recovery from an injected outage or stall takes longer than the bus tests' waits.
const until = <T>(what: string, fn: () => Promise<T | false | undefined>, timeoutMs = 30_000): Promise<T> =>
  untilWithin(what, fn, timeoutMs);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisProcess | null = null;
const nodes: NodeProcess[] = [];
const clients: LineClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const n of nodes) n.proc.kill('SIGCONT');
  redis?.signal('SIGCONT');
  await Promise.all(nodes.splice(0).map((n) => n.kill()));
  await redis?.stop();
  redis = null;
});

async function start(n: number, persist: boolean, options = {}): Promise<NodeProcess[]> {
  ensureBuilt();
  redis = await RedisProcess.start(bin!, persist);
  const started = await Promise.all(Array.from({ length: n }, () => NodeProcess.start(redis!.url, options)));
  nodes.push(...started);
  return started;
}

async function user(port: number, nick: string): Promise<LineClient> {
  const c = await plainUser(port, nick);
  clients.push(c);
  return c;
}

/** Lines `<nick> prefixN` in arrival order, as numbers. */
function seqOf(c: LineClient, nick: string, prefix: string): number[] {
  const re = new RegExp(`^<${nick}> ${prefix}(\\d+)$`);
  const out: number[] = [];
  for (const l of c.lines) {
    const m = re.exec(l);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

async function crossTraffic(fault: () => Promise<void>, heal: () => Promise<void>): Promise<void> {
  const [a, b] = nodes as [NodeProcess, NodeProcess];
  const alice = await user(a.port, 'alice');
  const bob = await user(b.port, 'bob');
  await alice.waitFor(/^\* bob joined #lobby$/);
  for (let k = 0; k < 500; k++) {
    alice.send(`a${k}`);
    bob.send(`b${k}`);
  }
  await fault();
  for (let k = 500; k < 1000; k++) {
    alice.send(`a${k}`);
    bob.send(`b${k}`);
  }
  await heal();
  await bob.waitFor(/^<alice> a999$/, 60_000);
  await alice.waitFor(/^<bob> b999$/, 60_000);
  const all = Array.from({ length: 1000 }, (_, k) => k);
  // Exactly once and in order: the arrival sequence is 0..999 with nothing missing or repeated.
  expect(seqOf(bob, 'alice', 'a')).toEqual(all);
  expect(seqOf(alice, 'bob', 'b')).toEqual(all);
}

describe.skipIf(bin === null)('redis streams bus under faults', () => {
  it('loses and duplicates nothing while Redis is down (kill -9, 5 s, AOF on) and two nodes send 1,000 each', async () => {
    await start(2, true);
    await crossTraffic(
      async () => {
        await redis!.kill();
        await until('both nodes to notice', async () => {
          const s = await Promise.all(nodes.map((n) => n.stats()));
          return s.every((x) => !x.bus.connected);
        });
        await sleep(5_000); // the outage itself
      },
      () => redis!.restart(),
    );
    const [sa, sb] = await Promise.all(nodes.map((n) => n.stats()));
    expect(sa.bus.overflowed + sb.bus.overflowed).toBe(0);
    expect(sa.bus.missedRemote + sb.bus.missedRemote).toBe(0);
    expect(nodes[0]!.log.some((l) => /redis back after \d+ ms: publishing \d+ buffered/.test(l))).toBe(true);
  }, 120_000);

  it('loses and duplicates nothing while Redis is SIGSTOPped 10 s (past nodeTimeout) and two nodes send 1,000 each', async () => {
    await start(2, false);
    await crossTraffic(
      async () => {
        redis!.signal('SIGSTOP');
        await sleep(10_000); // the stall itself
      },
      async () => redis!.signal('SIGCONT'),
    );
    // Both nodes dropped each other during the stall and re-synced from the backlog.
    const [sa, sb] = await Promise.all(nodes.map((n) => n.stats()));
    expect(sa.bus.resyncs + sb.bus.resyncs).toBeGreaterThan(0);
  }, 120_000);

  it('a node SIGSTOPped past nodeTimeout: membership agrees again within 2 x heartbeat of resuming, PMs both ways', async () => {
    // The heartbeat is a quarter of nodeTimeout: 1 s here, so membership must agree within 2 s.
    const nodeTimeout = 4_000;
    const heartbeat = nodeTimeout / 4;
    const [a, b] = await start(2, false, { nodeTimeout });
    const alice = await user(a!.port, 'alice');
    const bob = await user(b!.port, 'bob');
    await alice.waitFor(/^\* bob joined #lobby$/);
    b!.proc.kill('SIGSTOP');
    await alice.waitFor(/^\* bob quit \(node unreachable\)$/, 20_000);
    await sleep(1_000); // stay stopped past the drop
    b!.proc.kill('SIGCONT');
    const resumed = Date.now();
    // Polled continuously: the first answer pair that agrees bounds the convergence time from
    // above (each answer reflects the node's state when it was sent).
    const members = async (c: LineClient) => {
      const from = c.lines.length;
      c.send('/who');
      const l = await c.waitFor(/^\* in #lobby: /, 10_000, from);
      return l
        .replace(/^\* in #lobby: /, '')
        .split(', ')
        .sort()
        .join(',');
    };
    const agreed = async () => {
      const [wa, wb] = await Promise.all([members(alice), members(bob)]);
      return wa === 'alice,bob' && wb === 'alice,bob';
    };
    await until('membership to agree on both nodes', agreed, 20_000);
    const took = Date.now() - resumed;
    expect(took).toBeLessThanOrEqual(2 * heartbeat);
    alice.send('/msg bob hi bob');
    await bob.waitFor(/^\*alice\* hi bob$/);
    bob.send('/msg alice hi alice');
    await alice.waitFor(/^\*bob\* hi alice$/);
  }, 90_000);

  it('split brain (a node stalled past its nick lease while the other granted the nick): the newer session becomes a guest, WHOIS/NAMES agree on both nodes, PMs reach the older', async () => {
    const nickLease = 3_000;
    const [a, b] = await start(2, false, { nodeTimeout: 2_000, nickLease });
    const older = await user(a!.port, 'xavier');
    const walter = await user(b!.port, 'walter');
    await older.waitFor(/^\* walter joined #lobby$/);
    const raw = new Redis(redis!.url);
    try {
      a!.proc.kill('SIGSTOP');
      await walter.waitFor(/^\* xavier quit \(node unreachable\)$/, 20_000);
      await until(
        'the stalled lease to expire',
        async () => (await raw.get('asyncnet:chat:nick:xavier')) === null,
        10_000,
      );
      // Node B no longer sees node A's xavier and Redis holds no lease: it grants the nick again.
      const newer = await user(b!.port, 'xavier');
      expect(newer.lines.some((l) => l.startsWith('* hello xavier,'))).toBe(true);
      a!.proc.kill('SIGCONT');
      const notice = await newer.waitFor(
        /nick "xavier" belongs to an older session on another node; you are now Guest\d{4}$/,
        20_000,
      );
      const guest = /(Guest\d{4})$/.exec(notice)![1]!;
      expect(newer.lines).toContain(`* xavier is now known as ${guest}`);
      // The older session keeps its nick and is never told to change it; it never sees a second
      // xavier either: the newer one stays hidden on its node until renamed, then joins as the guest.
      await older.waitFor(new RegExp(`^\\* ${guest} joined #lobby$`), 20_000);
      expect(older.lines.some((l) => /^\* you are now known as |older session on another node/.test(l))).toBe(
        false,
      );
      expect(older.lines).not.toContain('* xavier joined #lobby');

      // IRC observers on each node: NAMES and WHOIS must tell the same story everywhere.
      const oa = await ircUser(a!.irc, 'obsa');
      const ob = await ircUser(b!.irc, 'obsb');
      clients.push(oa, ob);
      oa.send('JOIN #lobby');
      ob.send('JOIN #lobby');
      const names = async (c: LineClient) => {
        const from = c.lines.length;
        c.send('NAMES #lobby');
        await c.waitFor(/ 366 /, 10_000, from);
        return c.lines
          .slice(from)
          .filter((l) => / 353 /.test(l))
          .flatMap((l) => l.slice(l.indexOf(' :', 1) + 2).split(' '))
          .map((n) => n.replace(/^[~&@%+]+/, ''))
          .sort()
          .join(',');
      };
      const expected = ['obsa', 'obsb', guest, 'walter', 'xavier'].sort().join(',');
      await until('NAMES to agree on both nodes', async () => {
        const [na, nb] = await Promise.all([names(oa), names(ob)]);
        return na === expected && nb === expected;
      });
      const whois = async (c: LineClient, nick: string) => {
        const from = c.lines.length;
        c.send(`WHOIS ${nick}`);
        await c.waitFor(/ 318 /, 10_000, from);
        return (
          c.lines
            .slice(from)
            .find((l) => / 311 /.test(l))
            ?.split(' ')
            .slice(3, 6) ?? []
        );
      };
      // On node A xavier is a local member; on node B it is a member of the same node as obsa.
      const [na, userA] = await whois(oa, 'xavier');
      expect(na).toBe('xavier');
      expect(userA).not.toBe('~remote');
      const [nb, userB, hostB] = await whois(ob, 'xavier');
      const [, , nodeOfObsa] = await whois(ob, 'obsa');
      expect([nb, userB, hostB]).toEqual(['xavier', '~remote', nodeOfObsa]);
      const [gn, gUser] = await whois(oa, guest);
      expect([gn, gUser]).toEqual([guest, '~remote']);

      // PMs to xavier from either node reach the older session, never the renamed one.
      ob.send('PRIVMSG xavier :from b');
      oa.send('PRIVMSG xavier :from a');
      walter.send('/msg xavier from walter');
      await older.waitFor(/^\*obsb\* from b$/);
      await older.waitFor(/^\*obsa\* from a$/);
      await older.waitFor(/^\*walter\* from walter$/);
      oa.send(`PRIVMSG ${guest} :to the guest`);
      await newer.waitFor(/^\*obsa\* to the guest$/);
      expect(newer.lines.some((l) => l.includes('from b') || l.includes('from walter'))).toBe(false);
      const sb = await b!.stats();
      expect(sb.bus.nickConflictsResolved).toBe(1);
    } finally {
      raw.disconnect();
    }
  }, 90_000);

  it('Redis down while two nodes register the same nick: one gets it, the other a guest nick and a notice', async () => {
    const [a, b] = await start(2, false);
    await redis!.kill();
    await until('both nodes to notice', async () => {
      const s = await Promise.all([a!.stats(), b!.stats()]);
      return s.every((x) => !x.bus.connected);
    });
    const [xa, xb] = await Promise.all([LineClient.open(a!.port), LineClient.open(b!.port)]);
    clients.push(xa, xb);
    await Promise.all([xa.waitFor(/what is your nick/), xb.waitFor(/what is your nick/)]);
    xa.send('xavier');
    xb.send('xavier');
    // Neither is granted the nick without a lease confirmed in Redis.
    await xa.waitFor(/^\* hello Guest\d{4},/);
    await xb.waitFor(/^\* hello Guest\d{4},/);
    await redis!.restart();
    const own = (c: LineClient) =>
      /^\* hello (Guest\d{4}),/.exec(c.lines.find((l) => l.startsWith('* hello')) ?? '')?.[1];
    // The winner sees its own rename, then the notice (the loser sees the rename too, of the other).
    const won = (c: LineClient) =>
      c.lines.includes(`* ${own(c)} is now known as xavier`) &&
      c.lines.some((l) => l.includes('the nick registry confirmed "xavier"'));
    const lost = (c: LineClient) =>
      c.lines.some((l) => /nick "xavier" is taken; you stay Guest\d{4}/.test(l));
    await until(
      'one to win and one to be told',
      async () => (won(xa) && lost(xb)) || (won(xb) && lost(xa)),
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\nA:\n${xa.lines.join('\n')}\nB:\n${xb.lines.join('\n')}\nlogA:\n${a!.log.join('\n')}`,
      );
    });
    // Still so a lease period later (no late second grant).
    await sleep(1_500);
    expect([won(xa), won(xb)].filter(Boolean)).toHaveLength(1);
  }, 60_000);

  it('both nodes killed -9 and restarted: history of #lobby is served on join and by /history', async () => {
    const [a, b] = await start(2, true);
    const alice = await user(a!.port, 'alice');
    const bob = await user(b!.port, 'bob');
    await alice.waitFor(/^\* bob joined #lobby$/);
    for (let k = 0; k < 30; k++) alice.send(`h${k}`);
    await bob.waitFor(/^<alice> h29$/);
    await until('the history to be stored', async () => {
      const from = alice.lines.length;
      alice.send('/history 30');
      const l = await alice.waitFor(/^\* history of #lobby \(\d+\):$/, 10_000, from);
      return l === '* history of #lobby (30):';
    });
    await Promise.all([a!.kill(), b!.kill()]);
    nodes.length = 0;
    const [a2, b2] = await Promise.all([NodeProcess.start(redis!.url), NodeProcess.start(redis!.url)]);
    nodes.push(a2, b2);
    const carol = await user(b2.port, 'carol');
    await carol.waitFor(/^\* end of recent messages$/);
    const k0 = carol.lines.indexOf('* recent messages in #lobby:');
    expect(carol.lines.slice(k0 + 1, k0 + 21)).toEqual(
      Array.from({ length: 20 }, (_, k) => `<alice> h${k + 10}`),
    );
    const from = carol.lines.length;
    carol.send('/history 30');
    await carol.waitFor(/^\* end of history$/, 10_000, from);
    const h = carol.lines.slice(from);
    expect(h[0]).toBe('* history of #lobby (30):');
    expect(h.slice(1, 31)).toEqual(Array.from({ length: 30 }, (_, k) => `<alice> h${k}`));
  }, 90_000);

  it('hostile events XADDed straight to the stream are dropped and counted; no client sees them', async () => {
    const [a, b] = await start(2, false);
    const alice = await user(a!.port, 'alice');
    const bob = await user(b!.port, 'bob');
    await alice.waitFor(/^\* bob joined #lobby$/);
    const raw = new Redis(redis!.url);
    try {
      const ev = { node: 'evil', t: 'msg', room: '#lobby', user: 'u', host: 'h', kind: 'say' };
      const payloads = [
        JSON.stringify({ ...ev, seq: 1, nick: 'x\r\n:asyncnet.chat 001 alice :forged', text: 'evil1' }),
        JSON.stringify({ ...ev, seq: 2, nick: 'mallory', text: 'evil2\0nul' }),
        JSON.stringify({ ...ev, seq: 3, nick: 'mallory', text: 'evil3\x1b[2Jesc' }),
        JSON.stringify({ ...ev, seq: 4, nick: 'mallory', text: `evil4${'x'.repeat(5_000)}` }),
        JSON.stringify({
          node: 'evil',
          seq: 5,
          t: 'topic',
          room: '#lobby',
          nick: 'm',
          user: 'u',
          host: 'h',
          topic: 'evil5\x1b]0;',
        }),
        JSON.stringify({
          node: 'evil',
          seq: 6,
          t: 'join',
          room: '#lobby\r\nQUIT',
          nick: 'mallory',
          user: 'u',
          host: 'h',
        }),
        '{"node":"evil","seq":7,"t":"msg", evil7',
        'null',
        JSON.stringify({
          node: 'evil',
          seq: 8,
          t: 'presence',
          rooms: { '#lobby': ['ok', 'bad\nnick'] },
          topics: {},
        }),
      ];
      for (const p of payloads) await raw.xadd('asyncnet:chat:stream', '*', 'e', p);
      await raw.xadd('asyncnet:chat:stream', '*', 'x', 'no e field');
      const expected = payloads.length + 1;
      await until('both nodes to count every hostile event', async () => {
        const s = await Promise.all([a!.stats(), b!.stats()]);
        return s.every((x) => x.bus.malformed >= expected);
      });
      // Traffic still flows, and arrives after anything the hostile entries could have caused.
      alice.send('after the junk');
      await bob.waitFor(/^<alice> after the junk$/);
      for (const c of [alice, bob]) {
        expect(
          c.lines.some((l) => /evil|forged|mallory/.test(l) || l.includes('\x1b') || l.includes('\0')),
        ).toBe(false);
      }
      const s = await a!.stats();
      expect(s.bus.malformed).toBe(expected);
    } finally {
      raw.disconnect();
    }
  }, 60_000);
});
