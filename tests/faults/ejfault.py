#!/usr/bin/env python3
"""tests/faults/ejfault.py - load and fault generators for the faults suite.

Run inside a lab workload namespace (ip netns exec ...).  Subcommands:

  load       background traffic until SIGTERM: allowed HTTPS/HTTP through
             the explicit proxy and transparently, DNS for allowed and
             denied names, and constant attempts at forbidden destinations;
             one line per attempt in --log:
                 START_MS END_MS KIND RESULT DETAIL
             RESULT: ok | fail (an allowed attempt that failed) |
             refused (a forbidden attempt that was refused, as it must be) |
             leak (a forbidden attempt that got through, or a DNS answer
             that should not exist).
  dnsflood   N malformed DNS packets over UDP (and some over TCP); counts
             the replies by rcode, checks every address in every answer.
  httpflood  N malformed HTTP/CONNECT heads (explicit and transparent);
             counts the outcomes by status.
  slowloris  many sockets trickling a head byte by byte; when was each cut.
  hold       fill connectd's connection limit, try extra clients, use the
             held tunnels, release them, time the recovery.

Every subcommand prints "key value" lines on stdout for the shell to judge.
Only the standard library; IPv4 and IPv6.
"""

import argparse
import asyncio
import collections
import errno
import os
import random
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time

ALLOWED_NAME = "smoke.test"
ALLOWED_ADDRS = {"10.78.0.10", "fd78::10"}


def now_ms():
    return int(time.time() * 1000)


def hostport(s):
    """'1.2.3.4:80' or '[fd78::1]:80' -> (host, port)."""
    if s.startswith("["):
        h, _, p = s[1:].partition("]:")
        return h, int(p)
    h, _, p = s.rpartition(":")
    return h, int(p)


def tcp(addr, timeout):
    h, p = addr
    fam = socket.AF_INET6 if ":" in h else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((h, p))
    except BaseException:
        s.close()
        raise
    return s


def read_head(s, limit=65536):
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < limit:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    return buf


def read_all(s, limit=1 << 21):
    buf = b""
    while len(buf) < limit:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf


def status_of(head):
    if head.startswith(b"HTTP/1.") and len(head) >= 12:
        try:
            return int(head[9:12])
        except ValueError:
            return -1
    return -1


# ------------------------------------------------------------------ DNS

def qname_wire(name):
    out = b""
    for lab in name.rstrip(".").split("."):
        if lab:
            lb = lab.encode("latin-1")
            out += bytes([len(lb)]) + lb
    return out + b"\0"


def dns_query(qid, name, qtype=1, flags=0x0100, qd=1, an=0, ns=0, ar=0,
              wire=None, edns=None):
    q = struct.pack("!HHHHHH", qid & 0xffff, flags, qd, an, ns, ar)
    q += wire if wire is not None else qname_wire(name)
    q += struct.pack("!HH", qtype, 1)
    if edns is not None:
        q += edns
    return q


def skip_name(b, off):
    for _ in range(130):
        if off >= len(b):
            raise ValueError("name past end")
        n = b[off]
        if n == 0:
            return off + 1
        if n & 0xc0 == 0xc0:
            return off + 2
        if n & 0xc0:
            raise ValueError("bad label type")
        off += 1 + n
    raise ValueError("name too long")


def read_name(b, off):
    labels = []
    for _ in range(130):
        if off >= len(b):
            raise ValueError("name past end")
        n = b[off]
        if n == 0:
            break
        if n & 0xc0 == 0xc0:
            off = ((n & 0x3f) << 8) | b[off + 1]
            continue
        # presentation form: a dot or an odd byte inside a label is
        # escaped, so that one label "smoke.test" is not smoke.test
        labels.append("".join(
            chr(c) if 0x21 <= c < 0x7f and c not in (0x2e, 0x5c) else
            "\\%03d" % c for c in b[off + 1:off + 1 + n]))
        off += 1 + n
    return ".".join(labels).lower()


def dns_parse(b):
    """-> (id, rcode, qname, [(type, rdata)]); raises ValueError."""
    if len(b) < 12:
        raise ValueError("short")
    qid, flags, qd, an, _ns, _ar = struct.unpack("!6H", b[:12])
    off = 12
    qname = None
    for _ in range(min(qd, 4)):
        if qname is None:
            qname = read_name(b, off)
        off = skip_name(b, off) + 4
    rrs = []
    for _ in range(min(an, 64)):
        off = skip_name(b, off)
        if off + 10 > len(b):
            raise ValueError("rr past end")
        t, _c, _ttl, rdl = struct.unpack("!HHIH", b[off:off + 10])
        off += 10
        rrs.append((t, b[off:off + rdl]))
        off += rdl
    return qid, flags & 0xf, qname, rrs


def answer_leak(qname, rrs):
    """What is wrong with an answer, or None."""
    for t, rd in rrs:
        if t == 1:
            a = socket.inet_ntop(socket.AF_INET, rd) if len(rd) == 4 else "?"
            if a not in ALLOWED_ADDRS:
                return "A=" + a
        elif t == 28:
            a = socket.inet_ntop(socket.AF_INET6, rd) if len(rd) == 16 else "?"
            if a not in ALLOWED_ADDRS:
                return "AAAA=" + a
    if rrs and (qname or "") != ALLOWED_NAME:
        return "answer-for=" + repr(qname)
    return None


RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}


# ------------------------------------------------------------------ load

