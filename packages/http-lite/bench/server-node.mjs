// node:http keep-alive server for the bench, run in its own process; prints its port (or, given a
// path argument, listens on that Unix socket and prints the path).
import { createServer } from 'node:http';

const small = Buffer.from('hello world\n');
const big = Buffer.alloc(1024 * 1024, 'x');
const server = createServer((req, res) => {
  const body = req.url === '/big.bin' ? big : small;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
const path = process.argv[2];
if (path !== undefined) server.listen(path, () => process.stdout.write(`${path}\n`));
else server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
