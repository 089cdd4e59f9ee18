#!/usr/bin/env python3
"""Writes one hostile image archive (kind "load" in CASES) for `kiln load`.
usage: gen-archive.py NAME OUT SENTINEL
docker-archive cases unless the name starts with "oci-" (an OCI layout tar).
Escapes aim at the SENTINEL directory, as in gen-tar.py."""
import hashlib, io, json, sys, tarfile

name, out, sentinel = sys.argv[1], sys.argv[2], sys.argv[3]
UP = "../" * 24

def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()

def layer(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for n, kind, link, data in entries:
            ti = tarfile.TarInfo(n); ti.type = kind; ti.linkname = link
            ti.mode = 0o777 if kind == tarfile.SYMTYPE else 0o644
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
    return raw.getvalue()

def f(n, data=b"x\n"): return (n, tarfile.REGTYPE, "", data)
def sym(n, t): return (n, tarfile.SYMTYPE, t, b"")
def hard(n, t): return (n, tarfile.LNKTYPE, t, b"")

GOOD = [[f("hello")]]
LAYERS = {
    "cross-layer-symlink": [[sym("s", sentinel)], [f("s/pwned")]],
    "cross-layer-symlink-rel": [[sym("s", UP + sentinel.lstrip("/"))], [f("s/pwned")]],
    "cross-layer-hardlink": [[sym("s", sentinel)], [hard("h", "s/keep")]],
    "cross-layer-whiteout": [[sym("s", sentinel)], [f("s/.wh.keep")]],
    "cross-layer-dir-swap": [[f("d/ok")], [sym("d", sentinel)], [f("d/pwned")]],
}

def config(tars):
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                       "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in tars]}}).encode()

def add(t, n, data):
    ti = tarfile.TarInfo(n); ti.size = len(data); ti.mode = 0o644
    t.addfile(ti, io.BytesIO(data))

def docker(tars, cfg=None, manifest=None, extra=()):
    cfg = cfg if cfg is not None else config(tars)
    with tarfile.open(out, "w") as t:
        names = []
        for i, lt in enumerate(tars):
            n = "l%d/layer.tar" % i
            add(t, n, lt); names.append(n)
        add(t, "config.json", cfg)
        m = manifest if manifest is not None else [
            {"Config": "config.json", "RepoTags": ["hostile:" + name], "Layers": names}]
        add(t, "manifest.json", json.dumps(m).encode())
        for n, d in extra:
            add(t, n, d)

def oci(index, blobs=()):
    with tarfile.open(out, "w") as t:
        add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add(t, "index.json", json.dumps(index).encode())
        for n, d in blobs:
            add(t, n, d)

good = [layer(l) for l in GOOD]
if name in LAYERS:
    docker([layer(l) for l in LAYERS[name]])
elif name == "layer-path-traversal":
    docker(good, manifest=[{"Config": "config.json", "RepoTags": [],
                            "Layers": [UP + sentinel.lstrip("/") + "/keep"]}])
elif name == "config-path-absolute":
    docker(good, manifest=[{"Config": sentinel + "/keep", "RepoTags": [], "Layers": ["l0/layer.tar"]}])
elif name == "missing-layer":
    docker(good, manifest=[{"Config": "config.json", "RepoTags": [], "Layers": ["nope.tar"]}])
elif name == "diff-id-mismatch":
    docker(good, cfg=config([b"other"]))
elif name == "bad-repotag":
    docker(good, manifest=[{"Config": "config.json", "RepoTags": ["UPPER/Case:x:y"],
                            "Layers": ["l0/layer.tar"]}])
elif name == "manifest-wrong-types":
    docker(good, manifest={"Config": 5, "Layers": "l0/layer.tar"})
elif name == "manifest-not-json":
    docker(good, manifest=None, extra=()) if False else None
    with tarfile.open(out, "w") as t:
        add(t, "manifest.json", b"\x00not json{")
elif name == "layers-config-count":
    docker(good, cfg=config(good + good))
elif name == "oci-blob-traversal":
    oci({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + "../" * 8 + "etc/passwd", "size": 10}]})
elif name == "oci-digest-mismatch":
    m = b'{"schemaVersion":2}'
    oci({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha(b"other"), "size": len(m)}]},
        [("blobs/sha256/" + sha(b"other")[7:], m)])
elif name == "oci-index-deep":
    with tarfile.open(out, "w") as t:
        add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add(t, "index.json", b'{"manifests":' + b"[" * 100000 + b"]" * 100000 + b"}")
else:
    sys.exit("gen-archive.py: no case " + name)
