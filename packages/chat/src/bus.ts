/** What travels between nodes. `node` and `seq` are stamped by the bus. */
export type BusEvent =
  | { t: 'msg'; room: string; nick: string; user: string; host: string; text: string; kind: MsgKind }
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
  | { t: 'presence'; rooms: Record<string, string[]>; topics: Record<string, string> }
  | { t: 'beat' }
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
  };
}

/** Callbacks a node gives its bus. */
export interface BusHandler {
  /** An event from another node (never one of our own). */
  event(ev: StampedEvent): void;
  /** The bus came back after a loss; re-announce state (nicks, presence). */
  reconnected(): void;
  /** A line for the server log. */
  log(line: string): void;
}

/** One server's attachment to a bus. */
export interface BusNode {
  readonly nodeId: string;
  /** Sends to every other node; never awaits, never throws. */
  publish(ev: BusEvent): void;
  /** Atomically claims a folded nick for `owner`; false when another owner holds it. */
  claimNick(folded: string, owner: string): Promise<boolean>;
  /** Releases a nick if `owner` still holds it. */
  releaseNick(folded: string, owner: string): void;
  stats(): BusStats;
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
      nodes.set(nodeId, {
        ...handler,
        event(ev) {
          counters.received++;
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
          return { ...emptyBusStats('memory', nodes.has(nodeId)), ...counters };
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
