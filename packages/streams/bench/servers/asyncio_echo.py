"""Python asyncio Streams echo servers (the seed's style): python3 asyncio_echo.py bulk|lines|idle; prints the port."""
import asyncio
import sys


async def bulk(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


async def lines(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()


async def idle(reader, writer):
    await reader.read()
    writer.close()


async def main():
    handler = {"bulk": bulk, "lines": lines, "idle": idle}[sys.argv[1] if len(sys.argv) > 1 else "bulk"]
    server = await asyncio.start_server(handler, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
