"""A chat member that registers and then never reads again, with a small receive buffer
(a stalled mobile client): the server's writes to it back up after a few hundred KiB."""
import socket
import sys
import time

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
buf = b""
sent = False
while b"* you joined" not in buf or not buf.rstrip(b"\r\n").endswith(b"\n") and b"\n" not in buf.split(b"* you joined", 1)[1]:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(1)
    buf += chunk
    if not sent and b"what is your nick" in buf:
        s.sendall(b"stuck\r\n")
        sent = True
print("ready", flush=True)
while True:
    time.sleep(3600)
