#!/usr/bin/env python3
"""A hostile registry for tests/system/095-hostile.bats (127.0.0.1 only).
usage: registry.py CASEDIR PORTFILE
Writes its port to PORTFILE.  Repositories are named KIND/NAME:
  good/image      a valid one-layer image (the other kinds start from it)
  auth/image      the same, behind HTTP basic auth (any credentials do)
  manifest/NAME   CASEDIR/manifest/NAME.json (or a generated one, GEN below)
                  served as the image manifest
  config/NAME     a manifest pointing at CASEDIR/config/NAME.json as config
  index/NAME      CASEDIR/index/NAME.json served as the manifest list
  registry/NAME   the good image, with the misbehaviour NAME (see misbehave)
Manifests and blobs are also served by digest; blobs are looked up among
everything the server knows."""
import gzip, hashlib, io, json, os, sys, tarfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

casedir, port_file = sys.argv[1], sys.argv[2]
OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"
OCI_C = "application/vnd.oci.image.config.v1+json"
OCI_L = "application/vnd.oci.image.layer.v1.tar+gzip"

def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()

blobs = {}      # digest -> bytes
manifests = {}  # digest -> (bytes, media type)

def add_blob(b):
    blobs[sha(b)] = b
    return {"digest": sha(b), "size": len(b)}

def layer_tar():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("hello"); data = b"hello from a good layer\n"
        ti.size = len(data); ti.mtime = 0
        t.addfile(ti, io.BytesIO(data))
    return raw.getvalue()

TAR = layer_tar()
LAYER = gzip.compress(TAR, mtime=0)
LAYER_D = dict(add_blob(LAYER), mediaType=OCI_L)

def config_for(diff_ids):
    return json.dumps({"architecture": "amd64", "os": "linux",
                       "config": {"Cmd": ["/hello"]},
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()

GOOD_CONFIG = config_for([sha(TAR)])

def manifest_for(config_bytes, layers=None):
    c = dict(add_blob(config_bytes), mediaType=OCI_C)
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_M, "config": c,
                       "layers": layers or [LAYER_D]}).encode()

GOOD = manifest_for(GOOD_CONFIG)
manifests[sha(GOOD)] = (GOOD, OCI_M)

def deep(n): return ("[" * n + "]" * n).encode()

# Cases too big (or too tedious) to keep as files.
GEN = {
    "manifest/huge": lambda: json.dumps({"schemaVersion": 2, "mediaType": OCI_M,
        "config": json.loads(GOOD)["config"], "layers": [LAYER_D],
        "annotations": {"pad": "x" * (64 << 20)}}).encode(),
    "manifest/deep": lambda: b'{"schemaVersion":2,"mediaType":"' + OCI_M.encode() +
        b'","config":' + json.dumps(json.loads(GOOD)["config"]).encode() +
        b',"layers":[],"annotations":{"a":' + deep(200000) + b'}}',
    "manifest/many-layers": lambda: json.dumps({"schemaVersion": 2, "mediaType": OCI_M,
        "config": json.loads(GOOD)["config"],
        "layers": [dict(LAYER_D, digest="sha256:%064x" % i) for i in range(40000)]}).encode(),
    "config/huge": lambda: json.dumps({"architecture": "amd64", "os": "linux",
        "config": {"Env": ["A=" + "y" * (80 << 20)]},
        "rootfs": {"type": "layers", "diff_ids": [sha(TAR)]}}).encode(),
    "config/deep": lambda: b'{"architecture":"amd64","os":"linux","config":{"Labels":{"a":' +
        deep(200000) + b'}},"rootfs":{"type":"layers","diff_ids":["' + sha(TAR).encode() + b'"]}}',
    "index/deep-chain": None,  # filled below: an index whose entry is an index
}

