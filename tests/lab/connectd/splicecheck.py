#!/usr/bin/env python3
"""splicecheck.py MODE: one tunnel through connectd (127.0.0.1:3128) to
the lab's echo server (allowed.test:9000), long enough that connectd
switches it to splice(2).

  integrity  24 MiB of random bytes up while reading the echo; then a
             half-close: the echo must come back whole (SHA-256) and end
  idle       256 KiB echoed, then silence: connectd must close the tunnel
             at idle_timeout (prints the seconds it took)
  slow       4 MiB echoed to a reader that stops for 2 s (backpressure),
             then reads the rest
  race       48 tunnels at once (five rounds), each with a small receive
             buffer and both directions busy while it crosses the
             switch-over point; every echo must come back whole.  (The
             exact moment that once crashed connectd is pinned down in
             tests/unit/connectd/test_relay.c; this is the load around it.)
Prints "ok ..." or a reason."""
import hashlib, os, socket, sys, threading, time

mode = sys.argv[1]


def tunnel(rcvbuf=0):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        t.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    t.settimeout(15)
    t.connect(('127.0.0.1', 3128))
    t.sendall(b'CONNECT allowed.test:9000 HTTP/1.1\r\n'
              b'Host: allowed.test:9000\r\n\r\n')
    head = b''
    while b'\r\n\r\n' not in head:
        c = t.recv(1)
        if not c:
            raise OSError('no answer to CONNECT')
        head += c
    if not head.startswith(b'HTTP/1.1 200'):
        raise OSError('refused: %r' % head[:40])
    return t


def race_one(i, errs):
    """Up and down at once in uneven pieces around the 64 KiB switch."""
    try:
        t = tunnel(4096)
        data = os.urandom(384 << 10)
        got = bytearray()

        def rd():
            while len(got) < len(data):
                b = t.recv(1 << 12)
                if not b:
                    break
                got.extend(b)
                if len(got) % 7 == 0:
                    time.sleep(0.0005)
        th = threading.Thread(target=rd)
        th.start()
        off = 0
        step = 1000 + 37 * i
        while off < len(data):
            t.sendall(data[off:off + step])
            off += step
        th.join(30)
        t.close()
        if bytes(got) != data:
            errs.append('tunnel %d: sent %d got %d' % (i, len(data), len(got)))
    except OSError as e:
        errs.append('tunnel %d: %s' % (i, e))


if mode == 'race':
    errs = []
    for rnd in range(5):
        ths = [threading.Thread(target=race_one, args=(i, errs))
               for i in range(48)]
        for th in ths:
            th.start()
        for th in ths:
            th.join(60)
    if errs:
        print('%d of 240 tunnels failed, first: %s' % (len(errs), errs[0]))
        sys.exit(1)
    print('ok 240 tunnels x 384 KiB')
    sys.exit(0)

try:
    s = tunnel()
except OSError as e:
    print(e)
    sys.exit(1)


def echo_of(data, pause=0.0):
    got = bytearray()
    eof = []

    def rd():
        if pause:
            time.sleep(pause)
        try:
            while True:
                b = s.recv(1 << 16)
                if not b:
                    eof.append(True)
                    break
                got.extend(b)
        except OSError:
            pass
    t = threading.Thread(target=rd)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join()
    if not eof:
        print('the echo did not end (no half-close back) after %d bytes'
              % len(got))
        sys.exit(1)
    return bytes(got)


if mode in ('integrity', 'slow'):
    data = os.urandom((24 if mode == 'integrity' else 4) << 20)
    got = echo_of(data, 2.0 if mode == 'slow' else 0.0)
    if hashlib.sha256(got).digest() == hashlib.sha256(data).digest():
        print('ok %d bytes' % len(got))
    else:
        print('mismatch: sent %d got %d' % (len(data), len(got)))
elif mode == 'idle':
    data = os.urandom(256 << 10)
    s.sendall(data)
    got = b''
    while len(got) < len(data):
        b = s.recv(1 << 16)
        if not b:
            break
        got += b
    if got != data:
        print('echo mismatch before idling')
        sys.exit(1)
    t0 = time.time()
    try:
        b = s.recv(1)
    except socket.timeout:
        print('still open after 30 s')
        sys.exit(1)
    print('ok closed after %.1f s' % (time.time() - t0) if b == b''
          else 'unexpected byte')
