// The tutorial's raw-socket HTTP client: open a connection, write a GET request by hand, read the
// response until the server closes.
//
//   node examples/run.mjs http-get
//
// The asyncio original fetches http://example.com/; this port starts a local HTTP server on port 0
// (node:http) and fetches from it, so it needs no network. `httpGet('example.com', 80, '/')` works
// the same against a real host.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, get } from '@asyncnet/http-lite';
import { openConnection } from '@asyncnet/streams';

// async def http_get(host, path):
//     reader, writer = await asyncio.open_connection(host, 80)
//
//     request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
//     writer.write(request.encode())
//     await writer.drain()
//
//     response = await reader.read()      # read until EOF
//     print(response.decode())
//
//     writer.close()
//     await writer.wait_closed()
//
// asyncio.run(http_get('example.com', '/'))
async function httpGet(host: string, port: number, path: string): Promise<string> {
  const [reader, writer] = await openConnection(host, port);

  const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
  writer.write(request);
  await writer.drain();

  const response = await reader.read(); // read() with no size reads until EOF, as in asyncio
  console.log(response.toString());

  writer.close();
  await writer.waitClosed();
  return response.toString();
}

// not in the tutorial: the local server to fetch from
const server = createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello from ${req.url}\n`);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;

try {
  await httpGet('127.0.0.1', port, '/index.html');

  // not in the tutorial: the same request with @asyncnet/http-lite, which parses the response
  // strictly (framing, chunked bodies, keep-alive) instead of printing raw bytes
  const agent = new Agent();
  const res = await get(`http://127.0.0.1:${port}/index.html`, { agent });
  console.log(
    `http-lite: ${res.status} ${res.headers.get('content-type')} ${JSON.stringify(await res.body.text())}`,
  );
  await agent.close();
} finally {
  server.close();
}
