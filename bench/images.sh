#!/bin/bash
# `kiln images` vs `podman images`, both listing the same 50 images.
# Target (issue 3): kiln at least 10x faster.
. "$(dirname "$0")/lib.sh"
need podman python3 busybox
bench_workdir
"$top/tests/lib/busybox-rootfs.sh" "$work/rootfs"
P="podman --root $work/proot --runroot $work/prun --storage-driver overlay"
K="$KILN --root $work/kroot --runroot $work/krun"
for i in $(seq 1 50); do
	echo "$i" > "$work/rootfs/etc/image-number"
	tar -C "$work/rootfs" -cf "$work/img.tar" .
	$K import "$work/img.tar" "bench/img$i:v$i" >/dev/null
	$P import -q "$work/img.tar" "localhost/bench/img$i:v$i" >/dev/null
done
[ "$($K images -q | wc -l)" -eq 50 ] && [ "$($P images -q | wc -l)" -eq 50 ]
p=$(median_seconds $P images)
k=$(median_seconds $K images)
ratio "images (50 images)" "$p" "$k" 10
