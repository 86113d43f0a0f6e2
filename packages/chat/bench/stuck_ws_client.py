"""A browser tab that stops reading: an IRC-over-WebSocket client (text.ircv3.net) that joins a
room and never reads again, with a small receive buffer, so the server's writes to it back up
after a few hundred KiB. Usage: stuck_ws_client.py PORT [NICK] [ROOM]. Prints "ready" once joined."""
import base64
import os
import socket
import struct
import sys
import time

port = int(sys.argv[1])
nick = sys.argv[2] if len(sys.argv) > 2 else "stuck"
room = sys.argv[3] if len(sys.argv) > 3 else "#lobby"

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(
    (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n"
    ).encode()
)


def send_text(text):
    """One masked text frame (clients must mask)."""
    data = text.encode()
    mask = os.urandom(4)
    head = bytes([0x81])
    n = len(data)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(1)
    buf += chunk
if not buf.startswith(b"HTTP/1.1 101"):
    sys.exit(f"upgrade refused: {buf.splitlines()[0]!r}")
buf = buf.split(b"\r\n\r\n", 1)[1]
send_text(f"NICK {nick}")
send_text(f"USER {nick} 0 * :stuck tab")
send_text(f"JOIN {room}")
# Server frames are unmasked text: the end of NAMES shows up as plain bytes.
marker = f" 366 {nick} ".encode()
while marker not in buf:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(1)
    buf += chunk
print("ready", flush=True)
while True:
    time.sleep(3600)
