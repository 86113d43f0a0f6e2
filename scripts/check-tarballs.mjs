// Proves each publishable package works alone: pack every public workspace package with pnpm
// (as it would be published), install the tarballs into an empty project outside the workspace
// with plain npm, then import() and require() each one and call a real export, and typecheck an
// ESM and a CommonJS consumer to prove each module system reads its own declarations.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanNpmEnv, pnpm, publicPackages, root } from './workspace.mjs';

const packages = publicPackages().map((p) => p.name);

// One real call per package; each returns a value that is checked, for both module systems.
const smoke = {
  '@asyncnet/streams': `async (m) => {
    const [[reader], [, writer]] = m.createStreamPair();
    writer.write('hello\\n');
    const line = await reader.readLine();
    if (Buffer.from(line).toString() !== 'hello\\n') throw new Error('readLine returned ' + line);
    if (!(new m.IncompleteReadError(new Uint8Array(0), 1) instanceof m.StreamsError)) throw new Error('error classes');
  }`,
  // The adapter subpath, sharing the main entry's classes (one copy of the code, ESM and CJS alike).
  '@asyncnet/streams/adapter': `async (m) => {
    const main = typeof require === 'function' ? require('@asyncnet/streams') : await import('@asyncnet/streams');
    const [a, b] = m.createTransportPair();
    const [reader] = m.streamsFromTransport(a);
    const [, writer] = m.streamsFromTransport(b);
    writer.write(Buffer.from('adapter\\n'));
    if (Buffer.from(await reader.readLine()).toString() !== 'adapter\\n') throw new Error('adapter round trip');
    if (!(reader instanceof main.StreamReader)) throw new Error('two copies of StreamReader');
  }`,
  '@asyncnet/protocol': `async (m) => {
    const d = new m.LinesCodec().createDecoder();
    const frames = d.push(Buffer.from('a\\r\\nb\\n'));
    if (frames.join(',') !== 'a,b') throw new Error('LinesCodec gave ' + frames);
  }`,
  '@asyncnet/http-lite': `async (m) => {
    const p = new m.ResponseParser();
    const events = p.push(Buffer.from('HTTP/1.1 204 No Content\\r\\n\\r\\n'));
    if (!events.some((e) => e.type === 'head' && e.status === 204)) throw new Error('parser gave ' + JSON.stringify(events));
  }`,
  '@asyncnet/chat': `async (m) => {
    const server = m.createChatServer({ floodControl: false, web: {} });
    await server.listen({ host: '127.0.0.1', port: 0 });
    if (typeof server.address().port !== 'number') throw new Error('no port');
    // The web client ships in the tarball (dist/web) and is served from it.
    const page = await fetch(server.webUrl());
    const html = await page.text();
    if (page.status !== 200 || !html.includes('<script src="/app.js"')) throw new Error('page: ' + page.status + ' ' + html.slice(0, 80));
    const js = await fetch(new URL('/app.js', server.webUrl()));
    const code = await js.text();
    if (js.status !== 200 || !js.headers.get('content-type').startsWith('text/javascript') || code.length < 1000)
      throw new Error('app.js: ' + js.status + ' ' + code.length + ' bytes');
    await server.close({ timeout: 100 });
  }`,
};

const missing = packages.filter((n) => !(n in smoke));
if (missing.length > 0) {
  console.error(
    `tarball check: no smoke call for ${missing.join(', ')}; add one to scripts/check-tarballs.mjs`,
  );
  process.exit(1);
}

// Captured output; shown only when a step fails.
function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: cleanNpmEnv(),
    });
  } catch (err) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

const work = mkdtempSync(join(tmpdir(), 'asyncnet-tarballs-'));
try {
  const packDir = join(work, 'packs');
  pnpm(['-r', ...packages.map((n) => `--filter=${n}`), 'pack', '--pack-destination', packDir], { cwd: root });
  const tarballs = readdirSync(packDir).map((f) => join(packDir, f));
  if (tarballs.length !== packages.length) {
    throw new Error(`expected ${packages.length} tarballs, pnpm pack wrote ${tarballs.length}`);
  }
  const app = join(work, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tarball-check', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], app);
  const entries = Object.entries(smoke);
  writeFileSync(
    join(app, 'esm.mjs'),
    `${entries.map(([n, f], i) => `import * as m${i} from '${n}';\nawait (${f})(m${i});`).join('\n')}\nconsole.log('esm ok');\n`,
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `(async () => {\n${entries.map(([n, f]) => `await (${f})(require('${n}'));`).join('\n')}\nconsole.log('cjs ok');\n})().catch((e) => { console.error(e); process.exit(1); });\n`,
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) run(process.execPath, [file], app);
  checkConsumerTypes(app);
  console.log(
    `tarball check: ${packages.length} packages installed from tarballs, used via import and require, types read as ESM and CJS`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * Typechecks a `.mts` and a `.cts` consumer of every package under `module: node16`, strict, and
 * checks which declaration files each one loaded: the ESM consumer only `.d.ts`, the CommonJS one
 * only `.d.cts` (attw checks the entry point; this checks every file behind it).
 */
function checkConsumerTypes(app) {
  const imports = Object.keys(smoke)
    .map((n, i) => `import * as m${i} from '${n}';`)
    .join('\n');
  const uses = Object.keys(smoke)
    .map((_, i) => `m${i}`)
    .join(', ');
  writeFileSync(join(app, 'types-esm.mts'), `${imports}\nexport const all = [${uses}];\n`);
  writeFileSync(join(app, 'types-cjs.cts'), `${imports}\nexport const all = [${uses}];\n`);
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const common = ['--module', 'node16', '--strict', '--noEmit', '--skipLibCheck', 'false'];
  const typeRoots = ['--typeRoots', join(root, 'node_modules/@types'), '--types', 'node'];
  for (const [file, ext] of [
    ['types-esm.mts', '.d.ts'],
    ['types-cjs.cts', '.d.cts'],
  ]) {
    const listed = run(process.execPath, [tsc, ...common, ...typeRoots, '--listFiles', file], app);
    const ours = listed
      .split('\n')
      .filter((f) => f.includes('/node_modules/@asyncnet/'))
      .map((f) => f.trim());
    const wrong = ours.filter((f) => !f.endsWith(ext));
    if (ours.length === 0 || wrong.length > 0) {
      throw new Error(
        `${file} should load only ${ext} declarations of @asyncnet/*, loaded:\n  ${ours.join('\n  ')}`,
      );
    }
  }
}
