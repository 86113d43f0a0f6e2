/** Stable codes of the demo's own errors. */
export type DemoErrorCode = 'ERR_USAGE' | 'ERR_RUNTIME';

/**
 * The demo's one error class. `ERR_USAGE` means the command line was wrong (exit 2);
 * `ERR_RUNTIME` means the command was fine but the work failed (exit 1).
 */
export class DemoError extends Error {
  override name = 'DemoError';
  readonly code: DemoErrorCode;

  constructor(code: DemoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A bad command line: one line naming the problem and the fix; exit code 2. */
export function usageError(message: string): DemoError {
  return new DemoError('ERR_USAGE', message);
}

/** A failure at run time (refused connection, bad server reply, ...); exit code 1. */
export function runtimeError(message: string, cause?: unknown): DemoError {
  return new DemoError('ERR_RUNTIME', message, cause === undefined ? undefined : { cause });
}

/** Exit code for an error: 2 for usage errors, 1 for everything else. */
export function exitCodeOf(err: unknown): number {
  return err instanceof DemoError && err.code === 'ERR_USAGE' ? 2 : 1;
}

interface CodedError {
  code?: unknown;
  message?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  syscall?: unknown;
}

/**
 * Turns any error into one human line (no stack): Node socket errors, the packages' coded
 * errors and the demo's own errors each get a message that names the problem and the fix.
 * @param err - what was thrown
 * @param target - `host:port` or URL the command was talking to, used in socket error messages
 */
export function describeError(err: unknown, target?: string): string {
  return oneLine(describe(err, target));
}

/** Collapses line breaks (OpenSSL messages hold one) so an error is always one line. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function describe(err: unknown, target?: string): string {
  if (err instanceof DemoError) return err.message;
  const e = (err ?? {}) as CodedError;
  const code = typeof e.code === 'string' ? e.code : '';
  const where =
    target ?? (typeof e.address === 'string' ? `${e.address}:${String(e.port ?? '')}` : 'the server');
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}: is the server running on that port?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host ${typeof e.hostname === 'string' ? e.hostname : where}: check the host name`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host ${where} is unreachable: check the address and your network`;
    case 'ETIMEDOUT':
    case 'ERR_TIMEOUT':
    case 'ERR_CONNECT_TIMEOUT':
    case 'ERR_HEADERS_TIMEOUT':
    case 'ERR_BODY_TIMEOUT':
    case 'ERR_TOTAL_TIMEOUT':
      return `timed out talking to ${where} (${msg(e)}): is the host reachable? raise --timeout if it is slow`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `connection to ${where} was reset by the peer`;
    case 'EADDRINUSE':
      return `address ${where} is already in use: pick another port with --port`;
    case 'EACCES':
      return `permission denied for ${where}: ports below 1024 need privileges, pick another with --port`;
    case 'EADDRNOTAVAIL':
      return `address ${where} is not available on this machine: check --host`;
    case 'ENOENT':
    case 'EISDIR':
      return msg(e);
    default:
      break;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return `TLS handshake with ${where} failed: the server does not speak TLS on that port (plain http://?) (${code})`;
  }
  if (code.startsWith('ERR_SSL_')) {
    const reason = /:([^:]+):[^:]*:\d+:\s*$/.exec(msg(e))?.[1] ?? msg(e);
    return `TLS handshake with ${where} failed: ${reason} (${code})`;
  }
  if (code.startsWith('ERR_')) return `${msg(e)} (${code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

function msg(e: CodedError): string {
  return typeof e.message === 'string' ? e.message : String(e);
}
