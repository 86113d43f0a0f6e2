/** One parsed IRC line (RFC 1459/2812; IRCv3 tags are skipped). */
export interface IrcMessage {
  prefix: string | null;
  command: string;
  params: string[];
}

/** Parses one line (without CRLF). Returns null for an empty or prefix-only line. */
export function parseIrcMessage(line: string): IrcMessage | null {
  let i = 0;
  const n = line.length;
  const skipSpaces = () => {
    while (i < n && line.charCodeAt(i) === 32) i++;
  };
  skipSpaces();
  if (line.charCodeAt(i) === 64 /* @ */) {
    const sp = line.indexOf(' ', i);
    if (sp === -1) return null;
    i = sp;
    skipSpaces();
  }
  let prefix: string | null = null;
  if (line.charCodeAt(i) === 58 /* : */) {
    const sp = line.indexOf(' ', i);
    if (sp === -1) return null;
    prefix = line.slice(i + 1, sp);
    i = sp;
    skipSpaces();
  }
  let sp = line.indexOf(' ', i);
  if (sp === -1) sp = n;
  const command = line.slice(i, sp).toUpperCase();
  if (command.length === 0) return null;
  i = sp;
  const params: string[] = [];
  while (i < n) {
    skipSpaces();
    if (i >= n) break;
    if (line.charCodeAt(i) === 58) {
      params.push(line.slice(i + 1));
      break;
    }
    sp = line.indexOf(' ', i);
    if (sp === -1) sp = n;
    params.push(line.slice(i, sp));
    i = sp;
  }
  return { prefix, command, params };
}

/**
 * Serializes one message with CRLF. The last parameter gets a ':' when it is empty, holds a space
 * or starts with ':'; `trailing` forces it (PRIVMSG text always uses it, like most servers do).
 */
export function formatIrcMessage(
  prefix: string | null,
  command: string,
  params: readonly string[],
  trailing = false,
): string {
  let out = prefix ? `:${prefix} ${command}` : command;
  const last = params.length - 1;
  for (let k = 0; k < params.length; k++) {
    const p = params[k]!;
    if (k === last && (trailing || p.length === 0 || p.includes(' ') || p.charCodeAt(0) === 58)) {
      out += ` :${p}`;
    } else {
      out += ` ${p}`;
    }
  }
  return `${out}\r\n`;
}