class Load:
    def __init__(self, a):
        self.a = a
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.out = open(a.log, "a", buffering=1)
        self.proxy = hostport(a.proxy)
        self.ctx = ssl.create_default_context(cafile=a.ca)
        self.noverify = ssl.create_default_context()
        self.noverify.check_hostname = False
        self.noverify.verify_mode = ssl.CERT_NONE
        self.rr = collections.Counter()

    def log(self, t0, kind, res, detail):
        detail = str(detail).replace(" ", "_").replace("\n", "_")[:80] or "-"
        with self.lock:
            self.out.write("%d %d %s %s %s\n" % (t0, now_ms(), kind, res,
                                                 detail))

    def turn(self, kind, n):
        self.rr[kind] += 1
        return self.rr[kind] % n

    # allowed
    def get_tls(self, s, ctx, sni):
        t = ctx.wrap_socket(s, server_hostname=sni)
        t.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                  % sni.encode())
        return read_all(t)

    def xhttps(self):
        s = tcp(self.proxy, 3)
        try:
            s.sendall(b"CONNECT smoke.test:443 HTTP/1.1\r\n"
                      b"Host: smoke.test:443\r\n\r\n")
            st = status_of(read_head(s))
            if st != 200:
                return "fail", "connect-%d" % st
            body = self.get_tls(s, self.ctx, "smoke.test")
        finally:
            s.close()
        return ("ok", "-") if b"exit-ok smoke.test" in body else \
            ("fail", "body")

    def xhttp(self):
        s = tcp(self.proxy, 3)
        try:
            s.sendall(b"GET http://smoke.test/ HTTP/1.1\r\nHost: smoke.test"
                      b"\r\nConnection: close\r\n\r\n")
            r = read_all(s)
        finally:
            s.close()
        if b"exit-ok smoke.test" in r:
            return "ok", "-"
        return "fail", "http-%d" % status_of(r)

    def thttps(self):
        s = tcp((self.a.exit, 443), 3)
        try:
            body = self.get_tls(s, self.ctx, "smoke.test")
        finally:
            s.close()
        return ("ok", "-") if b"exit-ok smoke.test" in body else \
            ("fail", "body")

    def thttp(self):
        s = tcp((self.a.exit, 80), 3)
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: smoke.test\r\n"
                      b"Connection: close\r\n\r\n")
            r = read_all(s)
        finally:
            s.close()
        if b"exit-ok smoke.test" in r:
            return "ok", "-"
        return "fail", "http-%d" % status_of(r)

    def dns(self, name, qtype=1):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        try:
            qid = random.getrandbits(16)
            s.connect((self.a.dns, 53))
            s.send(dns_query(qid, name, qtype))
            while True:
                r = s.recv(4096)
                if len(r) >= 2 and struct.unpack("!H", r[:2])[0] == qid:
                    return dns_parse(r)
        finally:
            s.close()

    def dns_ok(self):
        _, rc, qn, rrs = self.dns("smoke.test")
        bad = answer_leak(qn, rrs)
        if bad:
            return "leak", bad
        if rc == 0 and any(t == 1 for t, _ in rrs):
            return "ok", "-"
        return "fail", RCODES.get(rc, str(rc))

    DENIED = ["forbidden.test", "leak.test", "badalias.test", "rebind.test",
              "metadata.test", "exfil%d.t.test"]

    def dns_deny(self):
        name = self.DENIED[self.turn("dns_deny", len(self.DENIED))]
        if "%d" in name:
            name = name % random.getrandbits(24)
        try:
            _, rc, qn, rrs = self.dns(name)
        except socket.timeout:
            return "refused", name + ":timeout"
        if any(t in (1, 28) for t, _ in rrs):
            return "leak", name + ":" + (answer_leak(qn, rrs) or "addr")
        return "refused", name + ":" + RCODES.get(rc, str(rc))

    # forbidden
    def bad_direct(self):
        i = self.turn("bad_direct", 5)
        f, f6, inet = self.a.forbidden, self.a.forbidden6, self.a.inet
        try:
            if i == 0:
                dst, tls, host = (f, 8080), False, "forbidden.test"
            elif i == 1:
                dst, tls, host = (f, 443), True, "forbidden.test"
            elif i == 2:
                dst, tls, host = (inet, 80), False, "leak.test"
            elif i == 3:
                dst, tls, host = (f6, 80), False, "forbidden.test"
            else:
                dst, tls, host = (f, 80), False, "10.78.0.11"
            s = tcp(dst, 3)
        except OSError as e:
            return "refused", "connect:%s" % type(e).__name__
        try:
            if tls:
                s = self.noverify.wrap_socket(s, server_hostname=host)
            s.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close"
                      b"\r\n\r\n" % host.encode())
            r = read_all(s)
        except OSError as e:
            return "refused", "%s:%d:%s" % (dst[0], dst[1], type(e).__name__)
        finally:
            s.close()
        if b"forbidden-reached" in r or b"exit-ok" in r or \
                200 <= status_of(r) < 300:
            return "leak", "%s:%d:%d" % (dst[0], dst[1], status_of(r))
        return "refused", "%s:%d:%d" % (dst[0], dst[1], status_of(r))

    def bad_connect(self):
        i = self.turn("bad_connect", 4)
        req = [b"CONNECT forbidden.test:443 HTTP/1.1\r\n\r\n",
               b"CONNECT 10.78.0.11:8080 HTTP/1.1\r\n\r\n",
               b"GET http://forbidden.test/ HTTP/1.1\r\nHost: forbidden.test"
               b"\r\n\r\n",
               b"GET http://203.0.113.5/ HTTP/1.1\r\n\r\n"][i]
        try:
            s = tcp(self.proxy, 3)
        except OSError as e:
            return "refused", "connect:%s" % type(e).__name__
        try:
            s.sendall(req)
            r = read_head(s)
        except OSError as e:
            return "refused", type(e).__name__
        finally:
            s.close()
        st = status_of(r)
        if st == 200 or b"forbidden-reached" in r:
            return "leak", "%d:%d" % (i, st)
        return "refused", "%d:%d" % (i, st)

    def bad_udp(self):
        i = self.turn("bad_udp", 3)
        dst = [(self.a.forbidden, 9999), (self.a.forbidden, 443),
               (self.a.inet, 9999)][i]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        try:
            s.sendto(b"faults-udp-probe\n", dst)
            s.recv(2048)
            return "leak", "%s:%d" % dst
        except OSError:
            return "refused", "%s:%d" % dst
        finally:
            s.close()

    def worker(self, kind, interval):
        fn = getattr(self, kind)
        time.sleep(random.random() * interval)
        while not self.stop.is_set():
            t0 = now_ms()
            try:
                res, detail = fn()
            except ssl.SSLError as e:
                res, detail = "fail", "ssl:" + (e.reason or "?")
            except socket.timeout:
                res, detail = "fail", "timeout"
            except OSError as e:
                res, detail = "fail", type(e).__name__
            except ValueError as e:
                res, detail = "fail", "parse:%s" % e
            if (kind.startswith("bad_") or kind == "dns_deny") and \
                    res == "fail":
                res = "refused"
            self.log(t0, kind, res, detail)
            self.stop.wait(interval)

    def run(self):
        kinds = self.a.kinds.split(",")
        ths = []
        for k in kinds:
            for _ in range(self.a.workers):
                t = threading.Thread(target=self.worker,
                                     args=(k, self.a.interval), daemon=True)
                t.start()
                ths.append(t)
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        while not self.stop.is_set():
            self.stop.wait(0.2)
        for t in ths:
            t.join(timeout=1.5)
        self.out.flush()
        os._exit(0)


