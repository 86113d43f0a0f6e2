// One chat server process on a Redis bus, driven by the redis test over stdin/stdout.
// Runs against the built package (dist), since Node 20 cannot run the TypeScript sources.
import { createInterface } from 'node:readline';
import { createChatServer, redisBus } from '../../dist/index.js';

const url = process.argv[2];
const o = JSON.parse(process.argv[3] ?? '{}');
const server = createChatServer({
  bus: redisBus({
    url,
    nickLease: o.nickLease ?? 3_000,
    maxRetryDelay: 200,
    claimTimeout: o.claimTimeout ?? 2_000,
  }),
  floodControl: false,
  nodeTimeout: o.nodeTimeout ?? 2_000,
  history: o.history ?? 20,
  log: (line) => process.stderr.write(`${line}\n`),
});
await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
process.stdout.write(
  `${JSON.stringify({ ready: true, port: server.address().port, irc: server.ircAddress().port })}\n`,
);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') process.stdout.write(`${JSON.stringify({ stats: server.stats() })}\n`);
  if (line === 'close') {
    await server.close({ timeout: 500 });
    process.exit(0);
  }
}
await server.close({ timeout: 500 });
