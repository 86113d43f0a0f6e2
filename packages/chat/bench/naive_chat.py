"""The seed's chat server, written the naive asyncio way: broadcast awaits drain() per member in turn.

Speaks enough of the plain protocol for the benchmark: greets, reads a nick, puts everyone in #lobby,
relays every line as "<nick> text" to the other members. Prints the port on stdout.
"""
import asyncio
import logging
import sys

# asyncio logs "socket.send() raised exception." for every write to a member that already left;
# thousands of those lines would bury the benchmark table.
logging.getLogger("asyncio").setLevel(logging.CRITICAL)

members = {}  # writer -> nick


async def broadcast(data, sender):
    for w in list(members):
        if w is sender:
            continue
        if w.is_closing():
            members.pop(w, None)
            continue
        try:
            w.write(data)
            await w.drain()  # one slow member stalls everyone behind it
        except (ConnectionError, RuntimeError):
            members.pop(w, None)


async def handle(reader, writer):
    writer.write(b"* welcome to naive chat\r\n* what is your nick?\r\n")
    line = await reader.readline()
    if not line:
        writer.close()
        return
    nick = line.decode(errors="replace").strip()
    members[writer] = nick
    writer.write(b"* you joined #lobby\r\n")
    prefix = ("<%s> " % nick).encode()
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            await broadcast(prefix + line.rstrip(b"\r\n") + b"\r\n", writer)
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        members.pop(writer, None)
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=2048)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
