import type { ChatBus } from '../bus.js';

/** Where each `redisBus()` connects, so a server on it can keep its accounts in the same Redis. */
const configs = new WeakMap<ChatBus, { url: string; prefix: string }>();

export function rememberRedisBus(bus: ChatBus, config: { url: string; prefix: string }): ChatBus {
  configs.set(bus, config);
  return bus;
}

/** The URL and prefix of a `redisBus()`, or undefined for any other bus. */
export function redisBusConfig(bus: ChatBus): { url: string; prefix: string } | undefined {
  return configs.get(bus);
}
