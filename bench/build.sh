#!/bin/sh
# kiln build vs buildah bud --layers on the same contexts: a 12-step
# Containerfile cold and fully cached, a 20,000-file / 100 MB COPY context
# cold and cached, and a 3-stage build.  Cold runs drop the page cache first
# (../shared/testing.md).  Outside `make check`; needs root and buildah.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
KILN=${KILN:-$here/../kiln}
work=$(mktemp -d /var/tmp/kiln-bench-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
kroot=$work/kroot; broot=$work/broot
K() { "$KILN" --root "$kroot" --runroot "$work/krun" "$@"; }
B() { buildah --root "$broot" --runroot "$work/brun" --storage-driver overlay "$@"; }

"$here/../tests/lib/busybox-rootfs.sh" "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/bb.tar" .
K import "$work/bb.tar" busybox >/dev/null
K save -o "$work/bb-save.tar" busybox
B pull -q "docker-archive:$work/bb-save.tar" >/dev/null

mkdir -p "$work/c12" "$work/big" "$work/c3"
echo data > "$work/c12/f"
{
	echo "FROM localhost/busybox"
	for i in 1 2 3 4; do echo "RUN echo step$i > /s$i"; done
	for i in 1 2 3; do echo "COPY f /copy$i"; done
	echo "ENV A=1"; echo "LABEL l=v"; echo "WORKDIR /w"; echo 'CMD ["sh"]'
} > "$work/c12/Containerfile"
python3 - "$work/big" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(40):
    os.makedirs(f"{root}/data/d{d}")
    for f in range(500):
        with open(f"{root}/data/d{d}/f{f}", "wb") as fh:
            fh.write(os.urandom(5000))
PY
printf 'FROM localhost/busybox\nCOPY data /data\n' > "$work/big/Containerfile"
cat > "$work/c3/Containerfile" <<'CF'
FROM localhost/busybox AS a
RUN echo a > /a
FROM localhost/busybox AS b
COPY --from=a /a /b
RUN cat /b > /c
FROM localhost/busybox
COPY --from=a /a /a
COPY --from=b /c /c
CF

cold() { sync; echo 3 > /proc/sys/vm/drop_caches; find "$1" -type f -exec cat {} + >/dev/null; }
t() { s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.3f}')"; }
median() { python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "$@"; }
row() { python3 -c "print(f'%-28s kiln %6.3fs  buildah %6.3fs  ratio %5.1fx' % ('$1', $2, $3, $3/$2))"; }

for ctx in c12 big c3; do
	cold "$work/$ctx"; k=$(t K build -t "k$ctx" "$work/$ctx")
	cold "$work/$ctx"; b=$(t B bud --layers -t "b$ctx" "$work/$ctx")
	row "$ctx cold" "$k" "$b"
	# Cached: the median of 5 alternated runs of each (one run right after
	# the cold ones mostly measures the page cache refilling).
	ks=; bs=
	for i in 1 2 3 4 5; do
		ks="$ks $(t K build -t "k$ctx" "$work/$ctx")"
		bs="$bs $(t B bud --layers -t "b$ctx" "$work/$ctx")"
	done
	row "$ctx cached (median of 5)" "$(median $ks)" "$(median $bs)"
done
