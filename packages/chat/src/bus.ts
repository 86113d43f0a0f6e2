/** What travels between nodes. `node` and `seq` are stamped by the bus. */
export type BusEvent =
  /** `msgid`/`time` are the sender node's, so history and every node agree on them. */
  | {
      t: 'msg';
      room: string;
      nick: string;
      user: string;
      host: string;
      text: string;
      kind: MsgKind;
      msgid?: string;
      time?: number;
    }
  /**
   * STATUSMSG (`PRIVMSG @#room`): a room message for the members with `status` or higher only
   * (`@` ops, `+` voiced and ops). Never stored as room history.
   */
  | {
      t: 'statusmsg';
      room: string;
      status: '@' | '+';
      nick: string;
      user: string;
      host: string;
      text: string;
      kind: MsgKind;
      msgid?: string;
      time?: number;
    }
  | { t: 'priv'; to: string; nick: string; user: string; host: string; text: string; kind: MsgKind }
  | { t: 'join'; room: string; nick: string; user: string; host: string; realname?: string }
  | { t: 'part'; room: string; nick: string; user: string; host: string; reason: string }
  | { t: 'quit'; nick: string; user: string; host: string; reason: string; rooms: string[] }
  | { t: 'nick'; nick: string; user: string; host: string; newNick: string; rooms: string[] }
  | { t: 'topic'; room: string; nick: string; user: string; host: string; topic: string }
  /** Channel mode changes as applied, e.g. `+o-v` with `['ann', 'bob']`. */
  | { t: 'mode'; room: string; nick: string; user: string; host: string; modes: string; args: string[] }
  | { t: 'kick'; room: string; nick: string; user: string; host: string; target: string; reason: string }
  /** IRCv3 TAGMSG (client tags only, local to this node): `target` is the room or the nick. */
  | { t: 'tagmsg'; target: string; nick: string; user: string; host: string }
  /** `away` empty means back; seen by IRC clients with `away-notify`. */
  | { t: 'away'; nick: string; user: string; host: string; away: string; rooms: string[] }
  | { t: 'hello' }
  /**
   * A node's whole state: room members (prefixed `@` op, `+` voice; nicks never start with
   * either), topics, and every registered nick (members in no room too).
   */
  | { t: 'presence'; rooms: Record<string, string[]>; topics: Record<string, string>; nicks?: string[] }
  /** Heartbeat; `digest` hashes the sender's member set so others can detect drift. */
  | { t: 'beat'; digest?: string }
  /** Asks node `to` to publish its presence (its events came from a node we had dropped, or drift). */
  | { t: 'sync'; to: string }
  | { t: 'bye' };

/** `say` is a normal message, `action` is /me, `notice` is an IRC NOTICE. */
export type MsgKind = 'say' | 'action' | 'notice';

/** An event as received from another node. */
export type StampedEvent = BusEvent & { node: string; seq: number };

/** Counters a bus reports in `ChatServer.stats().bus`. */
export interface BusStats {
  /** `memory` or `redis`. */
  kind: 'memory' | 'redis';
  /** Whether the node can currently publish. */
  connected: boolean;
  /** Events this node published. */
  published: number;
  /** Events from other nodes received. */
  received: number;
  /** Events this node could not publish (bus unreachable): lost for other nodes. */
  publishFailed: number;
  /** Events from other nodes known lost (gaps in their sequence numbers). */
  missedRemote: number;
  /** Times the bus connection came back after a loss. */
  reconnects: number;
  /** Local nicks another node had claimed while the registry was unreachable. */
  nickConflicts: number;
  /** Outgoing events waiting for the bus (Redis away or slow). */
  buffered: number;
  /** Outgoing events dropped because the buffer was full (also counted in `publishFailed`). */
  overflowed: number;
  /** Events from the bus dropped as malformed (bad JSON, bad shape, or failing validation). */
  malformed: number;
  /** Events seen twice (a retried publish) and dropped. */
  duplicates: number;
  /** Presence exchanges this node asked for (unknown node or digest drift). */
  resyncs: number;
  /** Nick conflicts resolved by renaming the newer holder to a guest nick. */
  nickConflictsResolved: number;
  /** Ms between the newest event on the bus and the last one this node processed (stream ID distance). */
  lagMs: number;
  /** Every other node this node has heard from, by node id (a node that said bye is forgotten). */
  remotes?: BusRemoteStats[];
}

/** One other node as this node sees it (`BusStats.remotes`). */
export interface BusRemoteStats {
  /** The node's id. */
  node: string;
  /** Events received from it. */
  received: number;
  /** Ms since its last event arrived (a live node beats every quarter of `nodeTimeout`). */
  idleMs: number;
  /**
   * Ms between the newest entry on the bus and the last event from this node processed here
   * (stream ID distance): how far behind that node's view here is. 0 on the memory bus.
   */
  lagMs: number;
  /** Stream ID of its last event processed here; empty on the memory bus. */
  lastId: string;
}

/** Counters at zero: a new node's starting point, and what a server with no node reports. */
export function emptyBusStats(kind: BusStats['kind'], connected: boolean): BusStats {
  return {
    kind,
    connected,
    published: 0,
    received: 0,
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
  };
}

/** Callbacks a node gives its bus. */
export interface BusHandler {
  /** An event from another node (never one of our own); false when it was dropped as malformed. */
  event(ev: StampedEvent): boolean | void;
  /** The bus came back after a loss; re-announce state (nicks, presence). */
  reconnected(): void;
  /** A line for the server log. */
  log(line: string): void;
  /**
   * The registry says another owner holds `folded` (a split brain healed): the member `owner`
   * must give it up. Optional for bus authors that cannot lose a nick.
   */
  nickLost?(folded: string, owner: string): void;
}

