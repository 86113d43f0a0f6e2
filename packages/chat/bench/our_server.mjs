// The @asyncnet/chat server as the benchmark runs it: flood control off, no per-IP limit.
import { createChatServer } from '../dist/index.js';

// --web: also the web front end (no page, just IRC over WebSocket); its port is printed instead.
const web = process.argv.includes('--web');
const server = createChatServer({
  floodControl: false,
  maxConnectionsPerIp: 0,
  history: 0,
  log: () => {},
  ...(web ? { web: { client: false } } : {}),
});
await server.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${web ? server.webAddress().port : server.address().port}\n`);
process.on('SIGTERM', async () => {
  await server.close({ timeout: 200 });
  process.exit(0);
});
