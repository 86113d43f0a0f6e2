import { redactUrl } from '@asyncnet/streams/adapter';
import type { Redis, RedisOptions } from 'ioredis';
import {
  type BusNode,
  type BusStats,
  type ChatBus,
  emptyBusStats,
  type HistoryEntry,
  newNodeId,
  type StampedEvent,
} from './bus.js';
import { ChatError } from './errors.js';
import { nickProblem, roomProblem } from './internal/casemap.js';
import { rememberRedisBus } from './internal/redis-bus-config.js';
import { entryOf, RedisHistory } from './internal/redis-history.js';

/** Longest close() waits for Redis to answer the releases and QUIT. */
const CLOSE_WAIT = 1_000;
/** Events per XADD pipeline and per XREAD. */
const BATCH = 256;
const READ_COUNT = 1_000;
/** Other nodes tracked in `stats().remotes`. */
const MAX_REMOTES = 1_000;

/** Waits for `p` (its outcome ignored) or `ms`, whichever comes first. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Ms part of a stream ID (`1700000000000-3`). */
function idMs(id: string): number {
  const n = Number.parseInt(id, 10);
  return Number.isFinite(n) ? n : 0;
}

/** Options for {@link redisBus}. */
export interface RedisBusOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /** Prefix of every key, so several chat networks can share one Redis. @default 'asyncnet:chat' */
  prefix?: string;
  /** Lifetime of a nick lease; renewed every third of it while the client is connected. @default 30000 */
  nickLease?: number;
  /** Longest wait between reconnect attempts. @default 2000 */
  maxRetryDelay?: number;
  /**
   * Outgoing events held while Redis is away or slow, published in order once it answers. Past
   * it new events are dropped, counted in `overflowed` and logged; other nodes see the gap.
   * @default 10000
   */
  maxBuffered?: number;
  /** @deprecated the pub/sub bus's name for {@link RedisBusOptions.maxBuffered}. */
  maxInFlight?: number;
  /**
   * Ms a registration waits for Redis to confirm a nick lease; past it the client gets a guest
   * nick (`Guest1234`) that becomes the nick it asked for once the lease is confirmed. @default 2000
   */
  claimTimeout?: number;
  /** Entries kept in the event stream (XADD MAXLEN ~): how far a lagging node can catch up. @default 100000 */
  streamLength?: number;
  /** Messages kept per room in the history stream (XADD MAXLEN ~). @default 1000 */
  historyLength?: number;
  /** Ms a room message is kept in history (XTRIM MINID ~, every minute). 0 keeps them. @default 604800000 */
  historyMaxAge?: number;
  /** Ms one XREAD BLOCK waits before asking again. @default 1000 */
  readBlock?: number;
}

