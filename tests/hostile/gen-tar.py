#!/usr/bin/env python3
"""Writes one hostile layer tar (kind "tar" in CASES) for `kiln import`.
usage: gen-tar.py NAME OUT SENTINEL
SENTINEL is the absolute path of the directory the test watches: every
escape aims at it (directly, through "..", through symlinks or hardlinks).
The names are the CASES names; each function says what it tries."""
import io, os, sys, tarfile

name, out, sentinel = sys.argv[1], sys.argv[2], sys.argv[3]
UP = "../" * 24                      # more ".." than any store is deep
REL = UP + sentinel.lstrip("/")      # the sentinel, relative to anywhere

def ent(n, kind=tarfile.REGTYPE, data=b"", mode=0o644, link="", **kw):
    ti = tarfile.TarInfo(n)
    ti.type, ti.mode, ti.linkname = kind, mode, link
    ti.size = len(data) if kind in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti, (io.BytesIO(data) if ti.size else None)

def f(n, data=b"pwned\n", **kw): return ent(n, data=data, **kw)
def d(n, mode=0o755, **kw): return ent(n, tarfile.DIRTYPE, mode=mode, **kw)
def sym(n, target): return ent(n, tarfile.SYMTYPE, mode=0o777, link=target)
def hard(n, target): return ent(n, tarfile.LNKTYPE, link=target)

C = {}
def case(fn):
    C[fn.__name__.replace("_", "-")] = fn
    return fn

# ---- path traversal
@case
def abs_name(): return [f(sentinel + "/pwned")]
@case
def dotdot_first(): return [f("../pwned")]
@case
def dotdot_middle(): return [d("a"), f("a/../../pwned")]
@case
def dotdot_to_sentinel(): return [f(REL + "/pwned")]
@case
def dotdot_dir(): return [d(REL + "/newdir")]
# ---- symlink escapes
@case
def symlink_abs_parent(): return [sym("evil", sentinel), f("evil/pwned")]
@case
def symlink_rel_parent(): return [sym("evil", REL), f("evil/pwned")]
@case
def symlink_chain(): return [sym("a", "b"), sym("b", sentinel), f("a/pwned")]
@case
def symlink_nested_dir(): return [d("x"), sym("x/up", "../.."), f("x/up/pwned")]
@case
def symlink_then_dir(): return [sym("d", sentinel), d("d"), f("d/ok")]
@case
def symlink_then_file(): return [sym("keep", sentinel + "/keep"), f("keep", b"replaced\n")]
@case
def symlink_dotdot_mix(): return [sym("s", sentinel), f("s/../s/pwned")]
@case
def symlink_dangling_ok(): return [sym("link", sentinel + "/keep")]
# ---- hardlink escapes
@case
def hardlink_abs(): return [hard("h", sentinel + "/keep")]
@case
def hardlink_dotdot(): return [hard("h", REL + "/keep")]
@case
def hardlink_via_symlink(): return [sym("s", sentinel), hard("h", "s/keep")]
@case
def hardlink_missing(): return [hard("h", "nothere")]
@case
def hardlink_to_dir(): return [d("dir"), hard("h", "dir")]
@case
def hardlink_then_write(): return [f("a", b"a\n"), hard("b", "a"), f("b", b"b\n")]
# ---- device nodes, setuid, special files (accepted: as root they are
# created as Docker does; rootless kiln skips the nodes it cannot make)
@case
def device_char(): return [d("dev"), ent("dev/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3)]
@case
def device_block(): return [ent("sda", tarfile.BLKTYPE, mode=0o600, devmajor=8, devminor=0)]
@case
def fifo(): return [ent("pipe", tarfile.FIFOTYPE, mode=0o644)]
@case
def setuid_file(): return [f("suid", b"#!/bin/sh\n", mode=0o6755)]
@case
def invalid_owner(): return [f("o", uid=2**32 + 5, gid=0)]
# ---- sizes and names
@case
def deep_nesting(): return [d("/".join(["d"] * i)) for i in range(1, 3000)]
@case
def name_component_256(): return [f("x" * 256)]
@case
def name_path_5000(): return [f("/".join(["abcdefghij"] * 500))]
@case
def duplicate_entries(): return [f("dup", b"one\n"), f("dup", b"two\n"), d("dup2"), f("dup2/x"), f("dup2", b"file\n")]
@case
def empty_name(): return [f("", b"x")]
@case
def root_dot_symlink(): return [sym(".", sentinel), f("pwned")]
@case
def root_dot_dir(): return [d(".", mode=0o000), f("ok")]
# ---- whiteouts
@case
def whiteout_dotdot(): return [f(".wh...")]
@case
def whiteout_dot(): return [f("a/.wh..")]
@case
def whiteout_escape(): return [f(REL + "/.wh.keep")]
@case
def whiteout_via_symlink(): return [sym("s", sentinel), f("s/.wh.keep")]
@case
def whiteout_opaque_via_symlink(): return [sym("s", sentinel), f("s/.wh..wh..opq")]
# ---- xattrs that would steer overlayfs or grant capabilities (skipped)
@case
def xattr_overlay_redirect():
    ti, data = f("x")
    ti.pax_headers = {"SCHILY.xattr.trusted.overlay.redirect": "/" + sentinel.lstrip("/"),
                      "SCHILY.xattr.trusted.overlay.metacopy": "",
                      "SCHILY.xattr.user.overlay.opaque": "y"}
    return [(ti, data)]
@case
def xattr_bad_capability():
    ti, data = f("x")
    ti.pax_headers = {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"}
    return [(ti, data)]

def write_tar(entries):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, data)

def raw_special():
    """Cases tarfile cannot write: hand-made bytes."""
    if name == "sparse-huge":
        # PAX 1.0 sparse file: 1 TiB apparent size, one 512-byte data block.
        real = 1 << 40
        ti = tarfile.TarInfo("GNUSparseFile.0/big")
        body = b"1\n%d\n512\n" % (real - 512)
        body = body.ljust(512, b"\0") + b"x" * 512
        ti.size = len(body)
        ti.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                          "GNU.sparse.name": "big", "GNU.sparse.realsize": str(real)}
        write_tar([(ti, io.BytesIO(body))])
        return True
    if name == "truncated-data":
        # A header announcing 8 GiB of data, then the archive ends.
        ti = tarfile.TarInfo("big"); ti.size = 8 << 30
        with open(out, "wb") as o:
            o.write(ti.tobuf(tarfile.PAX_FORMAT) + b"y" * 4096)
        return True
    if name == "bad-checksum":
        ti = tarfile.TarInfo("f"); ti.size = 0
        b = bytearray(ti.tobuf(tarfile.USTAR_FORMAT)); b[148:156] = b"0000000\0"
        with open(out, "wb") as o:
            o.write(bytes(b) + b"\0" * 1024)
        return True
    if name == "garbage":
        with open(out, "wb") as o:
            o.write(bytes((i * 7919 + 13) % 256 for i in range(4096)))
        return True
    if name == "unknown-type":
        ti = tarfile.TarInfo("weird"); ti.type = b"Q"; ti.size = 0
        with open(out, "wb") as o:
            o.write(ti.tobuf(tarfile.USTAR_FORMAT) + b"\0" * 1024)
        return True
    return False

if not raw_special():
    if name not in C:
        sys.exit("gen-tar.py: no case " + name)
    write_tar(C[name]())
