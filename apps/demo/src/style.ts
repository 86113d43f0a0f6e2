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

type Env = Record<string, string | undefined>;

/**
 * Whether the environment turns colour off: `NO_COLOR` set and non-empty (no-color.org),
 * `NODE_DISABLE_COLORS` set, or `FORCE_COLOR` set to `0` or `false`.
 */
function colourOff(env: Env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return true;
  if (env.NODE_DISABLE_COLORS !== undefined) return true;
  return env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false';
}

/** Whether colour should be used for `stream`: off if asked (NO_COLOR wins), on if forced, else on a TTY. */
export function colourFor(stream: { isTTY?: boolean }, env: Env = process.env): boolean {
  if (colourOff(env)) return false;
  if (env.FORCE_COLOR !== undefined) return true;
  return stream.isTTY === true;
}

/**
 * Leaves at most one kind of colour variable in `env`, keeping what {@link colourFor} decides.
 *
 * Node 24 prints "Warning: The 'NO_COLOR' env is ignored due to the 'FORCE_COLOR' env being set"
 * on stderr as soon as `node:http` loads when both are set (even `FORCE_COLOR=`), and so does every
 * child that inherits both. The CLI settles its own `process.env` before it loads any command,
 * so neither it nor anything it spawns warns. Here `NO_COLOR` wins, as no-color.org asks.
 */
export function settleColourEnv(env: Env): void {
  if (env.FORCE_COLOR === undefined) return;
  if (env.NO_COLOR === undefined && env.NODE_DISABLE_COLORS === undefined) return;
  if (colourOff(env)) {
    delete env.FORCE_COLOR;
    env.NO_COLOR = '1';
  } else {
    // Only an empty NO_COLOR can get here: it means "not set".
    delete env.NO_COLOR;
  }
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
