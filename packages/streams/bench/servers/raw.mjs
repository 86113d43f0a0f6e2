// Hand-written node:net peers: `node raw.mjs bulk|lines|idle`; prints the port.
import { createServer } from 'node:net';

const mode = process.argv[2] ?? 'bulk';
const onSocket = {
  // socket.pipe(socket): the standard raw echo.
  bulk(socket) {
    socket.pipe(socket);
  },
  // Split lines by hand and cork the socket around each chunk's writes.
  lines(socket) {
    let rest = null;
    socket.on('data', (chunk) => {
      const data = rest === null ? chunk : Buffer.concat([rest, chunk]);
      let start = 0;
      let nl = data.indexOf(10, start);
      if (nl === -1) {
        rest = data;
        return;
      }
      socket.cork();
      while (nl !== -1) {
        socket.write(data.subarray(start, nl + 1));
        start = nl + 1;
        nl = data.indexOf(10, start);
      }
      socket.uncork();
      rest = start < data.length ? data.subarray(start) : null;
    });
    socket.on('end', () => socket.end());
  },
  idle(socket) {
    socket.on('data', () => {});
  },
}[mode];
const server = createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  onSocket(socket);
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${server.address().port}\n`);
});
