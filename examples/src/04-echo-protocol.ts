// The tutorial's custom protocol: an asyncio.Protocol subclass with connection_made/data_received,
// served by loop.create_server.
//
//   node examples/run.mjs echo-protocol
//
// The asyncio original serves forever on port 8888; this port listens on port 0, lets one client
// send a message, then closes the server.
import type { AddressInfo } from 'node:net';
import { createServer, type Protocol, type Transport } from '@asyncnet/protocol';
import { openConnection } from '@asyncnet/streams';

// class EchoProtocol(asyncio.Protocol):
//     def connection_made(self, transport):
//         self.transport = transport
//         peername = transport.get_extra_info('peername')
//         print(f"Connection from {peername}")
//
//     def data_received(self, data):
//         message = data.decode()
//         print(f"Data received: {message!r}")
//         self.transport.write(data)
class EchoProtocol implements Protocol {
  transport!: Transport; // set in connectionMade, which always comes first

  connectionMade(transport: Transport): void {
    this.transport = transport;
    const peername = transport.getExtraInfo('peername');
    console.log(`Connection from ${peername?.address}:${peername?.port}`);
  }

  dataReceived(data: Uint8Array): void {
    const message = Buffer.from(data).toString();
    console.log(`Data received: ${JSON.stringify(message)}`);
    this.transport.write(data);
  }

  // not in the tutorial: asyncio's connection_lost, called exactly once (null for a clean close)
  connectionLost(error: Error | null): void {
    console.log(`Connection lost: ${error === null ? 'closed cleanly' : error.message}`);
  }
}

// async def main():
//     loop = asyncio.get_running_loop()
//     server = await loop.create_server(lambda: EchoProtocol(), '127.0.0.1', 8888)
//     async with server:
//         await server.serve_forever()
//
// asyncio.run(main())
async function main(): Promise<void> {
  await using server = await createServer(() => new EchoProtocol(), '127.0.0.1', 0);
  const { port } = server.address() as AddressInfo;
  console.log(`Serving on 127.0.0.1:${port}`);

  // not in the tutorial: a client for the server to echo to
  const [reader, writer] = await openConnection('127.0.0.1', port);
  writer.write('Hello, protocol!');
  console.log(`Client got ${JSON.stringify((await reader.read(100)).toString())}`);
  writer.close();
  await writer.waitClosed();
}

await main();
