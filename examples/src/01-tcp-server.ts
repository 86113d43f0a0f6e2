// The tutorial's TCP echo server: asyncio.start_server with a handle_client coroutine.
//
//   node examples/run.mjs tcp-server
//
// The asyncio original listens on port 8888 and serves forever. This port listens on port 0 (any free
// port), lets one client say hello, then stops serving, so the example ends by itself.
import type { AddressInfo } from 'node:net';
import { openConnection, type StreamReader, type StreamWriter, startServer } from '@asyncnet/streams';

// async def handle_client(reader, writer):
//     data = await reader.read(100)
//     message = data.decode()
//     addr = writer.get_extra_info('peername')
//     print(f"Received {message!r} from {addr!r}")
//
//     print(f"Send: {message!r}")
//     writer.write(data)
//     await writer.drain()
//
//     print("Close the connection")
//     writer.close()
//     await writer.wait_closed()
async function handleClient(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const data = await reader.read(100); // a Buffer: at most 100 bytes, whatever has arrived
  const message = data.toString();
  const addr = writer.getExtraInfo('peername'); // { address, family, port }, where asyncio has a tuple
  console.log(`Received ${JSON.stringify(message)} from ${addr?.address}:${addr?.port}`);

  console.log(`Send: ${JSON.stringify(message)}`);
  writer.write(data);
  await writer.drain();

  console.log('Close the connection');
  writer.close();
  await writer.waitClosed();
}

// async def main():
//     server = await asyncio.start_server(handle_client, '127.0.0.1', 8888)
//
//     addrs = ', '.join(str(sock.getsockname()) for sock in server.sockets)
//     print(f'Serving on {addrs}')
//
//     async with server:
//         await server.serve_forever()
//
// asyncio.run(main())
async function main(): Promise<void> {
  // `await using` is `async with`: leaving the block closes the server and waits for its connections.
  await using server = await startServer(handleClient, '127.0.0.1', 0);

  const { address, port } = server.address() as AddressInfo; // TCP: an AddressInfo (Unix sockets: a path)
  console.log(`Serving on ${address}:${port}`);

  const serving = server.serveForever(); // resolves when server.close() stops the listener
  await sayHello(port); // not in the tutorial: one client, so there is something to serve
  server.close();
  await serving;
}

async function sayHello(port: number): Promise<void> {
  const [reader, writer] = await openConnection('127.0.0.1', port);
  writer.write('Hello World!');
  console.log(`Client got ${JSON.stringify((await reader.read(100)).toString())}`);
  writer.close();
  await writer.waitClosed();
}

await main();
