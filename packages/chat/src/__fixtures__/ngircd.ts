import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of ngircd, or null when it is not installed (the differential test then skips, loudly). */
export function findNgircd(): string | null {
  for (const p of ['/usr/sbin/ngircd', '/usr/bin/ngircd', '/usr/local/sbin/ngircd'])
    if (existsSync(p)) return p;
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The IRC operator both servers are configured with. */
export const NGIRCD_OPER = { name: 'boss', password: 'opersecret' } as const;

/** Starts ngircd in the foreground on a loopback port with a generated config. */
export async function startNgircd(bin: string): Promise<{ port: number; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'ngircd-'));
  const port = await freePort();
  const conf = join(dir, 'ngircd.conf');
  writeFileSync(join(dir, 'motd'), 'differential test\n');
  // MaxPenaltyTime = 0 turns off ngIRCd's per-command penalty delays (the probes would otherwise
  // crawl at one command per second); MaxConnectionsIP = 0 lets the harness open its sessions.
  writeFileSync(
    conf,
    `[Global]\nName = irc.test\nInfo = differential\nPorts = ${port}\nListen = 127.0.0.1\nMotdFile = ${join(dir, 'motd')}\n` +
      `[Limits]\nMaxNickLength = 30\nPingTimeout = 120\nPongTimeout = 20\nMaxPenaltyTime = 0\nMaxConnectionsIP = 0\n` +
      `[Options]\nDNS = no\nIdent = no\nPAM = no\n` +
      `[Operator]\nName = ${NGIRCD_OPER.name}\nPassword = ${NGIRCD_OPER.password}\n`,
  );
  const child: ChildProcess = spawn(bin, ['-n', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 5_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`ngircd did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
