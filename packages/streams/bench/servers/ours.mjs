// asyncnet echo servers for the benchmarks: `node ours.mjs bulk|lines|idle`; prints the port.
const { startServer } = await import(process.env.BENCH_DIST ?? '../../dist/index.js');

const mode = process.argv[2] ?? 'bulk';
const handlers = {
  async bulk(reader, writer) {
    for (;;) {
      const data = await reader.read(65536);
      if (data.byteLength === 0) break;
      writer.write(data);
      await writer.drain();
    }
    writer.close();
  },
  async lines(reader, writer) {
    for await (const line of reader) {
      writer.write(line);
      await writer.drain();
    }
    writer.close();
  },
  async idle(reader, writer) {
    await reader.read();
    writer.close();
  },
};
process.on('SIGINT', () => process.exit(0));
const server = await startServer(handlers[mode], '127.0.0.1', 0, { backlog: 4096, onError() {} });
process.stdout.write(`${server.address().port}\n`);
