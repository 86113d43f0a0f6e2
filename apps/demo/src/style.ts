/** ANSI styling, on only when the stream is a TTY and NO_COLOR is unset (FORCE_COLOR forces it). */
export interface Style {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  /** A stable colour per nick, so the same person always looks the same. */
  nick(s: string): string;
}

const NICK_COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/** Whether colour should be used for `stream`. */
export function colourFor(stream: { isTTY?: boolean }): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** Builds a {@link Style}; every method is the identity when `enabled` is false. */
export function createStyle(enabled: boolean): Style {
  const wrap = (code: number | string) => (s: string) => (enabled ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    enabled,
    bold: wrap(1),
    dim: wrap(2),
    green: wrap(32),
    red: wrap(31),
    yellow: wrap(33),
    cyan: wrap(36),
    magenta: wrap(35),
    nick(s: string): string {
      if (!enabled) return s;
      let h = 0;
      for (let i = 0; i < s.length; i++) h = (h * 31 + s.toLowerCase().charCodeAt(i)) >>> 0;
      return `\x1b[${NICK_COLOURS[h % NICK_COLOURS.length]}m${s}\x1b[0m`;
    },
  };
}
