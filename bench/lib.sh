# Shared by the benchmarks: a private work dir, tool checks, ratio printing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
KILN=${KILN_BENCH_BIN:-$top/kiln} # another build to compare: KILN_BENCH_BIN=/path/to/kiln
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || {
			echo "skipped: $t is not installed (apt-get install $t)"; exit 0; }
	done
}
# The work dir is under $TMPDIR (default /tmp): on an ext4 where many files
# were just deleted, new inodes in that area can cost a millisecond each
# (testing.md), which a run's few mkdirs feel; both sides share the dir.
# The load average is printed: the figures mean little on a busy machine.
bench_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench.XXXXXX")
	echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	trap 'rm -rf "$work"' EXIT
}
# ratio NAME PEER_SECONDS KILN_SECONDS TARGET
ratio() {
	python3 -c 'import sys
name, peer, kiln, target = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
r = peer / kiln if kiln > 0 else float("inf")
verdict = "MET" if r >= target else "NOT MET"
print(f"{name}: peer {peer*1000:.1f} ms, kiln {kiln*1000:.2f} ms, ratio {r:.1f}x (target {target:g}x): {verdict}")' "$@"
}
# median_seconds CMD...: median wall time of 15 runs after 3 warm-ups
median_seconds() {
	python3 - "$@" <<'PY'
import subprocess, sys, time
cmd = sys.argv[1:]
for _ in range(3):
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
ts = []
for _ in range(15):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    ts.append(time.perf_counter() - t)
ts.sort()
print(ts[len(ts) // 2])
PY
}
