import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ircUser, type LineClient } from './__fixtures__/line-client.js';
import { type ChatServer, createChatServer } from './server.js';

const find = (name: string) =>
  [`/usr/bin/${name}`, `/usr/local/bin/${name}`].find((p) => existsSync(p)) ?? null;
const IRSSI = find('irssi');
const TMUX = find('tmux');
const missing = [IRSSI === null && 'irssi', TMUX === null && 'tmux'].filter(Boolean);
if (missing.length > 0)
  console.warn(
    `SKIPPED: the irssi smoke test needs ${missing.join(' and ')} (apt-get install -y irssi tmux)`,
  );

// A private tmux server, so the session never touches anyone else's tmux.
const socket = `asyncnet-chat-irssi-${process.pid}`;
const session = 'irssi';
const tmux = (...args: string[]) => execFileSync(TMUX!, ['-L', socket, ...args], { encoding: 'utf8' });
/** Everything irssi printed in its current window, scrollback included. */
const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', session);
const type = (line: string) => {
  tmux('send-keys', '-t', session, '-l', line);
  tmux('send-keys', '-t', session, 'Enter');
};

async function eventually(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; irssi shows:\n${screen()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(missing.length > 0)('irssi smoke run (tmux)', () => {
  let server: ChatServer;
  let home = '';
  const raw: LineClient[] = [];

  beforeAll(async () => {
    server = createChatServer({ log: () => {}, floodControl: false });
    await server.listen({ ircPort: 0 });
    home = mkdtempSync(join(tmpdir(), 'irssi-home-'));
    // irssi paces its own commands (cmd_queue_speed 2.2 s after a burst): let them go at once, so
    // the run takes seconds, not a minute. No away-on-idle, no autoconnects.
    writeFileSync(
      join(home, 'config'),
      'settings = {\n' +
        '  core = { real_name = "Smoke Test"; user_name = "smoke"; };\n' +
        '  "irc/core" = { cmd_queue_speed = "0msec"; cmds_max_at_once = "100"; };\n' +
        '};\n',
    );
  });
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    for (const c of raw) c.close();
    await server?.close({ timeout: 200 });
    if (home !== '') rmSync(home, { recursive: true, force: true });
  });

  it('connects, joins, is opped, kicks, goes away and runs WHOIS against our server', async () => {
    const port = server.ircAddress()!.port;
    const op = await ircUser(port, 'opper');
    raw.push(op);
    op.send('JOIN #smoke');
    await op.waitFor(/ 366 opper #smoke /);
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '160',
      '-y',
      '50',
      `${IRSSI} --noconnect --home=${home} -n tester`,
    );
    type(`/connect 127.0.0.1 ${port}`);
    await eventually('the welcome', () => screen().includes('Welcome to the asyncnet Network'));
    type('/join #smoke');
    await op.waitFor(/^:tester!~?smoke@127\.0\.0\.1 JOIN #smoke$/);
    await eventually('the join in irssi', () => /tester .*has joined #smoke/.test(screen()));

    op.send('MODE #smoke +o tester');
    await eventually('the op', () => /mode\/#smoke \[\+o tester\] by opper/.test(screen()));

    type('/kick opper enough');
    await op.waitFor(/^:tester!~?smoke@127\.0\.0\.1 KICK #smoke opper :enough$/);
    await eventually('the kick in irssi', () =>
      /opper was kicked from #smoke by tester \[enough\]/.test(screen()),
    );

    type('/away out for lunch');
    // irssi shows (zZzZ) in its status bar once the server confirmed with 306.
    await eventually('the away mark', () => screen().includes('(zZzZ)'));
    const peer = await ircUser(port, 'peer');
    raw.push(peer);
    peer.send('WHOIS tester');
    await peer.waitFor(/ 301 peer tester :out for lunch$/);
    await peer.waitFor(/ 319 peer tester :@#smoke$/);

    type('/whois peer');
    // WHOIS replies go to irssi's status window.
    type('/window 1');
    await eventually(
      'the whois in irssi',
      () => /peer \[~peer@127\.0\.0\.1\]/.test(screen()) && screen().includes('End of WHOIS'),
    );
    type('/quit smoke done');
    await peer.waitFor(/ 318 peer tester /);
  }, 60_000);
});
