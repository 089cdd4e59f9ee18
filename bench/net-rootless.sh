#!/bin/bash
# Rootless TCP throughput through a published port, kiln vs podman, as the
# same temporary user (lib.sh's bench_user): the host downloads a 1 GiB
# file from busybox httpd in the container, over 127.0.0.1 and over the
# host's own address; medians of 15 alternating downloads each (netlib.sh).
# Default networks (kiln: pasta; podman 4.3: slirp4netns with its
# rootlessport port handler), kiln's slirp4netns (its own port forwarding)
# against the same, and pasta for both where podman has it (4.3 has not).
# Target (issue 9): throughput at least equal.  Start-up rootless is rootless.sh's; root
# networking net.sh's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"
need python3 busybox curl newuidmap useradd setpriv
bench_user
mkdir -p "$work/www"
truncate -s 1G "$work/www/big" # sparse: the disk is not what is measured
K="as_user $work/kiln"
$K import -q "$work/bb.tar" bench/bb >/dev/null
need podman
podman_conf
P="as_user podman --storage-driver overlay"
$P import -q "$work/bb.tar" localhost/bench/bb >/dev/null
addr=$(host_addr)

# serve TOOL NAME PORT [RUN OPTIONS…]: httpd in a detached container
serve() {
	local tool=$1 name=$2 port=$3 img=bench/bb
	shift 3
	[ "$tool" = "$K" ] || img=localhost/bench/bb
	$tool run -d --name "$name" "$@" -p "$port:80" -v "$work/www:/www" $img \
		httpd -f -p 80 -h /www >/dev/null
}
# compare LABEL KILN_PORT PODMAN_PORT: both addresses
compare() {
	local a pr kr
	for a in 127.0.0.1 $addr; do
		read -r pr kr < <(rates "http://$a:$3/big" "http://$a:$2/big")
		rate_ratio "rootless published port throughput (1 GiB download), $1, $a" "$pr" "$kr"
	done
}

kp=$(free_port) pp=$(free_port)
serve "$K" web "$kp"
serve "$P" web "$pp" --ulimit host
compare "default networks (podman: slirp4netns)" "$kp" "$pp"
$K rm -f web >/dev/null
$P rm -f -t 0 web >/dev/null 2>&1
kp=$(free_port) pp=$(free_port)
serve "$K" web "$kp" --network slirp4netns
serve "$P" web "$pp" --ulimit host
compare "kiln --network slirp4netns, podman default" "$kp" "$pp"
$K rm -f web >/dev/null
$P rm -f -t 0 web >/dev/null 2>&1
if command -v pasta >/dev/null 2>&1; then
	kp=$(free_port) pp=$(free_port)
	serve "$K" web "$kp" --network pasta
	if serve "$P" web "$pp" --ulimit host --network pasta 2>/dev/null; then
		compare "--network pasta" "$kp" "$pp"
	else
		echo "skipped: podman --network pasta does not run here (podman 4.3 has no pasta)"
	fi
	$K rm -f web >/dev/null
	$P rm -f -t 0 web >/dev/null 2>&1 || true
fi
as_user podman system reset -f >/dev/null 2>&1 || true
