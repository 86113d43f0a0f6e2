import { ChatClient, type ChatEvent, createChatServer } from '@asyncnet/chat';
import { openConnection, type StreamReader, type StreamWriter } from '@asyncnet/streams';
import type { TourContext } from './context.js';
import { ms, perSecond, within } from './narrator.js';

/** A minimal IRC bot written directly on the streams API: NICK/USER, JOIN, PRIVMSG, PONG. */
class IrcBot {
  readonly lines: string[] = [];
  received = 0;
  #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  private constructor(
    readonly reader: StreamReader,
    readonly writer: StreamWriter,
  ) {
    void this.#loop();
  }

  static async connect(port: number, nick: string): Promise<IrcBot> {
    const [reader, writer] = await openConnection('127.0.0.1', port);
    const bot = new IrcBot(reader, writer);
    writer.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick} the IRC bot\r\n`);
    await bot.waitFor((l) => / 001 /.test(l));
    return bot;
  }

  send(line: string): void {
    this.writer.write(`${line}\r\n`);
  }

  waitFor(test: (line: string) => boolean): Promise<string> {
    const hit = this.lines.find(test);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  async #loop(): Promise<void> {
    try {
      for await (const raw of this.reader) {
        const line = Buffer.from(raw)
          .toString('utf8')
          .replace(/\r?\n$/, '');
        if (line.startsWith('PING ')) {
          this.send(`PONG ${line.slice(5)}`);
          continue;
        }
        if (line.includes(' PRIVMSG #lobby :flood ')) {
          this.received++;
          continue;
        }
        if (this.lines.length < 200) this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.test(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    } catch {
      // connection closed by the tour
    }
  }
}

function nextEvent(client: ChatClient, test: (ev: ChatEvent) => boolean): Promise<ChatEvent> {
  return new Promise((resolve) => {
    const on = (ev: ChatEvent) => {
      if (!test(ev)) return;
      client.off('event', on);
      resolve(ev);
    };
    client.on('event', on);
  });
}

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** Section 4: the chat server with plain, IRC and stuck clients. */
export async function chatSection(ctx: TourContext): Promise<void> {
  const { n, cleanup } = ctx;
  const log: string[] = [];
  n.step('createChatServer() with an in-memory bus; plain protocol and IRC listeners on free ports');
  const server = createChatServer({
    floodControl: false,
    sendQueue: { soft: 256 * 1024, hard: 4 * 1024 * 1024, stuckTimeout: 1000 },
    log: (line) => log.push(line),
  });
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  cleanup.add(() => server.close({ timeout: 500 }));
  const plainPort = server.address()!.port;
  const ircPort = server.ircAddress()!.port;
  n.say(
    `plain protocol on 127.0.0.1:${plainPort} (try nc), IRC on 127.0.0.1:${ircPort} (try any IRC client)`,
  );

  const alice = await ChatClient.connect('127.0.0.1', plainPort, { nick: 'alice', timeout: 5000 });
  cleanup.add(() => alice.close());
  const bob = await IrcBot.connect(ircPort, 'bob');
  cleanup.add(() => bob.writer.transport.abort());
  bob.send('JOIN #lobby');
  await bob.waitFor((l) => / 366 /.test(l));
  const carol = await ChatClient.connect('127.0.0.1', plainPort, { nick: 'carol', timeout: 5000 });
  cleanup.add(() => carol.close());
  n.say('alice and carol use ChatClient (plain protocol); bob is a 50-line IRC bot on openConnection()');

  n.step('three bots chat in #lobby');
  const toCarol = nextEvent(carol, (e) => e.type === 'message' && e.from === 'alice');
  const toBob = bob.waitFor((l) => l.includes('PRIVMSG #lobby :hi all'));
  alice.say('hi all, alice here on the plain protocol');
  n.say(`alice: say("hi all, alice here on the plain protocol")`);
  const ev = (await within('carol receiving', 3000, toCarol)) as Extract<ChatEvent, { type: 'message' }>;
  n.received('carol gets', `<${ev.from}> ${ev.text}`);
  n.received('bob (IRC) gets', await within('bob receiving', 3000, toBob));
  const fromBob = nextEvent(alice, (e) => e.type === 'message' && e.from === 'bob');
  bob.send('PRIVMSG #lobby :hello from IRC!');
  n.say('bob: PRIVMSG #lobby :hello from IRC!');
  const ev2 = (await within('alice receiving', 3000, fromBob)) as Extract<ChatEvent, { type: 'message' }>;
  n.received('alice gets', `<${ev2.from}> ${ev2.text}`);
  const toBobPriv = bob.waitFor((l) => l.includes('PRIVMSG bob :'));
  carol.msg('bob', 'psst, private message across protocols');
  n.received('bob gets /msg from carol', await within('bob private', 3000, toBobPriv));

  n.step('dave connects, registers, then stops reading (a stuck client)');
  const [daveReader, daveWriter] = await openConnection('127.0.0.1', plainPort);
  cleanup.add(() => daveWriter.transport.abort());
  daveWriter.write('dave\r\n');
  for (;;) {
    const l = Buffer.from(await within('dave registering', 3000, daveReader.readLine())).toString();
    if (l.startsWith('* you joined')) break;
  }
  n.say(`dave is in #lobby (${server.stats().clients} clients); from now on he never calls read() again`);

  n.step('alice floods #lobby with 600-byte messages; carol and bob keep receiving, dave falls behind');
  let carolGot = 0;
  carol.on('message', (e: ChatEvent) => {
    if (e.type === 'message' && e.text.startsWith('flood ')) carolGot++;
  });
  const padding = 'x'.repeat(580);
  let sent = 0;
  const batch = 250;
  const t0 = performance.now();
  const deadline = t0 + 4000;
  let daveGone = 0;
  const isGone = () => {
    const d = server.stats().disconnects;
    return (d['sendq stuck'] ?? 0) + (d['sendq exceeded'] ?? 0) > 0;
  };
  while (!isGone() && performance.now() < deadline) {
    for (let i = 0; i < batch; i++) alice.say(`flood ${sent++} ${padding}`);
    while ((carolGot < sent || bob.received < sent) && performance.now() < deadline) await sleep(5);
    if (daveGone === 0 && isGone()) daveGone = performance.now() - t0;
  }
  if (daveGone === 0 && isGone()) daveGone = performance.now() - t0;
  const took = performance.now() - t0;
  const s = server.stats();
  n.say(
    `alice sent ${sent} messages (${((sent * 600) / 1048576).toFixed(1)} MiB); carol received ${carolGot}, bob (IRC) received ${bob.received}`,
  );
  n.say(
    `dave's send queue peaked at ${(s.peakQueue / 1024).toFixed(0)} KiB (soft limit 256 KiB): the server dropped ${s.drops} of his oldest room messages instead of buffering them`,
  );
  const gone = Object.entries(s.disconnects).filter(([k]) => k.startsWith('sendq'));
  n.say(
    gone.length > 0
      ? `then it disconnected him (${gone.map(([k, v]) => `${k}: ${v}`).join(', ')}) ${daveGone > 0 ? `after ${ms(daveGone)}` : ''}; nobody else waited for him`
      : 'dave was not disconnected within the time budget (his queue stays bounded by the soft limit)',
  );
  for (const l of log.filter((x) => /dave/i.test(x)).slice(0, 2)) n.say(`server log: ${l}`);
  if (gone.length > 0) {
    let floods = 0;
    let end = 'end of stream';
    try {
      for (;;) {
        const line = await daveReader.readLine({ signal: AbortSignal.timeout(1000) });
        if (line.length === 0) break;
        if (Buffer.from(line).includes('> flood ')) floods++;
      }
    } catch (err) {
      end = String((err as { code?: unknown }).code ?? err);
    }
    n.say(
      `when dave reads again he gets the ${floods} messages that reached him before the cut (socket buffers plus his reader's), then ${end}`,
    );
  }
  n.measured(
    `${carolGot} messages delivered to carol in ${ms(took)} = ${perSecond(carolGot, took)} while dave was stuck`,
  );
  await alice.close('tour over');
  await carol.close('tour over');
  bob.send('QUIT :tour over');
}
