#!/usr/bin/env python3
"""A fault-injecting reverse proxy in front of a registry, for the tests.
usage: fault-proxy.py UPSTREAM_PORT PORTFILE MODE [COUNT]
MODE (applies to blob GETs, the first COUNT times, default 1):
  500        answer 500
  429        answer 429 with Retry-After: 1
  truncate   send half of the body, then close the connection
  corrupt    flip a byte of the body (every time: COUNT ignored)
  redirect   answer 307 to a second port of this proxy that serves the blob
             (as storage back-ends do; every time)
  schema1    manifest GETs answer a Docker schema 1 signed manifest (every time)
  none       pass everything through
Everything else is passed through.  Writes "PORT" to PORTFILE."""
import http.client, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The shape of a schema 1 manifest (the signature is not checked by anyone
# who refuses the format).
SCHEMA1 = b"""{
   "schemaVersion": 1,
   "name": "f/bb",
   "tag": "v1",
   "architecture": "amd64",
   "fsLayers": [{"blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],
   "history": [{"v1Compatibility": "{\\"id\\":\\"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5\\"}"}],
   "signatures": [{"header": {"alg": "ES256"}, "signature": "AAAA", "protected": "e30"}]
}"""

upstream, port_file, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
count = [int(sys.argv[4]) if len(sys.argv) > 4 else 1]
lock = threading.Lock()
redirect_port = [0]

def take():
    with lock:
        if count[0] > 0:
            count[0] -= 1
            return True
        return False

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    storage = False

    def log_message(self, *a):
        pass

    def forward(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        c = http.client.HTTPConnection("127.0.0.1", upstream)
        c.request(method, self.path, body=body, headers=hdrs)
        return c.getresponse()

    def handle_any(self, method):
        if mode == "schema1" and method in ("GET", "HEAD") and "/manifests/" in self.path:
            return self.plain(200, SCHEMA1, {"Content-Type":
                "application/vnd.docker.distribution.manifest.v1+prettyjws"}, method == "HEAD")
        blob_get = method == "GET" and "/blobs/sha256:" in self.path
        if blob_get and not self.storage:
            if mode == "500" and take():
                return self.plain(500, b"boom")
            if mode == "429" and take():
                return self.plain(429, b"slow down", {"Retry-After": "1"})
            if mode == "redirect":
                self.send_response(307)
                self.send_header("Location", "http://127.0.0.1:%d%s" % (redirect_port[0], self.path))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        r = self.forward(method)
        data = r.read()
        if blob_get and r.status == 200 and not self.storage:
            if mode == "truncate" and take():
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if mode == "corrupt" and len(data) > 0:
                data = bytearray(data); data[len(data) // 2] ^= 0xFF; data = bytes(data)
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def plain(self, code, body, extra={}, head=False):
        self.send_response(code)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_GET(self): self.handle_any("GET")
    def do_HEAD(self): self.handle_any("HEAD")
    def do_POST(self): self.handle_any("POST")
    def do_PUT(self): self.handle_any("PUT")
    def do_PATCH(self): self.handle_any("PATCH")
    def do_DELETE(self): self.handle_any("DELETE")

class Storage(H):
    storage = True

front = ThreadingHTTPServer(("127.0.0.1", 0), H)
back = ThreadingHTTPServer(("127.0.0.1", 0), Storage)
redirect_port[0] = back.server_address[1]
threading.Thread(target=back.serve_forever, daemon=True).start()
open(port_file + ".tmp", "w").write(str(front.server_address[1]))
os.rename(port_file + ".tmp", port_file)
front.serve_forever()
