import { readFileSync } from 'node:fs';
import { formatCommandHelp, type ParsedArgs, parseArgs } from './args.js';
import { COMMANDS, findCommand } from './commands.js';
import { describeError, exitCodeOf, usageError } from './errors.js';
import { settleColourEnv } from './style.js';

// Before any command (and so node:http) loads: with both NO_COLOR and FORCE_COLOR set, Node 24
// warns on stderr, here and in every child we spawn (they inherit process.env).
settleColourEnv(process.env);

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: asyncnet-demo [command] [options]',
    '',
    'asyncio-style networking for Node.js, live: a tour and tools built on @asyncnet/*.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'options:',
    '  -h, --help     show this help (or `asyncnet-demo <command> --help`)',
    '  -V, --version  print the version',
    '      --debug    show stack traces on failure',
    '',
    'With no command, runs the tour.',
    '',
  ].join('\n');
}

type Runner = (args: ParsedArgs) => Promise<number | undefined>;

async function load(name: string): Promise<Runner> {
  switch (name) {
    case 'tour':
      return (await import('./tour/tour.js')).runTourCommand;
    case 'echo-server':
      return (await import('./cmd/echo.js')).echoServer;
    case 'echo-client':
      return (await import('./cmd/echo.js')).echoClient;
    case 'get':
      return (await import('./cmd/get.js')).getCommand;
    case 'chat-server':
      return (await import('./cmd/chat-server.js')).chatServerCommand;
    case 'chat':
      return (await import('./cmd/chat.js')).chatCommand;
    case 'bench':
      return (await import('./cmd/bench.js')).benchCommand;
    default:
      throw usageError(`unknown command ${JSON.stringify(name)}: run 'asyncnet-demo --help' for the list`);
  }
}

async function main(rawArgv: string[]): Promise<number> {
  // --debug is global: it may come before the command too.
  const debug = rawArgv.includes('--debug');
  const argv = rawArgv.filter((a) => a !== '--debug');
  try {
    const first = argv[0];
    if (first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? argv[1] : undefined;
      const spec = topic === undefined ? undefined : findCommand(topic);
      if (topic !== undefined && spec === undefined) {
        throw usageError(`unknown command ${JSON.stringify(topic)}: run 'asyncnet-demo --help' for the list`);
      }
      process.stdout.write(spec ? formatCommandHelp(spec) : mainHelp());
      return 0;
    }
    if (first === '--version' || first === '-V') {
      process.stdout.write(`asyncnet-demo ${version()}\n`);
      return 0;
    }
    const useDefault = first === undefined || first.startsWith('-');
    const name = useDefault ? 'tour' : first;
    const spec = findCommand(name);
    if (spec === undefined) {
      throw usageError(`unknown command ${JSON.stringify(name)}: run 'asyncnet-demo --help' for the list`);
    }
    const args = parseArgs(spec, useDefault ? argv : argv.slice(1));
    if (args.help) {
      process.stdout.write(formatCommandHelp(spec));
      return 0;
    }
    const run = await load(name);
    return (await run(args)) ?? 0;
  } catch (err) {
    process.stderr.write(`asyncnet-demo: error: ${describeError(err)}\n`);
    if (debug) {
      for (let e: unknown = err; e instanceof Error; e = e.cause)
        process.stderr.write(`${e.stack ?? e.message}\n`);
    }
    return exitCodeOf(err);
  }
}

// EPIPE on stdout (`asyncnet-demo get URL | head`) is not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

// A failure outside the awaited command (a stray socket error) still gets one line, not a stack.
const lastResort = (err: unknown) => {
  process.stderr.write(`asyncnet-demo: error: ${describeError(err)}\n`);
  if (process.argv.includes('--debug') && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
};
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`asyncnet-demo: error: ${describeError(err)}\n`);
    process.exitCode = 1;
  },
);
