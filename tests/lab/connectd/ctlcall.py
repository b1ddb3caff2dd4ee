#!/usr/bin/env python3
"""ctlcall.py SOCK status|reload|explain HOST PORT - one request to a
daemon's control socket (libegress IPC framing); prints the reply's text."""
import socket, struct, sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(3)
s.connect(sys.argv[1])
if sys.argv[2] == 'status':
    s.send(struct.pack('=HHII', 2, 0, 0, 7))
    d = s.recv(70000)
    typ, _, ln, mid = struct.unpack('=HHII', d[:12])
    ready, gen, tl = struct.unpack('=B3xII', d[12:24])
    print('type=%d id=%d ready=%d' % (typ, mid, ready))
    print(d[24:24 + tl].decode())
elif sys.argv[2] == 'reload':
    s.send(struct.pack('=HHII', 4, 0, 0, 9))
    d = s.recv(70000)
    typ, _, ln, mid = struct.unpack('=HHII', d[:12])
    code, tl = struct.unpack('=iI', d[12:20])
    print('type=%d code=%d' % (typ, code))
    print(d[20:20 + tl].decode())
else:
    host = sys.argv[3].encode()
    s.send(struct.pack('=HHII', 10, 0, 4 + len(host), 8) +
           struct.pack('=HH', int(sys.argv[4]), len(host)) + host)
    d = s.recv(70000)
    typ, _, ln, mid = struct.unpack('=HHII', d[:12])
    code, tl = struct.unpack('=iI', d[12:20])
    print('type=%d code=%d' % (typ, code))
    print(d[20:20 + tl].decode())
