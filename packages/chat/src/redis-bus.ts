import { Redis } from 'ioredis';
import {
  type BusNode,
  type BusStats,
  type ChatBus,
  emptyBusStats,
  newNodeId,
  type StampedEvent,
} from './bus.js';
import { ChatError } from './errors.js';

/** Longest close() waits for Redis to answer the releases and QUIT. */
const CLOSE_WAIT = 1_000;

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

/** Hides a password in a Redis URL before it goes into a message. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** Options for {@link redisBus}. */
export interface RedisBusOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /** Prefix of every key and channel, so several chat networks can share one Redis. @default 'asyncnet:chat' */
  prefix?: string;
  /** Lifetime of a nick claim; renewed every third of it while the client is connected. @default 30000 */
  nickLease?: number;
  /** Longest wait between reconnect attempts. @default 2000 */
  maxRetryDelay?: number;
  /**
   * Most commands waiting for Redis's answer. Over it (Redis stalled but the connection is up)
   * events are not published (counted in `publishFailed`, seen as gaps by other nodes) instead of
   * piling up in memory. @default 10000
   */
  maxInFlight?: number;
  /**
   * Ms to wait for Redis to answer a nick claim; past it the nick is accepted locally, as when
   * Redis is away, and written to Redis by the next lease renewal once it answers. @default 2000
   */
  claimTimeout?: number;
}

