import { createInterface } from 'node:readline';
import { openConnection, type StreamReader, type StreamWriter, startServer } from '@asyncnet/streams';
import { type ParsedArgs, port, str } from '../args.js';
import { describeError, runtimeError, usageError } from '../errors.js';
import { onShutdown } from './shutdown.js';

async function bulkEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for (;;) {
    const data = await reader.read(65536);
    if (data.length === 0) break;
    writer.write(data);
    await writer.drain();
  }
  writer.close();
}

async function lineEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const line of reader) {
    writer.write(line);
    await writer.drain();
  }
  writer.close();
}

/** `asyncnet-demo echo-server`: the asyncio docs' TCP echo server on `startServer`. */
export async function echoServer(args: ParsedArgs): Promise<number> {
  const host = str(args, 'host', '127.0.0.1');
  const p = port(args, 'port', 8888);
  const mode = str(args, 'mode', 'bulk');
  if (mode !== 'bulk' && mode !== 'line') {
    throw usageError(`--mode must be bulk or line, got ${JSON.stringify(mode)}`);
  }
  const handler = mode === 'bulk' ? bulkEcho : lineEcho;
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(handler, host, p, {
      onError: (err, info) => {
        const peer = info.peername ? `${info.peername.address}:${info.peername.port}` : 'a client';
        process.stderr.write(`echo-server: connection from ${peer} failed: ${describeError(err)}\n`);
      },
    });
  } catch (err) {
    throw runtimeError(`cannot listen: ${describeError(err, `${host}:${p}`)}`, err);
  }
  const addr = server.address();
  const where = typeof addr === 'string' || addr === null ? String(addr) : `${addr.address}:${addr.port}`;
  // Handlers first: whoever reads "listening" may signal at once (on a busy machine the process can
  // be preempted between the two, and an unhandled SIGINT kills it without the graceful close).
  onShutdown(async (signal) => {
    process.stdout.write(`echo-server: ${signal}, closing (${server.connections} open connections)\n`);
    server.close();
    server.closeClients({ timeout: 2000 });
    await server.waitClosed();
  });
  process.stdout.write(`echo-server (${mode}) listening on ${where}; Ctrl-C to stop\n`);
  await server.serveForever();
  await server.waitClosed();
  return 0;
}

/** `asyncnet-demo echo-client`: sends each message as a line and prints the echo. */
export async function echoClient(args: ParsedArgs): Promise<number> {
  const host = str(args, 'host', '127.0.0.1');
  const p = port(args, 'port', 8888, false);
  const timeoutText = str(args, 'timeout', '5000');
  const timeout = Number(timeoutText);
  if (!/^\d+$/.test(timeoutText) || timeout < 1) {
    throw usageError(`--timeout must be a positive number of ms, got ${JSON.stringify(timeoutText)}`);
  }
  const target = `${host}:${p}`;
  let reader: StreamReader;
  let writer: StreamWriter;
  try {
    [reader, writer] = await openConnection(host, p, { timeout });
  } catch (err) {
    throw runtimeError(describeError(err, target), err);
  }
  try {
    const send = async (message: string) => {
      writer.write(`${message}\n`);
      await writer.drain();
      const echoed = await reader.readLine({ signal: AbortSignal.timeout(timeout) });
      if (echoed.length === 0) throw runtimeError(`${target} closed the connection before echoing`);
      process.stdout.write(Buffer.from(echoed).toString('utf8'));
    };
    if (args.positionals.length > 0) {
      // A message holding line breaks is several lines: each gets its own echo, or the replies
      // would fall out of step and the last ones would never be printed.
      for (const m of args.positionals) {
        for (const line of m.replace(/\r?\n$/, '').split(/\r?\n/)) await send(line);
      }
    } else {
      const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of rl) await send(line);
    }
    writer.close();
    await writer.waitClosed().catch(() => {});
  } catch (err) {
    writer.transport.abort();
    throw runtimeError(describeError(err, target), err);
  }
  return 0;
}
