import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  type AddressInfo,
  type LookupFunction,
  type Server as NetServer,
  connect as netConnect,
  createServer as netCreateServer,
  type Socket,
} from 'node:net';
import { makeCert } from '@asyncnet-internal/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { portOf, sleep, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import { reusePortUnsupported, startServer } from './server.js';
import type { StreamWriter } from './stream-writer.js';

const { start, servers } = useServers();
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function canBind(host: string): Promise<boolean> {
  const s = netCreateServer();
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, host, resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

function hasCommand(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const ipv6 = await canBind('::1');
const ss = hasCommand('ss', ['-V']);
const python = hasCommand('python3', ['-c', 'pass']);
if (!ipv6) console.warn('socket options: IPv6 loopback (::1) is unavailable here; the ::1 cases are skipped');
if (!ss) console.warn('socket options: `ss` is missing; the keepAlive/backlog kernel checks are skipped');
if (!python)
  console.warn('socket options: python3 is missing; the Happy Eyeballs attempt-delay case is skipped');

/** An echo handler that answers each line and remembers each writer. */
function echo(writers: StreamWriter[] = []) {
  return async (reader: import('./stream-reader.js').StreamReader, writer: StreamWriter) => {
    writers.push(writer);
    for await (const line of reader) {
      writer.write(line);
      await writer.drain();
    }
    writer.close();
  };
}

async function roundTrip(host: string, port: number, text = 'ping\n'): Promise<string> {
  const [reader, writer] = await openConnection(host, port);
  writer.write(text);
  const line = (await reader.readLine({ signal: AbortSignal.timeout(2000) })).toString();
  writer.close();
  return line;
}

/** A node:net symbol-keyed flag of a real socket (node:net keeps TCP_NODELAY/SO_KEEPALIVE state there). */
function socketFlag(socket: Socket, name: string): unknown {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === name);
  return sym === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[sym];
}

/** `ss` lines for established TCP sockets whose source port is `port`. */
function ssEstablished(port: number): string {
  return execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${port} )`]).toString();
}

async function listeningNetServer(host = '127.0.0.1'): Promise<NetServer> {
  const s = netCreateServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  cleanup.push(() => s.close());
  return s;
}

describe('startServer socket options', () => {
  it.skipIf(!ss)(
    'keepAlive and keepAliveInitialDelay arm the kernel keep-alive timer on accepted sockets',
    async () => {
      const accepted: StreamWriter[] = [];
      const on = await start(echo(accepted), '127.0.0.1', 0, {
        keepAlive: true,
        keepAliveInitialDelay: 7000,
      });
      const off = await start(echo(), '127.0.0.1', 0);
      await roundTrip('127.0.0.1', portOf(on));
      const [, w1] = await openConnection('127.0.0.1', portOf(on));
      const [, w2] = await openConnection('127.0.0.1', portOf(off));
      await sleep(50);
      expect(ssEstablished(portOf(on))).toMatch(/timer:\(keepalive,/);
      // node:net hands the delay to setsockopt(TCP_KEEPIDLE) in whole seconds.
      const socket = accepted.at(-1)!.getExtraInfo('socket')!;
      expect(socketFlag(socket, 'kSetKeepAlive')).toBe(true);
      expect(socketFlag(socket, 'kSetKeepAliveInitialDelay')).toBe(7);
      expect(ssEstablished(portOf(off))).not.toContain('keepalive');
      w1.close();
      w2.close();
    },
  );

  it('noDelay (default true) sets TCP_NODELAY on accepted sockets; noDelay: false leaves Nagle on', async () => {
    const accepted: StreamWriter[] = [];
    const on = await start(echo(accepted), '127.0.0.1', 0);
    const off = await start(echo(accepted), '127.0.0.1', 0, { noDelay: false });
    await roundTrip('127.0.0.1', portOf(on));
    await roundTrip('127.0.0.1', portOf(off));
    expect(socketFlag(accepted[0]!.getExtraInfo('socket')!, 'kSetNoDelay')).toBe(true);
    expect(socketFlag(accepted[1]!.getExtraInfo('socket')!, 'kSetNoDelay')).not.toBe(true);
  });

  it.skipIf(!ss)('backlog reaches listen(2)', async () => {
    const server = await start(echo(), '127.0.0.1', 0, { backlog: 37 });
    const line = execFileSync('ss', ['-ltnH', `( sport = :${portOf(server)} )`]).toString();
    expect(line.trim().split(/\s+/).slice(0, 3)).toEqual(['LISTEN', '0', '37']);
  });

  it('reusePort binds two servers to one port where Node and the OS support it, and is refused elsewhere', async () => {
    const why = reusePortUnsupported();
    if (why !== null) {
      console.warn(`socket options: ${why}; checking the refusal instead`);
      await expect(start(echo(), '127.0.0.1', 0, { reusePort: true })).rejects.toMatchObject({
        code: 'ERR_UNSUPPORTED',
        message: expect.stringContaining('reusePort'),
      });
      return;
    }
    const a = await start(echo(), '127.0.0.1', 0, { reusePort: true });
    const b = await start(echo(), '127.0.0.1', portOf(a), { reusePort: true });
    expect(portOf(b)).toBe(portOf(a));
    expect(await roundTrip('127.0.0.1', portOf(a))).toBe('ping\n');
  });

  it('reusePortUnsupported names the Node versions and platforms that have it', () => {
    expect(reusePortUnsupported('20.20.2', 'linux')).toMatch(/Node >= 22.12/);
    expect(reusePortUnsupported('23.0.0', 'linux')).toMatch(/23.1/);
    expect(reusePortUnsupported('22.12.0', 'linux')).toBeNull();
    expect(reusePortUnsupported('24.1.0', 'freebsd')).toBeNull();
    expect(reusePortUnsupported('24.1.0', 'darwin')).toMatch(/darwin/);
  });

  it.skipIf(!ipv6)('ipv6Only on :: leaves 0.0.0.0 of the same port free (needs ::1)', async () => {
    const v6 = await start(echo(), '::', 0, { ipv6Only: true });
    const v4 = await start(async (_r, w) => w.write('v4\n'), '0.0.0.0', portOf(v6));
    expect(await roundTrip('::1', portOf(v6))).toBe('ping\n');
    const [reader] = await openConnection('127.0.0.1', portOf(v4));
    expect((await reader.readLine()).toString()).toBe('v4\n');
    // Without ipv6Only, :: is dual-stack and takes the IPv4 port as well.
    const dual = await start(echo(), '::', 0);
    await expect(start(echo(), '0.0.0.0', portOf(dual))).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it.skipIf(!ipv6)(
    'listens on several hosts at once; port 0 gives each its own port (needs ::1)',
    async () => {
      const server = await start(echo(), ['127.0.0.1', '::1'], 0);
      const addrs = server.addresses() as AddressInfo[];
      expect(addrs.map((a) => a.address)).toEqual(['127.0.0.1', '::1']);
      expect(addrs[0]!.port).not.toBe(addrs[1]!.port);
      expect(server.address()).toEqual(addrs[0]);
      expect(await roundTrip('127.0.0.1', addrs[0]!.port)).toBe('ping\n');
      expect(await roundTrip('::1', addrs[1]!.port, 'v6\n')).toBe('v6\n');
      server.close();
      await server.waitClosed();
      expect(server.addresses()).toEqual([]);
      await expect(openConnection('::1', addrs[1]!.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    },
  );

  it('a host list that cannot bind entirely binds nothing', async () => {
    const taken = await listeningNetServer();
    const port = (taken.address() as AddressInfo).port;
    const free = await canBind('127.0.0.2');
    const err = await startServer(echo(), [free ? '127.0.0.2' : 'localhost', '127.0.0.1'], port).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ code: 'EADDRINUSE' });
    if (free) expect(await canBindPort('127.0.0.2', port)).toBe(true); // released again
    await expect(startServer(echo(), [], 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('serves an existing listening net.Server ({ sock }), taking over its socket', async () => {
    const existing = await listeningNetServer();
    let theirs = 0;
    existing.on('connection', (s) => {
      theirs++;
      s.destroy();
    });
    const port = (existing.address() as AddressInfo).port;
    const server = await startServer(echo(), { sock: existing });
    servers.push(server);
    expect(portOf(server)).toBe(port);
    expect(await roundTrip('127.0.0.1', port)).toBe('ping\n');
    expect(theirs).toBe(0);
    server.close();
    await server.waitClosed();
    await expect(openConnection('127.0.0.1', port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('serves a listening file descriptor ({ sock: { fd } }), as handed over by a service manager', async () => {
    // A bound socket that no Node handle polls: what a parent process or systemd passes down.
    type TcpHandle = { bind(host: string, port: number): number; getsockname(out: object): void; fd: number };
    const { TCP, constants } = (
      process as unknown as {
        binding(name: 'tcp_wrap'): { TCP: new (type: number) => TcpHandle; constants: { SERVER: number } };
      }
    ).binding('tcp_wrap');
    const handle = new TCP(constants.SERVER);
    expect(handle.bind('127.0.0.1', 0)).toBe(0);
    const out: { port?: number } = {};
    handle.getsockname(out);
    const server = await startServer(echo(), { sock: { fd: handle.fd } });
    servers.push(server);
    expect(portOf(server)).toBe(out.port);
    expect(await roundTrip('127.0.0.1', out.port!)).toBe('ping\n');
  });

  it('maxConnections closes connections over the limit at once, counts them and tells onError', async () => {
    const errors: [unknown, unknown][] = [];
    const server = await start(echo(), '127.0.0.1', 0, {
      maxConnections: 2,
      onError: (err, info) => errors.push([err, info.peername]),
    });
    const a = await openConnection('127.0.0.1', portOf(server));
    const b = await openConnection('127.0.0.1', portOf(server));
    const [refusedReader, refusedWriter] = await openConnection('127.0.0.1', portOf(server));
    const outcome = await refusedReader.read().then(
      (bytes) => `eof ${bytes.byteLength}`,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(outcome).toMatch(/^(eof 0|ECONNRESET)$/);
    expect(server.refusedConnections).toBe(1);
    expect(server.connections).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toMatchObject({
      code: 'ERR_MAX_CONNECTIONS',
      message: expect.stringMatching(
        /^connection from 127\.0\.0\.1:\d+ refused: maxConnections 2 already open$/,
      ),
    });
    expect(errors[0]![1]).toMatchObject({
      address: '127.0.0.1',
      port: (refusedWriter.getExtraInfo('sockname') as AddressInfo).port,
    });
    // Room again once one leaves.
    a[1].close();
    await a[1].waitClosed();
    await sleep(20);
    expect(await roundTrip('127.0.0.1', portOf(server))).toBe('ping\n');
    b[1].close();
  });

  it('maxConnections counts TLS handshakes and refuses before one starts', async () => {
    const cert = makeCert();
    let refused = 0;
    const server = await start(echo(), '127.0.0.1', 0, {
      tls: cert,
      maxConnections: 1,
      onError: () => refused++,
    });
    const [r1, w1] = await openConnection('localhost', portOf(server), { tls: { ca: cert.cert }, family: 4 });
    const second = await openConnection('localhost', portOf(server), {
      tls: { ca: cert.cert },
      family: 4,
    }).catch((e: NodeJS.ErrnoException) => e);
    expect(second).toBeInstanceOf(Error);
    expect(refused).toBe(1);
    w1.write('still served\n');
    expect((await r1.readLine()).toString()).toBe('still served\n');
    w1.close();
  });

  it('refuses bad option values with ERR_INVALID_ARGUMENT', async () => {
    for (const options of [{ maxConnections: -1 }, { keepAliveInitialDelay: -5 }, { backlog: 1.5 }]) {
      await expect(startServer(echo(), '127.0.0.1', 0, options)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
    await expect(startServer(echo(), '127.0.0.1', 70_000)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});

async function canBindPort(host: string, port: number): Promise<boolean> {
  const s = netCreateServer();
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

/** A resolver that answers every name with `addresses` (in order), honouring `all`. */
function fixedLookup(addresses: { address: string; family: 4 | 6 }[], calls: unknown[] = []): LookupFunction {
  return ((
    hostname: string,
    options: { all?: boolean; family?: number },
    callback: (...args: unknown[]) => void,
  ) => {
    calls.push({ hostname, family: options.family, all: options.all });
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  }) as unknown as LookupFunction;
}

describe('openConnection socket options', () => {
  const peers: StreamWriter[] = [];

  async function serve(host = '127.0.0.1', port = 0) {
    return portOf(await start(echo(peers), host, port));
  }

  it('localAddress and localPort bind the client end', async () => {
    const port = await serve();
    const spare = await listeningNetServer();
    const localPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
    const [reader, writer] = await openConnection('127.0.0.1', port, {
      localAddress: '127.0.0.1',
      localPort,
    });
    writer.write('x\n');
    await reader.readLine();
    expect(writer.getExtraInfo('sockname')).toMatchObject({ address: '127.0.0.1', port: localPort });
    expect(peers.at(-1)!.getExtraInfo('peername')).toMatchObject({ address: '127.0.0.1', port: localPort });
    writer.close();
  });

  it('family reaches the resolver; lookup resolves names our way', async () => {
    const port = await serve();
    const calls: unknown[] = [];
    const [reader, writer] = await openConnection('echo.internal.test', port, {
      family: 4,
      lookup: fixedLookup([{ address: '127.0.0.1', family: 4 }], calls),
    });
    writer.write('named\n');
    expect((await reader.readLine()).toString()).toBe('named\n');
    expect(calls[0]).toMatchObject({ hostname: 'echo.internal.test', family: 4 });
    writer.close();
  });

  it.skipIf(!ipv6)(
    'Happy Eyeballs falls back from a refused ::1 to 127.0.0.1; without it the first address fails',
    async () => {
      const port = await serve('127.0.0.1');
      const both = fixedLookup([
        { address: '::1', family: 6 },
        { address: '127.0.0.1', family: 4 },
      ]);
      const [, writer] = await openConnection('dual.test', port, { lookup: both, autoSelectFamily: true });
      expect(writer.getExtraInfo('peername')).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
      writer.close();
      await expect(
        openConnection('dual.test', port, { lookup: both, autoSelectFamily: false }),
      ).rejects.toMatchObject({
        code: 'ECONNREFUSED',
        address: '::1',
      });
    },
  );

  it.skipIf(!ipv6)('a connect that fails on every address lists each one tried (needs ::1)', async () => {
    const closed = await listeningNetServer();
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await openConnection('nowhere.test', port, {
      autoSelectFamily: true,
      lookup: fixedLookup([
        { address: '::1', family: 6 },
        { address: '127.0.0.1', family: 4 },
      ]),
    }).then(
      () => expect.fail('connected'),
      (e: unknown) => e as AggregateError & { code?: string },
    );
    expect(err).toBeInstanceOf(AggregateError);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errors).toHaveLength(2);
    expect(err.message).toBe(
      `connect ECONNREFUSED to nowhere.test:${port}: tried [::1]:${port} (ECONNREFUSED), 127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(err.stack!.split('\n')[0]).toBe(`AggregateError: ${err.message}`);
  });

  it.skipIf(!python)(
    'autoSelectFamilyAttemptTimeout moves on from an address that never answers',
    async () => {
      // A listener with a full accept queue (backlog 0, one client parked): further SYNs go unanswered.
      const py: ChildProcess = spawn('python3', [
        '-c',
        "import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.2',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)",
      ]);
      cleanup.push(() => py.kill());
      const [data] = (await once(py.stdout!, 'data')) as [Buffer];
      const port = Number(data.toString().trim());
      const parked = netConnect(port, '127.0.0.2');
      parked.on('error', () => {});
      cleanup.push(() => parked.destroy());
      await once(parked, 'connect');
      await serve('127.0.0.1', port);
      const lookup = fixedLookup([
        { address: '127.0.0.2', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ]);
      const t0 = Date.now();
      const [, writer] = await openConnection('slow.test', port, {
        lookup,
        autoSelectFamily: true,
        autoSelectFamilyAttemptTimeout: 100,
        timeout: 5000,
      });
      const elapsed = Date.now() - t0;
      expect(writer.getExtraInfo('peername')).toMatchObject({ address: '127.0.0.1' });
      expect(elapsed).toBeGreaterThanOrEqual(90);
      expect(elapsed).toBeLessThan(900); // well before the blackholed SYN's first retransmit (1 s)
      writer.close();
    },
    15_000,
  );
});