# ------------------------------------------------------------------ dnsflood

def dns_malformed(rng, i):
    """-> (category, packet); the first two bytes (the id) are set later."""
    names = ["smoke.test", "forbidden.test", "leak.test", "x.t.test",
             "rebind.test", "badalias.test", "metadata.test"]
    cat = i % 16
    name = rng.choice(names)
    base = dns_query(0, name, rng.choice([1, 28, 1, 16, 65]))
    if cat == 0:
        return "random", bytes(rng.getrandbits(8)
                               for _ in range(rng.randint(0, 600)))
    if cat == 1:
        return "truncated", base[:rng.randint(0, len(base) - 1)]
    if cat in (2, 3):
        b = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            p = rng.randrange(2, len(b))
            if rng.random() < 0.5:
                b[p] ^= 1 << rng.randrange(8)
            else:
                b[p] = rng.getrandbits(8)
        return "mutated", bytes(b)
    if cat == 4:
        w = rng.choice([b"\x3fsmoke\x04test\x00", b"\x05smoke\x10test\x00",
                        b"\x40abc\x00", b"\x80abc\x00", b"\xffabc\x00",
                        (b"\x3f" + b"a" * 63) * 5 + b"\x00",
                        b"\x05smoke\x04test", b"\x05smo"])
        return "bad-label", dns_query(0, "", wire=w)
    if cat == 5:
        w = rng.choice([b"\xc0\x0c", b"\x05smoke\xc0\x0c",
                        b"\x05smoke\xc0\x12\x04test\xc0\x0c",
                        b"\xc0\xff", b"\xc0\x00", b"\x05smoke\xc0\x0e",
                        b"\x01a\xc0\x11\x01b\xc0\x0c"])
        return "compression", dns_query(0, "", wire=w)
    if cat == 6:
        return "counts", dns_query(0, name, qd=rng.choice([0, 2, 0xffff]),
                                   an=rng.choice([0, 0xffff]),
                                   ns=rng.choice([0, 0xffff]),
                                   ar=rng.choice([0, 0xffff]))
    if cat == 7:
        flags = rng.choice([0x8100, 0x0900, 0x2900, 0x7900, 0x0110, 0xffff,
                            0x0000])
        return "flags", dns_query(0, name, flags=flags)
    if cat == 8:
        opt = rng.choice([
            b"\x00\x00\x29\x10\x00\x01\x00\x00\x00\x00\x00",  # version 1
            b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\xff\xff",  # rdlen lie
            b"\x00\x00\x29\x00\x00\x00\x00\x00\x00\x00\x04\x00\x0c\xff\xff",
            b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00" * 2,
            b"\x05smoke\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00"])
        ar = 2 if opt.count(b"\x29") > 1 else 1
        return "edns", dns_query(0, name, ar=ar, edns=opt)
    if cat == 9:
        qt = rng.choice([255, 252, 251, 16, 10, 99, 0, 65535, 41])
        return "qtype", dns_query(0, rng.choice(["smoke.test", name]), qt)
    if cat == 10:
        w = rng.choice([b"\x0asmoke.test\x00",          # a dot inside a label
                        b"\x05smoke\x04test\x00\x09forbidden\x04test\x00",
                        b"\x05smoke\x09test\x00leak\x00",
                        b"\x0fsmoke.test\x00.leak\x04test\x00",
                        b"\x09forbidden\x04test\x05smoke\x04test\x00",
                        b"\x05SMOKE\x04TEST\x00",
                        b"\x05smoke\x04test\x01.\x00",
                        b"\x05smoke\x05test.\x00"])
        return "name-tricks", dns_query(0, "", wire=w)
    if cat == 11:
        long_name = ".".join("a" * 63 for _ in range(4)) + ".test"
        many = ".".join("x" for _ in range(40)) + ".smoke.test"
        return "long-name", dns_query(0, rng.choice([long_name, many]))
    if cat == 12:
        return "oversize", base + bytes(rng.getrandbits(8)
                                        for _ in range(rng.randint(1, 1400)))
    if cat == 13:
        lab = "%x" % rng.getrandbits(60)
        return "denied-valid", dns_query(0, rng.choice(
            ["forbidden.test", "leak.test", lab + ".t.test", "rebind.test",
             "badalias.test", "metadata.test", "loopback.test"]))
    if cat == 14:
        return "class", struct.pack("!6H", 0, 0x0100, 1, 0, 0, 0) + \
            qname_wire(name) + struct.pack("!HH", 1, rng.choice(
                [3, 4, 254, 255, 0]))
    return "allowed-valid", dns_query(0, "smoke.test", rng.choice([1, 28]))


