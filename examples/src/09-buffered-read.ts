// The tutorial's buffered reads: read(n) in a loop until EOF, and readexactly(n) for messages with
// a length header (and the IncompleteReadError a cut-off message raises).
//
//   node examples/run.mjs buffered-read
//
// Each part starts a local server on port 0 that sends the bytes the part reads.
import type { AddressInfo } from 'node:net';
import {
  IncompleteReadError,
  openConnection,
  type StreamReader,
  type StreamWriter,
  startServer,
} from '@asyncnet/streams';

// async def read_in_chunks(reader, chunk_size=1024):
//     total = 0
//     while True:
//         chunk = await reader.read(chunk_size)   # at most chunk_size bytes, as soon as any arrive
//         if not chunk:                            # b'' at EOF
//             break
//         total += len(chunk)
//     return total
async function readInChunks(
  reader: StreamReader,
  chunkSize = 1024,
): Promise<{ total: number; largest: number }> {
  let total = 0;
  let largest = 0;
  while (true) {
    const chunk = await reader.read(chunkSize); // at most chunkSize bytes, as soon as any arrive
    if (chunk.length === 0) break; // an empty Buffer at EOF
    total += chunk.length;
    largest = Math.max(largest, chunk.length);
  }
  return { total, largest };
}

// async def read_message(reader):
//     header = await reader.readexactly(4)
//     length = int.from_bytes(header, 'big')
//     return await reader.readexactly(length)
//
// async def read_messages(reader):
//     try:
//         while True:
//             print(f"Message: {(await read_message(reader)).decode()}")
//     except asyncio.IncompleteReadError as e:
//         if e.partial:
//             print(f"Cut off after {len(e.partial)} of {e.expected} bytes")
//         else:
//             print("No more messages")
async function readMessage(reader: StreamReader): Promise<Buffer> {
  const header = await reader.readExactly(4);
  const length = header.readUInt32BE(0);
  return reader.readExactly(length);
}

async function readMessages(reader: StreamReader): Promise<void> {
  try {
    while (true) {
      console.log(`Message: ${(await readMessage(reader)).toString()}`);
    }
  } catch (err) {
    if (!(err instanceof IncompleteReadError)) throw err;
    if (err.partial.length > 0) console.log(`Cut off after ${err.partial.length} of ${err.expected} bytes`);
    else console.log('No more messages');
  }
}

// not in the tutorial: servers that send what the readers above read, then close
async function serve(send: (writer: StreamWriter) => void, read: (reader: StreamReader) => Promise<void>) {
  await using server = await startServer(
    async (_reader, writer) => {
      send(writer);
      await writer.drain();
      writer.close();
    },
    '127.0.0.1',
    0,
  );
  const [reader, writer] = await openConnection('127.0.0.1', (server.address() as AddressInfo).port);
  await read(reader);
  writer.close();
  await writer.waitClosed();
}

const frame = (text: string) => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
};

await serve(
  (writer) => writer.write(Buffer.alloc(100_000, 'x')),
  async (reader) => {
    const { total, largest } = await readInChunks(reader);
    console.log(`Read ${total} bytes; the largest chunk was ${largest} bytes`);
  },
);
await serve(
  (writer) => writer.writeLines([frame('hello'), frame('length-prefixed'), frame('world')]),
  readMessages,
);
await serve((writer) => writer.writeLines([frame('whole'), frame('cut off').subarray(0, 8)]), readMessages);
