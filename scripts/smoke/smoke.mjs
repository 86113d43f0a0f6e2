// Smoke test of the built packages (their `dist`, as a user gets them) on whichever runtime runs
// this file: Node, Bun or Deno.
//
//   node scripts/smoke/smoke.mjs            (after `pnpm build`)
//   bun scripts/smoke/smoke.mjs
//   deno run -A scripts/smoke/smoke.mjs
//
// One line per case, then `smoke: N passed, N failed` (`, N skipped` for known limitations). Exits 1
// if a case failed. A case listed in KNOWN_LIMITATIONS for this runtime that fails is reported as
// a known limitation, with its error, and does not fail the run; if it passes, the run says the
// entry can go.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = (name) => new URL(`../../packages/${name}/dist/index.js`, import.meta.url).href;
const { openConnection, openDatagramEndpoint, openUnixConnection, startServer, startUnixServer } =
  await import(dist('streams'));
const { Agent, get } = await import(dist('http-lite'));
const { ChatClient, createChatServer } = await import(dist('chat'));

/** @type {'node' | 'bun' | 'deno'} */
const runtime = globalThis.Deno !== undefined ? 'deno' : globalThis.Bun !== undefined ? 'bun' : 'node';
const version =
  runtime === 'deno'
    ? globalThis.Deno.version.deno
    : runtime === 'bun'
      ? globalThis.Bun.version
      : process.versions.node;

/**
 * What a runtime lacks (not a bug of ours), by runtime and case name, with the reason. Each entry
 * is checked on every run: a listed case that starts passing is reported so the entry can go.
 * @type {Record<string, Record<string, string>>}
 */
const KNOWN_LIMITATIONS = {
  node: {},
  bun: {},
  deno: {},
};

const CASE_TIMEOUT_MS = 10_000;
const work = mkdtempSync(join(tmpdir(), 'asyncnet-smoke-'));

/** A line out and the same line back through `[reader, writer]`. */
async function roundTrip([reader, writer], line) {
  writer.write(`${line}\n`);
  await writer.drain();
  const back = (await reader.readLine({ signal: AbortSignal.timeout(5_000) })).toString();
  writer.close();
  await writer.waitClosed();
  if (back !== `${line}\n`) throw new Error(`sent ${JSON.stringify(line)}, got back ${JSON.stringify(back)}`);
}

