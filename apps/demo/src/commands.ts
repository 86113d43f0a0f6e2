import type { CommandSpec } from './args.js';

const host = { name: 'host', value: 'HOST', help: 'address to bind or connect to', default: '127.0.0.1' };

/** Every command of `asyncnet-demo`, in the order `--help` lists them. */
export const COMMANDS: CommandSpec[] = [
  {
    name: 'tour',
    summary: 'a narrated, in-process tour of every package on loopback (the default command)',
    usage: 'tour',
    details: [
      'Starts its own servers on 127.0.0.1 (TCP, TLS with a certificate made on the fly, UDP, HTTP,',
      'HTTPS, chat) and shows real traffic through @asyncnet/streams, protocol, http-lite and chat,',
      'with one measured number per section. Needs no network, no Redis and no setup.',
    ],
    options: [],
    positionals: { min: 0, max: 0 },
  },
  {
    name: 'echo-server',
    summary: 'a TCP echo server on @asyncnet/streams (startServer)',
    usage: 'echo-server [--host 127.0.0.1] [--port 8888] [--mode bulk|line]',
    details: [
      'bulk: echoes bytes as they arrive (read/write/drain); line: echoes line by line (readLine).',
      'Ctrl-C (SIGINT) or SIGTERM closes it gracefully.',
    ],
    options: [
      host,
      {
        name: 'port',
        short: 'p',
        value: 'PORT',
        help: 'port to listen on, 0 for any free port',
        default: '8888',
      },
      { name: 'mode', value: 'MODE', help: 'bulk or line', default: 'bulk' },
    ],
    positionals: { min: 0, max: 0 },
  },
  {
    name: 'echo-client',
    summary: 'sends lines to an echo server and prints what comes back (openConnection)',
    usage: 'echo-client [--host 127.0.0.1] [--port 8888] [message...]',
    details: [
      'Each message is sent as one line and the echoed line is printed. Without messages, lines are',
      'read from stdin until EOF.',
    ],
    options: [
      host,
      { name: 'port', short: 'p', value: 'PORT', help: 'server port', default: '8888' },
      { name: 'timeout', value: 'MS', help: 'connect and reply timeout in ms', default: '5000' },
    ],
    positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  },
  {
    name: 'get',
    summary: 'fetches a URL with @asyncnet/http-lite, like curl',
    usage:
      "get <url> [-o FILE] [-I/--head] [-H 'Name: value']... [--max-redirects N] [--decompress] [--timeout MS]",
    details: [
      'Prints the body to stdout (or the status line and headers with -I). With -o the body is',
      'streamed to FILE, with a progress bar on stderr when stderr is a terminal.',
      'Exit code 1 when the request fails or the status is 400 or more.',
    ],
    options: [
      { name: 'output', short: 'o', value: 'FILE', help: 'write the body to FILE' },
      { name: 'head', short: 'I', help: 'print the status line and headers only (HEAD request)' },
      { name: 'header', short: 'H', value: "'NAME: VALUE'", repeat: true, help: 'add a request header' },
      { name: 'max-redirects', value: 'N', help: 'redirects to follow', default: '5' },
      { name: 'decompress', help: 'ask for and decode gzip/deflate/br bodies' },
      { name: 'timeout', value: 'MS', help: 'connect and header timeout in ms', default: '10000' },
      { name: 'insecure', short: 'k', help: 'do not verify the server certificate (https)' },
    ],
    positionals: { min: 1, max: 1 },
  },
  {
    name: 'chat-server',
    summary: 'a chat server (@asyncnet/chat): plain protocol, IRC and a web client on one hub',
    usage:
      'chat-server [--config FILE] [--host 127.0.0.1] [--port 7000] [--irc-port 6667] [--tls-cert FILE --tls-key FILE [--tls-port 6697]] [--web-port PORT [--web-origin URL]...] [--redis redis://host:port] [--stats SECONDS] [--no-flood-control] [--history N]',
    details: [
      'Connect with `asyncnet-demo chat 127.0.0.1:7000`, `nc 127.0.0.1 7000`, or any IRC client on',
      'the IRC port. Several servers sharing one Redis (--redis) form one chat network.',
      'With --tls-cert/--tls-key IRC is also served over TLS; SIGHUP re-reads the certificate files.',
      'With --web-port the server also serves a web client and IRC over WebSocket: open the printed',
      'URL in a browser (add ?nick=NAME&room=%23lobby to join at once); HTTPS with --tls-cert.',
      'With --config FILE the listeners, TLS, web, Redis and every createChatServer option (MOTD,',
      'operators, accounts, password, limits, flood control) come from a JSON file (reference in',
      'apps/demo/README.md); unknown keys and wrong types are an error. Relative paths in it are',
      'relative to the file. Every flag given on the command line (--host, --port, --irc-port,',
      '--tls-cert/--tls-key, --tls-port, --web-port, --web-origin, --redis, --history,',
      '--no-flood-control) overrides the file; the defaults below apply when neither sets a value.',
      'Logs one line when listening; SIGINT/SIGTERM close it gracefully.',
    ],
    options: [
      {
        name: 'config',
        short: 'c',
        value: 'FILE',
        help: 'JSON server configuration (listeners, TLS, operators, accounts, limits, MOTD, Redis)',
      },
      host,
      { name: 'port', short: 'p', value: 'PORT', help: 'plain-protocol port, 0 for any', default: '7000' },
      { name: 'irc-port', value: 'PORT', help: 'IRC port, 0 for any, "off" for none', default: '6667' },
      { name: 'tls-cert', value: 'FILE', help: 'certificate chain (PEM) for IRC over TLS' },
      { name: 'tls-key', value: 'FILE', help: 'private key (PEM) for IRC over TLS' },
      {
        name: 'tls-port',
        value: 'PORT',
        help: 'IRC-over-TLS port (with --tls-cert), 0 for any',
        default: '6697',
      },
      { name: 'web-port', value: 'PORT', help: 'web client and IRC over WebSocket on this port, 0 for any' },
      {
        name: 'web-origin',
        value: 'URL',
        repeat: true,
        help: 'another origin whose pages may connect (e.g. https://chat.example.com); * for any',
      },
      { name: 'redis', value: 'URL', help: 'share rooms with other servers over Redis (streams)' },
      {
        name: 'stats',
        value: 'SECONDS',
        help: 'print a stats line (bus lag per node, buffered events, re-syncs, nick conflicts) this often; SIGUSR2 prints one any time',
        default: '0',
      },
      { name: 'no-flood-control', help: 'turn off per-client flood control' },
      { name: 'history', value: 'N', help: 'messages per room replayed on join', default: '20' },
    ],
    positionals: { min: 0, max: 0 },
  },
  {
    name: 'chat',
    summary: 'an interactive terminal chat client (ChatClient)',
    usage: 'chat <host:port> [--nick NAME] [--timeout MS]',
    details: [
      'Type to talk; incoming lines appear above your prompt without disturbing what you are typing.',
      'Commands: /join #room, /part, /nick NAME, /msg NICK text, /me action, /who, /rooms, /help,',
      '/quit. Ctrl-C or Ctrl-D quits.',
    ],
    options: [
      { name: 'nick', short: 'n', value: 'NAME', help: 'nick to register', default: '$USER' },
      { name: 'timeout', value: 'MS', help: 'connect and registration timeout in ms', default: '10000' },
    ],
    positionals: { min: 1, max: 1 },
  },
  {
    name: 'bench',
    summary: "runs every package's benchmark and prints the side-by-side tables",
    usage: 'bench [package...]',
    details: [
      'Runs node packages/<name>/bench/run.mjs for streams, protocol, http-lite and chat (or the',
      'named ones) from the repository root, one after another. Needs a checkout of the repository',
      'with built packages (pnpm build). Takes a few minutes.',
    ],
    options: [],
    positionals: { min: 0, max: 4 },
  },
];

/** Looks a command up by name. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
