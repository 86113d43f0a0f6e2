// Echo server for the bench: raw node:net, write back in the 'data' handler (what EchoProtocol does,
// without back-pressure, like asyncio's transport.write). Prints its port, serves until killed.
import { createServer } from 'node:net';

const server = createServer({ noDelay: true }, (socket) => socket.on('data', (data) => socket.write(data)));
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