/** One stored room message (durable history), or a private message (then `room` is its recipient). */
export interface HistoryEntry {
  /** IRCv3 msgid, the same on every node. */
  msgid: string;
  /** Ms since epoch when the sender's node accepted it. */
  time: number;
  /** The room, or for a private message the nick it was sent to. */
  room: string;
  nick: string;
  user: string;
  host: string;
  text: string;
  kind: MsgKind;
}

/**
 * A history query: the newest `limit` entries before `before`, or the oldest after `after`
 * (exclusive bounds, either a time in ms or a msgid), or both (a range, oldest first).
 */
export interface HistoryQuery {
  before?: number | { msgid: string };
  after?: number | { msgid: string };
  limit: number;
}

/** Room history shared by the nodes of a bus (CHATHISTORY, `/history`, replay on join). */
export interface HistoryStore {
  /** Most recent entries known to this node without a round trip, oldest first (join replay). */
  cached(room: string): readonly HistoryEntry[];
  /** Entries matching `q`, oldest first; falls back to the cache while the store is unreachable. */
  query(room: string, q: HistoryQuery): Promise<HistoryEntry[]>;
  /**
   * Private messages `owner` sent to or got from `peer` (a nick), oldest first, as `query`.
   * `owner` is `a:<folded account>` or `s:<node>/<session>`: a store may keep only accounts'.
   * Optional: without it the node's own bounded memory answers CHATHISTORY for nicks.
   */
  queryPrivate?(owner: string, peer: string, q: HistoryQuery): Promise<HistoryEntry[]>;
  /** The peers `owner` exchanged private messages with between `after` and `before` (exclusive, ms). */
  privateTargets?(owner: string, after: number, before: number): Promise<PrivateTarget[]>;
}

/** One conversation in `CHATHISTORY TARGETS`: the other nick and its newest message time (ms). */
export interface PrivateTarget {
  peer: string;
  time: number;
}

/** One server's attachment to a bus. */
export interface BusNode {
  readonly nodeId: string;
  /** Sends to every other node; never awaits, never throws. */
  publish(ev: BusEvent): void;
  /**
   * Atomically claims a folded nick for `owner`; false when another owner holds it. Rejects when
   * the registry cannot confirm the claim in time (the hub then hands out a guest nick).
   */
  claimNick(folded: string, owner: string): Promise<boolean>;
  /** Releases a nick if `owner` still holds it. */
  releaseNick(folded: string, owner: string): void;
  stats(): BusStats;
  /** Durable room history, when the bus keeps one. */
  readonly history?: HistoryStore;
  close(): Promise<void>;
}

/**
 * A message bus between chat server nodes: {@link memoryBus} (one process) or
 * {@link redisBus} (several processes or machines).
 */
export interface ChatBus {
  /** Attaches one server node; called by `ChatServer.listen()`. */
  attach(handler: BusHandler): Promise<BusNode>;
}

let nodeCounter = 0;
/** A node id unique across processes and restarts. */
export function newNodeId(): string {
  nodeCounter++;
  return `${process.pid.toString(36)}-${Date.now().toString(36)}-${nodeCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The embedded bus: servers attached to the same instance share rooms, presence and nicks inside
 * one process. Every `createChatServer()` without a `bus` option gets its own.
 *
 * @returns a bus to pass as `createChatServer({ bus })`
 * @example
 * ```ts
 * const bus = memoryBus();
 * const a = createChatServer({ bus });
 * const b = createChatServer({ bus });
 * ```
 */
export function memoryBus(): ChatBus {
  const nodes = new Map<string, BusHandler>();
  const nicks = new Map<string, string>();
  return {
    async attach(handler) {
      const nodeId = newNodeId();
      let seq = 0;
      const counters = { published: 0, received: 0 };
      const remotes = new Map<string, { received: number; at: number }>();
      nodes.set(nodeId, {
        ...handler,
        event(ev) {
          counters.received++;
          if (ev.t === 'bye') remotes.delete(ev.node);
          else {
            const r = remotes.get(ev.node) ?? { received: 0, at: 0 };
            r.received++;
            r.at = Date.now();
            remotes.set(ev.node, r);
          }
          handler.event(ev);
        },
      });
      const node: BusNode = {
        nodeId,
        publish(ev) {
          if (!nodes.has(nodeId)) return;
          counters.published++;
          const stamped = { ...ev, node: nodeId, seq: ++seq } as StampedEvent;
          for (const [id, h] of nodes) {
            if (id === nodeId) continue;
            h.event(stamped);
          }
        },
        async claimNick(folded, owner) {
          const held = nicks.get(folded);
          if (held !== undefined && held !== owner) return false;
          nicks.set(folded, owner);
          return true;
        },
        releaseNick(folded, owner) {
          if (nicks.get(folded) === owner) nicks.delete(folded);
        },
        stats() {
          const now = Date.now();
          return {
            ...emptyBusStats('memory', nodes.has(nodeId)),
            ...counters,
            remotes: [...remotes].map(([node, r]) => ({
              node,
              received: r.received,
              idleMs: now - r.at,
              lagMs: 0,
              lastId: '',
            })),
          };
        },
        async close() {
          nodes.delete(nodeId);
          for (const [k, v] of nicks) if (v.startsWith(`${nodeId}/`)) nicks.delete(k);
        },
      };
      return node;
    },
  };
}
