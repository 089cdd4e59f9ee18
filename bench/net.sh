#!/bin/bash
# Root networking side by side with podman (its default network here is
# the CNI bridge "podman"): start-up of `run --rm IMAGE true` with the
# default network, and TCP throughput through a published port (the host
# downloads a 1 GiB file from busybox httpd in the container, over
# 127.0.0.1 and over the host's own address).  Targets (issue 9): start at
# least 5x faster than podman with networking; throughput at least equal.
# The rootless half is bench/net-rootless.sh's (rootless helper).
. "$(dirname "$0")/lib.sh"
need python3 busybox curl
[ "$(id -u)" = 0 ] || { echo "skipped: root networking needs root"; exit 0; }
bench_workdir
"$top/tests/lib/busybox-rootfs.sh" "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/bb.tar" .
K="$KILN --root $work/kroot --runroot $work/krun"
$K import "$work/bb.tar" bench/bb >/dev/null
mkdir -p "$work/www"
truncate -s 1G "$work/www/big" # sparse: the disk is not what is measured

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
host_addr() {
	ip -4 -o addr show scope global | awk '$2 !~ /^(kiln|cni|docker|podman|veth|kv)/ {split($4,a,"/"); print a[1]; exit}'
}
# median_rate URL: median bytes/s of 5 downloads (after one warm-up)
median_rate() {
	local i rates=()
	for i in $(seq 20); do curl -fso /dev/null "$1" && break; sleep 0.1; done
	for i in 1 2 3 4 5; do
		rates+=("$(curl -fso /dev/null -w '%{speed_download}' "$1")")
	done
	printf '%s\n' "${rates[@]}" | sort -g | sed -n 3p
}
# rate_ratio NAME PEER KILN: throughput (higher is better), target 1x
rate_ratio() {
	python3 -c 'import sys
name, peer, kiln = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
r = kiln / peer if peer > 0 else float("inf")
print(f"{name}: peer {peer*8/1e9:.2f} Gbit/s, kiln {kiln*8/1e9:.2f} Gbit/s, ratio {r:.2f}x (target 1x): {\"MET\" if r >= 1 else \"NOT MET\"}")' "$@"
}

k=$(median_seconds $K run --rm bench/bb true)
kn=$(median_seconds $K run --rm --network none bench/bb true)
echo "kiln run --rm (default network: bridge): $(python3 -c "print(f'{$k*1000:.1f} ms')")" \
	"(--network none: $(python3 -c "print(f'{$kn*1000:.1f} ms')"))"
kp=$(free_port)
$K run -d --name bench-web -p "$kp:80" -v "$work/www:/www" bench/bb httpd -f -p 80 -h /www >/dev/null
addr=$(host_addr)
kr=$(median_rate "http://127.0.0.1:$kp/big")
[ -n "$addr" ] && kra=$(median_rate "http://$addr:$kp/big")
echo "kiln published port: 127.0.0.1 $(python3 -c "print(f'{$kr*8/1e9:.2f}')") Gbit/s" \
	${addr:+"$addr $(python3 -c "print(f'{$kra*8/1e9:.2f}')") Gbit/s"}
$K rm -f bench-web >/dev/null 2>&1
trap '$K rm -f bench-web >/dev/null 2>&1; rm -rf "$work"' EXIT

if ! command -v podman >/dev/null 2>&1; then
	echo "skipped: podman is not installed"
	exit 0
fi
conf=/etc/containers/containers.conf
if [ ! -e "$conf" ]; then
	echo "writing $conf (runtime runc, cgroupfs, no default ulimits): podman needs it here"
	mkdir -p /etc/containers
	printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$conf"
fi
P="podman --root $work/proot --runroot $work/prun --storage-driver overlay"
$P import -q "$work/bb.tar" localhost/bench/bb >/dev/null
p=$(median_seconds $P run --rm --ulimit host localhost/bench/bb true)
ratio "run --rm true, default network (podman: $($P info --format '{{.Host.NetworkBackend}}'))" "$p" "$k" 5
pp=$(free_port)
$P run -d --name bench-web --ulimit host -p "$pp:80" -v "$work/www:/www" localhost/bench/bb \
	httpd -f -p 80 -h /www >/dev/null
trap '$K rm -f bench-web >/dev/null 2>&1; $P rm -f -t 0 bench-web >/dev/null 2>&1; rm -rf "$work"' EXIT
pr=$(median_rate "http://127.0.0.1:$pp/big")
rate_ratio "published port throughput, 127.0.0.1" "$pr" "$kr"
if [ -n "$addr" ]; then
	pra=$(median_rate "http://$addr:$pp/big")
	rate_ratio "published port throughput, $addr" "$pra" "$kra"
fi
$P rm -f -t 0 bench-web >/dev/null 2>&1 || true
