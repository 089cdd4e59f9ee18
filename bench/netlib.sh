# Shared by the network benchmarks (net.sh, net-rootless.sh): free ports,
# the host's address, download rates through published ports.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
host_addr() {
	ip -4 -o addr show scope global | awk '$2 !~ /^(kiln|cni|docker|podman|veth|kv)/ {split($4,a,"/"); print a[1]; exit}'
}
# rate_ratio NAME PEER KILN: throughput (higher is better), target 1x
rate_ratio() {
	python3 -c 'import sys
name, peer, kiln = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
r = kiln / peer if peer > 0 else float("inf")
verdict = "MET" if r >= 1 else "NOT MET"
print(f"{name}: peer {peer*8/1e9:.2f} Gbit/s, kiln {kiln*8/1e9:.2f} Gbit/s, ratio {r:.2f}x (target 1x): {verdict}")' "$@"
}

# rates URL_A URL_B: median bytes/s of 15 alternating downloads each (after
# one of each, which also waits for the servers)
rates() {
	local u
	for u in "$1" "$2"; do
		for i in $(seq 50); do curl -fso /dev/null "$u" && break; sleep 0.1; done
	done
	python3 - "$1" "$2" <<'PY'
import subprocess, sys
def rate(u):
    out = subprocess.run(["curl", "-fso", "/dev/null", "-w", "%{speed_download}", u],
                         capture_output=True, text=True, check=True).stdout
    return float(out)
# Alternating runs, medians: one 1 GiB download varies by 10% or more
# from run to run on this machine, whichever tool serves it.
ra, rb = [], []
for i in range(15):
    if i % 2:
        ra.append(rate(sys.argv[1])); rb.append(rate(sys.argv[2]))
    else:
        rb.append(rate(sys.argv[2])); ra.append(rate(sys.argv[1]))
ra.sort(); rb.sort()
print(ra[7], rb[7])
PY
}
