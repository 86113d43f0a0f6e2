import { createInterface, type Interface } from 'node:readline';
import { ChatClient, type ChatEvent } from '@asyncnet/chat';
import { type ParsedArgs, parseHostPort, str } from '../args.js';
import { describeError, runtimeError, usageError } from '../errors.js';
import { colourFor, createStyle, type Style } from '../style.js';

/** Renders one chat event as a line of text. */
export function formatEvent(ev: ChatEvent, style: Style): string {
  switch (ev.type) {
    case 'message':
      return `<${style.nick(ev.from)}> ${ev.text}`;
    case 'private':
      return `${style.magenta(`*${ev.from}*`)} ${ev.text}`;
    case 'notice':
      return style.dim(`* ${ev.text}`);
    case 'error':
      return style.red(`! ${ev.text}`);
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

  /** Prints `text` (one or more lines) above the prompt. */
  print(text: string): void {
    if (!this.#tty) {
      this.#out.write(`${text}\n`);
      return;
    }
    const { rows } = this.#rl.getCursorPos();
    // Go to the first row of the prompt, clear it and everything under it.
    this.#out.write(`${rows > 0 ? `\x1b[${rows}A` : ''}\r\x1b[J${text}\n`);
    this.#rl.prompt(true);
  }

  /** Replaces the just-submitted input line (still on screen) with `text`. */
  replaceSubmitted(submitted: string, text: string): void {
    if (!this.#tty) return;
    const cols = Math.max(this.#out.columns ?? 80, 1);
    const width = visibleLength(this.#rl.getPrompt()) + submitted.length;
    const rows = Math.max(1, Math.ceil(width / cols) || 1);
    this.#out.write(`\x1b[${rows}A\r\x1b[J${text}\n`);
  }
}

function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** `asyncnet-demo chat host:port`: an interactive client on `ChatClient`. */
export async function chatCommand(args: ParsedArgs): Promise<number> {
  const { host, port } = parseHostPort(args.positionals[0]!);
  const nick = str(args, 'nick') ?? (process.env.USER || 'guest');
  if (!/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/.test(nick)) {
    throw usageError(`bad nick ${JSON.stringify(nick)}: use letters, digits and - _ [ ] { } | ^ \``);
  }
  const out = process.stdout;
  const tty = out.isTTY === true && process.stdin.isTTY === true;
  const style = createStyle(colourFor(out));
  let client: ChatClient;
  try {
    client = await ChatClient.connect(host, port, { nick, timeout: 10_000 });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_NICK_IN_USE')
      throw runtimeError(`nick ${JSON.stringify(nick)} is taken: pick another with --nick`, err);
    if (code === 'ERR_INVALID_NICK')
      throw runtimeError(`${describeError(err)}: pick another with --nick`, err);
    throw runtimeError(`cannot join chat at ${host}:${port}: ${describeError(err, `${host}:${port}`)}`, err);
  }
  const rl = createInterface({ input: process.stdin, output: out, terminal: tty, historySize: 100 });
  const printer = new PromptPrinter(rl, out, tty);
  const setPrompt = () =>
    rl.setPrompt(`${style.cyan(`[${client.room ?? 'no room'}]`)} ${style.nick(client.nick)}> `);
  setPrompt();
  printer.print(
    style.dim(`* connected to ${host}:${port} as ${client.nick}; /help for commands, Ctrl-C to quit`),
  );
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
    printer.print(formatEvent(ev, style));
    if (ev.type === 'notice') {
      setPrompt();
      rl.prompt(true);
    }
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
      } else {
        const said = text.startsWith('//') ? text.slice(1) : text;
        client.say(said);
        printer.replaceSubmitted(line, `<${style.nick(client.nick)}> ${said}`);
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
