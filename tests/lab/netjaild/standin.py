#!/usr/bin/env python3
"""Stand-ins for connectd and dohd in the netjaild lab.

standin.py tcp PORT [BANNER] -- IP_TRANSPARENT listener on 127.0.0.1 and
                          [::]: answers "connectd <original destination>\\n" (BANNER
                          instead of connectd: one workload's listener)
standin.py udp PORT [BANNER] -- UDP on 127.0.0.1 and [::]: answers "dns\\n"
                          (or BANNER)
standin.py plain PORT [ADDR] -- a plain TCP server answering "upstream\\n"
standin.py plain46 PORT   -- the same on 0.0.0.0 and [::]
"""
import select
import socket
import sys

IP_TRANSPARENT = 19
IPV6_TRANSPARENT = 75
SO_ORIGINAL_DST = 80
# [jail] listener_mark's default: the jail delivers to the listener ports
# only sockets with it (door 6, listener squatting), as connectd's and dohd's
LISTENER_MARK = 0x1000


def tcp(port, transparent, addrs, banner):
    socks = []
    for fam, addr in addrs:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if transparent:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, LISTENER_MARK)
            if fam == socket.AF_INET:
                s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
            else:
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
        s.bind((addr, port))
        s.listen(64)
        socks.append(s)
    print("listening", flush=True)
    while True:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            c, _ = s.accept()
            dst = c.getsockname()[0]
            try:
                c.sendall(("%s %s\n" % (banner, dst)).encode())
            except OSError:
                pass
            c.close()


def udp(port, banner="dns"):
    socks = []
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, LISTENER_MARK)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        s.bind((addr, port))
        socks.append(s)
    print("listening", flush=True)
    while True:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            # the answer leaves from the address asked (a DNAT to ::1
            # is undone only then), as dohd's does
            _, anc, _, peer = s.recvmsg(2048, 256)
            anc = [a for a in anc if a[0] == socket.IPPROTO_IPV6 and
                   a[1] == socket.IPV6_PKTINFO]
            s.sendmsg([(banner + "\n").encode()], anc, 0, peer)


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    label = sys.argv[3] if len(sys.argv) > 3 else None
    if kind == "tcp":
        tcp(port, True, ((socket.AF_INET, "127.0.0.1"),
                         (socket.AF_INET6, "::")), label or "connectd")
    elif kind == "udp":
        udp(port, label or "dns")
    elif kind == "plain46":
        tcp(port, False, ((socket.AF_INET, "0.0.0.0"),
                          (socket.AF_INET6, "::")), "upstream")
    else:
        addr = sys.argv[3] if len(sys.argv) > 3 else "0.0.0.0"
        tcp(port, False, ((socket.AF_INET, addr),), "upstream")
