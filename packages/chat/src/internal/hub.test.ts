import { describe, expect, it } from 'vitest';
import { type BusEvent, type BusNode, emptyBusStats, type StampedEvent } from '../bus.js';
import { Hub, type HubMember, type Outgoing, type Room } from './hub.js';

function member(id: number, nick: string, kind: 0 | 1 = 0): HubMember & { got: BusEvent[]; encodes: number } {
  const m = {
    id,
    kind,
    nick,
    folded: '',
    user: 'u',
    host: 'h',
    rooms: new Set<Room>(),
    closing: false,
    registered: true,
    realname: '',
    away: '',
    umodes: new Set<string>(),
    account: '',
    secure: false,
    signon: 0,
    lastActive: 0,
    kill() {},
    invited() {},
    got: [] as BusEvent[],
    encodes: 0,
    deliver(out: Outgoing) {
      if (out.enc[kind] === undefined) {
        m.encodes++;
        out.enc[kind] = new Uint8Array(1);
      }
      m.got.push(out.ev);
    },
  };
  return m;
}

let seq = 0;
const from = (node: string, ev: BusEvent): StampedEvent => ({ ...ev, node, seq: ++seq }) as StampedEvent;

/** Node A's bus, granting every nick; `publish` sees what the hub sends. */
function nodeA(publish: (ev: BusEvent) => void = () => {}): BusNode {
  return {
    nodeId: 'A',
    publish,
    claimNick: async () => true,
    releaseNick: () => {},
    stats: () => emptyBusStats('memory', true),
    close: async () => {},
  };
}