/** An echo handler: every line straight back. */
async function echo(reader, writer) {
  for await (const line of reader) {
    writer.write(line);
    await writer.drain();
  }
  writer.close();
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl. */
function certificate() {
  const key = join(work, 'key.pem');
  const cert = join(work, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

const cases = {
  async 'cjs entries'() {
    // The `require` face of each package: what a CommonJS user loads.
    const require = createRequire(import.meta.url);
    const expected = {
      streams: ['openConnection', 'startServer', 'StreamsError'],
      protocol: ['createServer', 'framed', 'ProtocolError'],
      'http-lite': ['get', 'Agent', 'HttpError'],
      chat: ['createChatServer', 'ChatClient', 'ChatError'],
    };
    for (const [name, exports] of Object.entries(expected)) {
      const mod = require(`../../packages/${name}/dist/index.cjs`);
      const missing = exports.filter((e) => typeof mod[e] !== 'function');
      if (missing.length > 0) throw new Error(`@asyncnet/${name} (cjs) lacks ${missing.join(', ')}`);
    }
  },

  async 'tcp echo'() {
    const server = await startServer(echo, '127.0.0.1', 0);
    try {
      await roundTrip(await openConnection('127.0.0.1', server.address().port), 'hello over tcp');
    } finally {
      await server[Symbol.asyncDispose]();
    }
  },

  async 'tls echo'() {
    const { key, cert } = certificate();
    const server = await startServer(echo, '127.0.0.1', 0, { tls: { key, cert } });
    try {
      const streams = await openConnection('127.0.0.1', server.address().port, {
        tls: { ca: cert, servername: 'localhost' },
      });
      const [, writer] = streams;
      if (writer.getExtraInfo('tls') !== true) throw new Error('the connection is not TLS');
      await roundTrip(streams, 'hello over tls');
    } finally {
      await server[Symbol.asyncDispose]();
    }
  },

  async 'unix echo'() {
    const path = join(work, 'echo.sock');
    const server = await startUnixServer(echo, path);
    try {
      await roundTrip(await openUnixConnection(path), 'hello over a unix socket');
    } finally {
      await server[Symbol.asyncDispose]();
    }
  },

  async 'udp echo'() {
    const server = await openDatagramEndpoint({ localAddress: '127.0.0.1' });
    const client = await openDatagramEndpoint({
      remoteAddress: '127.0.0.1',
      remotePort: server.address().port,
    });
    try {
      const echoed = (async () => {
        const d = await server.receive({ signal: AbortSignal.timeout(5_000) });
        await server.send(d.data, d.port, d.address);
      })();
      await client.send('hello over udp');
      const back = await client.receive({ signal: AbortSignal.timeout(5_000) });
      await echoed;
      if (back.data.toString() !== 'hello over udp')
        throw new Error(`got back ${JSON.stringify(back.data.toString())}`);
    } finally {
      await client.close();
      await server.close();
    }
  },

  async 'http-lite get'() {
    const http = createHttpServer((req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`you asked for ${req.url}`);
    });
    await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
    const agent = new Agent();
    try {
      const res = await get(`http://127.0.0.1:${http.address().port}/smoke?x=1`, {
        agent,
        timeouts: { total: 5_000 },
      });
      const text = await res.body.text();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      if (res.headers.get('content-type') !== 'text/plain') {
        throw new Error(`content-type ${JSON.stringify(res.headers.get('content-type'))}`);
      }
      if (text !== 'you asked for /smoke?x=1') throw new Error(`body ${JSON.stringify(text)}`);
    } finally {
      await agent.close();
      http.closeAllConnections?.();
      await new Promise((resolve) => http.close(resolve));
    }
  },

  async 'chat round trip'() {
    const server = createChatServer();
    await server.listen({ host: '127.0.0.1', port: 0 });
    const clients = [];
    try {
      const { port } = server.address();
      const alice = await ChatClient.connect('127.0.0.1', port, { nick: 'alice' });
      clients.push(alice);
      const bob = await ChatClient.connect('127.0.0.1', port, { nick: 'bob' });
      clients.push(bob);
      const heard = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('bob never heard alice')), 5_000);
        bob.on('message', (ev) => {
          if (ev.from === 'alice' && ev.text === 'hello, bob') {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      alice.say('hello, bob');
      await heard;
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      await server.close({ timeout: 1_000 });
    }
  },
};

/** Runs `fn`, failing it after CASE_TIMEOUT_MS. */
function bounded(name, fn) {
  let timer;
  return Promise.race([
    fn(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} took over ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

const describe = (err) =>
  err instanceof Error ? `${err.name}${err.code ? ` ${err.code}` : ''}: ${err.message}` : String(err);

const wanted = process.argv.slice(2);
const known = KNOWN_LIMITATIONS[runtime];
let passed = 0;
let failed = 0;
let limited = 0;
console.log(`smoke on ${runtime} ${version}`);
for (const [name, fn] of Object.entries(cases)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const started = performance.now();
  try {
    await bounded(name, fn);
    const ms = Math.round(performance.now() - started);
    passed++;
    const note =
      known[name] === undefined ? '' : ` (listed as a known limitation of ${runtime}: remove the entry)`;
    console.log(`  ok    ${name} (${ms} ms)${note}`);
  } catch (err) {
    if (known[name] !== undefined) {
      limited++;
      console.log(`  known ${name}: ${known[name]} (${describe(err)})`);
    } else {
      failed++;
      console.log(`  FAIL  ${name}: ${describe(err)}`);
      if (err instanceof Error && err.stack) console.log(err.stack.replace(/^/gm, '        '));
    }
  }
}
rmSync(work, { recursive: true, force: true });
// Known limitations count as skipped: the runtime cannot run them.
console.log(`smoke: ${passed} passed, ${failed} failed${limited > 0 ? `, ${limited} skipped` : ''}`);
// Deno and Bun keep running on a stray handle; the verdict is in.
process.exit(failed > 0 ? 1 : 0);
