import { createInterface, type Interface } from 'node:readline';
import { ChatClient, type ChatEvent } from '@asyncnet/chat';
import { int, type ParsedArgs, parseHostPort, str } from '../args.js';
import { describeError, runtimeError, usageError } from '../errors.js';
import { colourFor, createStyle, type Style } from '../style.js';

// C0 controls but TAB, DEL, C1 controls, and the bidi overrides/isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: neutralising control characters is the point
const UNSAFE_RE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text from the network safe to print on a terminal: an escape sequence from a peer (or a
 * server that is not ours) must not clear the screen or retitle the window. Controls are shown
 * in caret notation (`^[`), others as U+FFFD.
 */
export function safeText(text: string): string {
  return text.replace(UNSAFE_RE, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
    return code === 0x7f ? '^?' : '\ufffd';
  });
}

/** Renders one chat event as a line of text (control characters neutralised). */
export function formatEvent(ev: ChatEvent, style: Style): string {
  switch (ev.type) {
    case 'message':
      return `<${style.nick(safeText(ev.from))}> ${safeText(ev.text)}`;
    case 'private':
      return `${style.magenta(`*${safeText(ev.from)}*`)} ${safeText(ev.text)}`;
    case 'action':
      // Not dimmed like server notices, with the nick styled: an action never looks like one.
      return ev.private
        ? `${style.magenta(`*${safeText(ev.from)}*`)} * ${safeText(ev.from)} ${safeText(ev.text)}`
        : `* ${style.nick(safeText(ev.from))} ${safeText(ev.text)}`;
    case 'notice':
      return style.dim(`* ${safeText(ev.text)}`);
    case 'error':
      return style.red(`! ${safeText(ev.text)}`);
  }
}

/**
 * Prints lines above a readline prompt without clobbering what the user is typing: clear the
 * prompt's rows, print, then re-render the prompt and the current input with the cursor where it was.
 */
export class PromptPrinter {
  readonly #rl: Interface;
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;

  constructor(rl: Interface, out: NodeJS.WriteStream, tty: boolean) {
    this.#rl = rl;
    this.#out = out;
    this.#tty = tty;
  }

