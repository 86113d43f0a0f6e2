import type { Socket } from 'node:net';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { portOf, useServers } from './__fixtures__/servers.js';
import { openConnection } from './connection.js';
import type { IncompleteReadError } from './errors.js';
import { createStreamPair } from './memory-transport.js';
import type { SocketAddress } from './transport.js';

const { start } = useServers();

// These checks run twice: `tsc --noEmit` fails on a type that drifted from the runtime value, and
// vitest checks the runtime value itself.
describe('types that match the runtime', () => {
  it('resolves every read to a Buffer', async () => {
    const [[reader], [, writer]] = createStreamPair();
    writer.write('caf\u00e9\nab\ncd|rest');
    writer.writeEof();
    const line = await reader.readLine();
    expectTypeOf(line).toEqualTypeOf<Buffer>();
    expect(Buffer.isBuffer(line)).toBe(true);
    expect(line.toString('latin1')).toBe('caf\u00c3\u00a9\n');
    const exact = await reader.readExactly(3);
    expectTypeOf(exact).toEqualTypeOf<Buffer>();
    expect(Buffer.isBuffer(exact)).toBe(true);
    const until = await reader.readUntil('|');
    expectTypeOf(until).toEqualTypeOf<Buffer>();
    expect(until.toString('hex')).toBe(Buffer.from('cd|').toString('hex'));
    const rest = await reader.read();
    expectTypeOf(rest).toEqualTypeOf<Buffer>();
    expect(Buffer.isBuffer(rest)).toBe(true);
    expectTypeOf<IncompleteReadError['partial']>().toEqualTypeOf<Buffer>();
    for await (const l of reader) expectTypeOf(l).toEqualTypeOf<Buffer>();
  });

  it('types the known getExtraInfo names', async () => {
    const server = await start((_r, w) => w.close(), '127.0.0.1', 0);
    const [, writer] = await openConnection('127.0.0.1', portOf(server));
    const peer = writer.getExtraInfo('peername');
    expectTypeOf(peer).toEqualTypeOf<SocketAddress | undefined>();
    expect(peer).toEqual({ address: '127.0.0.1', port: portOf(server), family: 'IPv4' });
    const socket = writer.getExtraInfo('socket');
    expectTypeOf(socket).toEqualTypeOf<Socket | undefined>();
    expect(typeof socket?.setNoDelay).toBe('function');
    expectTypeOf(writer.getExtraInfo('tls', false)).toEqualTypeOf<boolean>();
    expect(writer.getExtraInfo('tls', false)).toBe(false);
    expect(writer.getExtraInfo('cipher')).toBeUndefined();
    expectTypeOf(writer.getExtraInfo('something-else')).toEqualTypeOf<unknown>();
    writer.close();
  });
});
