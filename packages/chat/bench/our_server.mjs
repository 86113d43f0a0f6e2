// The @asyncnet/chat server as the benchmark runs it: flood control off, no per-IP limit.
import { createChatServer } from '../dist/index.js';

const server = createChatServer({ floodControl: false, maxConnectionsPerIp: 0, history: 0, log: () => {} });
await server.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${server.address().port}\n`);
process.on('SIGTERM', async () => {
  await server.close({ timeout: 200 });
  process.exit(0);
});