def dnsflood(a):
    rng = random.Random(a.seed)
    srv = (a.server, a.port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect(srv)
    s.setblocking(False)
    cats = {}
    sent_by = collections.Counter()
    replies = collections.Counter()
    by_cat = collections.defaultdict(collections.Counter)
    leaks = []
    seen = set()
    unmatched = 0
    unparsable = 0

    def drain():
        nonlocal unmatched, unparsable
        while True:
            try:
                r = s.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:
                replies["icmp-refused"] += 1
                continue
            if len(r) < 2:
                unparsable += 1
                continue
            qid = struct.unpack("!H", r[:2])[0]
            if qid not in cats or qid in seen:
                unmatched += 1
                continue
            seen.add(qid)
            try:
                _, rc, qn, rrs = dns_parse(r)
            except (ValueError, IndexError):
                unparsable += 1
                by_cat[cats[qid]]["unparsable"] += 1
                continue
            rn = RCODES.get(rc, "rcode%d" % rc)
            replies[rn] += 1
            by_cat[cats[qid]][rn] += 1
            if rrs:
                replies["with-answer"] += 1
                by_cat[cats[qid]]["with-answer"] += 1
            bad = answer_leak(qn, rrs)
            if bad:
                leaks.append("%s:%s" % (cats[qid], bad))

    t0 = time.time()
    for i in range(a.count):
        cat, pkt = dns_malformed(rng, i)
        qid = i + 1
        if len(pkt) >= 2:
            pkt = struct.pack("!H", qid) + pkt[2:]
            cats[qid] = cat
        sent_by[cat] += 1
        try:
            s.send(pkt)
        except (BlockingIOError, ConnectionRefusedError):
            pass
        if i % 64 == 63:
            drain()
            # pace: a.rate packets per second at most
            ahead = (i + 1) / a.rate - (time.time() - t0)
            if ahead > 0:
                time.sleep(ahead)
    send_s = time.time() - t0
    end = time.time() + a.wait
    while time.time() < end and len(seen) < len(cats):
        select.select([s], [], [], 0.1)
        drain()
    s.close()
    print("sent %d" % a.count)
    print("send_seconds %.2f" % send_s)
    print("replied %d" % len(seen))
    print("noreply %d" % (a.count - len(seen)))
    for k in sorted(replies):
        print("rcode.%s %d" % (k, replies[k]))
    print("unmatched %d" % unmatched)
    print("unparsable %d" % unparsable)
    print("leaks %d" % len(leaks))
    for l in leaks[:10]:
        print("leak_example %s" % l)
    for c in sorted(sent_by):
        got = by_cat.get(c, {})
        print("cat %-14s sent=%-5d %s" % (c, sent_by[c], " ".join(
            "%s=%d" % kv for kv in sorted(got.items())) or "no-replies"))
    if a.tcp:
        tcp_flood(a, rng)


def tcp_flood(a, rng):
    """A few hundred DNS-over-TCP streams with lying length prefixes."""
    out = collections.Counter()
    leaks = 0
    for i in range(a.tcp):
        q = dns_query(i + 1, rng.choice(["smoke.test", "forbidden.test"]))
        k = i % 6
        if k == 0:
            pay = struct.pack("!H", len(q) + 100) + q       # prefix too long
        elif k == 1:
            pay = struct.pack("!H", 0)                       # empty message
        elif k == 2:
            pay = struct.pack("!H", 65535) + q               # huge prefix
        elif k == 3:
            pay = b"\x00"                                    # half a prefix
        elif k == 4:
            _, p = dns_malformed(rng, rng.randrange(16))
            pay = struct.pack("!H", len(p)) + p              # malformed
        else:
            pay = (struct.pack("!H", len(q)) + q) * 3        # pipelined
        try:
            s = tcp((a.server, a.port), 3)
        except OSError as e:
            out["connect-" + type(e).__name__] += 1
            continue
        try:
            s.sendall(pay)
            s.shutdown(socket.SHUT_WR)
            r = read_all(s, 1 << 16)
            if not r:
                out["close"] += 1
            else:
                n = 0
                while len(r) >= 2:
                    ln = struct.unpack("!H", r[:2])[0]
                    m = r[2:2 + ln]
                    r = r[2 + ln:]
                    try:
                        _, rc, qn, rrs = dns_parse(m)
                        out[RCODES.get(rc, "rcode%d" % rc)] += 1
                        if answer_leak(qn, rrs):
                            leaks += 1
                    except (ValueError, IndexError):
                        out["unparsable"] += 1
                    n += 1
        except socket.timeout:
            out["timeout"] += 1
        except OSError as e:
            out[type(e).__name__] += 1
        finally:
            s.close()
    print("tcp_sent %d" % a.tcp)
    for k in sorted(out):
        print("tcp.%s %d" % (k, out[k]))
    print("tcp_leaks %d" % leaks)


# ------------------------------------------------------------------ httpflood

def http_malformed(rng, i):
    """-> (category, must_refuse, target, payload, half_close)."""
    P, T80, T80F, T443 = "proxy", "t80", "t80f", "t443"
    cat = i % 20
    if cat == 0:
        m = rng.choice([b"GET\x00", b"CONNECTX", b"connect", b"C0NNECT",
                        b"A" * 5000, b"CONNECT\tsmoke.test:443", b"\x16\x03\x01",
                        b"PUT", b"BREW", b"-", b""])
        return ("bad-method", False, P,
                m + b" smoke.test:443 HTTP/1.1\r\n\r\n", True)
    if cat == 1:
        return ("overlong-line", True, P, b"CONNECT " + b"a" *
                rng.choice([17000, 40000, 70000]) + b".forbidden.test:443 "
                b"HTTP/1.1\r\n\r\n", True)
    if cat == 2:
        return ("missing-crlf", False, P, rng.choice([
            b"CONNECT forbidden.test:443 HTTP/1.1",
            b"CONNECT forbidden.test:443 HTTP/1.1\r\n",
            b"CONNECT forbidden.test:443 HTTP/1.1\r\r\r\r",
            b"CONNECT smoke.test:443 HTTP/1.1\n\n",
            b"GET http://forbidden.test/ HTTP/1.1\rHost: x\r\r",
            b"CONNECT smoke.test:443 HTTP/1.1\r\n\r"]), True)
    if cat == 3:
        n = rng.choice([100, 200, 1000, 5000])
        hdr = b"".join(b"X-F%d: %s\r\n" % (k, b"v" * rng.randint(1, 40))
                       for k in range(n))
        return ("header-flood", False, P,
                b"CONNECT smoke.test:443 HTTP/1.1\r\n" + hdr + b"\r\n", True)
    if cat == 4:
        return ("nul", True, P, rng.choice([
            b"CONNECT smoke.test\x00.forbidden.test:443 HTTP/1.1\r\n\r\n",
            b"CONNECT forbidden.test\x00smoke.test:443 HTTP/1.1\r\n\r\n",
            b"GET http://forbidden.test\x00/ HTTP/1.1\r\n\r\n",
            b"CONNECT forbidden.test:443\x00 HTTP/1.1\r\n\r\n",
            b"CONNECT 10.78.0.11\x00:443 HTTP/1.1\r\n\r\n"]), True)
    if cat == 5:
        port = rng.choice([b"0", b"65536", b"99999999999", b"-1", b"",
                           b"443abc", b"0x1bb", b" 443", b"+443", b"443 ",
                           b"44\x003", b"18446744073709551659", b"443,80",
                           b"1-65535"])
        return ("bad-port", False, P,
                b"CONNECT smoke.test:" + port + b" HTTP/1.1\r\n\r\n", True)
    if cat == 6:
        h = rng.choice([b"10.78.0.11", b"0x0a.0x4e.0.11", b"167661579",
                        b"012.0116.0.013", b"[fd78::11]",
                        b"[::ffff:10.78.0.11]", b"10.78.11", b"127.0.0.1",
                        b"169.254.169.254", b"[::1]", b"203.0.113.5",
                        b"0", b"10.78.0.11.", b"[fd78::11%eth0]",
                        b"0xa4e000b", b"10.77.0.1"])
        port = rng.choice([b"443", b"80", b"8080"])
        if rng.random() < 0.5:
            req = b"CONNECT " + h + b":" + port + b" HTTP/1.1\r\n\r\n"
        else:
            req = b"GET http://" + h + b":" + port + b"/ HTTP/1.1\r\n\r\n"
        return ("ip-literal", True, P, req, True)
    if cat == 7:
        return ("userinfo", True, P, rng.choice([
            b"CONNECT smoke.test@forbidden.test:443 HTTP/1.1\r\n\r\n",
            b"CONNECT smoke.test:443@10.78.0.11:443 HTTP/1.1\r\n\r\n",
            b"GET http://smoke.test@forbidden.test/ HTTP/1.1\r\n\r\n",
            b"GET http://smoke.test:80@10.78.0.11/ HTTP/1.1\r\n\r\n",
            b"GET http://user:pw@forbidden.test/ HTTP/1.1\r\n\r\n",
            b"GET http://smoke.test%40forbidden.test/ HTTP/1.1\r\n\r\n",
            b"GET http://forbidden.test?@smoke.test/ HTTP/1.1\r\n\r\n",
            b"GET http://forbidden.test#@smoke.test/ HTTP/1.1\r\n\r\n",
            b"GET http://forbidden.test\\@smoke.test/ HTTP/1.1\r\n\r\n",
            b"GET http://smoke.test.forbidden.test/ HTTP/1.1\r\n\r\n"]), True)
    if cat == 8:
        return ("absolute-uri", True, P, rng.choice([
            b"GET http://forbidden.test/ HTTP/1.1\r\nHost: smoke.test\r\n\r\n",
            b"GET http://forbidden.test:8080/x HTTP/1.1\r\n\r\n",
            b"GET http://10.78.0.11:8080/ HTTP/1.1\r\n\r\n",
            b"GET https://smoke.test/ HTTP/1.1\r\n\r\n",
            b"GET ftp://smoke.test/ HTTP/1.1\r\n\r\n",
            b"GET http://leak.test/ HTTP/1.1\r\n\r\n",
            b"GET http:/// HTTP/1.1\r\n\r\n",
            b"GET http://:80/ HTTP/1.1\r\n\r\n",
            b"GET http:// HTTP/1.1\r\n\r\n",
            b"GET //forbidden.test/ HTTP/1.1\r\nHost: forbidden.test\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: forbidden.test\r\n\r\n",
            b"POST http://forbidden.test/ HTTP/1.1\r\nContent-Length: 3\r\n\r\n"
            b"abc",
            b"OPTIONS * HTTP/1.1\r\nHost: forbidden.test\r\n\r\n"]), True)
    if cat == 9:
        return ("smuggling", False, P, rng.choice([
            b"GET http://smoke.test/ HTTP/1.1\r\nContent-Length: 0\r\n"
            b"Content-Length: 45\r\n\r\nGET http://forbidden.test/ HTTP/1.1"
            b"\r\n\r\n",
            b"GET http://smoke.test/ HTTP/1.1\r\nTransfer-Encoding: chunked"
            b"\r\nContent-Length: 4\r\n\r\n0\r\n\r\nCONNECT forbidden.test:443 "
            b"HTTP/1.1\r\n\r\n",
            b"CONNECT smoke.test:443 HTTP/1.1\r\nHost: forbidden.test:443\r\n"
            b"\r\n",
            b"GET http://smoke.test/ HTTP/1.1\r\nHost: forbidden.test\r\n"
            b"Host: 10.78.0.11\r\n\r\n",
            b"GET http://smoke.test/ HTTP/1.1\r\n Host: forbidden.test\r\n\r\n"
        ]), True)
    if cat == 10:
        return ("version", False, P, rng.choice([
            b"CONNECT smoke.test:443\r\n\r\n",
            b"CONNECT smoke.test:443 HTTP/2.0\r\n\r\n",
            b"CONNECT smoke.test:443 HTTP/9.9\r\n\r\n",
            b"CONNECT smoke.test:443 HTTP/1.1 extra\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"CONNECT smoke.test:443 HTTX/1.1\r\n\r\n",
            b"GET http://smoke.test/\r\n\r\n"]), True)
    if cat in (11, 12):
        base = rng.choice([b"CONNECT smoke.test:443 HTTP/1.1\r\nHost: "
                           b"smoke.test:443\r\n\r\n",
                           b"GET http://smoke.test/ HTTP/1.1\r\nHost: "
                           b"smoke.test\r\n\r\n",
                           b"CONNECT forbidden.test:443 HTTP/1.1\r\n\r\n"])
        b = bytearray(base)
        for _ in range(rng.randint(1, 5)):
            p = rng.randrange(len(b))
            b[p] = rng.getrandbits(8) if rng.random() < 0.5 else \
                b[p] ^ (1 << rng.randrange(8))
        return ("mutated", False, P, bytes(b), True)
    if cat == 13:
        return ("random", False, rng.choice([P, T80, T443]),
                bytes(rng.getrandbits(8)
                      for _ in range(rng.randint(1, 3000))), True)
    if cat == 14:
        return ("incomplete", False, P, rng.choice([
            b"CONNECT forbidden.test:443 HTTP/1.1\r\n",
            b"CONNECT smoke.te", b"", b"G"]), False)
    if cat == 15:
        h = rng.choice([b"forbidden.test", b"10.78.0.11", b"leak.test",
                        b"smoke.test@forbidden.test", b"", b"smoke.test\x00",
                        b"forbidden.test:80", b"[fd78::11]"])
        return ("transparent-host", True, rng.choice([T80, T80F]),
                b"GET / HTTP/1.1\r\nHost: " + h + b"\r\n\r\n", True)
    if cat == 16:
        return ("transparent-head", False, rng.choice([T80, T80F]),
                rng.choice([b"GET / HTTP/1.1\r\n\r\n",
                            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                            b"CONNECT smoke.test:443 HTTP/1.1\r\n\r\n",
                            b"GET http://forbidden.test/ HTTP/1.1\r\n"
                            b"Host: forbidden.test\r\n\r\n",
                            b"\r\n\r\n",
                            b"GET / HTTP/1.1\r\nHost: " + b"a" * 300 +
                            b".test\r\n\r\n"]), True)
    if cat == 17:
        # TLS records: broken ClientHellos, forbidden or IP-literal SNI
        sni = rng.choice([b"forbidden.test", b"10.78.0.11", b"",
                          b"smoke.test\x00forbidden.test", b"a" * 300])
        ext = struct.pack("!HHHBH", 0, len(sni) + 5, len(sni) + 3, 0,
                          len(sni)) + sni
        body = b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x00\x02\x13\x01" + \
            b"\x01\x00" + struct.pack("!H", len(ext)) + ext
        hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
        rec = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
        if rng.random() < 0.3:
            rec = rec[:rng.randrange(1, len(rec))]
        return ("tls-hello", True, rng.choice([T443, "t443f"]), rec, True)
    if cat == 18:
        return ("nul-header", False, P,
                b"CONNECT smoke.test:443 HTTP/1.1\r\nX-A: a\x00b\r\n"
                b"\x00: x\r\n\r\n", True)
    return ("long-name", True, P, b"CONNECT " +
            b".".join([b"a" * 63] * 5) + b".test:443 HTTP/1.1\r\n\r\n", True)


HTTP_INCOMPLETE = 14     # the category of http_malformed without half-close


async def http_one(a, rng, i, out, sems):
    # heads that never end wait for head_timeout: they get their own,
    # wider window so that they overlap instead of queueing.  The head is
    # made once a slot is free: made up front for all 10,000 at once, it
    # would stall this loop for seconds while the first connects time out.
    async with sems[1 if i % 20 == HTTP_INCOMPLETE else 0]:
        # one generator per head: the same heads whatever the order
        cat, must_refuse, target, pay, half = http_malformed(
            random.Random(rng * 1000003 + i), i)
        dst = {"proxy": hostport(a.proxy), "t80": (a.exit, 80),
               "t80f": (a.forbidden, 80), "t443": (a.exit, 443),
               "t443f": (a.forbidden, 443)}[target]
        res = "close"
        r = b""
        try:
            rd, wr = await asyncio.wait_for(
                asyncio.open_connection(dst[0], dst[1]), a.connect_timeout)
        except (OSError, asyncio.TimeoutError) as e:
            out["outcome"]["connect-" + type(e).__name__] += 1
            out["cat"][cat]["connect-error"] += 1
            out["connect_err_at"].append(time.time() - out["t0"])
            return
        try:
            wr.write(pay)
            await asyncio.wait_for(wr.drain(), 3)
            if half and wr.can_write_eof():
                wr.write_eof()

            async def readall():
                buf = b""
                while len(buf) < 1 << 16:
                    d = await rd.read(65536)
                    if not d:
                        break
                    buf += d
                return buf
            r = await asyncio.wait_for(readall(), a.timeout)
        except asyncio.TimeoutError:
            res = "timeout"
        except ConnectionResetError:
            res = "reset"
        except OSError as e:
            res = errno.errorcode.get(e.errno, type(e).__name__) \
                if e.errno else type(e).__name__
        finally:
            wr.close()
        st = status_of(r)
        if st > 0:
            res = "status.%d" % st
        elif r and res == "close":
            res = "data"
        out["outcome"][res] += 1
        out["cat"][cat][res] += 1
        if b"forbidden-reached" in r:
            out["leak"].append("%s:forbidden-body" % cat)
        if b"exit-ok" in r:
            out["outcome"]["allowed-body"] += 1
        if 200 <= st < 300:
            out["ok2xx"][cat + ":" + repr(pay[:48])] += 1
        if must_refuse and (200 <= st < 300):
            out["violation"].append("%s:%d:%r" % (cat, st, pay[:60]))


async def httpflood_main(a):
    rng = a.seed
    out = {"outcome": collections.Counter(),
           "cat": collections.defaultdict(collections.Counter),
           "leak": [], "violation": [], "ok2xx": collections.Counter(),
           "connect_err_at": [], "t0": time.time()}
    sems = (asyncio.Semaphore(a.conc), asyncio.Semaphore(4 * a.conc))
    t0 = time.time()
    lag = [0.0, None]

    async def watch_lag():
        # how late this process's own loop runs: a starved client (a busy
        # machine) times out connects that the server never saw
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.1)
            late = time.monotonic() - t - 0.1
            if late > lag[0]:
                lag[0], lag[1] = late, time.time() - t0
    w = asyncio.ensure_future(watch_lag())
    tasks = [asyncio.ensure_future(http_one(a, rng, i, out, sems))
             for i in range(a.count)]
    await asyncio.gather(*tasks)
    w.cancel()
    print("sent %d" % a.count)
    print("seconds %.2f" % (time.time() - t0))
    for k in sorted(out["outcome"]):
        print("outcome.%s %d" % (k, out["outcome"][k]))
    print("leaks %d" % len(out["leak"]))
    print("violations %d" % len(out["violation"]))
    for v in (out["leak"] + out["violation"])[:10]:
        print("example %s" % v)
    for k, n in out["ok2xx"].most_common(8):
        print("served2xx %d %s" % (n, k))
    print("loop_lag_max_s %.2f at %.1fs" % (lag[0], lag[1] or 0))
    ce = out["connect_err_at"]
    if ce:
        print("connect_errors_at %.1f-%.1fs" % (min(ce), max(ce)))
    for c in sorted(out["cat"]):
        print("cat %-16s %s" % (c, " ".join(
            "%s=%d" % kv for kv in sorted(out["cat"][c].items()))))