def nested_index():
    inner = json.dumps({"schemaVersion": 2, "mediaType": OCI_I, "manifests": [
        {"mediaType": OCI_M, "digest": sha(GOOD), "size": len(GOOD),
         "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    manifests[sha(inner)] = (inner, OCI_I)
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_I, "manifests": [
        {"mediaType": OCI_I, "digest": sha(inner), "size": len(inner),
         "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
GEN["index/deep-chain"] = nested_index

def case_bytes(kind, name):
    key = kind + "/" + name
    if key in GEN:
        return GEN[key]()
    p = os.path.join(casedir, kind, os.path.basename(name) + ".json")
    with open(p, "rb") as f:
        return expand(f.read())

def media_type(b, default):
    try:
        return json.loads(b).get("mediaType") or default
    except Exception:
        return default

def repo_manifest(repo):
    """(bytes, media type) the tag of repo names, or None."""
    kind, _, name = repo.partition("/")
    if kind in ("good", "auth", "registry"):
        return GOOD, OCI_M
    if kind == "manifest":
        b = case_bytes(kind, name)
        # Blobs a hand-written case names by the placeholders below.
        return b, media_type(b, OCI_M)
    if kind == "config":
        b = manifest_for(case_bytes(kind, name))
        return b, OCI_M
    if kind == "index":
        b = case_bytes(kind, name)
        return b, media_type(b, OCI_I)
    return None

# Hand-written manifests refer to the good config and layer by placeholder.
def expand(b):
    return (b.replace(b"@GOOD_CONFIG@", sha(GOOD_CONFIG).encode())
             .replace(b"@GOOD_CONFIG_SIZE@", str(len(GOOD_CONFIG)).encode())
             .replace(b"@GOOD_LAYER@", LAYER_D["digest"].encode())
             .replace(b"@GOOD_LAYER_SIZE@", str(len(LAYER)).encode())
             .replace(b"@GOOD_DIFF_ID@", sha(TAR).encode())
             .replace(b"@GOOD_MANIFEST@", sha(GOOD).encode())
             .replace(b"@GOOD_MANIFEST_SIZE@", str(len(GOOD)).encode()))

add_blob(GOOD_CONFIG)
lock = threading.Lock()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", ctype="application/json", extra=None, length=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def endless(self, ctype, head=b""):
        """200 without a length: bytes until the client gives up."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return
        chunk = b" " * 65536
        try:
            self.wfile.write(head)
            for _ in range(1 << 15):  # at most 2 GiB, then stop anyway
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def misbehave(self, mode, what, body, ctype):
        """The registry/NAME cases; what is "manifest", "config" or "layer".
        Returns True when the reply was sent."""
        if mode == "endless-manifest" and what == "manifest":
            self.endless(ctype, b'{"schemaVersion":2,"annotations":{"a":"'); return True
        if mode == "endless-config" and what == "config":
            self.endless("application/octet-stream"); return True
        if mode == "endless-layer" and what == "layer":
            self.endless("application/octet-stream"); return True
        if mode == "redirect-loop" and what == "layer":
            self.reply(302, extra={"Location": self.path}); return True
        if mode == "redirect-loop-manifest" and what == "manifest":
            self.reply(307, extra={"Location": self.path + "x"}); return True
        if mode == "redirect-file" and what == "layer":
            self.reply(302, extra={"Location": "file:///etc/passwd"}); return True
        if mode == "length-short" and what == "layer":
            # Claims fewer bytes than the blob has: the client reads a prefix.
            self.reply(200, body, "application/octet-stream", length=len(body) // 2); return True
        if mode == "length-long" and what == "layer":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) * 4))
            self.end_headers()
            self.wfile.write(body); self.wfile.flush()
            self.close_connection = True
            return True
        if mode == "length-huge-manifest" and what == "manifest":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(1 << 40))
            self.end_headers()
            self.wfile.write(body); self.wfile.flush()
            self.close_connection = True
            return True
        if mode == "wrong-config" and what == "config":
            self.reply(200, GOOD_CONFIG.replace(b"/hello", b"/evil!"), "application/octet-stream"); return True
        if mode == "wrong-layer" and what == "layer":
            self.reply(200, gzip.compress(TAR + b"\0" * 512, mtime=1), "application/octet-stream"); return True
        if mode == "garbage-layer" and what == "layer":
            self.reply(200, b"\x1f\x8b" + os.urandom(600), "application/octet-stream"); return True
        if mode == "html-manifest" and what == "manifest":
            self.reply(200, b"<html><body>welcome to nginx</body></html>", "text/html"); return True
        if mode == "error-500" and what == "manifest":
            self.reply(500, b"<html>internal error</html>", "text/html"); return True
        if mode == "bad-challenge" and what == "manifest":
            self.reply(401, b"{}", extra={"WWW-Authenticate": 'Bearer realm="\x01\x02 ,,,=="' + "x" * 9000}); return True
        if mode == "token-loop" and what == "manifest":
            realm = "http://127.0.0.1:%d/token" % self.server.server_address[1]
            self.reply(401, b"{}", extra={"WWW-Authenticate": 'Bearer realm="%s",service="s",scope="repository:registry/token-loop:pull"' % realm}); return True
        if mode == "garbage-token" and what == "manifest" and "Authorization" not in self.headers:
            realm = "http://127.0.0.1:%d/garbage-token" % self.server.server_address[1]
            self.reply(401, b"{}", extra={"WWW-Authenticate": 'Bearer realm="%s",service="s"' % realm}); return True
        return False

    def do_GET(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()

    def handle_any(self):
        path = self.path.split("?")[0]
        if path == "/token":
            return self.reply(200, json.dumps({"token": "t" * 10}).encode())
        if path == "/garbage-token":
            return self.reply(200, b'{"token": [1,2,3], "expires_in": "soon"')
        if path in ("/v2", "/v2/"):
            return self.reply(200, b"{}")
        if not path.startswith("/v2/"):
            return self.reply(404, b"{}")
        rest = path[4:]
        for sep, what in (("/manifests/", "manifest"), ("/blobs/", "blob")):
            if sep in rest:
                repo, ref = rest.rsplit(sep, 1)
                break
        else:
            return self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        if repo.startswith("auth/") and not self.headers.get("Authorization"):
            return self.reply(401, b"{}", extra={"WWW-Authenticate": 'Basic realm="hostile"'})
        kind, _, name = repo.partition("/")
        try:
            found = repo_manifest(repo)
        except OSError:
            return self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        if found:
            found = (expand(found[0]), found[1])
            with lock:
                manifests.setdefault(sha(found[0]), found)
        if what == "manifest":
            if ref.startswith("sha256:"):
                got = manifests.get(ref)
            else:
                got = found
            if got is None:
                return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            if kind == "registry" and self.misbehave(name, "manifest", got[0], got[1]):
                return
            return self.reply(200, got[0], got[1], {"Docker-Content-Digest": sha(got[0])})
        body = blobs.get(ref)
        if body is None:
            return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        part = "layer" if ref == LAYER_D["digest"] else "config"
        if kind == "registry" and self.misbehave(name, part, body, "application/octet-stream"):
            return
        self.reply(200, body, "application/octet-stream", {"Docker-Content-Digest": ref})

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
