#!/usr/bin/env python3
"""A registry with the signature API extension, for the tests: a reverse
proxy in front of a registry that answers /v2/ with
X-Registry-Supports-Signatures: 1 and serves
GET/PUT /extensions/v2/<name>/signatures/<digest> from memory
(docs/signature-protocols.md in containers/image).
usage: sig-ext-proxy.py UPSTREAM_PORT PORTFILE
Writes "PORT" to PORTFILE."""
import http.client, json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream, port_file = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
sigs = {}  # "name@digest" -> [entry]

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def extension(self, method, body):
        rest = self.path[len("/extensions/v2/"):]
        name, sep, digest = rest.rpartition("/signatures/")
        if not sep:
            return self.reply(404, b"{}")
        key = name + "@" + digest
        with lock:
            if method == "GET":
                return self.reply(200, json.dumps({"signatures": sigs.get(key, [])}).encode())
            if method == "PUT":
                entry = json.loads(body)
                sigs.setdefault(key, []).append(entry)
                return self.reply(201)
        return self.reply(405)

    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        if self.path.startswith("/extensions/v2/"):
            return self.extension(method, body)
        # Header by header: clients send several Accept lines.
        c = http.client.HTTPConnection("127.0.0.1", upstream)
        c.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
        c.putheader("Host", "127.0.0.1:%d" % upstream)
        for k, v in self.headers.items():
            if k.lower() not in ("host", "connection"):
                c.putheader(k, v)
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        if self.path == "/v2/":
            self.send_header("X-Registry-Supports-Signatures", "1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def do_GET(self): self.handle_any("GET")
    def do_HEAD(self): self.handle_any("HEAD")
    def do_PUT(self): self.handle_any("PUT")
    def do_POST(self): self.handle_any("POST")
    def do_PATCH(self): self.handle_any("PATCH")
    def do_DELETE(self): self.handle_any("DELETE")

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
