// The tutorial's broadcast chat server, the naive way: every line a client sends is written to every
// other client, awaiting drain() for each member in turn.
//
//   node examples/run.mjs chat-naive
//
// The asyncio original serves forever on port 8888 for telnet clients; this port listens on port 0,
// connects three clients, lets one talk, and shuts down. The next example does the same with
// @asyncnet/chat, which fixes this design's flaw: here one member that stops reading fills its
// write buffer, its drain() never resolves, and the whole room stops with it.
import type { AddressInfo } from 'node:net';
import { openConnection, type StreamReader, type StreamWriter, startServer } from '@asyncnet/streams';

// clients = []
//
// async def handle_client(reader, writer):
//     clients.append(writer)
//     addr = writer.get_extra_info('peername')
//     print(f"{addr} connected")
//     try:
//         while True:
//             data = await reader.readline()
//             if not data:
//                 break
//             message = data.decode().strip()
//             print(f"{addr}: {message}")
//             for client in clients:
//                 if client is not writer:
//                     client.write(f"{addr}: {message}\n".encode())
//                     await client.drain()      # one slow member stalls everyone behind it
//     finally:
//         clients.remove(writer)
//         writer.close()
//         await writer.wait_closed()
//         print(f"{addr} disconnected")
const clients: StreamWriter[] = [];

async function handleClient(reader: StreamReader, writer: StreamWriter): Promise<void> {
  clients.push(writer);
  const peer = writer.getExtraInfo('peername');
  const addr = `${peer?.address}:${peer?.port}`;
  console.log(`${addr} connected`);
  try {
    while (true) {
      const data = await reader.readLine();
      if (data.length === 0) break;
      const message = data.toString().trim();
      console.log(`${addr}: ${message}`);
      for (const client of clients) {
        if (client !== writer) {
          client.write(`${addr}: ${message}\n`);
          await client.drain(); // one slow member stalls everyone behind it
        }
      }
    }
  } finally {
    clients.splice(clients.indexOf(writer), 1);
    writer.close();
    await writer.waitClosed();
    console.log(`${addr} disconnected`);
  }
}

// async def main():
//     server = await asyncio.start_server(handle_client, '127.0.0.1', 8888)
//     async with server:
//         await server.serve_forever()
//
// asyncio.run(main())
await using server = await startServer(handleClient, '127.0.0.1', 0);
const { port } = server.address() as AddressInfo;

// not in the tutorial: three members; alice talks, bob and carol each read what she said
const connect = () => openConnection('127.0.0.1', port);
const [alice, bob, carol] = await Promise.all([connect(), connect(), connect()]);
while (server.connections < 3) await new Promise((resolve) => setTimeout(resolve, 5)); // all in `clients`

alice[1].write('hello, everyone\n');
for (const [name, [reader]] of [['bob', bob] as const, ['carol', carol] as const]) {
  const line = await reader.readLine({ signal: AbortSignal.timeout(5_000) });
  console.log(`${name} got: ${line.toString().trim()}`);
}
for (const [, writer] of [alice, bob, carol]) {
  writer.close();
  await writer.waitClosed();
}
