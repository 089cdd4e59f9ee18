#!/bin/sh
# A real build, outside `make check` (it needs the package mirror): a Debian
# base made with `debootstrap --variant=minbase` (cached as a tarball outside
# the repository, in $KILN_BENCH_CACHE, default /var/tmp/kiln-bench-cache),
# imported into a private store, then a Containerfile whose RUN does
# `apt-get update && apt-get install -y --no-install-recommends PKG`, on
# the private network RUN steps get by default (NAT through the bridge),
# then again with --network host.  Prints the times; needs root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
KILN=${KILN:-$here/../kiln}
PKG=${PKG:-hello}
cache=${KILN_BENCH_CACHE:-/var/tmp/kiln-bench-cache}
base=$cache/debian-bookworm-minbase.tar
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$cache"
if [ ! -s "$base" ]; then
	root=$(mktemp -d "$cache/rootfs.XXXXXX")
	s=$(date +%s.%N)
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1
	e=$(date +%s.%N)
	echo "debootstrap --variant=minbase: $(python3 -c "print(f'{$e-$s:.1f}')") s"
	tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$root"
fi
work=$(mktemp -d /var/tmp/kiln-bench-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
K() { "$KILN" --root "$work/root" --runroot "$work/run" "$@"; }
K import "$base" debian-minbase >/dev/null
mkdir "$work/ctx"
cat > "$work/ctx/Containerfile" <<CF
FROM localhost/debian-minbase
RUN apt-get update && apt-get install -y --no-install-recommends $PKG && rm -rf /var/lib/apt/lists/*
CMD ["$PKG"]
CF
t() { s=$(date +%s.%N); "$@"; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.2f}')"; }
cold=$(t K build -q -t deb-$PKG "$work/ctx" 2>"$work/err" | tail -1) || { cat "$work/err"; exit 1; }
cached=$(t K build -q -t deb-$PKG "$work/ctx" 2>>"$work/err" | tail -1)
out=$(K run --rm deb-$PKG | head -1)
echo "RUN apt-get install $PKG (private network): cold ${cold} s, cached ${cached} s; the image says: $out"
hostnet=$(t K build -q --no-cache --network host -t deb-$PKG-host "$work/ctx" 2>>"$work/err" | tail -1) ||
	{ cat "$work/err"; exit 1; }
echo "RUN apt-get install $PKG (--network host): cold ${hostnet} s"
