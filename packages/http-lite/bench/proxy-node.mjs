// Forward proxy for the routes bench, in its own process: absolute-form requests are forwarded over
// keep-alive connections, CONNECT is piped. `--tls KEY CERT` makes it an https:// proxy. Prints its port.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const upstream = new http.Agent({ keepAlive: true, maxSockets: 64 });
const tls = process.argv.indexOf('--tls');
const handler = (req, res) => {
  const u = new URL(req.url);
  const up = http.request(
    {
      agent: upstream,
      host: u.hostname,
      port: u.port,
      method: req.method,
      path: u.pathname + u.search,
      headers: req.headers,
    },
    (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    },
  );
  up.on('error', () => res.destroy());
  req.pipe(up);
};
const server =
  tls === -1
    ? http.createServer(handler)
    : https.createServer(
        { key: readFileSync(process.argv[tls + 1]), cert: readFileSync(process.argv[tls + 2]) },
        handler,
      );
server.on('connect', (req, client, head) => {
  const [host, port] = req.url.split(':');
  const up = net.connect(Number(port), host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    up.write(head);
    up.pipe(client).on('error', () => {});
    client.pipe(up).on('error', () => {});
  });
  up.on('error', () => client.destroy());
  client.on('error', () => up.destroy());
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
