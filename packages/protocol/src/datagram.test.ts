import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, until } from './__fixtures__/helpers.js';
import {
  createDatagramEndpoint,
  type DatagramAddress,
  type DatagramProtocol,
  type DatagramTransport,
} from './datagram.js';

const open: DatagramTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) {
    t.abort();
    await t.closed;
  }
});

class Recorder implements DatagramProtocol {
  transport!: DatagramTransport;
  events: string[] = [];
  datagrams: Array<[string, DatagramAddress]> = [];
  errors: Error[] = [];
  readonly lost = deferred<Error | null>();
  connectionMade(t: DatagramTransport) {
    this.transport = t;
    this.events.push('made');
  }
  datagramReceived(data: Uint8Array, addr: DatagramAddress) {
    this.events.push('datagram');
    this.datagrams.push([Buffer.from(data).toString(), addr]);
  }
  errorReceived(err: Error) {
    this.events.push('error');
    this.errors.push(err);
  }
  connectionLost(err: Error | null) {
    this.events.push('lost');
    this.lost.resolve(err);
  }
}

class EchoUdp implements DatagramProtocol {
  transport!: DatagramTransport;
  connectionMade(t: DatagramTransport) {
    this.transport = t;
  }
  datagramReceived(data: Uint8Array, addr: DatagramAddress) {
    this.transport.sendto(data, addr);
  }
}

async function endpoint<T extends DatagramProtocol>(
  f: () => T,
  options = {},
): Promise<[DatagramTransport, T]> {
  const pair = await createDatagramEndpoint(f, options);
  open.push(pair[0]);
  return pair;
}

describe('createDatagramEndpoint', () => {
  it('echoes datagrams between a bound server and a connected client', async () => {
    const [server] = await endpoint(() => new EchoUdp(), { localAddr: ['127.0.0.1', 0] });
    const { port } = server.getExtraInfo('sockname') as AddressInfo;
    const [client, proto] = await endpoint(() => new Recorder(), { remoteAddr: ['127.0.0.1', port] });
    expect(proto.events).toEqual(['made']);
    expect((client.getExtraInfo('peername') as AddressInfo).port).toBe(port);
    client.sendto('one');
    client.sendto(Buffer.from('two'), ['127.0.0.1', port]);
    await until(() => proto.datagrams.length === 2);
    expect(proto.datagrams.map(([d]) => d).sort()).toEqual(['one', 'two']);
    expect(proto.datagrams[0]![1]).toEqual(['127.0.0.1', port]);
    client.close();
    expect(await proto.lost.promise).toBeNull();
    expect(proto.events.at(-1)).toBe('lost');
    expect(proto.events.filter((e) => e === 'lost')).toHaveLength(1);
    expect(() => client.sendto('late')).toThrow(expect.objectContaining({ code: 'ERR_TRANSPORT_CLOSED' }));
  });

  it('sends to any address from an unconnected endpoint and validates addresses', async () => {
    const [a, pa] = await endpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    const [b, pb] = await endpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    const portA = (a.getExtraInfo('sockname') as AddressInfo).port;
    const portB = (b.getExtraInfo('sockname') as AddressInfo).port;
    a.sendto('to b', ['127.0.0.1', portB]);
    await until(() => pb.datagrams.length === 1);
    expect(pb.datagrams[0]).toEqual(['to b', ['127.0.0.1', portA]]);
    expect(() => a.sendto('nowhere')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(a.getExtraInfo('peername', 'none')).toBe('none');
    expect(pa.datagrams).toEqual([]);
  });

  it('reports ICMP port unreachable on a connected endpoint through errorReceived', async () => {
    // Find a port with nobody listening: bind, note the port, close.
    const [probe] = await createDatagramEndpoint(() => ({}), { localAddr: ['127.0.0.1', 0] });
    const deadPort = (probe.getExtraInfo('sockname') as AddressInfo).port;
    probe.close();
    await probe.closed;
    const [client, proto] = await endpoint(() => new Recorder(), { remoteAddr: ['127.0.0.1', deadPort] });
    // Keep sending until the ICMP error comes back (the first send may race the socket setup).
    for (let i = 0; i < 200 && proto.errors.length === 0; i++) {
      client.sendto('anyone?');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(proto.errors[0]).toMatchObject({ code: 'ECONNREFUSED' });
    expect(client.isClosing()).toBe(false);
  });

  it('closes the endpoint when a callback throws, passing the error to connectionLost and onError', async () => {
    const boom = new Error('boom');
    const errors: unknown[] = [];
    const [server, proto] = await endpoint(
      () =>
        Object.assign(new Recorder(), {
          datagramReceived() {
            throw boom;
          },
        }),
      { localAddr: ['127.0.0.1', 0], onError: (e: unknown) => errors.push(e) },
    );
    const { port } = server.getExtraInfo('sockname') as AddressInfo;
    const [client] = await endpoint(() => ({}), { remoteAddr: ['127.0.0.1', port] });
    client.sendto('x');
    expect(await proto.lost.promise).toBe(boom);
    expect(errors).toEqual([boom]);
    expect(server.isClosing()).toBe(true);
  });

  it('closes the socket if the factory throws', async () => {
    await expect(
      createDatagramEndpoint(
        () => {
          throw new Error('no protocol');
        },
        { localAddr: ['127.0.0.1', 0] },
      ),
    ).rejects.toThrow('no protocol');
  });
});