# ------------------------------------------------------------------ slowloris

def slowloris(a):
    socks = []
    t_open = time.time()
    heads = {
        "http": b"CONNECT smoke.test:443 HTTP/1.1\r\nHost: smoke.test:443\r\n"
                + b"".join(b"X-Slow-%d: %s\r\n" % (k, b"z" * 20)
                           for k in range(200)),
        "plain": b"GET / HTTP/1.1\r\nHost: smoke.test\r\n"
                 + b"".join(b"X-Slow-%d: %s\r\n" % (k, b"z" * 20)
                            for k in range(200)),
        "tls": b"\x16\x03\x01\x3f\xff\x01\x00\x3f\xfb\x03\x03" + b"\x00" * 4000,
    }
    for spec in a.targets.split(","):
        h, _, rest = spec.rpartition("@")
        kind = rest
        host, port = hostport(h)
        for _ in range(a.n):
            try:
                s = tcp((host, port), 3)
            except OSError:
                continue
            s.setblocking(False)
            socks.append({"s": s, "kind": kind, "pos": 0, "t0": time.time(),
                          "cut": None, "how": None, "data": b""})
    opened = len(socks)
    t_start = time.time()
    while time.time() - t_start < a.duration:
        alive = [x for x in socks if x["cut"] is None]
        if not alive:
            break
        for x in alive:
            head = heads[x["kind"]]
            try:
                x["s"].send(head[x["pos"] % len(head):x["pos"] % len(head) + 1])
                x["pos"] += 1
            except BlockingIOError:
                pass
            except OSError as e:
                x["cut"], x["how"] = time.time(), "send-" + type(e).__name__
        rl = [x["s"] for x in alive if x["cut"] is None]
        end = time.time() + a.interval
        while rl and time.time() < end:
            r, _, _ = select.select(rl, [], [], max(0, end - time.time()))
            for sk in r:
                x = next(y for y in alive if y["s"] is sk)
                try:
                    d = sk.recv(4096)
                except OSError as e:
                    x["cut"], x["how"] = time.time(), type(e).__name__
                    rl.remove(sk)
                    continue
                if d:
                    x["data"] += d
                    continue
                x["cut"] = time.time()
                st = status_of(x["data"])
                x["how"] = "status.%d" % st if st > 0 else "close"
                rl.remove(sk)
            if not r:
                break
    still = [x for x in socks if x["cut"] is None]
    cuts = sorted(x["cut"] - x["t0"] for x in socks if x["cut"] is not None)
    hows = collections.Counter(x["how"] for x in socks if x["how"])
    for x in socks:
        x["s"].close()
    print("opened %d" % opened)
    print("open_seconds %.2f" % (t_start - t_open))
    print("cut %d" % len(cuts))
    print("still_open %d" % len(still))
    for k in sorted(hows):
        print("how.%s %d" % (k, hows[k]))
    sent = sum(x["pos"] for x in socks)
    print("bytes_trickled %d" % sent)
    if cuts:
        print("cut_min_s %.2f" % cuts[0])
        print("cut_median_s %.2f" % cuts[len(cuts) // 2])
        print("cut_max_s %.2f" % cuts[-1])


# ------------------------------------------------------------------ hold

def hold(a):
    proxy = hostport(a.proxy)
    ctx = ssl.create_default_context(cafile=a.ca)

    def attempt_connect():
        """-> (outcome, socket or None)"""
        try:
            s = tcp(proxy, 3)
        except OSError as e:
            return "connect-" + type(e).__name__, None
        try:
            s.sendall(b"CONNECT smoke.test:80 HTTP/1.1\r\nHost: smoke.test:80"
                      b"\r\n\r\n")
            h = read_head(s)
        except socket.timeout:
            s.close()
            return "timeout", None
        except OSError as e:
            s.close()
            return type(e).__name__, None
        st = status_of(h)
        if st == 200:
            return "status.200", s
        s.close()
        return ("status.%d" % st) if st > 0 else "close", None

    def attempt_transparent(tls):
        try:
            s = tcp((a.exit, 443 if tls else 80), 3)
        except OSError as e:
            return "connect-" + type(e).__name__
        try:
            if tls:
                s = ctx.wrap_socket(s, server_hostname="smoke.test")
            s.sendall(b"GET / HTTP/1.1\r\nHost: smoke.test\r\nConnection: "
                      b"close\r\n\r\n")
            r = read_all(s)
        except ssl.SSLError:
            return "tls-error"
        except socket.timeout:
            return "timeout"
        except OSError as e:
            return type(e).__name__
        finally:
            s.close()
        if b"exit-ok" in r:
            return "served"
        st = status_of(r)
        return ("status.%d" % st) if st > 0 else "close"

    def use(s):
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: smoke.test\r\n\r\n")
            buf = b""
            while b"exit-ok smoke.test\n" not in buf:
                d = s.recv(4096)
                if not d:
                    return False
                buf += d
            return True
        except OSError:
            return False

    held = []
    fill = collections.Counter()
    consec = 0
    for _ in range(a.max + 40):
        o, s = attempt_connect()
        fill[o] += 1
        if s is not None:
            held.append(s)
            consec = 0
        else:
            consec += 1
            if consec >= 3:
                break
        if len(held) >= a.max:
            # one more to see the refusal
            o, s = attempt_connect()
            fill[o] += 1
            if s is not None:
                held.append(s)
            break
    print("held %d" % len(held))
    for k in sorted(fill):
        print("fill.%s %d" % (k, fill[k]))
    extra = collections.Counter()
    t0 = time.time()
    for i in range(a.extra):
        if i % 4 == 0:
            o = attempt_transparent(False)
            extra["transparent-http." + o] += 1
        elif i % 4 == 1:
            o = attempt_transparent(True)
            extra["transparent-tls." + o] += 1
        else:
            o, s = attempt_connect()
            extra["explicit." + o] += 1
            if s is not None:
                held.append(s)
    print("extra_seconds %.2f" % (time.time() - t0))
    for k in sorted(extra):
        print("extra.%s %d" % (k, extra[k]))
    if a.pause_file:
        open(a.pause_file, "w").close()
        for _ in range(int(a.pause * 10)):
            time.sleep(0.1)
    ok = sum(1 for s in held if use(s))
    print("held_working %d" % ok)
    print("held_total %d" % len(held))
    for s in held:
        s.close()
    t0 = time.time()
    rec = None
    while time.time() - t0 < a.recover:
        o, s = attempt_connect()
        if s is not None:
            good = use(s)
            s.close()
            if good:
                rec = time.time() - t0
                break
        time.sleep(0.05)
    print("recovery_s %s" % ("%.3f" % rec if rec is not None else "none"))
    after = collections.Counter()
    for _ in range(a.after):
        o, s = attempt_connect()
        if s is not None:
            o = "served" if use(s) else "tunnel-broken"
            s.close()
        after[o] += 1
    for k in sorted(after):
        print("after.%s %d" % (k, after[k]))


# ------------------------------------------------------------------ tunnels

def tunnels(a):
    """Open an explicit CONNECT tunnel and a transparent TLS connection to
    smoke.test, use each once, wait until --go exists, use each again."""
    ctx = ssl.create_default_context(cafile=a.ca)
    req = b"GET / HTTP/1.1\r\nHost: smoke.test\r\n\r\n"

    def use(s):
        try:
            s.sendall(req)
            buf = b""
            while b"exit-ok smoke.test\n" not in buf:
                d = s.recv(4096)
                if not d:
                    return "closed"
                buf += d
            return "ok"
        except socket.timeout:
            return "timeout"
        except OSError as e:
            return type(e).__name__

    x = tcp(hostport(a.proxy), 3)
    x.sendall(b"CONNECT smoke.test:80 HTTP/1.1\r\nHost: smoke.test:80\r\n\r\n")
    st = status_of(read_head(x))
    t = ctx.wrap_socket(tcp((a.exit, 443), 3), server_hostname="smoke.test")
    print("before explicit=%s transparent=%s" %
          (use(x) if st == 200 else "connect-%d" % st, use(t)), flush=True)
    end = time.time() + a.wait
    while not os.path.exists(a.go) and time.time() < end:
        time.sleep(0.05)
    x.settimeout(a.timeout)
    t.settimeout(a.timeout)
    print("after explicit=%s transparent=%s" % (use(x), use(t)), flush=True)


# ------------------------------------------------------------------ main

def main():
    p = argparse.ArgumentParser(prog="ejfault.py")
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--proxy", default="10.77.0.1:3128")
        sp.add_argument("--exit", default="10.78.0.10")
        sp.add_argument("--forbidden", default="10.78.0.11")
        sp.add_argument("--forbidden6", default="fd78::11")
        sp.add_argument("--inet", default="203.0.113.5")
        sp.add_argument("--ca", default=None)
        sp.add_argument("--seed", type=int, default=9)

    sp = sub.add_parser("load")
    common(sp)
    sp.add_argument("--log", required=True)
    sp.add_argument("--dns", default="10.77.0.1")
    sp.add_argument("--kinds", default="xhttps,xhttp,thttps,thttp,dns_ok,"
                    "dns_deny,bad_direct,bad_connect,bad_udp")
    sp.add_argument("--workers", type=int, default=1)
    sp.add_argument("--interval", type=float, default=0.2)

    sp = sub.add_parser("dnsflood")
    common(sp)
    sp.add_argument("--server", default="10.77.0.1")
    sp.add_argument("--port", type=int, default=53)
    sp.add_argument("--count", type=int, default=10000)
    sp.add_argument("--rate", type=float, default=2500)
    sp.add_argument("--wait", type=float, default=4)
    sp.add_argument("--tcp", type=int, default=0)
    sp.add_argument("--timeout", type=float, default=4)

    sp = sub.add_parser("httpflood")
    common(sp)
    sp.add_argument("--count", type=int, default=10000)
    sp.add_argument("--conc", type=int, default=64)
    sp.add_argument("--timeout", type=float, default=8)
    sp.add_argument("--connect-timeout", type=float, default=10)

    sp = sub.add_parser("slowloris")
    common(sp)
    sp.add_argument("--targets", required=True,
                    help="ADDR:PORT@http|plain|tls,...")
    sp.add_argument("--n", type=int, default=100)
    sp.add_argument("--interval", type=float, default=0.25)
    sp.add_argument("--duration", type=float, default=10)

    sp = sub.add_parser("hold")
    common(sp)
    sp.add_argument("--max", type=int, required=True)
    sp.add_argument("--extra", type=int, default=20)
    sp.add_argument("--recover", type=float, default=10)
    sp.add_argument("--after", type=int, default=10)
    sp.add_argument("--pause-file", default=None)
    sp.add_argument("--pause", type=float, default=0)

    sp = sub.add_parser("tunnels")
    common(sp)
    sp.add_argument("--go", required=True)
    sp.add_argument("--wait", type=float, default=30)
    sp.add_argument("--timeout", type=float, default=3)

    a = p.parse_args()
    random.seed(a.seed)
    if a.cmd == "load":
        Load(a).run()
    elif a.cmd == "dnsflood":
        dnsflood(a)
    elif a.cmd == "httpflood":
        asyncio.run(httpflood_main(a))
    elif a.cmd == "slowloris":
        slowloris(a)
    elif a.cmd == "hold":
        hold(a)
    elif a.cmd == "tunnels":
        tunnels(a)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
