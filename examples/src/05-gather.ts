// The tutorial's concurrent connections: many clients at once with asyncio.gather.
//
//   node examples/run.mjs gather
//
// Promise.all is asyncio.gather: it starts nothing itself, it waits for promises that are already
// running, and it returns their results in order. Like gather, it rejects with the first error
// (Promise.allSettled is gather(..., return_exceptions=True)).
import type { AddressInfo } from 'node:net';
import { openConnection, startServer } from '@asyncnet/streams';

// async def tcp_echo_client(message):
//     reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//     writer.write(message.encode())
//     await writer.drain()
//     data = await reader.read(100)
//     print(f'Received: {data.decode()!r}')
//     writer.close()
//     await writer.wait_closed()
//     return data.decode()
async function tcpEchoClient(message: string, port: number): Promise<string> {
  const [reader, writer] = await openConnection('127.0.0.1', port);
  writer.write(message);
  await writer.drain();
  const data = await reader.read(100);
  console.log(`Received: ${JSON.stringify(data.toString())}`);
  writer.close();
  await writer.waitClosed();
  return data.toString();
}

// async def main():
//     messages = [f'Message {i}' for i in range(5)]
//     results = await asyncio.gather(*(tcp_echo_client(m) for m in messages))
//     print(f'All done: {results}')
//
// asyncio.run(main())
async function main(port: number): Promise<void> {
  const messages = Array.from({ length: 5 }, (_, i) => `Message ${i}`);
  const results = await Promise.all(messages.map((m) => tcpEchoClient(m, port)));
  console.log(`All done: ${JSON.stringify(results)}`);
}

// not in the tutorial: an echo server that answers each client after a short delay, so the five
// clients are visibly served at the same time (five 100 ms waits take about 100 ms, not 500)
await using server = await startServer(
  async (reader, writer) => {
    const data = await reader.read(100);
    await new Promise((resolve) => setTimeout(resolve, 100));
    writer.write(data);
    await writer.drain();
    writer.close();
  },
  '127.0.0.1',
  0,
);
const started = performance.now();
await main((server.address() as AddressInfo).port);
const elapsed = Math.round(performance.now() - started);
console.log(`5 clients served in ${elapsed} ms (one after another would take at least 500 ms)`);
