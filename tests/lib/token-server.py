#!/usr/bin/env python3
"""A small Docker token server for the tests: GET /token?service=&scope=
with optional Basic credentials (USER:PASS from argv) returns a JWT signed
with KEY (RS256), whose "kid" is the libtrust fingerprint of the key, as
docker-registry's token auth expects.  Anonymous requests get pull only
when --anon-pull is given.  Writes its port to PORTFILE, and the scopes
of each token request, one request a line, to PORTFILE.log.
usage: token-server.py KEY.pem PORTFILE USER:PASS [--anon-pull]"""
import base64, hashlib, json, socket, sys, time, subprocess, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from cryptography.hazmat.primitives import serialization, hashes
from cryptography.hazmat.primitives.asymmetric import padding

key_path, port_file, creds = sys.argv[1], sys.argv[2], sys.argv[3]
anon_pull = "--anon-pull" in sys.argv
key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)
b32 = base64.b32encode(hashlib.sha256(spki).digest()[:30]).decode().rstrip("=")
kid = ":".join(b32[i:i + 4] for i in range(0, 48, 4))

def b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")

def token(sub, access):
    now = int(time.time())
    hdr = {"typ": "JWT", "alg": "RS256", "kid": kid}
    claims = {"iss": "kiln-test-issuer", "sub": sub, "aud": "kiln-test-registry",
              "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(now),
              "access": access}
    signing = (b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(claims).encode())).encode()
    sig = key.sign(signing, padding.PKCS1v15(), hashes.SHA256())
    return signing.decode() + "." + b64(sig)

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        user = None
        if auth.startswith("Basic "):
            if base64.b64decode(auth[6:]).decode() != creds:
                self.send_response(401); self.end_headers(); return
            user = creds.split(":")[0]
        with open(port_file + ".log", "a") as f:
            f.write(" ".join(q.get("scope", [])) + "\n")
        access = []
        for sc in q.get("scope", []):
            typ, rest = sc.split(":", 1)
            name, actions = rest.rsplit(":", 1)
            acts = actions.split(",")
            if user is None:
                acts = [a for a in acts if a == "pull"] if anon_pull else []
            access.append({"type": typ, "name": name, "actions": acts})
        body = json.dumps({"token": token(user or "", access), "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(port_file + ".tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
