#!/bin/bash
# Rootless `kiln run --rm IMAGE true` vs rootless `podman run --rm`, as the
# same temporary user (created here with a subordinate id range, removed at
# the end): default network (kiln: pasta; podman 4.3: slirp4netns), pasta
# for both, and --network none.  Ratios printed (podman / kiln).
# Needs root (to create the user); /dev/net/tun is made 0666 for the run
# (its mode on a host with udev) and put back.
. "$(dirname "$0")/lib.sh"
need python3 busybox newuidmap useradd setpriv
[ "$(id -u)" = 0 ] || { echo "skipped: needs root to create a test user"; exit 0; }
work=$(mktemp -d /tmp/kiln-bench-rl.XXXXXX)
chmod 0755 "$work"
user=kilnbench$$
sub=$(awk -F: 'BEGIN{m=300000} {e=$2+$3; if (e>m) m=e} END{print m}' /etc/subuid /etc/subgid)
tun_mode=$(stat -c %a /dev/net/tun 2>/dev/null || echo "")
cleanup() {
	for pid in $(pgrep -u "$user" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	sed -i "/^$user:/d" /etc/subuid /etc/subgid
	userdel "$user" 2>/dev/null || true
	[ -n "$tun_mode" ] && chmod "$tun_mode" /dev/net/tun
	rm -rf "$work"
}
trap cleanup EXIT
useradd -M -d "$work/home" -s /bin/sh "$user"
sed -i "/^$user:/d" /etc/subuid /etc/subgid
echo "$user:$sub:65536" >> /etc/subuid
echo "$user:$sub:65536" >> /etc/subgid
mkdir -p "$work/home/xdg"
chmod 0700 "$work/home/xdg"
chown -R "$user:" "$work/home"
[ -n "$tun_mode" ] && chmod 0666 /dev/net/tun
"$top/tests/lib/busybox-rootfs.sh" "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/bb.tar" .
cp "$KILN" "$work/kiln"
chmod 0755 "$work/kiln"
chmod 0644 "$work/bb.tar"

# setpriv, not runuser: no PAM session (runuser costs ~9 ms a call here).
as_user() {
	setpriv --reuid="$user" --regid="$user" --init-groups env -i HOME="$work/home" XDG_RUNTIME_DIR="$work/home/xdg" \
		PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"
}
K="as_user $work/kiln"
$K import -q "$work/bb.tar" bench/bb >/dev/null
export -f as_user
export user work

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
	conf=/etc/containers/containers.conf
	if [ ! -e "$conf" ]; then
		echo "writing $conf (runtime runc, no default ulimits): podman needs it here"
		mkdir -p /etc/containers
		printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' > "$conf"
	fi
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
