import { Redis } from 'ioredis';
import { type BusNode, type BusStats, type ChatBus, newNodeId, type StampedEvent } from './bus.js';
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
}

// Claim or renew: succeed when free or already ours (atomic on the server).
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
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
      const stats: BusStats = {
        kind: 'redis',
        connected: false,
        published: 0,
        received: 0,
        publishFailed: 0,
        missedRemote: 0,
        reconnects: 0,
        nickConflicts: 0,
      };
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
            if (ok !== 1) {
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

      const renewTimer = setInterval(
        () => {
          if (pub.status !== 'ready' || owned.size === 0) return;
          const p = pub.pipeline();
          for (const [folded, owner] of owned) p.eval(RENEW, 1, nickKey(folded), owner, lease);
          p.exec().catch(() => {});
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
          try {
            ok = (await pub.eval(CLAIM, 1, nickKey(folded), owner, lease)) === 1;
          } catch (err) {
            // Redis is away and the server accepts the nick locally: remember it so that the
            // reconnect reclaims it (or reports the conflict) and renewals and release cover it.
            owned.set(folded, owner);
            throw err;
          }
          if (ok) owned.set(folded, owner);
          return ok;
        },
        releaseNick(folded, owner) {
          if (owned.get(folded) !== owner) return;
          owned.delete(folded);
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
