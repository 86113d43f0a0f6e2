// The tutorial's TCP echo client: asyncio.open_connection, write, drain, read, close.
//
//   node examples/run.mjs tcp-client
//
// The asyncio original talks to the server of the first example on port 8888; this one starts a
// small echo server of its own on port 0 first, so it runs alone.
import type { AddressInfo } from 'node:net';
import { openConnection, startServer } from '@asyncnet/streams';

// async def tcp_echo_client(message):
//     reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//
//     print(f'Send: {message!r}')
//     writer.write(message.encode())
//     await writer.drain()
//
//     data = await reader.read(100)
//     print(f'Received: {data.decode()!r}')
//
//     print('Close the connection')
//     writer.close()
//     await writer.wait_closed()
async function tcpEchoClient(message: string, port: number): Promise<void> {
  const [reader, writer] = await openConnection('127.0.0.1', port);

  console.log(`Send: ${JSON.stringify(message)}`);
  writer.write(message); // strings are sent as UTF-8, so no .encode()
  await writer.drain();

  const data = await reader.read(100);
  console.log(`Received: ${JSON.stringify(data.toString())}`);

  console.log('Close the connection');
  writer.close();
  await writer.waitClosed();
}

// asyncio.run(tcp_echo_client('Hello World!'))
await using server = await startServer(
  // not in the tutorial: the first example's server, reduced to read 100 bytes and echo them
  async (reader, writer) => {
    writer.write(await reader.read(100));
    await writer.drain();
    writer.close();
  },
  '127.0.0.1',
  0,
);
await tcpEchoClient('Hello World!', (server.address() as AddressInfo).port);
