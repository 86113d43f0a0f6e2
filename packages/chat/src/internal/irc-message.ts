/** One parsed IRC line (RFC 1459/2812 with IRCv3 message tags). */
export interface IrcMessage {
  /** Unescaped tag values (`key` without value is ''), or null when the line has no tags. */
  tags: Record<string, string> | null;
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
  let tags: Record<string, string> | null = null;
  if (line.charCodeAt(i) === 64 /* @ */) {
    const sp = line.indexOf(' ', i);
    if (sp === -1) return null;
    tags = parseTags(line.slice(i + 1, sp));
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
  return { tags, prefix, command, params };
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

const UNESCAPE: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

/** Parses `a=1;+b;c=x\\sy` (IRCv3 message-tags escaping); a later duplicate key wins. */
export function parseTags(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of raw.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    if (key === '' || key === '+' || key === '__proto__') continue;
    const value = eq === -1 ? '' : part.slice(eq + 1).replace(/\\(.?)/g, (_, c: string) => UNESCAPE[c] ?? c);
    out[key] = value;
  }
  return out;
}

/** Escapes a tag value for the wire. */
export function escapeTag(value: string): string {
  return value.replace(/[\\; \r\n]/g, (c) =>
    c === ';' ? '\\:' : c === ' ' ? '\\s' : c === '\\' ? '\\\\' : c === '\r' ? '\\r' : '\\n',
  );
}

/** Serializes tags (raw values, escaped here) as `@k=v;k2` plus a space, or '' when none. */
export function formatTags(tags: Record<string, string>): string {
  let out = '';
  for (const k in tags) {
    const v = tags[k]!;
    out += `${out === '' ? '@' : ';'}${v === '' ? k : `${k}=${escapeTag(v)}`}`;
  }
  return out === '' ? '' : `${out} `;
}
