// Proves each publishable package works alone: pack every package, install the tarballs into an
// empty project outside the workspace with plain npm, then import() and require() each one and
// call a real export.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packages = ['streams', 'protocol', 'http-lite', 'chat'];

// One real call per package; each returns a value that is checked, for both module systems.
const smoke = {
  '@asyncnet/streams': `async (m) => {
    const [[reader], [, writer]] = m.createStreamPair();
    writer.write('hello\\n');
    const line = await reader.readLine();
    if (Buffer.from(line).toString() !== 'hello\\n') throw new Error('readLine returned ' + line);
    if (!(new m.IncompleteReadError(new Uint8Array(0), 1) instanceof m.StreamsError)) throw new Error('error classes');
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
    const server = m.createChatServer({ floodControl: false });
    await server.listen({ host: '127.0.0.1', port: 0 });
    if (typeof server.address().port !== 'number') throw new Error('no port');
    await server.close({ timeout: 100 });
  }`,
};

const work = mkdtempSync(join(tmpdir(), 'asyncnet-tarballs-'));
try {
  const packDir = join(work, 'packs');
  for (const name of packages) {
    execFileSync('npx', ['-y', 'pnpm@10.33.4', 'pack', '--pack-destination', packDir], {
      cwd: join(root, 'packages', name),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const tarballs = readdirSync(packDir).map((f) => join(packDir, f));
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tarball-check', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
    cwd: app,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const entries = Object.entries(smoke);
  writeFileSync(
    join(app, 'esm.mjs'),
    `${entries.map(([n, f], i) => `import * as m${i} from '${n}';\nawait (${f})(m${i});`).join('\n')}\nconsole.log('esm ok');\n`,
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `(async () => {\n${entries.map(([n, f]) => `await (${f})(require('${n}'));`).join('\n')}\nconsole.log('cjs ok');\n})().catch((e) => { console.error(e); process.exit(1); });\n`,
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) execFileSync('node', [file], { cwd: app, stdio: 'inherit' });
  console.log(
    `tarball check: ${packages.length} packages installed from tarballs and used via import and require`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
