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
# bench_user: a temporary user with a subordinate id range, removed (with
# its processes and $work) at the exit, for the rootless benchmarks; needs
# root.  Sets $work (mode 0755, with the user's home), $user, as_user CMD…,
# $work/kiln (a copy of $KILN the user can run) and $work/bb.tar (busybox).
# /dev/net/tun is made 0666 for the run (its mode on a host with udev) and
# put back.
bench_user() {
	[ "$(id -u)" = 0 ] || { echo "skipped: needs root to create a test user"; exit 0; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-rl.XXXXXX")
	chmod 0755 "$work"
	echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	user=kilnbench$$
	local sub
	sub=$(awk -F: 'BEGIN{m=300000} {e=$2+$3; if (e>m) m=e} END{print m}' /etc/subuid /etc/subgid)
	tun_mode=$(stat -c %a /dev/net/tun 2>/dev/null || echo "")
	trap bench_user_cleanup EXIT
	useradd -M -d "$work/home" -s /bin/sh "$user"
	sed -i "/^$user:/d" /etc/subuid /etc/subgid
	echo "$user:$sub:65536" >> /etc/subuid
	echo "$user:$sub:65536" >> /etc/subgid
	mkdir -p "$work/home/xdg"
	chmod 0700 "$work/home/xdg"
	chown -R "$user:" "$work/home"
	[ -z "$tun_mode" ] || chmod 0666 /dev/net/tun
	"$top/tests/lib/busybox-rootfs.sh" "$work/rootfs"
	tar -C "$work/rootfs" -cf "$work/bb.tar" .
	cp "$KILN" "$work/kiln"
	chmod 0755 "$work/kiln"
	chmod 0644 "$work/bb.tar"
	export user work
	export -f as_user
}
bench_user_cleanup() {
	for pid in $(pgrep -u "$user" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	sed -i "/^$user:/d" /etc/subuid /etc/subgid
	userdel "$user" 2>/dev/null || true
	[ -z "$tun_mode" ] || chmod "$tun_mode" /dev/net/tun
	rm -rf "$work"
}
# setpriv, not runuser: no PAM session (runuser costs ~9 ms a call here).
as_user() {
	setpriv --reuid="$user" --regid="$user" --init-groups env -i HOME="$work/home" \
		XDG_RUNTIME_DIR="$work/home/xdg" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"
}
# podman_conf: podman needs runc and no default ulimits here (testing.md);
# the file is written only when there is none.
podman_conf() {
	local conf=/etc/containers/containers.conf
	[ ! -e "$conf" ] || return 0
	echo "writing $conf (runtime runc, cgroupfs, no default ulimits): podman needs it here"
	mkdir -p /etc/containers
	printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$conf"
}
