#!/usr/bin/env python3
"""exitserver.py ADDR CERT KEY - the lab's "internet": HTTPS on 8443 and
HTTP on 8080, answering "exit-ok host=HOST path=PATH", plus a TCP echo on
9000 for the bench tools."""
import socket, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import StreamRequestHandler, ThreadingTCPServer

addr, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]


class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('exit-ok host=%s path=%s proxy_auth=%s conn=%s\n' % (
            self.headers.get('Host'), self.path,
            self.headers.get('Proxy-Authorization'),
            self.headers.get('Connection'))).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Echo(StreamRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                break
            self.request.sendall(d)


ThreadingTCPServer.allow_reuse_address = True
plain = ThreadingHTTPServer((addr, 8080), H)
tls = ThreadingHTTPServer((addr, 8443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
echo = ThreadingTCPServer((addr, 9000), Echo)
for s in (plain, tls, echo):
    threading.Thread(target=s.serve_forever, daemon=True).start()
threading.Event().wait()
