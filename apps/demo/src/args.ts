import { usageError } from './errors.js';

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes, e.g. `port`. */
  name: string;
  /** One-letter alias without the dash. */
  short?: string;
  /** Placeholder of the value (`PORT`); absent for a boolean flag. */
  value?: string;
  /** May be given several times (values collected in order). */
  repeat?: boolean;
  /** Help text. */
  help: string;
  /** Shown in help. */
  default?: string;
}

/** A command of the CLI. */
export interface CommandSpec {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The usage line after `asyncnet-demo`. */
  usage: string;
  /** Longer help (examples, notes). */
  details?: string[];
  options: OptionSpec[];
  /** Allowed positional arguments. */
  positionals: { min: number; max: number };
}

/** The result of parsing one command's arguments. */
export interface ParsedArgs {
  options: Map<string, string | string[] | true>;
  positionals: string[];
  help: boolean;
}

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionSpec[] = [
  { name: 'help', short: 'h', help: 'show help for this command' },
  { name: 'debug', help: 'show stack traces on failure' },
];

/**
 * Parses `argv` (after the command name) against `spec`.
 * @throws DemoError `ERR_USAGE` for an unknown option, a missing value, or too many/few arguments
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const all = [...spec.options, ...COMMON_OPTIONS];
  const byLong = new Map(all.map((o) => [o.name, o]));
  const byShort = new Map(all.filter((o) => o.short !== undefined).map((o) => [o.short!, o]));
  const options = new Map<string, string | string[] | true>();
  const positionals: string[] = [];
  const hint = `run 'asyncnet-demo ${spec.name} --help'`;
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    let opt: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) inline = arg.slice(eq + 1);
      opt = byLong.get(name);
    } else {
      opt = byShort.get(arg.slice(1, 2));
      if (arg.length > 2) inline = arg.slice(2);
    }
    if (opt === undefined)
      throw usageError(`unknown option ${JSON.stringify(arg)} for ${spec.name}: ${hint}`);
    if (opt.value === undefined) {
      if (inline !== undefined)
        throw usageError(`option --${opt.name} takes no value, got ${JSON.stringify(arg)}: ${hint}`);
      options.set(opt.name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (
        next === undefined ||
        (next.startsWith('-') && next !== '-' && next.length > 1 && !/^-\d/.test(next))
      ) {
        throw usageError(`option --${opt.name} needs a value (${opt.value}): ${hint}`);
      }
      value = next;
      i++;
    }
    if (opt.repeat) {
      const prev = options.get(opt.name);
      options.set(opt.name, Array.isArray(prev) ? [...prev, value] : [value]);
    } else {
      options.set(opt.name, value);
    }
  }
  const help = options.get('help') === true;
  if (!help) {
    if (positionals.length < spec.positionals.min) {
      throw usageError(`missing argument for ${spec.name}: usage: asyncnet-demo ${spec.usage}`);
    }
    if (positionals.length > spec.positionals.max) {
      throw usageError(
        `unexpected argument ${JSON.stringify(positionals[spec.positionals.max])} for ${spec.name}: ${hint}`,
      );
    }
  }
  return { options, positionals, help };
}

/** A string option's value, or `fallback`. */
export function str(args: ParsedArgs, name: string, fallback: string): string;
export function str(args: ParsedArgs, name: string): string | undefined;
export function str(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : fallback;
}

/** A repeated option's values (empty when absent). */
export function list(args: ParsedArgs, name: string): string[] {
  const v = args.options.get(name);
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** Whether a boolean flag was given. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.options.get(name) === true;
}

/**
 * An integer option within `[min, max]`.
 * @throws DemoError `ERR_USAGE` naming the option and the bad value
 */
export function int(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const v = str(args, name);
  if (v === undefined) return fallback;
  return parseIntStrict(v, `--${name}`, min, max);
}

/**
 * Parses a decimal integer within `[min, max]`.
 * @throws DemoError `ERR_USAGE` naming `what` and the bad value
 */
export function parseIntStrict(v: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw usageError(`${what} must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw usageError(`${what} must be between ${min} and ${max}, got ${v}`);
  return n;
}

/** A TCP port option (1-65535, or 0 when `allowZero` for "any free port"). */
export function port(args: ParsedArgs, name: string, fallback: number, allowZero = true): number {
  return int(args, name, fallback, allowZero ? 0 : 1, 65535);
}

/**
 * Parses `host:port` (IPv6 as `[::1]:port`).
 * @throws DemoError `ERR_USAGE` for a missing or bad port
 */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(.*)$/.exec(value);
  if (m === null)
    throw usageError(`expected HOST:PORT, got ${JSON.stringify(value)} (example: 127.0.0.1:7000)`);
  const host = m[1] ?? m[2] ?? '';
  if (host === '') throw usageError(`missing host in ${JSON.stringify(value)} (example: 127.0.0.1:7000)`);
  return { host, port: parseIntStrict(m[3] ?? '', `port in ${JSON.stringify(value)}`, 1, 65535) };
}

/** Renders help for one command. */
export function formatCommandHelp(spec: CommandSpec): string {
  const lines = [`usage: asyncnet-demo ${spec.usage}`, '', spec.summary];
  if (spec.details !== undefined) lines.push('', ...spec.details);
  const opts = [...spec.options, ...COMMON_OPTIONS];
  lines.push('', 'options:');
  const left = opts.map((o) => {
    const names = `${o.short !== undefined ? `-${o.short}, ` : '    '}--${o.name}`;
    return o.value !== undefined ? `${names} ${o.value}` : names;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  opts.forEach((o, i) => {
    const extra = [o.repeat ? 'repeatable' : '', o.default !== undefined ? `default ${o.default}` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${left[i]!.padEnd(width)}${o.help}${extra ? ` (${extra})` : ''}`);
  });
  return `${lines.join('\n')}\n`;
}
