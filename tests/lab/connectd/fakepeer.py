#!/usr/bin/env python3
"""fakepeer.py RUNDIR NAME STATEFILE [NAME=ADDR ...]

Stands in for netjaild or dohd on RUNDIR/NAME.sock in connectd lab tests:
answers STATUS_REQ with ready taken from STATEFILE ("1" or "0"; "mute":
no answer at all) and a status text like the real daemon's, with some
hostile lines mixed in (connectd must skip them in /metrics),
RESOLVE_REQ from the NAME=ADDR pairs (IPv4 only), SET_UPDATE with an ack.
Speaks the libegress IPC framing: a 12-byte header (type, flags, len, id;
host order) and the payload, one SOCK_SEQPACKET datagram per message.
"""
import os, selectors, socket, struct, sys

STATUS_REQ, STATUS_REP, RESOLVE_REQ, RESOLVE_REP = 2, 3, 8, 9
SET_UPDATE, SET_ACK, ERROR = 6, 7, 1

rundir, name, statefile = sys.argv[1], sys.argv[2], sys.argv[3]
names = dict(a.split('=', 1) for a in sys.argv[4:])
path = os.path.join(rundir, name + '.sock')
try:
    os.unlink(path)
except FileNotFoundError:
    pass
ls = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
ls.bind(path)
os.chmod(path, 0o666)
ls.listen(16)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ)


# The real texts' shape (dohd/query.c, dohd/upstream.c, netjaild/ctl.c),
# then lines a hostile or broken peer might send.
HOSTILE = (b'egressjail_evil 1\n'
           b'# TYPE egressjail_evil counter\n'
           b'evil_quote="1"\n'
           b'evil_hash=1 # x\n'
           b'Evil_Upper=1\n'
           b'evil{a="b"}=1\n'
           b'evil_huge=18446744073709551616\n'
           b'evil_exp=1e9\n'
           b'queries_total=666\n'
           b'up=0\n'
           b'evil_' + b'k' * 80 + b'=1\n')
TEXTS = {
    'dohd': (b'queries=57\nqtype_a=40\nqtype_aaaa=12\nallowed=41\ndenied=9\n'
             b'refused=2\nlocal=3\ncache_hits=10\ncache_misses=30\n'
             b'cache_hit_ratio=0.250\nupstream_ok=29\nupstream_fail=1\n'
             b'upstream.0.url=https://dns.example/dns-query\nupstream.0.up=1\n'
             b'upstream.0.latency_ms=12.5\nupstream.0.errors=1\n'
             b'upstream.0.last_error=timeout\nqueries=99\n'),
    'netjaild': (b'generation=1\nverdict=whole\nchains=7\nrules=41\nsets=8\n'
                 b'set_hops4=2\ndrop_bridge_host_packets=5\n'
                 b'drop_bridge_host_bytes=300\nroutes=ok\n'
                 b'jailed_ifaces=docker0 br-1a2b3c\n'
                 b'jailed_ifaces_failed=br-\\"x\n'
                 b'reason=interface br-9f not set up: route_localnet: '
                 b'Permission \\"denied\\"\n'),
}


def send(c, typ, mid, payload):
    c.send(struct.pack('=HHII', typ, 0, len(payload), mid) + payload)


def handle(c, data):
    if len(data) < 12:
        return False
    typ, flags, ln, mid = struct.unpack('=HHII', data[:12])
    body = data[12:12 + ln]
    if typ == STATUS_REQ:
        try:
            state = open(statefile).read().strip()
        except OSError:
            state = '0'
        if state == 'mute':
            return True
        ready = state == '1'
        text = TEXTS.get(name, b'fake=1\n') + HOSTILE
        send(c, STATUS_REP, mid, struct.pack('=B3xII', ready, 1, len(text)) + text)
    elif typ == RESOLVE_REQ:
        # struct eg_msg_resolve_req: qtype, namelen, wllen, 3 pad bytes
        qtype, nl, _wll = struct.unpack('=HHB3x', body[:8])
        qname = body[8:8 + nl].decode()
        addr = names.get(qname)
        if addr is None or qtype != 1:
            send(c, RESOLVE_REP, mid, struct.pack('=iIHH', 0 if addr else 3, 60, 0, 0))
        else:
            ip = struct.pack('=B16s3xI', socket.AF_INET, socket.inet_aton(addr).ljust(16, b'\0'), 0)
            send(c, RESOLVE_REP, mid, struct.pack('=iIHH', 0, 60, 1, 0) + ip)
    elif typ == SET_UPDATE:
        st, op, count = struct.unpack('=BBH', body[:4])
        with open(statefile + '.log', 'a') as f:
            for i in range(count):
                fam, port, tmo, addr = struct.unpack('=BxHI16s', body[4 + 24 * i:28 + 24 * i])
                f.write('set=%d op=%d %s:%d timeout=%d\n' % (st, op, socket.inet_ntoa(addr[:4]), port, tmo))
        send(c, SET_ACK, mid, struct.pack('=iI', 0, 0))
    else:
        send(c, ERROR, mid, struct.pack('=i', 95))
    return True


while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is ls:
            c, _ = ls.accept()
            sel.register(c, selectors.EVENT_READ)
            continue
        try:
            data = s.recv(70000)
        except OSError:
            data = b''
        if not data or not handle(s, data):
            sel.unregister(s)
            s.close()
