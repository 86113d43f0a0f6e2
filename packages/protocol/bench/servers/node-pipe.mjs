// Echo server for the bench: raw node:net, socket.pipe(socket). Prints its port, serves until killed.
import { createServer } from 'node:net';

const server = createServer((socket) => socket.pipe(socket));
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
