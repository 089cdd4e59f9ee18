#!/bin/bash
# Load check of kiln system service: 200 concurrent /containers/json and
# /images/json requests plus 20 concurrent `docker run --rm` through the
# API; then no request failed, and the service holds the same fds and no
# child process as before.  Usage: bench/api-load.sh (needs the docker client)
set -euo pipefail
cd "$(dirname "$0")/.."
KILN=${KILN:-$PWD/kiln}
W=$(mktemp -d /tmp/kiln-api-load.XXXXXX)
SOCK=$W/api.sock
k() { "$KILN" --root "$W/root" --runroot "$W/run" "$@"; }
cleanup() {
	[ -n "${SVC:-}" ] && kill "$SVC" 2>/dev/null && wait "$SVC" 2>/dev/null || true
	k rm -af >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT
tests/lib/busybox-rootfs.sh "$W/bb" >/dev/null
tar -C "$W/bb" -cf "$W/bb.tar" .
k import -q "$W/bb.tar" busybox >/dev/null
"$KILN" --root "$W/root" --runroot "$W/run" system service --time 0 "unix://$SOCK" >"$W/service.log" 2>&1 &
SVC=$!
for _ in $(seq 100); do curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null && break; sleep 0.05; done
export DOCKER_HOST=unix://$SOCK
docker run --rm busybox true
# The service closes its kept store handles after a quiet second or two.
sleep 2.5
fds=$(ls /proc/$SVC/fd | wc -l)
pids=()
for i in $(seq 100); do
	curl -m 30 -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" 'http://d/v1.47/containers/json?all=1' >>"$W/codes" &
	pids+=($!)
	curl -m 30 -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" http://d/v1.47/images/json >>"$W/codes" &
	pids+=($!)
done
for i in $(seq 20); do
	(out=$(timeout 60 docker run --rm busybox echo "run$i" 2>&1); [ "$out" = "run$i" ] && echo ok || echo "fail: $out") >>"$W/runs" &
	pids+=($!)
done
wait "${pids[@]}"
sleep 0.5
bad=$(grep -vc '^200$' "$W/codes" || true)
runs_ok=$(grep -c '^ok$' "$W/runs" || true)
left=$(k ps -aq | wc -l)
sleep 2.5
fds2=$(ls /proc/$SVC/fd | wc -l)
[ "$fds" -eq "$fds2" ] || ls -l /proc/$SVC/fd | tail -n +2 | awk '{print $NF}' | sort | uniq -c | sort -rn | head -5 >&2
# (ps exits 1 when it lists nothing)
kids=$({ ps -o pid= --ppid "$SVC" || true; } | wc -l)
{ ps -o pid,stat,args --ppid "$SVC" || true; } | tail -n +2 >&2
echo "requests: $(wc -l <"$W/codes") answered, $bad not 200"
echo "run --rm: $runs_ok/20 ok; containers left: $left"
echo "service fds: $fds before, $fds2 after; child processes after: $kids"
[ "$bad" -eq 0 ] && [ "$runs_ok" -eq 20 ] && [ "$left" -eq 0 ] && [ "$fds" -eq "$fds2" ] && [ "$kids" -eq 0 ]
