#!/bin/bash
# `kiln run --rm IMAGE true` side by side with its peers, in one run:
# podman run --rm, `runc run` of a bundle, and the floor,
# `unshare -mpfuin --mount-proc chroot ROOTFS true`.
# Target (issue 5): at least 15x faster than podman; the ratio to the
# unshare floor is reported (long-term goal: 2x).  Missing peers are skipped.
# Both sides run without a network (kiln --network none, podman --network
# none): bench/net.sh compares the default (bridge) networks.
# As in real use, both stores (--root) are on the disk and both runroots
# on a tmpfs (their defaults, /run/kiln and /run/containers/storage, are
# on /run): the bench mounts one of its own, and says so.
. "$(dirname "$0")/lib.sh"
need python3 busybox unshare
bench_workdir
mkdir -p "$work/run"
if mount -t tmpfs -o mode=0700 bench-runroot "$work/run" 2>/dev/null; then
	echo "runroots (kiln, podman) on a tmpfs at $work/run; stores on $(df --output=fstype "$work" | tail -1) at $work"
	trap 'umount -l "$work/run" 2>/dev/null; rm -rf "$work"' EXIT
else
	echo "runroots on the disk at $work/run (no tmpfs: mounting one needs root)"
fi
"$top/tests/lib/busybox-rootfs.sh" "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/bb.tar" .
K="$KILN --root $work/kroot --runroot $work/run/kiln"
$K import "$work/bb.tar" bench/bb >/dev/null

k=$(median_seconds $K run --rm --network none bench/bb true)
echo "kiln run --rm --network none: $(python3 -c "print(f'{$k*1000:.1f} ms')")"
$K run -d --name bench-exec --network none bench/bb sleep 100000 >/dev/null
ke=$(median_seconds $K exec bench-exec true)
echo "kiln exec: $(python3 -c "print(f'{$ke*1000:.1f} ms')")"
trap '$K rm -f bench-exec >/dev/null 2>&1; umount -l "$work/run" 2>/dev/null; rm -rf "$work"' EXIT

# kiln ps -a with 100 containers (target < 20 ms): 80 created, 10 exited,
# 10 running (a running one costs a monitor-lock probe).
for i in $(seq 80); do $K create --name "bench-c$i" --network none bench/bb true >/dev/null; done
for i in $(seq 10); do $K run --name "bench-x$i" --network none bench/bb true >/dev/null; done
for i in $(seq 9); do $K run -d --name "bench-r$i" --network none bench/bb sleep 100000 >/dev/null; done
kp=$(median_seconds $K ps -a)
echo "kiln ps -a, $($K ps -a -q | wc -l) containers: $(python3 -c "print(f'{$kp*1000:.1f} ms')") (target < 20 ms)"
trap '$K rm -f -a >/dev/null 2>&1; umount -l "$work/run" 2>/dev/null; rm -rf "$work"' EXIT

u=$(median_seconds unshare -mpfuin --mount-proc chroot "$work/rootfs" true)
echo "unshare floor: $(python3 -c "print(f'{$u*1000:.1f} ms')")"
python3 -c "print(f'kiln / unshare floor: {$k/$u:.1f}x (long-term goal 2x)')"

if command -v runc >/dev/null 2>&1; then
	mkdir -p "$work/bundle"
	(cd "$work/bundle" && runc spec)
	python3 - "$work/bundle/config.json" "$work/rootfs" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["root"]["path"] = sys.argv[2]
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
c["root"]["readonly"] = False
json.dump(c, open(p, "w"))
PY
	r=$(median_seconds bash -c "cd '$work/bundle' && exec runc --root '$work/runc' run --bundle '$work/bundle' \"b\$\$\"")
	ratio "runc run" "$r" "$k" 1
else
	echo "skipped: runc is not installed"
fi

if command -v podman >/dev/null 2>&1; then
	conf=/etc/containers/containers.conf
	if [ ! -e "$conf" ]; then
		echo "writing $conf (runtime runc, no default ulimits): podman needs it here"
		mkdir -p /etc/containers
		printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' > "$conf"
	fi
	P="podman --root $work/proot --runroot $work/run/podman --storage-driver overlay"
	$P import -q "$work/bb.tar" localhost/bench/bb >/dev/null
	p=$(median_seconds $P run --rm --network none --ulimit host localhost/bench/bb true)
	ratio "run --rm true (podman, no network)" "$p" "$k" 15
	pc=$($P run -d --network none --ulimit host localhost/bench/bb sleep 100000)
	pe=$(median_seconds $P exec "$pc" true)
	ratio "exec true (podman exec)" "$pe" "$ke" 10
	$P rm -f -t 0 "$pc" >/dev/null 2>&1 || true
else
	echo "skipped: podman is not installed"
fi
