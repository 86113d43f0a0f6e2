// Echo server for the bench: the seed's EchoProtocol on @asyncnet/protocol (built dist).
// Prints the bound port on stdout, then serves until killed.
import { createServer } from '../../dist/index.js';

class EchoProtocol {
  connectionMade(transport) {
    this.transport = transport;
  }
  dataReceived(data) {
    this.transport.write(data);
  }
}

const server = await createServer(() => new EchoProtocol(), '127.0.0.1', 0);
process.stdout.write(`${server.address().port}\n`);