describe('Hub', () => {
  it('encodes a room message once per protocol however many members get it', async () => {
    const hub = new Hub(0, () => {});
    const members = Array.from({ length: 50 }, (_, k) => member(k + 1, `m${k}`, (k % 2) as 0 | 1));
    for (const m of members) {
      expect(await hub.claimNick(m, m.nick)).toBe(true);
      hub.join(m, '#r');
    }
    const sender = members[0]!;
    for (const m of members) m.got.length = 0;
    let encodesBefore = 0;
    for (const m of members) encodesBefore += m.encodes;
    hub.say(sender, hub.room('#R')!, 'hello', 'say');
    let encodes = 0;
    for (const m of members) encodes += m.encodes;
    expect(encodes - encodesBefore).toBe(2);
    expect(sender.got).toEqual([]);
    expect(members.slice(1).every((m) => m.got.length === 1)).toBe(true);
  });

  it('tracks remote members and forgets a node that goes silent', async () => {
    const logs: string[] = [];
    const hub = new Hub(5, (l) => logs.push(l));
    const local = member(1, 'local');
    await hub.claimNick(local, 'local');
    hub.join(local, '#lobby');
    hub.remote(from('nodeB', { t: 'join', room: '#lobby', nick: 'Remote', user: 'u', host: 'h' }));
    expect(hub.room('#lobby')!.nicks()).toEqual(['local', 'Remote']);
    expect(hub.nickTaken('remote', null)).toBe(true);
    hub.remote(
      from('nodeB', {
        t: 'msg',
        room: '#lobby',
        nick: 'Remote',
        user: 'u',
        host: 'h',
        text: 'hi',
        kind: 'say',
      }),
    );
    // A gap in nodeB's sequence numbers is counted and logged.
    seq += 3;
    hub.remote(from('nodeB', { t: 'beat' }));
    expect(hub.missedRemote).toBe(3);
    expect(logs.some((l) => l.includes('missed 3 event(s) from node nodeB'))).toBe(true);
    hub.expireNodes(Date.now() + 10_000, 20_000);
    expect(hub.nickTaken('remote', null)).toBe(true);
    hub.expireNodes(Date.now() + 30_000, 20_000);
    expect(hub.nickTaken('remote', null)).toBe(false);
    expect(hub.room('#lobby')!.nicks()).toEqual(['local']);
    expect(local.got.map((e) => e.t)).toEqual(['join', 'msg', 'quit']);
  });

  it('answers hello with presence and learns presence from others', async () => {
    const published: BusEvent[] = [];
    const hub = new Hub(0, () => {});
    hub.bus = nodeA((ev) => published.push(ev));
    const a = member(1, 'alice');
    await hub.claimNick(a, 'alice');
    hub.join(a, '#x');
    published.length = 0;
    hub.remote(from('B', { t: 'hello' }));
    // Members carry their channel prefix (the creator is op), so remote NAMES can show it.
    expect(published).toEqual([
      expect.objectContaining({ t: 'presence', rooms: { '#x': ['@alice'] }, topics: {} }),
    ]);
    hub.remote(
      from('B', { t: 'presence', rooms: { '#x': ['bob'], '#y': ['carol'] }, topics: { '#y': 'why' } }),
    );
    expect(hub.room('#x')!.nicks()).toEqual(['alice', 'bob']);
    expect(hub.room('#y')!.topic).toBe('why');
    // A member learnt from presence joins visibly (its join event was lost), once.
    expect(a.got).toEqual([expect.objectContaining({ t: 'join', room: '#x', nick: 'bob' })]);
    hub.remote(
      from('B', { t: 'presence', rooms: { '#x': ['bob'], '#y': ['carol'] }, topics: { '#y': 'why' } }),
    );
    expect(a.got).toHaveLength(1);
    // Presence is B's whole state: bob left #x and carol quit while the bus was away (those events
    // were lost); a later presence makes them leave here too instead of lingering as ghosts.
    a.got.length = 0;
    hub.remote(from('B', { t: 'presence', rooms: { '#y': ['bob'] }, topics: {} }));
    expect(hub.room('#x')!.nicks()).toEqual(['alice']);
    expect(hub.room('#y')!.nicks()).toEqual(['bob']);
    expect(hub.nickTaken('carol', null)).toBe(false);
    expect(hub.nickTaken('bob', null)).toBe(true);
    expect(a.got).toEqual([expect.objectContaining({ t: 'part', room: '#x', nick: 'bob' })]);
    hub.remote(from('B', { t: 'presence', rooms: {}, topics: {} }));
    expect(hub.nickTaken('bob', null)).toBe(false);
    expect(hub.room('#y')).toBeUndefined();
    hub.remote(from('B', { t: 'bye' }));
    expect(hub.room('#y')).toBeUndefined();
    expect(hub.room('#x')!.nicks()).toEqual(['alice']);
  });

  it('a split brain: presence while a member here holds the nick, then the registry renames ours; messages find the other', async () => {
    const published: BusEvent[] = [];
    const hub = new Hub(0, () => {});
    hub.bus = nodeA((ev) => published.push(ev));
    const ours = member(1, 'xavier');
    const other = member(2, 'walter');
    await hub.claimNick(ours, 'xavier');
    await hub.claimNick(other, 'walter');
    // Node B reports its own xavier before the registry has settled the conflict.
    hub.remote(from('B', { t: 'presence', rooms: {}, topics: {}, nicks: ['xavier'] }));
    hub.nickLost('xavier', hub.owner(ours));
    expect(ours.nick).toMatch(/^Guest\d{4}$/);
    expect(ours.got).toContainEqual(
      expect.objectContaining({ t: 'nick', nick: 'xavier', newNick: ours.nick }),
    );
    expect(hub.nickTaken('xavier', null)).toBe(true);
    published.length = 0;
    expect(hub.privmsg(other, 'xavier', 'hi', 'say')).not.toBeNull();
    expect(published).toEqual([expect.objectContaining({ t: 'priv', to: 'xavier', text: 'hi' })]);
    // A rename elsewhere of a nick node B holds does not make node B's xavier unknown here.
    hub.remote(from('C', { t: 'nick', nick: 'xavier', user: 'u', host: 'h', newNick: 'xc', rooms: [] }));
    expect(hub.remoteNicks.get('xavier')?.node).toBe('B');
  });
  it('a split brain: the remote twin of a nick held here stays hidden, then joins once ours is renamed', async () => {
    const hub = new Hub(0, () => {});
    hub.bus = nodeA();
    const ours = member(1, 'xavier');
    const walter = member(2, 'walter');
    await hub.claimNick(ours, 'xavier');
    await hub.claimNick(walter, 'walter');
    hub.join(ours, '#x');
    hub.join(walter, '#x');
    walter.got.length = 0;
    // Node B's xavier, by join and by presence: never shown, never listed twice.
    hub.remote(from('B', { t: 'join', room: '#x', nick: 'xavier', user: 'u', host: 'B' }));
    hub.remote(from('B', { t: 'presence', rooms: { '#x': ['xavier'] }, topics: {}, nicks: ['xavier'] }));
    // Node B voices its own xavier: that is the hidden twin's status, not ours.
    hub.remote(
      from('B', { t: 'mode', room: '#x', nick: 'boss', user: 'u', host: 'B', modes: '+v', args: ['xavier'] }),
    );
    expect(hub.room('#x')!.voiced.has(ours)).toBe(false);
    walter.got.length = 0;
    expect(hub.room('#x')!.nicks().sort()).toEqual(['walter', 'xavier']);
    // The registry gives xavier to B's older session: ours becomes a guest, B's xavier appears.
    hub.nickLost('xavier', hub.owner(ours));
    expect(walter.got).toEqual([
      expect.objectContaining({ t: 'nick', nick: 'xavier', newNick: ours.nick }),
      expect.objectContaining({ t: 'join', room: '#x', nick: 'xavier' }),
    ]);
    expect(hub.room('#x')!.nicks().sort()).toEqual([ours.nick, 'walter', 'xavier'].sort());
    expect(hub.room('#x')!.remote.get('xavier')).toMatchObject({ node: 'B', voice: true });
  });

  it('a split brain the other way: the hidden twin is renamed on its node and joins under its new nick', async () => {
    const hub = new Hub(0, () => {});
    const ours = member(1, 'xavier');
    const walter = member(2, 'walter');
    await hub.claimNick(ours, 'xavier');
    await hub.claimNick(walter, 'walter');
    hub.join(ours, '#x');
    hub.join(walter, '#x');
    walter.got.length = 0;
    hub.remote(from('B', { t: 'join', room: '#x', nick: 'xavier', user: 'u', host: 'B' }));
    hub.remote(
      from('B', { t: 'nick', nick: 'xavier', user: 'u', host: 'B', newNick: 'Guest1234', rooms: ['#x'] }),
    );
    expect(walter.got).toEqual([expect.objectContaining({ t: 'join', room: '#x', nick: 'Guest1234' })]);
    expect(hub.room('#x')!.nicks().sort()).toEqual(['Guest1234', 'walter', 'xavier']);
    // A hidden twin that leaves is never seen leave.
    hub.remote(from('B', { t: 'join', room: '#x', nick: 'walter', user: 'u', host: 'B' }));
    hub.remote(from('B', { t: 'part', room: '#x', nick: 'walter', user: 'u', host: 'B', reason: '' }));
    expect(walter.got).toHaveLength(1);
  });
});
