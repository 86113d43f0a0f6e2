import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ChatClient, type ChatEvent } from '@asyncnet/chat';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, CliProcess, eventually, requireBuiltCli } from './__fixtures__/run-cli.js';

const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux'].find((p) => existsSync(p)) ?? null;
if (TMUX === null) {
  console.warn('SKIPPED: the interactive chat client test needs tmux (apt-get install -y tmux)');
}

// A private tmux server, so the session does not touch (or inherit from) anyone else's tmux.
let runs = 0;
let socket = '';
const session = 'chat';
const tmux = (...args: string[]) => execFileSync(TMUX!, ['-L', socket, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);
const lines = () =>
  screen()
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');

beforeAll(requireBuiltCli);
beforeEach(() => {
  socket = `asyncnet-demo-test-${process.pid}-${++runs}`;
});

let server: CliProcess | null = null;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  if (TMUX !== null) {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  }
  server?.kill();
  server = null;
});

describe.skipIf(TMUX === null)('asyncnet-demo chat (interactive, in tmux)', () => {
  it('prints incoming messages above the prompt without clobbering a half-typed line', async () => {
    server = new CliProcess(['chat-server', '--port', '0', '--irc-port', 'off']);
    const port = Number((await server.waitFor(/plain 127\.0\.0\.1:(\d+)/))[1]);
    const command = `env -u FORCE_COLOR NO_COLOR=1 ${process.execPath} ${CLI} chat 127.0.0.1:${port} --nick tina; echo "CHAT-EXITED-$?"; sleep 30`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '20', command);
    await eventually('the chat prompt', () => lines().at(-1) === '[#lobby] tina>');
    expect(screen()).toContain(`* connected to 127.0.0.1:${port} as tina`);

    const bob = await ChatClient.connect('127.0.0.1', port, { nick: 'bob' });
    clients.push(bob);
    await eventually('the join notice', () => screen().includes('* bob joined #lobby'));

    tmux('send-keys', '-t', session, '-l', 'half typed');
    await eventually('the typed text', () => screen().includes('tina> half typed'));
    bob.say('incoming while you type');
    await eventually('the incoming line', () => screen().includes('<bob> incoming while you type'));

    const shown = lines();
    // The message got a line of its own, and the prompt with the half-typed input is redrawn below it.
    expect(shown).toContain('<bob> incoming while you type');
    expect(shown.at(-1)).toBe('[#lobby] tina> half typed');
    expect(shown.indexOf('<bob> incoming while you type')).toBe(shown.length - 2);
    expect(screen().match(/half typed/g)).toHaveLength(1);

    // The input buffer is intact: finishing the line sends all of it.
    const heard = new Promise<ChatEvent>((resolve) => bob.once('message', resolve));
    tmux('send-keys', '-t', session, '-l', ' and finished');
    tmux('send-keys', '-t', session, 'Enter');
    expect(await heard).toMatchObject({ from: 'tina', text: 'half typed and finished' });
    await eventually('own line rendered', () => lines().includes('<tina> half typed and finished'));

    // /commands go to the server.
    tmux('send-keys', '-t', session, '-l', '/who');
    tmux('send-keys', '-t', session, 'Enter');
    await eventually('/who output', () => /\* in #lobby: (tina, bob|bob, tina)/.test(screen()));

    // Ctrl-C quits cleanly: bob sees tina leave, the client says bye and exits 0.
    const left = new Promise<ChatEvent>((resolve) =>
      bob.on('notice', (e: ChatEvent) => e.type === 'notice' && e.text.startsWith('tina quit') && resolve(e)),
    );
    tmux('send-keys', '-t', session, 'C-c');
    await eventually('clean exit', () => screen().includes('CHAT-EXITED-0'));
    expect(screen()).toContain('* bye');
    await left;
  });
  it('keeps a wrapped, half-edited line intact on a narrow terminal', async () => {
    server = new CliProcess(['chat-server', '--port', '0', '--irc-port', 'off']);
    const port = Number((await server.waitFor(/plain 127\.0\.0\.1:(\d+)/))[1]);
    const command = `env -u FORCE_COLOR NO_COLOR=1 ${process.execPath} ${CLI} chat 127.0.0.1:${port} --nick tina; sleep 30`;
    tmux('new-session', '-d', '-s', session, '-x', '40', '-y', '20', command);
    await eventually('the chat prompt', () => lines().at(-1) === '[#lobby] tina>');
    const bob = await ChatClient.connect('127.0.0.1', port, { nick: 'bob' });
    clients.push(bob);
    await eventually('the join notice', () => screen().includes('* bob joined #lobby'));
    // 15 + 47 characters: the input wraps onto a second row of the 40-column pane.
    tmux('send-keys', '-t', session, '-l', 'a long line that wraps around a narrow terminal');
    await eventually('the typed text', () => screen().includes('narrow terminal'));
    tmux('send-keys', '-t', session, 'Left', 'Left', 'Left', 'Left');
    bob.say('first');
    bob.say('second');
    await eventually('both lines', () => screen().includes('<bob> second'));
    tmux('send-keys', '-t', session, '-l', 'X');
    await eventually('the edit', () => screen().includes('termXinal'));
    const shown = lines();
    expect(shown.slice(-4)).toEqual([
      '<bob> first',
      '<bob> second',
      '[#lobby] tina> a long line that wraps ar',
      'ound a narrow termXinal',
    ]);
    expect(screen().match(/a long line/g)).toHaveLength(1);
    const heard = new Promise<ChatEvent>((resolve) => bob.once('message', resolve));
    tmux('send-keys', '-t', session, 'Enter');
    expect(await heard).toMatchObject({ text: 'a long line that wraps around a narrow termXinal' });
  });
  it('shows your own /me and /msg, and does not show a line said outside a room as said', async () => {
    server = new CliProcess(['chat-server', '--port', '0', '--irc-port', 'off']);
    const port = Number((await server.waitFor(/plain 127\.0\.0\.1:(\d+)/))[1]);
    const command = `env -u FORCE_COLOR NO_COLOR=1 ${process.execPath} ${CLI} chat 127.0.0.1:${port} --nick tina; sleep 30`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '20', command);
    await eventually('the chat prompt', () => lines().at(-1) === '[#lobby] tina>');
    const bob = await ChatClient.connect('127.0.0.1', port, { nick: 'bob' });
    clients.push(bob);
    await eventually('the join notice', () => screen().includes('* bob joined #lobby'));
    const send = (text: string) => {
      tmux('send-keys', '-t', session, '-l', text);
      tmux('send-keys', '-t', session, 'Enter');
    };
    const action = new Promise<ChatEvent>((resolve) => bob.once('action', resolve));
    send('/me waves');
    expect(await action).toMatchObject({ from: 'tina', text: 'waves', private: false });
    await eventually('own action shown', () => lines().includes('* tina waves'));
    const priv = new Promise<ChatEvent>((resolve) => bob.once('private', resolve));
    send('/msg bob psst');
    expect(await priv).toMatchObject({ from: 'tina', text: 'psst' });
    await eventually('own private message shown', () => lines().includes('-> *bob* psst'));
    send('/part');
    await eventually('the prompt without a room', () => lines().at(-1) === '[no room] tina>');
    send('into the void');
    await eventually('the error', () => screen().includes('! you are not in a room'));
    expect(lines()).not.toContain('<tina> into the void');
    expect(lines().at(-1)).toBe('[no room] tina>');
  });
  it('colours nicks on a terminal', async () => {
    server = new CliProcess(['chat-server', '--port', '0', '--irc-port', 'off']);
    const port = Number((await server.waitFor(/plain 127\.0\.0\.1:(\d+)/))[1]);
    const command = `env -u NO_COLOR -u FORCE_COLOR ${process.execPath} ${CLI} chat 127.0.0.1:${port} --nick tina; sleep 30`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '20', command);
    await eventually('the chat prompt', () => lines().at(-1) === '[#lobby] tina>');
    const bob = await ChatClient.connect('127.0.0.1', port, { nick: 'bob' });
    clients.push(bob);
    bob.say('in colour');
    await eventually('the message', () => screen().includes('<bob> in colour'));
    const raw = tmux('capture-pane', '-p', '-e', '-t', session);
    // An SGR colour sequence right before the nick, and the default colour after it.
    const sgr = `${String.fromCharCode(27)}\\[[0-9;]*m`;
    expect(raw).toMatch(new RegExp(`<${sgr}bob${sgr}> in colour`));
  });
});

describe.skipIf(TMUX === null)('asyncnet-demo get -o (progress bar, in tmux)', () => {
  it('draws a progress bar with percent, bytes and rate on a terminal and saves the file', async () => {
    const { createServer } = await import('node:http');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const body = Buffer.alloc(2 * 1024 * 1024, 'z');
    const http = createServer((_req, res) => {
      res.setHeader('content-length', String(body.length));
      res.end(body);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'asyncnet-demo-progress-'));
    try {
      const port = (http.address() as { port: number }).port;
      const file = join(dir, 'out.bin');
      const command = `env -u FORCE_COLOR ${process.execPath} ${CLI} get http://127.0.0.1:${port}/file -o ${file}; echo "GET-EXITED-$?"; sleep 30`;
      tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '10', command);
      await eventually('get to finish', () => screen().includes('GET-EXITED-'));
      expect(screen()).toContain('GET-EXITED-0');
      expect(screen()).toMatch(/\[#+\] 100% 2\.0 MiB\/2\.0 MiB [\d.]+ [KMG]?i?B\/s ETA 00:00/);
      expect(readFileSync(file).equals(body)).toBe(true);
    } finally {
      http.closeAllConnections();
      http.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
