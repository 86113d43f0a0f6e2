import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type {
  ChatServerOptions,
  ChatTlsOptions,
  FloodControlOptions,
  ListenOptions,
  RedisBusOptions,
  SendQueueOptions,
  StsOptions,
  WebOptions,
  WebTlsOptions,
} from '@asyncnet/chat';
import { usageError } from './errors.js';

/**
 * `ChatServerOptions` fields a JSON file cannot hold: `bus` is an object with methods (the file's
 * `redis` key builds a `redisBus` instead) and `log` a function. Everything else must have a key
 * in {@link SCHEMA}: the `Fields` type makes a new option a compile error until it gets one.
 */
type CodeOnly = 'bus' | 'log';

type Accounts = NonNullable<ChatServerOptions['accounts']>;

/** The server options a config file can hold (`accounts.store` is code-only too). */
export type FileServerOptions = Omit<ChatServerOptions, CodeOnly | 'accounts'> & {
  accounts?: Omit<Accounts, 'store'>;
};

/** `listen` in the file: {@link ListenOptions}, with `ircPort: "off"` as on the command line. */
export type FileListen = Omit<ListenOptions, 'ircPort'> & { ircPort?: number | 'off' };

/** `redis` in the file as an object: {@link RedisBusOptions} without the deprecated `maxInFlight`. */
type FileRedis = Omit<RedisBusOptions, 'maxInFlight'>;

type FileShape = FileServerOptions & { listen?: FileListen; redis?: string | FileRedis };

/** A config file after validation, relative paths resolved against its folder. */
export interface ChatServerConfig {
  /** The path as given (for messages). */
  file: string;
  listen: FileListen;
  redis: FileRedis | undefined;
  options: FileServerOptions;
}

interface Ctx {
  file: string;
  dir: string;
}

/** One key's type: a shallow check (for {@link either}) and a full parse that throws on a bad value. */
interface Spec<T> {
  /** Finishes "must be …" in messages. */
  readonly expected: string;
  is(value: unknown): boolean;
  parse(value: unknown, path: string, ctx: Ctx): T;
}

/** Every key of `T`, optional or not, with the spec of its value. */
type Fields<T> = { [K in keyof T]-?: Spec<Exclude<T[K], undefined>> };

