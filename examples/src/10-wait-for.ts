// The tutorial's timeouts: asyncio.wait_for around a read that may never complete, and its
// asyncio.timeout() scope.
//
//   node examples/run.mjs wait-for
//
// asyncio.wait_for cancels the awaited operation when the time is up. asyncnet does the same: every
// blocking call takes an AbortSignal, and each form below hands the call a signal that is aborted at
// the deadline, so the call is cancelled (not left running). It rejects with TimeoutError (code
// ERR_TIMEOUT) and consumes nothing: the bytes that arrive later are there for the next read.
//
// A local server on port 0 stays silent for 400 ms after each connection, then answers.
import type { AddressInfo } from 'node:net';
import {
  openConnection,
  type StreamReader,
  startServer,
  TimeoutError,
  timeout,
  withTimeout,
} from '@asyncnet/streams';

// async def read_with_timeout(reader, seconds):
//     try:
//         data = await asyncio.wait_for(reader.read(100), timeout=seconds)
//         print(f"Received: {data.decode()!r}")
//     except asyncio.TimeoutError:
//         print("Timed out waiting for data")
async function readWithTimeout(reader: StreamReader, ms: number): Promise<void> {
  try {
    const data = await withTimeout(ms, (signal) => reader.read(100, { signal }));
    console.log(`Received: ${JSON.stringify(data.toString())}`);
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    console.log(`Timed out waiting for data (${err.code})`);
  }
}

// The same for one call, without a wrapper: the call takes the signal itself.
//
//         data = await asyncio.wait_for(reader.read(100), timeout=seconds)
async function readWithSignal(reader: StreamReader, ms: number): Promise<void> {
  try {
    const data = await reader.read(100, { signal: AbortSignal.timeout(ms) });
    console.log(`Received: ${JSON.stringify(data.toString())}`);
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    console.log(`Timed out waiting for data (${err.code})`);
  }
}

// async def ask(port, seconds):
//     try:
//         async with asyncio.timeout(seconds):     # one deadline for everything inside
//             reader, writer = await asyncio.open_connection('127.0.0.1', port)
//             data = await reader.read(100)
//             print(f"Received within the deadline: {data.decode()!r}")
//             writer.close()
//     except TimeoutError:
//         print(f"No answer within {seconds} s")
async function ask(port: number, ms: number): Promise<void> {
  using deadline = timeout(ms); // `using` clears the timer when the block ends
  const [reader, writer] = await openConnection('127.0.0.1', port, { signal: deadline.signal });
  try {
    const data = await reader.read(100, { signal: deadline.signal });
    console.log(`Received within the deadline: ${JSON.stringify(data.toString())}`);
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    console.log(`No answer within ${ms} ms`);
  } finally {
    writer.close();
  }
}

// async def main():
//     reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//     try:
//         await read_with_timeout(reader, 0.2)   # the server is still silent
//         await read_with_timeout(reader, 5.0)   # the answer comes
//     finally:
//         writer.close()
//         await writer.wait_closed()
async function main(port: number): Promise<void> {
  for (const read of [readWithTimeout, readWithSignal]) {
    console.log(`-- ${read.name}`);
    const [reader, writer] = await openConnection('127.0.0.1', port);
    try {
      await read(reader, 200); // the server is still silent: cancelled after 200 ms
      await read(reader, 5_000); // the cancelled read took nothing: this one gets the answer
    } finally {
      writer.close();
      await writer.waitClosed();
    }
  }
  console.log('-- ask');
  await ask(port, 100);
  await ask(port, 5_000);
}

// not in the tutorial: the slow server
await using server = await startServer(
  async (_reader, writer) => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    if (writer.isClosing()) return;
    writer.write('finally, an answer');
    await writer.drain();
    writer.close();
  },
  '127.0.0.1',
  0,
  { onError: () => {} }, // a client that gave up may be gone when the answer is written
);
await main((server.address() as AddressInfo).port);
