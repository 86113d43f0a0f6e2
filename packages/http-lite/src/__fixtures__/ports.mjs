// Plain JavaScript so the bench (plain node, against dist) shares it with the tests' fixtures;
// ports.d.mts gives the TypeScript side its types.
import { connect, createServer } from 'node:net';

/** A loopback port that was free a moment ago, for a child process to listen on. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts connections; rejects when `child` exits first or `ms` pass. */
export async function waitPort(port, child, name, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${name} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
