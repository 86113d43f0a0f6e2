// One @asyncnet/chat node for the cluster benchmark: on the Redis Streams bus, or on the pub/sub
// peer bus (argv[4] = 'pubsub').
import { createChatServer, redisBus } from '../dist/index.js';
import { pubsubBus } from './pubsub_bus.mjs';

const [url, prefix, kind = 'streams'] = process.argv.slice(2);
const server = createChatServer({
  bus: kind === 'pubsub' ? pubsubBus({ url, prefix }) : redisBus({ url, prefix }),
  floodControl: false,
  maxConnectionsPerIp: 0,
  history: 0,
  log: () => {},
});
await server.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${server.address().port}\n`);
