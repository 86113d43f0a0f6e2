// The benchmark's peer bus: plain Redis pub/sub, as the chat bus worked before Redis Streams —
// each event PUBLISHed to one channel, every node SUBSCRIBEd, nicks claimed with SET NX. No
// replay, no dedupe, no buffering while Redis is away: only the fan-out cost, to compare with.
import Redis from 'ioredis';

/** @returns {import('../dist/index.js').ChatBus} */
export function pubsubBus({ url, prefix }) {
  const channel = `${prefix}:events`;
  let counter = 0;
  return {
    async attach(handler) {
      const nodeId = `${process.pid}-${++counter}`;
      const pub = new Redis(url, { lazyConnect: true });
      const sub = new Redis(url, { lazyConnect: true });
      await Promise.all([pub.connect(), sub.connect()]);
      await sub.subscribe(channel);
      let seq = 0;
      const stats = { published: 0, received: 0 };
      sub.on('message', (_, text) => {
        const ev = JSON.parse(text);
        if (ev.node === nodeId) return;
        stats.received++;
        handler.event(ev);
      });
      return {
        nodeId,
        publish(ev) {
          stats.published++;
          pub.publish(channel, JSON.stringify({ ...ev, node: nodeId, seq: ++seq })).catch(() => {});
        },
        async claimNick(folded, owner) {
          const key = `${prefix}:nick:${folded}`;
          if ((await pub.set(key, owner, 'NX')) === 'OK') return true;
          return (await pub.get(key)) === owner;
        },
        releaseNick(folded, owner) {
          const key = `${prefix}:nick:${folded}`;
          pub
            .get(key)
            .then((held) => (held === owner ? pub.del(key) : 0))
            .catch(() => {});
        },
        stats() {
          return {
            kind: 'redis',
            connected: pub.status === 'ready',
            publishFailed: 0,
            missedRemote: 0,
            reconnects: 0,
            nickConflicts: 0,
            buffered: 0,
            overflowed: 0,
            malformed: 0,
            duplicates: 0,
            resyncs: 0,
            nickConflictsResolved: 0,
            lagMs: 0,
            remotes: [],
            ...stats,
          };
        },
        async close() {
          sub.disconnect();
          pub.disconnect();
        },
      };
    },
  };
}