  /**
   * Prints `text` (one or more lines) above the prompt, then redraws the prompt (`nextPrompt` if
   * given) and the input with the cursor where it was.
   */
  print(text: string, nextPrompt?: string): void {
    const rl = this.#rl;
    if (!this.#tty) {
      if (nextPrompt !== undefined) rl.setPrompt(nextPrompt);
      this.#out.write(`${text}\n`);
      return;
    }
    // The row the cursor is on now, counted from the prompt's first row (as drawn, old prompt).
    const shown = rl.getCursorPos();
    if (nextPrompt !== undefined) rl.setPrompt(nextPrompt);
    // Where the cursor and the end of the input will be once redrawn.
    const cursor = rl.getCursorPos();
    const saved = rl.cursor;
    (rl as { cursor: number }).cursor = rl.line.length;
    const end = rl.getCursorPos();
    (rl as { cursor: number }).cursor = saved;
    let seq = `${shown.rows > 0 ? `\x1b[${shown.rows}A` : ''}\r\x1b[J${text}\n${rl.getPrompt()}${rl.line}`;
    if (end.cols === 0) seq += ' '; // leave the terminal's pending-wrap state, as readline does
    seq += `\r${cursor.cols > 0 ? `\x1b[${cursor.cols}C` : ''}`;
    if (end.rows > cursor.rows) seq += `\x1b[${end.rows - cursor.rows}A`;
    this.#out.write(seq);
    // readline redraws from the row it believes the cursor is on; after a paste that belief can
    // be stale, so tell it where the cursor really is now.
    if ('prevRows' in rl) (rl as unknown as { prevRows: number }).prevRows = cursor.rows;
  }

  /** Replaces the just-submitted input line (still on screen, the cursor now below it) with `text`. */
  replaceSubmitted(submitted: string, text: string): void {
    if (!this.#tty) return;
    // Measure the submitted line the way readline laid it out: prompt + input, cursor at the end.
    const rl = this.#rl as unknown as {
      line: string;
      cursor: number;
      getCursorPos(): { rows: number; cols: number };
    };
    const { line, cursor } = rl;
    rl.line = submitted;
    rl.cursor = submitted.length;
    const end = rl.getCursorPos();
    rl.line = line;
    rl.cursor = cursor;
    const rows = end.cols === 0 && end.rows > 0 ? end.rows : end.rows + 1;
    this.#out.write(`\x1b[${rows}A\r\x1b[J${text}\n`);
  }
}

/** `asyncnet-demo chat host:port`: an interactive client on `ChatClient`. */
export async function chatCommand(args: ParsedArgs): Promise<number> {
  const { host, port } = parseHostPort(args.positionals[0]!);
  const nickRe = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;
  const user = process.env.USER ?? '';
  const nick = str(args, 'nick') ?? (nickRe.test(user) ? user : 'guest');
  if (!nickRe.test(nick)) {
    throw usageError(`bad nick ${JSON.stringify(nick)}: use letters, digits and - _ [ ] { } | ^ \``);
  }
  const timeout = int(args, 'timeout', 10_000, 1, 3_600_000);
  const out = process.stdout;
  const tty = out.isTTY === true && process.stdin.isTTY === true;
  const style = createStyle(colourFor(out));
  let client: ChatClient;
  try {
    client = await ChatClient.connect(host, port, { nick, timeout });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_NICK_IN_USE')
      throw runtimeError(`nick ${JSON.stringify(nick)} is taken: pick another with --nick`, err);
    if (code === 'ERR_INVALID_NICK')
      throw runtimeError(`${describeError(err)}: pick another with --nick`, err);
    if (code === 'ERR_TIMEOUT')
      // No greeting: an unreachable host, or (most often) the IRC port or some other service.
      throw runtimeError(
        `cannot join chat at ${host}:${port}: no chat greeting within ${timeout} ms: is a chat-server's plain-protocol port (not its IRC port) there? raise --timeout if it is slow`,
        err,
      );
    throw runtimeError(`cannot join chat at ${host}:${port}: ${describeError(err, `${host}:${port}`)}`, err);
  }
  const rl = createInterface({ input: process.stdin, output: out, terminal: tty, historySize: 100 });
  const printer = new PromptPrinter(rl, out, tty);
  const promptText = () => `${style.cyan(`[${client.room ?? 'no room'}]`)} ${style.nick(client.nick)}> `;
  rl.setPrompt(promptText());
  printer.print(
    style.dim(`* connected to ${host}:${port} as ${client.nick}; /help for commands, Ctrl-C to quit`),
  );
  // The server's greeting and "you joined #lobby (N here: ...)", minus the nick prompt already answered.
  for (const line of client.welcome) {
    if (line !== '* what is your nick?') printer.print(style.dim(safeText(line)));
  }
  let quitting = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });
  const quit = async (reason: string) => {
    if (quitting) return;
    quitting = true;
    if (tty) out.write('\r\x1b[J');
    await client.close(reason).catch(() => {});
    rl.close();
    out.write(`${style.dim('* bye')}\n`);
    resolveDone(0);
  };
  client.on('event', (ev: ChatEvent) => {
    if (quitting) return;
    // A notice may change the room or the nick, both shown in the prompt.
    printer.print(formatEvent(ev, style), ev.type === 'notice' ? promptText() : undefined);
  });
  client.on('close', () => {
    if (quitting) return;
    quitting = true;
    if (tty) out.write('\r\x1b[J');
    out.write(`${style.red('* the server closed the connection')}\n`);
    rl.close();
    resolveDone(1);
  });
  rl.on('line', (line) => {
    if (quitting) return;
    const text = line.trimEnd();
    try {
      if (text === '') {
        // nothing to send
      } else if (/^\/(quit|exit)\b/i.test(text)) {
        void quit(text.replace(/^\/\w+\s*/, ''));
        return;
      } else if (text.startsWith('/') && !text.startsWith('//')) {
        client.command(text);
        // The server does not send your own action or private message back: show it here, as
        // irssi does. (Errors such as "no such nick" still arrive from the server.)
        const me = /^\/me\s+(\S.*)$/i.exec(text);
        const msg = /^\/msg\s+(\S+)\s+(\S.*)$/i.exec(text);
        if (me !== null && client.room !== null) {
          printer.replaceSubmitted(line, `* ${style.nick(client.nick)} ${me[1]}`);
        } else if (msg !== null) {
          printer.replaceSubmitted(line, `${style.magenta(`-> *${msg[1]}*`)} ${msg[2]}`);
        }
      } else {
        const said = text.startsWith('//') ? text.slice(1) : text;
        client.say(said);
        // Outside a room the server answers with an error: do not show the line as said.
        if (client.room !== null) printer.replaceSubmitted(line, `<${style.nick(client.nick)}> ${said}`);
      }
    } catch (err) {
      printer.print(style.red(`! ${describeError(err)}`));
    }
    rl.prompt();
  });
  rl.on('SIGINT', () => void quit('ctrl-c'));
  rl.on('close', () => void quit(''));
  process.on('SIGTERM', () => void quit('terminated'));
  rl.prompt();
  return done;
}
