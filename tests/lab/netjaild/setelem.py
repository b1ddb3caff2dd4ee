#!/usr/bin/env python3
"""setelem.py SOCK SET ADDR PORT [TIMEOUT_MS|del]: one SET_UPDATE over
netjaild's control socket (add, 60 s by default), prints the ack."""
import socket, struct, sys
sock, which, addr, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
op, tmo = 1, 60000
if len(sys.argv) > 5:
    if sys.argv[5] == "del":
        op, tmo = 2, 0
    else:
        tmo = int(sys.argv[5])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(3)
try:
    s.connect(sock)
except OSError as e:
    print("refused", e); sys.exit(0)
el = struct.pack("=BBHI16s", socket.AF_INET, 0, port, tmo, socket.inet_aton(addr))
body = struct.pack("=BBH", which, op, 1) + el
s.send(struct.pack("=HHII", 6, 0, len(body), 9) + body)
try:
    m = s.recv(4096)
except OSError as e:
    print("refused", e); sys.exit(0)
if not m:
    print("refused (closed)"); sys.exit(0)
t, f, n, i = struct.unpack("=HHII", m[:12])
code, tl = struct.unpack("=iI", m[12:20])
print("ack code=%d type=%d %s" % (code, t, m[20:20 + tl].decode()))
