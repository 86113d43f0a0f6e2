// One @asyncnet/chat node on the Redis Streams bus for the cluster benchmark.
import { createChatServer, redisBus } from '../dist/index.js';

const server = createChatServer({
  bus: redisBus({ url: process.argv[2], prefix: process.argv[3] }),
  floodControl: false,
  maxConnectionsPerIp: 0,
  history: 0,
  log: () => {},
});
await server.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${server.address().port}\n`);
