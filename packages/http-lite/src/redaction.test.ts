// Credentials from a URL (or an Authorization field) never appear in an error: message, stack, cause or field.
import { createServer as createNetServer } from 'node:net';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, readRequests, startRaw } from './__fixtures__/servers.js';
import { Agent, request } from './index.js';

let server: Running;
let deadPort = 0;
/** What the server answers next, per path. */
let location = '';
const agent = new Agent();

beforeAll(async () => {
  server = await startRaw((socket) => {
    readRequests(socket, (head) => {
      const path = head.split(' ')[1]!;
      if (path === '/garbage') socket.write('SPAM\r\n\r\n');
      else if (path === '/big') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
      else if (path === '/cut') socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      else if (path === '/hang') {
        // never answers
      } else if (path === '/redirect')
        socket.write(`HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`);
      else if (path === '/auth') {
        const auth = /\r\nauthorization: ([^\r]*)/i.exec(head)?.[1] ?? '';
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${auth.length}\r\n\r\n${auth}`);
      } else socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    });
  });
  const probe = createNetServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
});
afterAll(async () => {
  agent.destroy();
  await server.close();
});

/** Every text an error exposes: inspect() output (own fields, cause chain), messages, stacks, string fields. */
function everything(e: unknown, depth = 0): string {
  if (e === null || e === undefined || depth > 5) return '';
  if (typeof e !== 'object') return String(e);
  const x = e as Record<string, unknown>;
  let out = `${inspect(e, { depth: 8 })} ${String(x.message)} ${String(x.stack)}`;
  for (const k of Object.getOwnPropertyNames(e)) if (typeof x[k] === 'string') out += ` ${x[k]}`;
  return out + everything(x.cause, depth + 1);
}

/** The forms a credential can take in text: as typed, percent-encoded by the URL parser or by hand, in Basic. */
function forms(user: string, password: string): string[] {
  const u = new URL('http://h/');
  u.username = user;
  u.password = password;
  return [
    user,
    password,
    u.username,
    u.password,
    encodeURIComponent(password),
    Buffer.from(`${user}:${password}`).toString('base64'),
  ];
}

async function errorOf(p: Promise<{ body: { text(): Promise<string> } }>): Promise<unknown> {
  try {
    await (await p).body.text();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

// Distinctive prefixes, so a match can only be the credential. No raw / ? # @ \ (they end the userinfo).
const part = (prefix: string) =>
  fc
    .string({
      unit: fc.constantFrom(..."abcXYZ0189!$&'()*+,;=._~- :%é€".split(''), ' '),
      minLength: 2,
      maxLength: 12,
    })
    .map((s) => `${prefix}${s}`);
const userArb = part('Uq');
const passwordArb = part('Pw');

type Path = (user: string, pw: string) => Promise<unknown>;
const enc = encodeURIComponent;
const local = () => `127.0.0.1:${server.port}`;

const syncPaths: Record<string, Path> = {
  'invalid host': (u, p) => errorOf(request(`http://${u}:${p}@exa mple.com/`, { agent })),
  'port out of range': (u, p) => errorOf(request(`http://${u}:${p}@127.0.0.1:99999/`, { agent })),
  'port not a number': (u, p) => errorOf(request(`http://${u}:${p}@127.0.0.1:8a/`, { agent })),
  'encoded credentials, bad host': (u, p) =>
    errorOf(request(`https://${enc(u)}:${enc(p)}@bad host.example/`, { agent })),
  'unsupported protocol': (u, p) => errorOf(request(`ftp://${enc(u)}:${enc(p)}@127.0.0.1/`, { agent })),
  'no scheme': (u, p) => errorOf(request(`${enc(u)}:${enc(p)}@127.0.0.1/`, { agent })),
  'URL object, unsupported protocol': (u, p) => {
    const url = new URL('ws://127.0.0.1/');
    url.username = u;
    url.password = p;
    return errorOf(request(url, { agent }));
  },
  'invalid Authorization value': (_u, p) =>
    errorOf(request(`http://${local()}/`, { agent, headers: { Authorization: `Basic ${p}\x01` } })),
  'invalid Cookie value': (_u, p) =>
    errorOf(request(`http://${local()}/`, { agent, headers: { cookie: `s=${p}\n` } })),
};

const wirePaths: Record<string, Path> = {
  'connection refused': (u, p) =>
    errorOf(request(`http://${enc(u)}:${enc(p)}@127.0.0.1:${deadPort}/`, { agent })),
  'headers timeout': (u, p) =>
    errorOf(request(`http://${enc(u)}:${enc(p)}@${local()}/hang`, { agent, timeouts: { headers: 30 } })),
  'total timeout': (u, p) =>
    errorOf(request(`http://${enc(u)}:${enc(p)}@${local()}/hang`, { agent, timeouts: { total: 30 } })),
  'parse error': (u, p) => errorOf(request(`http://${enc(u)}:${enc(p)}@${local()}/garbage`, { agent })),
  'response too large': (u, p) =>
    errorOf(request(`http://${enc(u)}:${enc(p)}@${local()}/big`, { agent, maxResponseSize: 10 })),
  'premature close': (u, p) => errorOf(request(`http://${enc(u)}:${enc(p)}@${local()}/cut`, { agent })),
  'redirect to an invalid location with credentials': (u, p) => {
    location = `http://${u}:${p}@exa mple.com/`;
    return errorOf(request(`http://${local()}/redirect`, { agent, maxRedirects: 2 }));
  },
  'redirect to a bad port with credentials': (u, p) => {
    location = `http://${u}:${p}@127.0.0.1:70000/`;
    return errorOf(request(`http://${local()}/redirect`, { agent, maxRedirects: 2 }));
  },
  'redirect to an unsupported protocol with credentials': (u, p) => {
    location = `ftp://${enc(u)}:${enc(p)}@127.0.0.1/`;
    return errorOf(request(`http://${local()}/redirect`, { agent, maxRedirects: 2 }));
  },
  'too many redirects, the last with credentials': (u, p) => {
    location = `http://${enc(u)}:${enc(p)}@${local()}/redirect`;
    return errorOf(request(`http://${local()}/redirect`, { agent, maxRedirects: 1 }));
  },
};

function expectClean(err: unknown, user: string, password: string, path: string): void {
  // Case-insensitive: a scheme or host is lowercased by the URL parser.
  const text = everything(err).toLowerCase();
  for (const f of forms(user, password))
    expect(text.includes(f.toLowerCase()), `${path}: ${JSON.stringify(f)} in ${text}`).toBe(false);
}

describe('credentials in errors', () => {
  it('never appear on any URL or header error path (property over random credentials)', async () => {
    await fc.assert(
      fc.asyncProperty(userArb, passwordArb, async (user, password) => {
        for (const [path, run] of Object.entries(syncPaths))
          expectClean(await run(user, password), user, password, path);
      }),
      { numRuns: 300 },
    );
  });

  it('never appear on any connection, timeout, framing or redirect error path', async () => {
    await fc.assert(
      fc.asyncProperty(userArb, passwordArb, async (user, password) => {
        for (const [path, run] of Object.entries(wirePaths))
          expectClean(await run(user, password), user, password, path);
      }),
      { numRuns: 12 },
    );
  });

  it("names the code, and keeps the URL's shape, in the issue's examples", async () => {
    const a = await errorOf(request('http://bob:pw@exa mple.com/', { agent }));
    expect(a).toMatchObject({ code: 'ERR_INVALID_URL', message: 'invalid url "http://***@exa mple.com/"' });
    expect((a as Error).cause).toMatchObject({ code: 'ERR_INVALID_URL', input: 'http://***@exa mple.com/' });
    const b = await errorOf(request('http://bob:pw@127.0.0.1:99999/', { agent }));
    expect((b as Error).message).toBe('invalid url "http://***@127.0.0.1:99999/"');
    const c = await errorOf(request('ftp://bob:pw@127.0.0.1/x', { agent }));
    expect((c as Error).message).toBe('unsupported protocol "ftp:" in ftp://127.0.0.1/x');
  });
});

describe('credentials in the url, as Basic auth', () => {
  it('are decoded byte by byte: a stray % is sent as it is instead of throwing a URIError', async () => {
    const res = await request(`http://bob:%E2%82%AC%A@${local()}/auth`, { agent });
    const expected = Buffer.concat([Buffer.from('bob:'), Buffer.from([0xe2, 0x82, 0xac]), Buffer.from('%A')]);
    expect(await res.body.text()).toBe(`Basic ${expected.toString('base64')}`);
    const utf8 = await request(`http://al%40ice:p%C3%A4ss@${local()}/auth`, { agent });
    expect(await utf8.body.text()).toBe(`Basic ${Buffer.from('al@ice:päss').toString('base64')}`);
  });
});
