# Shared by tests/system/060-registry*.bats: a registry per file, busybox
# images, private podman stores.

LIB=$BATS_TEST_DIRNAME/../lib

# start_registry DIR [registry.sh options]: exports REG (127.0.0.1:PORT).
start_registry() {
	"$LIB/registry.sh" start "$@"
	REG=127.0.0.1:$(cat "$1/port")
	export REG
}

stop_registry() {
	"$LIB/registry.sh" stop "$1"
}

# The set-up most registry test files share: one plain registry per file
# (setup_file), a private store per test and no host registries.conf (setup).
registry_setup_file() {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed (make deps)"
	export RDIR=$BATS_FILE_TMPDIR/reg
	"$LIB/registry.sh" start "$RDIR" "$@"
}

registry_teardown_file() {
	"$LIB/registry.sh" stop "$RDIR"
}

registry_setup() {
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
	REG=127.0.0.1:$(cat "$RDIR/port")
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/none.conf
}

# The defaults of a file that loads this one; a file that needs more
# defines its own (after the load) and calls these.
setup_file() {
	registry_setup_file
}

teardown_file() {
	registry_teardown_file
}

setup() {
	registry_setup
}

# Waits for a server to write its port file.
wait_port_file() {
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
	echo "no port in $1" >&2; return 1
}

# Imports busybox as NAME (once per test store).
import_bb() {
	kiln import -q "$(busybox_tar)" "${1:-bb}" >/dev/null
}

podman_() {
	podman --root "$BATS_TEST_TMPDIR/proot" --runroot "$BATS_TEST_TMPDIR/prun" \
		--storage-driver overlay "$@"
}

# A second private kiln store, to pull what the first pushed.
kiln2() {
	mkdir -p "$BATS_TEST_TMPDIR/root2" "$BATS_TEST_TMPDIR/run2"
	"$KILN_BIN" --root "$BATS_TEST_TMPDIR/root2" --runroot "$BATS_TEST_TMPDIR/run2" "$@"
}

# registry_put_blob HOST:PORT REPO FILE [DIGEST]: a monolithic upload over
# plain HTTP, 201 expected.
registry_put_blob() {
	local loc sep d=${4:-sha256:$(sha256sum < "$3" | cut -d' ' -f1)}
	loc=$(curl -s -D - -o /dev/null -X POST "http://$1/v2/$2/blobs/uploads/" | \
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	[[ "$loc" == *'?'* ]] && sep='&' || sep='?'
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary "@$3" "$loc${sep}digest=$d")" = 201 ]
}