function fail(ctx: Ctx, message: string): never {
  throw usageError(`chat-server: config ${ctx.file}: ${message}`);
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function check<T>(spec: Spec<T>, value: unknown, path: string, ctx: Ctx): asserts value is T {
  if (!spec.is(value)) fail(ctx, `"${path}" must be ${spec.expected}, got ${show(value)}`);
}

function leaf<T>(expected: string, is: (v: unknown) => v is T, map?: (v: T, ctx: Ctx) => T): Spec<T> {
  const spec: Spec<T> = {
    expected,
    is,
    parse(value, path, ctx) {
      check(spec, value, path, ctx);
      return map === undefined ? value : map(value, ctx);
    },
  };
  return spec;
}

const string = leaf('a string', (v): v is string => typeof v === 'string');
const boolean = leaf('true or false', (v): v is boolean => typeof v === 'boolean');
/** A file path; relative ones are relative to the config file's folder, not the working directory. */
const path = leaf(
  'a file path',
  (v): v is string => typeof v === 'string' && v !== '',
  (v, ctx) => resolve(ctx.dir, v),
);

function whole(min: number, max = Number.POSITIVE_INFINITY): Spec<number> {
  const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `${min}-${max}`;
  return leaf(
    `a whole number ${range}`,
    (v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
  );
}

const positiveNumber = leaf('a number > 0', (v): v is number => typeof v === 'number' && v > 0);
const port = whole(0, 65535);
/** Milliseconds, 0 allowed where the server reads it as "off". */
const ms = whole(0);
const size = whole(1);

function literal<T extends string>(word: T): Spec<T> {
  return leaf(JSON.stringify(word), (v): v is T => v === word);
}

const redisUrl = leaf('a redis:// or rediss:// URL', (v): v is string => {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'redis:' || u.protocol === 'rediss:';
  } catch {
    return false;
  }
});

function list<T>(item: Spec<T>, expected: string): Spec<T[]> {
  return {
    expected,
    is: Array.isArray,
    parse(value, at, ctx) {
      if (!Array.isArray(value)) fail(ctx, `"${at}" must be ${expected}, got ${show(value)}`);
      return value.map((v, i) => item.parse(v, `${at}[${i}]`, ctx));
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** An object with free keys (account names) and values of one spec. */
function record<T>(item: Spec<T>, expected: string): Spec<Record<string, T>> {
  return {
    expected,
    is: isObject,
    parse(value, at, ctx) {
      if (!isObject(value)) fail(ctx, `"${at}" must be ${expected}, got ${show(value)}`);
      const out: Record<string, T> = {};
      for (const [k, v] of Object.entries(value)) out[k] = item.parse(v, `${at}.${k}`, ctx);
      return out;
    },
  };
}

/** An object with exactly these keys (`required` ones must be present); any other key is an error. */
function object<T>(fields: Fields<T>, required: ReadonlyArray<keyof T & string> = []): Spec<T> {
  const known = Object.keys(fields);
  return {
    expected: 'an object',
    is: isObject,
    parse(value, at, ctx) {
      const name = (k: string) => (at === '' ? k : `${at}.${k}`);
      if (!isObject(value))
        fail(ctx, `${at === '' ? 'the file' : `"${at}"`} must be an object, got ${show(value)}`);
      for (const k of Object.keys(value))
        if (!Object.hasOwn(fields, k)) fail(ctx, `unknown key "${name(k)}" (known: ${known.join(', ')})`);
      for (const k of required) if (value[k] === undefined) fail(ctx, `missing key "${name(k)}"`);
      const out: Record<string, unknown> = {};
      for (const k of known) {
        if (value[k] === undefined) continue;
        out[k] = (fields as Record<string, Spec<unknown>>)[k]!.parse(value[k], name(k), ctx);
      }
      return out as T;
    },
  };
}

/** The first spec whose shallow check accepts the value parses it (so nested errors stay precise). */
function either<A, B>(a: Spec<A>, b: Spec<B>): Spec<A | B> {
  const expected = `${a.expected} or ${b.expected}`;
  return {
    expected,
    is: (v) => a.is(v) || b.is(v),
    parse(value, at, ctx) {
      if (a.is(value)) return a.parse(value, at, ctx);
      if (b.is(value)) return b.parse(value, at, ctx);
      return fail(ctx, `"${at}" must be ${expected}, got ${show(value)}`);
    },
  };
}

const floodControl = object<FloodControlOptions>({
  burst: size,
  rate: positiveNumber,
  maxQueued: size,
});
const sendQueue = object<SendQueueOptions>({ soft: size, hard: size, stuckTimeout: size });
const sts = object<StsOptions>({ duration: whole(0), preload: boolean }, ['duration']);
const tls = object<ChatTlsOptions>({ certFile: path, keyFile: path, sts }, ['certFile', 'keyFile']);
const webTls = object<WebTlsOptions>({ certFile: path, keyFile: path }, ['certFile', 'keyFile']);
const web = object<WebOptions>({
  port,
  host: string,
  origins: list(string, 'an array of origin strings'),
  tls: webTls,
  keepAlive: ms,
  client: boolean,
  trustProxy: boolean,
});
const listen = object<FileListen>({
  host: string,
  port,
  ircPort: either(port, literal('off')),
  tlsPort: port,
});
const redis = object<FileRedis>(
  {
    url: redisUrl,
    prefix: string,
    nickLease: size,
    maxRetryDelay: size,
    maxBuffered: size,
    claimTimeout: size,
    streamLength: size,
    historyLength: size,
    historyMaxAge: ms,
    readBlock: size,
  },
  ['url'],
);

/** The whole file: `listen`, `redis`, then every plain-data `createChatServer` option by its own name. */
const SCHEMA = object<FileShape>({
  listen,
  redis: either(redisUrl, redis),
  serverName: string,
  network: string,
  motd: list(string, 'an array of strings (one per line)'),
  defaultRoom: string,
  password: string,
  operators: list(
    object({ name: string, password: string }, ['name', 'password']),
    'an array of { "name", "password" } objects',
  ),
  accounts: object<Omit<Accounts, 'store'>>({
    users: record(
      either(string, object({ password: string, scram: string }, ['password'])),
      'an object of account name to a password hash or { "password", "scram" } (hashPassword, hashScram)',
    ),
    file: path,
    registration: boolean,
    nickGrace: ms,
  }),
  admin: object({ location: string, email: string }),
  tls,
  web,
  history: whole(0, 10_000),
  floodControl: either(boolean, floodControl),
  sendQueue,
  maxConnectionsPerIp: whole(0),
  maxLineLength: size,
  nickMaxLength: size,
  roomMaxLength: size,
  maxRoomsPerClient: size,
  topicMaxLength: size,
  kickMaxLength: size,
  awayMaxLength: size,
  maxBans: size,
  registrationTimeout: size,
  pingInterval: ms,
  pingTimeout: size,
  idleTimeout: ms,
  highWaterMark: size,
  nodeTimeout: size,
});

/**
 * Validates a parsed config file.
 * @param json - the file's parsed JSON
 * @param file - the file's path (messages name it; relative paths inside resolve against its folder)
 * @returns the listeners, the Redis bus options and the `createChatServer` options
 * @throws DemoError `ERR_USAGE` naming the key path: an unknown key (with the known ones), a wrong
 *   type (with the expected one), a missing required key
 */
export function parseChatConfig(json: unknown, file: string): ChatServerConfig {
  const ctx: Ctx = { file, dir: dirname(resolve(file)) };
  const { listen: l, redis: r, ...options } = SCHEMA.parse(json, '', ctx);
  return {
    file,
    listen: l ?? {},
    redis: typeof r === 'string' ? { url: r } : r,
    options,
  };
}

/**
 * Reads and validates a JSON config file for `chat-server --config`.
 * @throws DemoError `ERR_USAGE` when the file cannot be read, is not JSON, or fails {@link parseChatConfig}
 */
export function loadChatConfig(file: string): ChatServerConfig {
  const ctx: Ctx = { file, dir: '' };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    fail(ctx, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(ctx, `not valid JSON: ${(err as Error).message}`);
  }
  return parseChatConfig(json, file);
}
