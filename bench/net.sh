#!/bin/bash
# Root networking side by side with podman (its default network here is
# the CNI bridge "podman"): start-up of `run --rm IMAGE true` with the
# default network, and TCP throughput through a published port (the host
# downloads a 1 GiB file from busybox httpd in the container, over
# 127.0.0.1 and over the host's own address).  Targets (issue 9): start at
# least 5x faster than podman with networking; throughput at least equal.
# The rootless half follows: net-rootless.sh (throughput; start-up is
# rootless.sh's).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"
need python3 busybox curl
[ "$(id -u)" = 0 ] || { echo "skipped: root networking needs root"; exit 0; }
bench_workdir
"$top/tests/lib/busybox-rootfs.sh" "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/bb.tar" .
K="$KILN --root $work/kroot --runroot $work/krun"
$K import "$work/bb.tar" bench/bb >/dev/null
mkdir -p "$work/www"
truncate -s 1G "$work/www/big" # sparse: the disk is not what is measured

# interleave CMD_A -- CMD_B: medians of 15 alternating runs each (after 3
# warm-ups each), so that a change in the machine's load hits both alike.
interleave() {
	python3 - "$@" <<'PY'
import subprocess, sys, time
i = sys.argv.index("--")
a, b = sys.argv[1:i], sys.argv[i + 1:]
def once(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
for _ in range(3):
    once(a); once(b)
ta, tb = [], []
for _ in range(15):
    ta.append(once(a)); tb.append(once(b))
ta.sort(); tb.sort()
print(ta[7], tb[7])
PY
}
ms() { python3 -c "print(f'{$1*1000:.1f} ms')"; }

read -r k kn < <(interleave $K run --rm bench/bb true -- $K run --rm --network none bench/bb true)
echo "kiln run --rm: default network (bridge) $(ms "$k"), --network none $(ms "$kn")"
kp=$(free_port)
$K run -d --name bench-web -p "$kp:80" -v "$work/www:/www" bench/bb httpd -f -p 80 -h /www >/dev/null
trap '$K rm -f bench-web >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
addr=$(host_addr)

need podman
podman_conf
P="podman --root $work/proot --runroot $work/prun --storage-driver overlay"
$P import -q "$work/bb.tar" localhost/bench/bb >/dev/null
read -r p k2 < <(interleave $P run --rm --ulimit host localhost/bench/bb true -- $K run --rm bench/bb true)
ratio "run --rm true, default network (podman: $($P info --format '{{.Host.NetworkBackend}}') bridge)" "$p" "$k2" 5
pp=$(free_port)
$P run -d --name bench-web --ulimit host -p "$pp:80" -v "$work/www:/www" localhost/bench/bb \
	httpd -f -p 80 -h /www >/dev/null
trap '$K rm -f bench-web >/dev/null 2>&1 || true; $P rm -f -t 0 bench-web >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
read -r pr kr < <(rates "http://127.0.0.1:$pp/big" "http://127.0.0.1:$kp/big")
rate_ratio "published port throughput (1 GiB download), 127.0.0.1" "$pr" "$kr"
if [ -n "$addr" ]; then
	read -r pra kra < <(rates "http://$addr:$pp/big" "http://$addr:$kp/big")
	rate_ratio "published port throughput (1 GiB download), $addr" "$pra" "$kra"
fi
$P rm -f -t 0 bench-web >/dev/null 2>&1 || true
$K rm -f bench-web >/dev/null 2>&1 || true
"$top/bench/net-rootless.sh"