// Claim or renew: succeed when free or already ours (atomic on the server).
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * A bus over Redis pub/sub (ioredis): server processes on any number of machines share rooms,
 * presence and the nick registry. Events carry the node id and a per-node sequence number, so a
 * node never re-delivers its own events and counts what it missed; after Redis restarts, nodes
 * reconnect, resubscribe, reclaim their nicks and report the loss in `stats().bus` and the log.
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
  const maxInFlight = options.maxInFlight ?? 10_000;
  const claimTimeout = options.claimTimeout ?? 2_000;
  const channel = `${prefix}:events`;
  const nickKey = (folded: string) => `${prefix}:nick:${folded}`;
  return {
    async attach(handler) {
      const nodeId = newNodeId();
      const redisOptions = {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), maxDelay),
      };
      const pub = new Redis(options.url, redisOptions);
      const sub = new Redis(options.url, { ...redisOptions, autoResubscribe: true });
      const owned = new Map<string, string>();
      /** Owned nicks another node holds in Redis (counted once in `nickConflicts`). */
      const conflicts = new Set<string>();
      const stats: BusStats = emptyBusStats('redis', false);
      let seq = 0;
      let closing = false;
      let downSince = 0;
      let failedAtDown = 0;
      let lastError = '';

      let firstError: Error | null = null;
      const onError = (err: Error) => {
        firstError ??= err;
        if (err.message !== lastError) {
          lastError = err.message;
          if (!closing) handler.log(`redis error: ${err.message}`);
        }
      };
      pub.on('error', onError);
      sub.on('error', onError);
      const lost = () => {
        stats.connected = false;
        if (closing || downSince !== 0) return;
        downSince = Date.now();
        failedAtDown = stats.publishFailed;
        handler.log('redis connection lost; events published meanwhile are lost for other nodes');
      };
      const ready = () => {
        if (pub.status !== 'ready' || sub.status !== 'ready') return;
        stats.connected = true;
        lastError = '';
        if (downSince === 0 || closing) return;
        const ms = Date.now() - downSince;
        downSince = 0;
        stats.reconnects++;
        handler.log(
          `redis back after ${ms} ms: ${stats.publishFailed - failedAtDown} event(s) from this node were not delivered to other nodes; reclaiming ${owned.size} nick(s)`,
        );
        void reclaim().then(() => handler.reconnected());
      };
      for (const c of [pub, sub]) {
        c.on('close', lost);
        c.on('ready', ready);
      }

      const reclaim = async () => {
        for (const [folded, owner] of owned) {
          try {
            const ok = await pub.eval(CLAIM, 1, nickKey(folded), owner, lease);
            if (ok === 1) conflicts.delete(folded);
            else if (!conflicts.has(folded)) {
              conflicts.add(folded);
              stats.nickConflicts++;
              handler.log(`nick "${folded}" was claimed by another node while redis was away`);
            }
          } catch {
            // Still down: the next recovery retries.
          }
        }
      };

      sub.on('message', (_ch: string, raw: string) => {
        let ev: StampedEvent;
        try {
          ev = JSON.parse(raw) as StampedEvent;
        } catch {
          return;
        }
        if (typeof ev !== 'object' || ev === null || typeof ev.node !== 'string') return;
        if (ev.node === nodeId || typeof ev.seq !== 'number' || typeof ev.t !== 'string') return;
        stats.received++;
        // A malformed event (another version, or anyone who can PUBLISH on the channel) must not
        // throw into ioredis's parser: that would crash every node at once.
        try {
          handler.event(ev);
        } catch (err) {
          handler.log(`ignored a malformed ${ev.t} event from node ${ev.node}: ${(err as Error).message}`);
        }
      });

      try {
        await Promise.all([pub.connect(), sub.connect()]);
        await sub.subscribe(channel);
      } catch (err) {
        closing = true;
        pub.disconnect();
        sub.disconnect();
        const cause = firstError ?? err;
        throw new ChatError(
          'ERR_BUS_UNAVAILABLE',
          `redis at ${redactUrl(options.url)} is unreachable: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      }
      stats.connected = true;

      // Renewal claims (sets if free or ours), so a nick accepted locally while Redis did not
      // answer, or lost with Redis's data, is written back; one held by another node is a conflict.
      const renewTimer = setInterval(
        () => {
          if (pub.status !== 'ready' || owned.size === 0 || pub.commandQueue.length >= maxInFlight) return;
          const p = pub.pipeline();
          const batch = [...owned];
          for (const [folded, owner] of batch) p.eval(CLAIM, 1, nickKey(folded), owner, lease);
          p.exec()
            .then((results) => {
              for (const [k, [folded, owner]] of batch.entries()) {
                if (owned.get(folded) !== owner) continue;
                const [err, answer] = results?.[k] ?? [null, null];
                if (err !== null || answer === 1) {
                  conflicts.delete(folded);
                } else if (!conflicts.has(folded)) {
                  conflicts.add(folded);
                  stats.nickConflicts++;
                  handler.log(`nick "${folded}" is held by another node`);
                }
              }
            })
            .catch(() => {});
        },
        Math.max(50, Math.floor(lease / 3)),
      );
      renewTimer.unref();

      const node: BusNode = {
        nodeId,
        publish(ev) {
          if (closing) return;
          const stamped = { ...ev, node: nodeId, seq: ++seq };
          // Not while Redis is away, nor while it does not answer (stalled, SIGSTOPped, a long
          // script): ioredis would queue every event in memory until it answers.
          if (pub.status !== 'ready' || pub.commandQueue.length >= maxInFlight) {
            stats.publishFailed++;
            return;
          }
          stats.published++;
          pub.publish(channel, JSON.stringify(stamped)).catch(() => {
            stats.published--;
            stats.publishFailed++;
          });
        },
        async claimNick(folded, owner) {
          let ok: boolean;
          let timer: ReturnType<typeof setTimeout> | undefined;
          try {
            const answer = await Promise.race([
              pub.eval(CLAIM, 1, nickKey(folded), owner, lease),
              new Promise<never>((_, reject) => {
                timer = setTimeout(
                  () =>
                    reject(
                      new ChatError(
                        'ERR_BUS_UNAVAILABLE',
                        `redis did not answer the claim of nick "${folded}" within ${claimTimeout} ms`,
                      ),
                    ),
                  claimTimeout,
                );
              }),
            ]);
            ok = answer === 1;
          } catch (err) {
            // Redis is away (or not answering) and the server accepts the nick locally: remember
            // it so that renewals and the reconnect claim it (or report the conflict), and release
            // covers it.
            owned.set(folded, owner);
            throw err;
          } finally {
            clearTimeout(timer);
          }
          if (ok) owned.set(folded, owner);
          return ok;
        },
        releaseNick(folded, owner) {
          if (owned.get(folded) !== owner) return;
          owned.delete(folded);
          conflicts.delete(folded);
          if (pub.status === 'ready') pub.eval(RELEASE, 1, nickKey(folded), owner).catch(() => {});
        },
        stats() {
          return { ...stats };
        },
        async close() {
          if (closing) return;
          // Let queued publishes (the 'bye') and releases go out before quitting, but never wait
          // on a Redis that does not answer (stalled): close() must not hang.
          if (pub.status === 'ready') {
            const p = pub.pipeline();
            for (const [folded, owner] of owned) p.eval(RELEASE, 1, nickKey(folded), owner);
            await within(p.exec(), CLOSE_WAIT);
          }
          closing = true;
          owned.clear();
          clearInterval(renewTimer);
          await Promise.all(
            [pub, sub].map(async (c) => {
              if (c.status === 'ready') await within(c.quit(), CLOSE_WAIT);
              c.disconnect();
            }),
          );
        },
      };
      return node;
    },
  };
}
