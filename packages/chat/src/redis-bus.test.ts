import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, plainUser } from './__fixtures__/line-client.js';
import { ensureBuilt, findRedisServer, NodeProcess, RedisProcess, until } from './__fixtures__/redis.js';

const bin = findRedisServer();
if (bin === null) {
  console.warn(
    'SKIPPED: redis-server is not installed, so the Redis bus tests do not run (apt-get install redis-server)',
  );
}

describe.skipIf(bin === null)('redisBus: two server processes', () => {
  let redis: RedisProcess;
  let a: NodeProcess;
  let b: NodeProcess;
  const clients: LineClient[] = [];

  beforeAll(async () => {
    ensureBuilt();
    redis = await RedisProcess.start(bin!);
    [a, b] = await Promise.all([NodeProcess.start(redis.url), NodeProcess.start(redis.url)]);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  async function user(port: number, nick: string): Promise<LineClient> {
    const c = await plainUser(port, nick);
    clients.push(c);
    return c;
  }

  it('relays between nodes in order per sender, exactly once, and keeps nicks unique across nodes', async () => {
    const alice = await user(a.port, 'alice');
    const bob = await user(b.port, 'bob');
    await alice.waitFor(/^\* bob joined #lobby$/);
    for (let k = 0; k < 200; k++) alice.send(`a${k}`);
    for (let k = 0; k < 50; k++) bob.send(`b${k}`);
    await bob.waitFor(/^<alice> a199$/);
    await alice.waitFor(/^<bob> b49$/);
    expect(bob.lines.filter((l) => l.startsWith('<alice>'))).toEqual(
      Array.from({ length: 200 }, (_, k) => `<alice> a${k}`),
    );
    expect(alice.lines.filter((l) => l.startsWith('<bob>'))).toEqual(
      Array.from({ length: 50 }, (_, k) => `<bob> b${k}`),
    );
    expect(alice.lines.some((l) => l.startsWith('<alice>'))).toBe(false);
    // The nick registry is shared: case-folded collisions are refused on the other node.
    const dup = await LineClient.open(b.port);
    clients.push(dup);
    await dup.waitFor(/what is your nick/);
    dup.send('ALICE');
    await dup.waitFor(/^\* error: nick "ALICE" is taken$/);
    // /who on node B lists the member of node A; private messages cross nodes.
    bob.send('/who');
    await bob.waitFor(/^\* in #lobby: .*alice/);
    bob.send('/msg Alice over here');
    await alice.waitFor(/^\*bob\* over here$/);
    // A released nick (quit) is free on the other node.
    alice.send('/quit');
    await alice.ended;
    await bob.waitFor(/^\* alice quit/);
    dup.send('alice');
    await dup.waitFor(/^\* hello alice/);
  });

  it('stats() reports every other node: events from it, ms since its last one, and its stream ID lag', async () => {
    const remotesOf = async (n: NodeProcess) =>
      ((await n.stats()).bus.remotes ?? []) as Array<{
        node: string;
        received: number;
        idleMs: number;
        lagMs: number;
        lastId: string;
      }>;
    // Heartbeats every 500 ms (nodeTimeout 2 s): a live node is never silent for long.
    const [ra] = await until('each node to list the other', async () => {
      const [x, y] = await Promise.all([remotesOf(a), remotesOf(b)]);
      return x.length === 1 && y.length === 1 && x[0]!.idleMs < 800 && y[0]!.idleMs < 800 && [x, y];
    });
    const [onA] = ra!;
    expect(onA!.received).toBeGreaterThan(50);
    expect(onA!.lastId).toMatch(/^\d+-\d+$/);
    const [onB] = await remotesOf(b);
    expect(onB!.node).not.toBe(onA!.node);
    // Node B stalls: on node A it goes silent and falls behind the stream A keeps writing to.
    b.proc.kill('SIGSTOP');
    try {
      await until('node A to see node B silent and behind', async () => {
        const [r] = await remotesOf(a);
        return r !== undefined && r.idleMs >= 800 && r.lagMs >= 800;
      });
    } finally {
      b.proc.kill('SIGCONT');
    }
    await until('node B to catch up', async () => {
      const [r] = await remotesOf(a);
      return r !== undefined && r.idleMs < 800 && r.lagMs < 800;
    });
  }, 30_000);

  it('a crashed node: its members leave everywhere once it is silent, and its nicks expire with the lease', async () => {
    const c = await NodeProcess.start(redis.url);
    try {
      const watcher = await user(a.port, 'watcher');
      const ghost = await user(c.port, 'ghost');
      clients.push(ghost);
      await watcher.waitFor(/^\* ghost joined #lobby$/);
      c.proc.kill('SIGKILL');
      await watcher.waitFor(/^\* ghost quit \(node unreachable\)$/, 15_000);
      expect(a.log.some((l) => /node \S+ silent for \d+ s, dropping its members/.test(l))).toBe(true);
      // The nick lease (3 s in the fixture) ran out without renewals: the nick is free again.
      await until('the ghost nick lease to expire', async () => {
        const probe = await LineClient.open(a.port);
        await probe.waitFor(/what is your nick/);
        probe.send('ghost');
        const answer = await probe.waitFor(/^\* (hello|error)/);
        if (answer.startsWith('* hello')) {
          clients.push(probe);
          return true;
        }
        probe.close();
        return false;
      });
    } finally {
      c.proc.kill('SIGKILL');
    }
  });

  it('reconnects after a Redis restart and publishes what was said meanwhile', async () => {
    const carol = await user(a.port, 'carol');
    const dave = await user(b.port, 'dave');
    const frank = await user(b.port, 'frank');
    await carol.waitFor(/^\* dave joined #lobby$/);
    await carol.waitFor(/^\* frank joined #lobby$/);
    await redis.kill();
    await until('node A to notice', async () => !(await a.stats()).bus.connected);
    await until('node B to notice', async () => !(await b.stats()).bus.connected);
    // frank leaves while Redis is away: his quit never reaches node A.
    frank.send('/quit');
    await frank.ended;
    carol.send('said while redis is down');
    await until('the buffered event', async () => (await a.stats()).bus.buffered > 0);
    await redis.restart();
    await until('both nodes to reconnect', async () => {
      const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
      return sa.bus.connected && sb.bus.connected && sa.bus.reconnects >= 1 && sb.bus.reconnects >= 1;
    });
    // After the restart messages flow again both ways, with the loss reported on both sides.
    await until('traffic after the restart', async () => {
      carol.send('after restart');
      try {
        await dave.waitFor(/^<carol> after restart$/, 500);
        return true;
      } catch {
        return false;
      }
    });
    dave.send('dave is back');
    await carol.waitFor(/^<dave> dave is back$/);
    // Frank's quit was buffered on node B and published on reconnect: node A sees it too.
    await carol.waitFor(/^\* frank quit/);
    const from = carol.lines.length;
    carol.send('/who');
    expect(await carol.waitFor(/^\* in #lobby: /, 10_000, from)).not.toMatch(/frank/);
    await dave.waitFor(/^<carol> said while redis is down$/);
    const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
    expect(sa.bus.publishFailed).toBe(0);
    expect(sb.bus.buffered).toBe(0);
    expect(
      a.log.some((l) => /redis back after \d+ ms: publishing \d+ buffered event\(s\), 0 overflowed/.test(l)),
    ).toBe(true);
    // The nick registry was rebuilt from the live nodes: carol is still taken on node B.
    const dup = await LineClient.open(b.port);
    clients.push(dup);
    await dup.waitFor(/what is your nick/);
    dup.send('Carol');
    await dup.waitFor(/^\* error: nick "Carol" is taken$/);
  });
});

describe.skipIf(bin === null)('redisBus: nick registry while Redis is away', () => {
  it('a registration while Redis is down gets a guest nick, upgraded once the lease is confirmed', async () => {
    const { createChatServer } = await import('./server.js');
    const { redisBus } = await import('./redis-bus.js');
    const { Redis } = await import('ioredis');
    const r = await RedisProcess.start(bin!);
    const prefix = 'asyncnet:test';
    const server = createChatServer({
      bus: redisBus({ url: r.url, prefix, maxRetryDelay: 100 }),
      log: () => {},
    });
    let probe: InstanceType<typeof Redis> | null = null;
    try {
      await server.listen();
      const port = server.address()!.port;
      await r.kill();
      await until('the node to notice', async () => !server.stats().bus.connected);
      const erin = await plainUser(port, 'Erin');
      expect(erin.lines.find((l) => l.startsWith('* hello'))).toMatch(/^\* hello Guest\d{4},/);
      await r.restart();
      await until('the reconnect', async () => server.stats().bus.reconnects >= 1);
      probe = new Redis(r.url, { lazyConnect: true });
      await probe.connect();
      const key = `${prefix}:nick:erin`;
      // Before the fix the nick was never written: another node could take it.
      await until('the nick to be claimed', async () => (await probe!.get(key)) !== null, 10_000);
      await erin.waitFor(/^\* Guest\d{4} is now known as Erin$/);
      // And it is released when its owner leaves.
      erin.send('/quit');
      await erin.ended;
      erin.close();
      await until('the release', async () => (await probe!.get(key)) === null, 10_000);
    } finally {
      probe?.disconnect();
      await server.close({ timeout: 200 });
      await r.stop();
    }
  }, 30_000);
});

describe.skipIf(bin === null)('redisBus: malformed events', () => {
  it('a malformed event on the channel is logged and ignored, never crashes the node', async () => {
    const { createChatServer } = await import('./server.js');
    const { redisBus } = await import('./redis-bus.js');
    const { Redis } = await import('ioredis');
    const r = await RedisProcess.start(bin!);
    const logs: string[] = [];
    const server = createChatServer({ bus: redisBus({ url: r.url }), log: (l) => logs.push(l) });
    const raw = new Redis(r.url, { lazyConnect: true });
    const users: LineClient[] = [];
    try {
      await server.listen();
      const port = server.address()!.port;
      users.push(await plainUser(port, 'alice'), await plainUser(port, 'bob'));
      await raw.connect();
      for (const payload of [
        { node: 'evil', seq: 1, t: 'presence' },
        { node: 'evil', seq: 2, t: 'quit', nick: 5 },
        { node: 'evil', seq: 3, t: 'join', room: null, nick: 'x' },
        { node: 'evil', seq: 4, t: 'nick', nick: 'a', rooms: 7 },
        null,
        [1, 2],
      ]) {
        await raw.xadd('asyncnet:chat:stream', '*', 'e', JSON.stringify(payload));
      }
      await until('the malformed events to be counted', async () => server.stats().bus.malformed >= 6);
      expect(logs.some((l) => l.startsWith('dropped a malformed'))).toBe(true);
      users[0]!.send('still here');
      await users[1]!.waitFor(/^<alice> still here$/);
    } finally {
      for (const u of users) u.close();
      raw.disconnect();
      await server.close({ timeout: 200 });
      await r.stop();
    }
  }, 30_000);
});

describe.skipIf(bin === null)('redisBus: a stalled Redis', () => {
  it('does not pile events up in memory, nor hang close(), while Redis does not answer', async () => {
    const { createChatServer } = await import('./server.js');
    const { redisBus } = await import('./redis-bus.js');
    const r = await RedisProcess.start(bin!);
    const server = createChatServer({
      bus: redisBus({ url: r.url, maxBuffered: 100 }),
      log: () => {},
      floodControl: false,
    });
    const users: LineClient[] = [];
    try {
      await server.listen();
      const port = server.address()!.port;
      users.push(await plainUser(port, 'alice'), await plainUser(port, 'bob'));
      const [alice, bob] = users as [LineClient, LineClient];
      await alice.waitFor(/^\* bob joined #lobby$/);
      const before = server.stats().bus.published;
      r.signal('SIGSTOP'); // the connection stays up, Redis just stops answering
      for (let k = 0; k < 500; k++) alice.send(`m${k}`);
      // Local members are not affected.
      await bob.waitFor(/^<alice> m499$/);
      const s = server.stats().bus;
      expect(s.connected).toBe(true);
      expect(s.overflowed).toBeGreaterThanOrEqual(400);
      expect(s.buffered).toBeLessThanOrEqual(100);
      expect(s.published - before).toBeLessThanOrEqual(100);
      // close() does not wait forever on a Redis that does not answer.
      for (const u of users) u.close();
      await server.close({ timeout: 200 });
    } finally {
      r.signal('SIGCONT');
      for (const u of users) u.close();
      await server.close({ timeout: 200 });
      await r.stop();
    }
  }, 30_000);
});

describe.skipIf(bin === null)('redisBus: nick claims while Redis stalls', () => {
  it('gives a guest nick when Redis does not answer in time, and the asked-for nick once it does', async () => {
    const { createChatServer } = await import('./server.js');
    const { redisBus } = await import('./redis-bus.js');
    const { Redis } = await import('ioredis');
    const r = await RedisProcess.start(bin!);
    const prefix = 'asyncnet:stall';
    const server = createChatServer({
      bus: redisBus({ url: r.url, prefix, claimTimeout: 200, nickLease: 600 }),
      log: () => {},
    });
    const probe = new Redis(r.url, { lazyConnect: true });
    let erin: LineClient | null = null;
    try {
      await server.listen();
      await probe.connect();
      r.signal('SIGSTOP');
      // Before the fix registration waited for Redis (here: forever; in general until the
      // registration timeout disconnected the client).
      erin = await plainUser(server.address()!.port, 'erin');
      expect(erin.lines.find((l) => l.startsWith('* hello'))).toMatch(/^\* hello Guest\d{4},/);
      r.signal('SIGCONT');
      await until('the nick to be written', async () => (await probe.get(`${prefix}:nick:erin`)) !== null);
      await erin.waitFor(/^\* Guest\d{4} is now known as erin$/);
      expect(server.stats().bus.nickConflicts).toBe(0);
    } finally {
      r.signal('SIGCONT');
      erin?.close();
      probe.disconnect();
      await server.close({ timeout: 200 });
      await r.stop();
    }
  }, 30_000);
});

describe('redisBus: unreachable', () => {
  it('fails listen() with the connection error and leaves nothing running', async () => {
    const { createChatServer } = await import('./server.js');
    const { redisBus } = await import('./redis-bus.js');
    const { freePort } = await import('./__fixtures__/redis.js');
    const port = await freePort();
    const server = createChatServer({ bus: redisBus({ url: `redis://127.0.0.1:${port}` }), log: () => {} });
    const err = await server.listen().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_BUS_UNAVAILABLE',
      cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
    });
    expect((err as Error).message).toBe(
      `redis at redis://127.0.0.1:${port} is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(server.address()).toBeNull();
    await expect(server.listen()).rejects.toMatchObject({ code: 'ERR_SERVER_CLOSED' });
  });

  it('keeps the password of the Redis URL out of the error', async () => {
    const { createChatServer } = await import('./server.js');
    const { redisBus } = await import('./redis-bus.js');
    const { freePort } = await import('./__fixtures__/redis.js');
    const port = await freePort();
    const url = `redis://chat:s3cret@127.0.0.1:${port}/0`;
    const server = createChatServer({ bus: redisBus({ url }), log: () => {} });
    const err = (await server.listen().catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(`redis at redis://127.0.0.1:${port}/0 is unreachable`);
    expect(err.message).not.toContain('s3cret');
  });
});