// A lease is `<since>|<owner>`. Claim or renew: set when free or ours. With ARGV[4] = '1' (a
// renewal of a lease we were granted) a lease granted later than ours is taken over: after Redis
// lost its data two sessions may both have been granted the nick, and the older one keeps it.
const CLAIM = `local v = redis.call('GET', KEYS[1])
local set = function() redis.call('SET', KEYS[1], ARGV[3] .. '|' .. ARGV[1], 'PX', ARGV[2]) end
if v == false then set() return 1 end
local bar = string.find(v, '|', 1, true)
if bar == nil then set() return 1 end
if string.sub(v, bar + 1) == ARGV[1] then set() return 1 end
if ARGV[4] == '1' then
  local since = tonumber(string.sub(v, 1, bar - 1))
  if since == nil or since > tonumber(ARGV[3]) then set() return 2 end
end
return 0`;
const RELEASE = `local v = redis.call('GET', KEYS[1])
if v == false then return 0 end
local bar = string.find(v, '|', 1, true)
if bar ~= nil and string.sub(v, bar + 1) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface Queued {
  json: string;
  /** History entry to store with it (room messages). */
  history: HistoryEntry | null;
}

/**
 * A bus over Redis Streams (ioredis, loaded on first use): server processes on any number of
 * machines share rooms, presence, nicks and room history. Every node XADDs its events to one
 * stream and reads it with XREAD BLOCK from the last ID it processed, so a node that reconnects
 * or wakes from a stall resumes where it stopped: nothing is lost while Redis is up, nothing is
 * delivered twice (events carry node id + sequence), and the stream's order is everyone's order.
 * While Redis is away a node buffers its events (bounded) and publishes them on reconnect.
 *
 * @param options - `url` and tuning
 * @returns a bus to pass as `createChatServer({ bus })`; `listen()` then throws ChatError
 *   `ERR_BUS_UNAVAILABLE` (cause: the connection error) when Redis cannot be reached
 * @example
 * ```ts
 * const server = createChatServer({ bus: redisBus({ url: 'redis://127.0.0.1:6379' }) });
 * await server.listen({ port: 6000, ircPort: 6667 });
 * ```
 */
export function redisBus(options: RedisBusOptions): ChatBus {
  const prefix = options.prefix ?? 'asyncnet:chat';
  const lease = options.nickLease ?? 30_000;
  const maxDelay = options.maxRetryDelay ?? 2_000;
  const maxBuffered = options.maxBuffered ?? options.maxInFlight ?? 10_000;
  const claimTimeout = options.claimTimeout ?? 2_000;
  const streamLength = options.streamLength ?? 100_000;
  const historyLength = options.historyLength ?? 1_000;
  const historyMaxAge = options.historyMaxAge ?? 7 * 24 * 3_600_000;
  const readBlock = options.readBlock ?? 1_000;
  const streamKey = `${prefix}:stream`;
  const nickKey = (folded: string) => `${prefix}:nick:${folded}`;
  // A server on this bus keeps its accounts in the same Redis by default (redisAccountStore).
  return rememberRedisBus(
    {
      async attach(handler) {
        // Loaded here, not at module load: memory-bus users never need ioredis.
        const { Redis: RedisClient } = await import('ioredis');
        const nodeId = newNodeId();
        const redisOptions: RedisOptions = {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), maxDelay),
        };
        const pub: Redis = new RedisClient(options.url, redisOptions);
        // XREAD BLOCK holds its connection: reads get their own.
        const rd: Redis = new RedisClient(options.url, redisOptions);
        const history = new RedisHistory(
          pub,
          prefix,
          (e) => nickProblem(e.nick, 200) === null && roomProblem(e.room, 200) === null,
        );
        /** Nicks we hold: folded -> owner and when the lease was first granted. */
        const owned = new Map<string, { owner: string; since: number }>();
        /** Owned nicks another node holds in Redis (counted once in `nickConflicts`). */
        const conflicts = new Set<string>();
        const stats: BusStats = emptyBusStats('redis', false);
        /** Per other node: events accepted, when the last arrived, its stream ID (`stats().remotes`). */
        const remotes = new Map<string, { received: number; at: number; lastId: string }>();
        /** Highest sequence number processed per node: a retried XADD is seen once. */
        const seen = new Map<string, number>();
        const queue: Queued[] = [];
        let seq = 0;
        let closing = false;
        let flushing = false;
        let downSince = 0;
        let overflowAtDown = 0;
        let lastError = '';
        let lastId = '0-0';
        let newestId = '0-0';
        let malformedLogged = 0;

        let firstError: Error | null = null;
        const onError = (err: Error) => {
          firstError ??= err;
          if (err.message !== lastError) {
            lastError = err.message;
            if (!closing) handler.log(`redis error: ${err.message}`);
          }
        };
        pub.on('error', onError);
        rd.on('error', onError);
        const lost = () => {
          stats.connected = false;
          if (closing || downSince !== 0) return;
          downSince = Date.now();
          overflowAtDown = stats.overflowed;
          handler.log(
            `redis connection lost; buffering up to ${maxBuffered} outgoing event(s) until it is back`,
          );
        };
        const ready = () => {
          if (pub.status !== 'ready' || rd.status !== 'ready') return;
          stats.connected = true;
          lastError = '';
          void flush();
          if (downSince === 0 || closing) return;
          const ms = Date.now() - downSince;
          downSince = 0;
          stats.reconnects++;
          handler.log(
            `redis back after ${ms} ms: publishing ${queue.length} buffered event(s), ${stats.overflowed - overflowAtDown} overflowed; resuming reads after ${lastId}; reclaiming ${owned.size} nick(s)`,
          );
          void renew().then(() => handler.reconnected());
        };
        for (const c of [pub, rd]) {
          c.on('close', lost);
          c.on('ready', ready);
        }

        const malformed = (why: string) => {
          stats.malformed++;
          // One line per problem burst, not per event: a flood of junk must not flood the log.
          const now = Date.now();
          if (now - malformedLogged > 1_000) {
            malformedLogged = now;
            handler.log(`dropped a malformed event from the bus (${why}); ${stats.malformed} so far`);
          }
        };

        const deliver = (id: string, fields: string[]) => {
          let raw: string | undefined;
          for (let k = 0; k + 1 < fields.length; k += 2) if (fields[k] === 'e') raw = fields[k + 1];
          if (raw === undefined) return malformed('no e field');
          if (raw.length > 1_048_576) return malformed('oversize');
          let ev: StampedEvent;
          try {
            ev = JSON.parse(raw) as StampedEvent;
          } catch {
            return malformed('bad JSON');
          }
          if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return malformed('not an object');
          if (typeof ev.node !== 'string' || typeof ev.seq !== 'number' || typeof ev.t !== 'string')
            return malformed('no node, seq or type');
          if (ev.node === nodeId) return;
          const last = seen.get(ev.node) ?? 0;
          if (ev.seq <= last) {
            stats.duplicates++;
            return;
          }
          seen.set(ev.node, ev.seq);
          if (ev.t === 'bye') seen.delete(ev.node);
          stats.received++;
          // A throw must not stop the read loop (every node would stop reading at once).
          let accepted: boolean | undefined;
          try {
            accepted = handler.event(ev) !== false;
          } catch (err) {
            handler.log(`ignored a malformed ${ev.t} event from node ${ev.node}: ${(err as Error).message}`);
            return;
          }
          if (!accepted) return;
          // Most recently heard last, so the bound drops the longest silent (ids can be forged).
          const r = remotes.get(ev.node) ?? { received: 0, at: 0, lastId: '' };
          remotes.delete(ev.node);
          if (ev.t !== 'bye') {
            r.received++;
            r.at = Date.now();
            r.lastId = id;
            remotes.set(ev.node, r);
            if (remotes.size > MAX_REMOTES) remotes.delete(remotes.keys().next().value as string);
          }
          // Only what the handler accepted (it validates like client input) is cached as history.
          if (ev.t === 'msg' && ev.kind !== 'notice') history.remember(entryOf(ev, `${ev.node}-${id}`));
        };

        const waitReady = (c: Redis) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(done, 250);
            function done() {
              clearTimeout(t);
              c.off('ready', done);
              resolve();
            }
            c.once('ready', done);
          });

        const readLoop = async () => {
          while (!closing) {
            if (rd.status !== 'ready') {
              await waitReady(rd);
              continue;
            }
            let res: Array<[string, Array<[string, string[]]>]> | null;
            try {
              res = (await rd.xread(
                'COUNT',
                READ_COUNT,
                'BLOCK',
                readBlock,
                'STREAMS',
                streamKey,
                lastId,
              )) as typeof res;
            } catch {
              if (!closing) await waitReady(rd);
              continue;
            }
            if (res === null) continue;
            for (const [, entries] of res) {
              for (const [id, fields] of entries) {
                lastId = id;
                if (idMs(id) > idMs(newestId)) newestId = id;
                deliver(id, fields);
              }
            }
            stats.lagMs = Math.max(0, idMs(newestId) - idMs(lastId));
          }
        };

        const flush = async () => {
          if (flushing || closing) return;
          flushing = true;
          try {
            while (queue.length > 0 && pub.status === 'ready') {
              const batch = queue.slice(0, BATCH);
              const p = pub.pipeline();
              for (const q of batch) {
                p.xadd(streamKey, 'MAXLEN', '~', streamLength, '*', 'e', q.json);
                if (q.history !== null)
                  p.xadd(
                    history.key(q.history.room),
                    'MAXLEN',
                    '~',
                    historyLength,
                    '*',
                    'e',
                    JSON.stringify(q.history),
                  );
              }
              let results: Array<[Error | null, unknown]> | null = null;
              try {
                results = await p.exec();
              } catch {
                results = null;
              }
              // Keep every event from the first that failed on: they go again, in order, and a
              // duplicate (applied but unanswered) is dropped by the readers' sequence check.
              let done = 0;
              let k = 0;
              for (const q of batch) {
                const r = results?.[k++];
                if (q.history !== null) k++;
                if (r === undefined || r[0] !== null) break;
                if (typeof r[1] === 'string' && idMs(r[1]) > idMs(newestId)) newestId = r[1];
                done++;
              }
              queue.splice(0, done);
              stats.published += done;
              stats.buffered = queue.length;
              if (done < batch.length) {
                if (!closing) setTimeout(() => void flush(), 100).unref();
                break;
              }
            }
          } finally {
            flushing = false;
          }
        };

        // Renewal claims (sets when free or ours): a lease lost with Redis's data is written back;
        // one held by an older grant means a split brain healed, and our member gives the nick up.
        const renew = async () => {
          if (pub.status !== 'ready' || owned.size === 0) return;
          const p = pub.pipeline();
          const batch = [...owned];
          for (const [folded, o] of batch) p.eval(CLAIM, 1, nickKey(folded), o.owner, lease, o.since, '1');
          const results = await p.exec().catch(() => null);
          if (results === null) return;
          for (const [k, [folded, o]] of batch.entries()) {
            if (owned.get(folded) !== o) continue;
            const [err, answer] = results[k] ?? [null, null];
            if (answer === 2)
              handler.log(
                `nick "${folded}" was granted again to a newer session on another node; ours keeps it`,
              );
            if (err !== null || answer !== 0) {
              conflicts.delete(folded);
              continue;
            }
            if (!conflicts.has(folded)) {
              conflicts.add(folded);
              stats.nickConflicts++;
            }
            handler.log(`nick "${folded}" is held by an older session on another node; renaming ours`);
            owned.delete(folded);
            if (handler.nickLost !== undefined) {
              handler.nickLost(folded, o.owner);
              stats.nickConflictsResolved++;
            }
          }
        };

        const lagTimer = setInterval(() => {
          if (pub.status !== 'ready') return;
          pub
            .xrevrange(streamKey, '+', '-', 'COUNT', 1)
            .then((rows) => {
              const id = rows[0]?.[0];
              if (id !== undefined && idMs(id) > idMs(newestId)) newestId = id;
              stats.lagMs = Math.max(0, idMs(newestId) - idMs(lastId));
            })
            .catch(() => {});
        }, 1_000);
        lagTimer.unref();

        const trimTimer = setInterval(() => {
          if (pub.status !== 'ready' || historyMaxAge <= 0) return;
          // Trim by age the rooms this node knows; MAXLEN on every XADD bounds them by count.
          const minId = `${Math.max(0, Date.now() - historyMaxAge)}-0`;
          void (async () => {
            let cursor = '0';
            do {
              const [next, keys] = await pub.scan(cursor, 'MATCH', `${prefix}:history:*`, 'COUNT', 500);
              cursor = next;
              for (const key of keys) await pub.xtrim(key, 'MINID', '~', minId);
            } while (cursor !== '0' && !closing);
          })().catch(() => {});
        }, 60_000);
        trimTimer.unref();

        try {
          await Promise.all([pub.connect(), rd.connect()]);
          // Start at the stream's end: older events are other nodes' past, told by presence.
          const tail = await pub.xrevrange(streamKey, '+', '-', 'COUNT', 1);
          lastId = tail[0]?.[0] ?? '0-0';
          newestId = lastId;
          await history.load();
        } catch (err) {
          closing = true;
          clearInterval(lagTimer);
          clearInterval(trimTimer);
          pub.disconnect();
          rd.disconnect();
          const cause = firstError ?? err;
          throw new ChatError(
            'ERR_BUS_UNAVAILABLE',
            `redis at ${redactUrl(options.url)} is unreachable: ${(cause as Error).message}`,
            { cause },
          );
        }
        stats.connected = true;
        const reading = readLoop();

        const renewTimer = setInterval(() => void renew(), Math.max(50, Math.floor(lease / 3)));
        renewTimer.unref();

        const node: BusNode = {
          nodeId,
          history,
          publish(ev) {
            if (closing) return;
            const stamped = { ...ev, node: nodeId, seq: ++seq };
            if (queue.length >= maxBuffered) {
              stats.overflowed++;
              stats.publishFailed++;
              if (stats.overflowed === 1 || stats.overflowed % 1_000 === 0)
                handler.log(
                  `outgoing buffer full (${maxBuffered} events, redis away or slow): ${stats.overflowed} event(s) dropped so far`,
                );
              return;
            }
            let entry: HistoryEntry | null = null;
            if (ev.t === 'msg' && ev.kind !== 'notice') {
              entry = entryOf(ev, `${nodeId}-${stamped.seq}`);
              history.remember(entry);
            }
            queue.push({ json: JSON.stringify(stamped), history: entry });
            stats.buffered = queue.length;
            if (!flushing) void flush();
          },
          async claimNick(folded, owner) {
            if (pub.status !== 'ready') {
              // Bounded wait for a reconnect, then the hub hands out a guest nick.
              await within(
                new Promise<void>((r) => pub.once('ready', () => r())),
                Math.min(claimTimeout, 500),
              );
            }
            const since = Date.now();
            let timer: ReturnType<typeof setTimeout> | undefined;
            try {
              const answer = await Promise.race([
                pub.eval(CLAIM, 1, nickKey(folded), owner, lease, since, '0'),
                new Promise<never>((_, reject) => {
                  timer = setTimeout(
                    () =>
                      reject(
                        new ChatError(
                          'ERR_BUS_UNAVAILABLE',
                          `redis did not confirm the lease of nick "${folded}" within ${claimTimeout} ms`,
                        ),
                      ),
                    claimTimeout,
                  );
                }),
              ]);
              if (answer !== 1) return false;
            } finally {
              clearTimeout(timer);
            }
            owned.set(folded, { owner, since });
            return true;
          },
          releaseNick(folded, owner) {
            if (owned.get(folded)?.owner !== owner) return;
            owned.delete(folded);
            conflicts.delete(folded);
            if (pub.status === 'ready') pub.eval(RELEASE, 1, nickKey(folded), owner).catch(() => {});
          },
          stats() {
            const now = Date.now();
            const newest = idMs(newestId);
            return {
              ...stats,
              buffered: queue.length,
              remotes: [...remotes].map(([id, r]) => ({
                node: id,
                received: r.received,
                idleMs: now - r.at,
                lagMs: Math.max(0, newest - idMs(r.lastId)),
                lastId: r.lastId,
              })),
            };
          },
          async close() {
            if (closing) return;
            // Let buffered events (the 'bye') and releases go out, but never wait on a Redis that
            // does not answer (stalled): close() must not hang.
            if (pub.status === 'ready') {
              await within(
                (async () => {
                  while (queue.length > 0 && pub.status === 'ready') {
                    await flush();
                    if (queue.length > 0) await new Promise((r) => setTimeout(r, 20));
                  }
                })(),
                CLOSE_WAIT,
              );
              const p = pub.pipeline();
              for (const [folded, o] of owned) p.eval(RELEASE, 1, nickKey(folded), o.owner);
              await within(p.exec(), CLOSE_WAIT);
            }
            closing = true;
            owned.clear();
            clearInterval(renewTimer);
            clearInterval(lagTimer);
            clearInterval(trimTimer);
            rd.disconnect();
            await within(reading, CLOSE_WAIT);
            if (pub.status === 'ready') await within(pub.quit(), CLOSE_WAIT);
            pub.disconnect();
          },
        };
        return node;
      },
    },
    { url: options.url, prefix },
  );
}
