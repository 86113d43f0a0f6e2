// The tutorial's stream processing: read line by line until the peer closes (EOF).
//
//   node examples/run.mjs stream-processing
//
// A server sends a few lines and closes; the client processes them until EOF, first with the
// tutorial's readline loop, then with `async for`, which asyncnet spells `for await`.
import type { AddressInfo } from 'node:net';
import { openConnection, type StreamReader, startServer } from '@asyncnet/streams';

// async def process_stream(reader):
//     while True:
//         line = await reader.readline()
//         if not line:          # b'' means EOF
//             break
//         print(f"Received line: {line.decode().strip()}")
async function processStream(reader: StreamReader): Promise<void> {
  while (true) {
    const line = await reader.readLine(); // a Buffer, with its '\n' (the last line may lack it)
    if (line.length === 0) break; // an empty Buffer means EOF, as b'' does
    console.log(`Received line: ${line.toString().trim()}`);
  }
}

// async def process_stream_async_for(reader):
//     async for line in reader:
//         print(f"Received line: {line.decode().strip()}")
async function processStreamAsyncFor(reader: StreamReader): Promise<void> {
  for await (const line of reader) {
    console.log(`Received line: ${line.toString().trim()}`);
  }
}

// not in the tutorial: a server that sends three lines, then closes (the client sees EOF)
await using server = await startServer(
  async (_reader, writer) => {
    writer.writeLines(['first line\n', 'second line\n', 'last line, no newline']);
    await writer.drain();
    writer.close();
  },
  '127.0.0.1',
  0,
);
const { port } = server.address() as AddressInfo;

for (const consume of [processStream, processStreamAsyncFor]) {
  console.log(`-- ${consume.name}`);
  const [reader, writer] = await openConnection('127.0.0.1', port);
  await consume(reader);
  console.log(`at EOF: ${reader.atEof()}`);
  writer.close();
  await writer.waitClosed();
}
