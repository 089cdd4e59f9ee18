# Shared by tests/system/1xx-api*.bats: kiln's API service on a socket in
# the test's directory, over the test's private store, driven by the real
# docker client.

# start_service: exports DOCKER_HOST and SVC_PID.
start_service() {
	command -v docker >/dev/null || skip "the docker client is not installed (make deps)"
	SOCK=$BATS_TEST_TMPDIR/api.sock
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" system service --time 0 "unix://$SOCK" \
		>"$BATS_TEST_TMPDIR/service.log" 2>&1 3>&- &
	SVC_PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null && break
		sleep 0.05
	done
	export DOCKER_HOST=unix://$SOCK SOCK SVC_PID
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker-config DOCKER_BUILDKIT=0
}

stop_service() {
	if [ -n "${SVC_PID:-}" ]; then
		kill "$SVC_PID" 2>/dev/null || true
		wait "$SVC_PID" 2>/dev/null || true
		SVC_PID=
	fi
}

# Processes whose parent is the service (workers that were not reaped).
service_children() {
	ps -o pid= --ppid "$SVC_PID" 2>/dev/null | wc -l
}

service_fds() {
	ls /proc/"$SVC_PID"/fd | wc -l
}

# A test's own store with busybox imported and the service on it; and its
# teardown.
api_setup_busybox() {
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
	kiln import -q "$(busybox_tar)" busybox >/dev/null
	start_service
}

api_teardown() {
	stop_service
	stop_leftover_containers
	umount_under "$BATS_TEST_TMPDIR"
	remove_store
}
