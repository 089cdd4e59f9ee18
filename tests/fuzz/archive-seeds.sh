#!/bin/bash
# Makes the seed corpus of fuzz_archive_load (tests/fuzz/corpus/archive_load/)
# from real archives: two small images made in throw-away stores, saved by
# kiln (docker-archive, oci-archive, both images in one archive, gzip) and
# by podman (docker-archive, oci-archive, a two-layer image built with COPY).
# Each archive becomes two seeds: raw (first byte 0) and as the target's
# entry list (first byte 1, digests and sizes as @X / #X, see the target).
# usage: tests/fuzz/archive-seeds.sh [KILN] (run as root, from the top dir)
set -euo pipefail
kiln=$(realpath "${1:-./kiln}")
out=$PWD/tests/fuzz/corpus/archive_load
tmp=$(mktemp -d /tmp/kiln-seeds-XXXXXX)
trap 'podman --root "$tmp/proot" --runroot "$tmp/prun" rmi -a -f >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tmp/rootfs/etc" "$tmp/rootfs/bin"
echo hello >"$tmp/rootfs/etc/motd"
echo 'root:x:0:0:root:/root:/bin/sh' >"$tmp/rootfs/etc/passwd"
ln -s motd "$tmp/rootfs/etc/issue"
tar -C "$tmp/rootfs" --sort=name --mtime=@0 --owner=0 --group=0 -cf "$tmp/one.tar" .
echo second >"$tmp/second"
tar -C "$tmp" --mtime=@0 --owner=0 --group=0 -cf "$tmp/two.tar" second

k() { "$kiln" --root "$tmp/kroot" --runroot "$tmp/krun" "$@"; }
k import -q -c 'CMD ["/bin/sh"]' "$tmp/one.tar" seed/one:1 >/dev/null
k import -q "$tmp/two.tar" seed/two >/dev/null
k save -q --format docker-archive -o "$tmp/kiln-docker.tar" seed/one:1
k save -q --format oci-archive -o "$tmp/kiln-oci.tar" seed/one:1
k save -q -o "$tmp/kiln-two-images.tar" seed/one:1 seed/two
gzip -n -c "$tmp/kiln-docker.tar" >"$tmp/kiln-docker.tar.gz"

p() { podman --root "$tmp/proot" --runroot "$tmp/prun" --storage-driver vfs "$@"; }
p import -q "$tmp/one.tar" seed/one:1 >/dev/null
mkdir "$tmp/ctx"
cp "$tmp/second" "$tmp/ctx/"
printf 'FROM seed/one:1\nCOPY second /second\nLABEL seed=yes\n' >"$tmp/ctx/Containerfile"
p build -q -t seed/layered "$tmp/ctx" >/dev/null
p save -q --format docker-archive -o "$tmp/podman-docker.tar" seed/layered
p save -q --format oci-archive -o "$tmp/podman-oci.tar" seed/layered

for a in "$tmp"/*.tar "$tmp"/*.tar.gz; do
	case $a in */one.tar | */two.tar) continue ;; esac
	n=$(basename "$a")
	{ printf '\0'; cat "$a"; } >"$out/raw-$n"
	case $n in *.gz) continue ;; esac
	python3 - "$a" >"$out/list-${n%.tar}" <<'EOF'
# An archive as fuzz_archive_load's entry list.
import hashlib, re, sys, tarfile
tf = tarfile.open(sys.argv[1])
files, links = [], []
for m in tf.getmembers():
    name = m.name[2:] if m.name.startswith("./") else m.name
    if m.isfile():
        body = tf.extractfile(m).read()
        files.append([name, body, hashlib.sha256(body).hexdigest()])
    elif m.issym() or m.islnk():
        links.append((name, m.linkname, "->" if m.issym() else "=>"))
# Referenced entries first: an entry waits until every entry whose digest
# its name or contents mention is placed.
placed, order = set(), []
while len(order) < len(files):
    for i, f in enumerate(files):
        if i in placed:
            continue
        deps = [g for j, g in enumerate(files) if j != i and j not in placed and
                g[2] != f[2] and (g[2].encode() in f[1] or g[2] in f[0])]
        if not deps:
            placed.add(i); order.append(f)
            break
    else:
        sys.exit("circular references in " + sys.argv[1])
if len(order) + len(links) > 36:
    sys.exit("too many entries in " + sys.argv[1])
key = "0123456789abcdefghijklmnopqrstuvwxyz"
out = [b"\x01"]
for i, (name, body, hx) in enumerate(order):
    name = name.replace(hx, "@@")
    for j, (_, b2, h2) in enumerate(order[:i]):
        name = name.replace(h2, "@" + key[j])
        body = body.replace(h2.encode(), ("@" + key[j]).encode())
        # a descriptor's size next to the digest it describes
        body = re.sub(rb'("digest"\s*:\s*"sha256:@' + key[j].encode() +
                      rb'"\s*,\s*"size"\s*:\s*)' + str(len(b2)).encode() + rb'\b',
                      lambda m: m.group(1) + b"#" + key[j].encode(), body)
        body = re.sub(rb'("size"\s*:\s*)' + str(len(b2)).encode() +
                      rb'(\s*,\s*"digest"\s*:\s*"sha256:@' + key[j].encode() + rb'")',
                      lambda m: m.group(1) + b"#" + key[j].encode() + m.group(2), body)
    out.append(b"=== " + name.encode() + b"\n" + body)
    out.append(b"\n")
for name, target, arrow in links:
    for j, (_, _, h2) in enumerate(order):
        target = target.replace(h2, "@" + key[j])
        name = name.replace(h2, "@" + key[j])
    out.append(("=== %s %s %s\n" % (name, arrow, target)).encode())
data = b"".join(out)
sys.stdout.buffer.write(data[:-1] if data.endswith(b"\n") else data)
EOF
done
ls -l "$out"
