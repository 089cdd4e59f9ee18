#!/bin/bash
# Rootless `kiln run --rm IMAGE true` vs rootless `podman run --rm`, as the
# same temporary user (lib.sh's bench_user): default network (kiln: pasta;
# podman 4.3: slirp4netns), pasta for both, and --network none.  Ratios
# printed (podman / kiln).  Throughput through published ports, rootless,
# is net-rootless.sh's.
. "$(dirname "$0")/lib.sh"
need python3 busybox newuidmap useradd setpriv
bench_user
K="as_user $work/kiln"
$K import -q "$work/bb.tar" bench/bb >/dev/null

ms() { python3 -c "print(f'{$1*1000:.1f} ms')"; }
# pair KILN_CMD PEER_CMD: medians of 11 runs each, alternating kiln and the
# peer (fair when the machine's load changes), after 2 warm-ups each; prints
# "KILN PEER" in seconds.
pair() {
	python3 - "$1" "$2" <<'PY'
import subprocess, sys, time
cmds = sys.argv[1:]
def once(c):
    t = time.perf_counter()
    subprocess.run(["bash", "-c", c], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
for c in cmds:
    once(c); once(c)
ts = [[], []]
for _ in range(11):
    for i, c in enumerate(cmds):
        ts[i].append(once(c))
print(" ".join(str(sorted(t)[len(t) // 2]) for t in ts))
PY
}
KR="as_user $work/kiln run --rm"
if command -v podman >/dev/null 2>&1; then
	podman_conf
	P="podman --storage-driver overlay"
	as_user $P import -q "$work/bb.tar" localhost/bench/bb >/dev/null
	PR="as_user $P run --rm --ulimit host"
	read -r kd pd < <(pair "$KR bench/bb true" "$PR localhost/bench/bb true")
	echo "kiln rootless run --rm (default network, pasta): $(ms $kd)"
	ratio "rootless run --rm true, default network (podman: slirp4netns; kiln: pasta)" "$pd" "$kd" 5
	if command -v pasta >/dev/null 2>&1 &&
		$PR --network pasta localhost/bench/bb true >/dev/null 2>&1; then
		read -r kp pp < <(pair "$KR --network pasta bench/bb true" \
			"$PR --network pasta localhost/bench/bb true")
		ratio "rootless run --rm true, --network pasta" "$pp" "$kp" 5
	else
		echo "skipped: podman --network pasta does not run here"
	fi
	read -r ks ps < <(pair "$KR --network slirp4netns bench/bb true" \
		"$PR --network slirp4netns localhost/bench/bb true")
	ratio "rootless run --rm true, --network slirp4netns" "$ps" "$ks" 5
	read -r kn pn < <(pair "$KR --network none bench/bb true" "$PR --network none localhost/bench/bb true")
	ratio "rootless run --rm true, --network none" "$pn" "$kn" 5
	as_user podman system reset -f >/dev/null 2>&1 || true
else
	echo "kiln rootless run --rm: $(ms "$(median_seconds bash -c "$KR bench/bb true")")"
	echo "skipped: podman is not installed"
fi
