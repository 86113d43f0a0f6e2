import { BlockList, isIP } from 'node:net';

/**
 * curl's NO_PROXY rules: entries separated by commas (and spaces); `*` alone matches every host; a
 * name matches itself and its subdomains (`example.com` and `.example.com` both match `example.com`
 * and `a.example.com`, never `badexample.com`); matching ignores case and a trailing dot; an IP
 * literal matches that address (IPv6 with or without brackets), `addr/bits` a CIDR range; an entry
 * with `:port` matches only that port.
 */
export class NoProxy {
  readonly all: boolean;
  readonly #names: { name: string; port: number }[] = [];
  readonly #ips: { list: BlockList; port: number }[] = [];

  constructor(value: string | undefined) {
    let all = false;
    for (const raw of (value ?? '').split(/[\s,]+/)) {
      let entry = raw.trim().toLowerCase();
      if (entry === '') continue;
      if (entry === '*') {
        all = true;
        continue;
      }
      let port = 0;
      const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry);
      if (m !== null) {
        entry = m[1]!;
        port = Number(m[2]);
      }
      if (entry.startsWith('[') && entry.endsWith(']')) entry = entry.slice(1, -1);
      const slash = entry.indexOf('/');
      const addr = slash === -1 ? entry : entry.slice(0, slash);
      const family = isIP(addr);
      if (family !== 0) {
        const list = new BlockList();
        const type = family === 6 ? 'ipv6' : 'ipv4';
        const bits = slash === -1 ? (family === 6 ? 128 : 32) : Number(entry.slice(slash + 1));
        if (!Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) continue;
        list.addSubnet(addr, bits, type);
        this.#ips.push({ list, port });
        continue;
      }
      if (entry.startsWith('.')) entry = entry.slice(1);
      if (entry.endsWith('.')) entry = entry.slice(0, -1);
      if (entry !== '') this.#names.push({ name: entry, port });
    }
    this.all = all;
  }

  /** Whether `host` (no brackets) at `port` goes direct. */
  matches(host: string, port: number): boolean {
    if (this.all) return true;
    let h = host.toLowerCase();
    if (h.endsWith('.')) h = h.slice(0, -1);
    const family = isIP(h);
    if (family !== 0) {
      const type = family === 6 ? 'ipv6' : 'ipv4';
      for (const e of this.#ips) if ((e.port === 0 || e.port === port) && e.list.check(h, type)) return true;
      return false;
    }
    for (const e of this.#names) {
      if (e.port !== 0 && e.port !== port) continue;
      if (h === e.name) return true;
      if (h.length > e.name.length && h.endsWith(e.name) && h[h.length - e.name.length - 1] === '.')
        return true;
    }
    return false;
  }
}

/** The proxy settings of `proxy: 'env'`, read once when the agent is made (lower-case names win over upper-case, as in curl). */
export interface EnvProxy {
  http: string | undefined;
  https: string | undefined;
  noProxy: NoProxy;
}

/** @internal */
export function readEnvProxy(env: NodeJS.ProcessEnv = process.env): EnvProxy {
  const pick = (name: string) => {
    const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  return { http: pick('http_proxy'), https: pick('https_proxy'), noProxy: new NoProxy(pick('no_proxy')) };
}
