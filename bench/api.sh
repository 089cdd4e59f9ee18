#!/bin/bash
# kiln system service vs podman system service, side by side: requests per
# second for GET /images/json (4 keep-alive clients, 3 s each) and the
# median latency of `docker run --rm busybox true` through each service.
# Private stores for both; every service started here is stopped (trap).
. "$(dirname "$0")/lib.sh"
need docker podman curl
bench_workdir
W=$work
tests_lib=$top/tests/lib
"$tests_lib/busybox-rootfs.sh" "$W/bb" >/dev/null
tar -C "$W/bb" -cf "$W/bb.tar" .
PODMAN="podman --root $W/proot --runroot $W/prun --storage-driver overlay"
if [ ! -f /etc/containers/containers.conf ]; then
	echo "podman needs /etc/containers/containers.conf (runc, no default ulimits): see testing.md"
	exit 0
fi
"$KILN" --root "$W/kroot" --runroot "$W/krun" import -q "$W/bb.tar" busybox >/dev/null
$PODMAN import -q "$W/bb.tar" localhost/busybox >/dev/null
"$KILN" --root "$W/kroot" --runroot "$W/krun" system service --time 0 "unix://$W/k.sock" >"$W/k.log" 2>&1 &
KPID=$!
$PODMAN system service --time 0 "unix://$W/p.sock" >"$W/p.log" 2>&1 &
PPID_=$!
trap 'kill $KPID $PPID_ 2>/dev/null; wait $KPID $PPID_ 2>/dev/null; "$KILN" --root "$W/kroot" --runroot "$W/krun" rm -af >/dev/null 2>&1; $PODMAN rm -af >/dev/null 2>&1; rm -rf "$W"' EXIT
for s in k p; do
	for _ in $(seq 200); do curl -sf --unix-socket "$W/$s.sock" http://d/_ping >/dev/null && break; sleep 0.05; done
done

rps() {
	python3 - "$1" <<'PY'
import http.client, socket, sys, threading, time
path = sys.argv[1]
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(path)
counts = []
def run():
    c = C("d"); n = 0; end = time.time() + 3
    while time.time() < end:
        c.request("GET", "/v1.41/images/json"); r = c.getresponse(); r.read()
        assert r.status == 200; n += 1
    counts.append(n)
ts = [threading.Thread(target=run) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sum(counts) / 3.0)
PY
}
run_latency() {
	DOCKER_HOST=unix://$1 python3 - <<'PY'
import subprocess, time, statistics
for _ in range(2):
    subprocess.run(["docker", "run", "--rm", "busybox", "true"], check=True)
ts = []
for _ in range(10):
    t = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "busybox", "true"], check=True)
    ts.append(time.perf_counter() - t)
print(statistics.median(ts))
PY
}
k_rps=$(rps "$W/k.sock"); p_rps=$(rps "$W/p.sock")
echo "GET /images/json: podman $p_rps req/s, kiln $k_rps req/s"
python3 -c "import sys; k,p=float(sys.argv[1]),float(sys.argv[2]); r=k/p; print(f'requests/s ratio {r:.1f}x (target 5x): ' + ('MET' if r>=5 else 'NOT MET'))" "$k_rps" "$p_rps"
k_run=$(run_latency "$W/k.sock"); p_run=$(run_latency "$W/p.sock")
ratio "docker run --rm busybox true" "$p_run" "$k_run" 5
