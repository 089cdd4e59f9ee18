#!/usr/bin/env bats
# Pulls through the fault-injecting proxy: 5xx and 429 retried, a truncated
# body resumed, wrong bytes rejected naming the blob with nothing kept,
# blob GETs redirected to another port followed.

load helpers
load ../lib/registry-helpers

setup_file() {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed (make deps)"
	export RDIR=$BATS_FILE_TMPDIR/reg
	"$BATS_TEST_DIRNAME/../lib/registry.sh" start "$RDIR"
	# One image in the registry for every test.
	local root=$BATS_FILE_TMPDIR/src
	"$KILN_BIN" --root $root --runroot $root.run import -q "$(busybox_tar)" bb >/dev/null
	"$KILN_BIN" --root $root --runroot $root.run push -q --tls-verify=false bb \
		127.0.0.1:$(cat $RDIR/port)/f/bb:v1
}

teardown_file() {
	"$BATS_TEST_DIRNAME/../lib/registry.sh" stop "$RDIR"
}

setup() {
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/none.conf
}

teardown() {
	[ -f "$BATS_TEST_TMPDIR/proxy.pid" ] && kill "$(cat $BATS_TEST_TMPDIR/proxy.pid)" 2>/dev/null
	remove_store
}

# proxy MODE [COUNT]: exports PROXY (127.0.0.1:PORT).
proxy() {
	python3 "$BATS_TEST_DIRNAME/../lib/fault-proxy.py" "$(cat $RDIR/port)" \
		$BATS_TEST_TMPDIR/proxy.port "$@" &
	echo $! > $BATS_TEST_TMPDIR/proxy.pid
	wait_port_file $BATS_TEST_TMPDIR/proxy.port
	PROXY=127.0.0.1:$(cat $BATS_TEST_TMPDIR/proxy.port)
}

@test "500 on blob GETs is retried" {
	proxy 500 2
	run kiln pull -q --tls-verify=false --retry-delay 100ms $PROXY/f/bb:v1
	[ "$status" -eq 0 ]
	assert_store_consistent
}

@test "429 with Retry-After is retried" {
	proxy 429 1
	start=$(date +%s%N)
	run kiln pull -q --tls-verify=false $PROXY/f/bb:v1
	[ "$status" -eq 0 ]
	# Retry-After: 1 was honoured.
	[ $(( ($(date +%s%N) - start) / 1000000 )) -ge 900 ]
}

@test "a truncated body is resumed" {
	proxy truncate 1
	run kiln pull -q --tls-verify=false --retry-delay 100ms $PROXY/f/bb:v1
	[ "$status" -eq 0 ]
	assert_store_consistent
}

@test "retries are bounded" {
	proxy 500 100
	run kiln pull -q --tls-verify=false --retry 2 --retry-delay 50ms $PROXY/f/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"blob sha256:"* ]]
}

@test "wrong bytes: the error names the blob and nothing is kept" {
	proxy corrupt
	run kiln pull --tls-verify=false $PROXY/f/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"blob sha256:"* ]]
	[ -z "$(kiln images -q)" ]
	[ -z "$(ls $KROOT/layers 2>/dev/null)" ]
	[ -z "$(ls $KROOT/blobs/sha256 2>/dev/null)" ]
	assert_store_consistent
}

@test "blob GETs redirected to another port are followed" {
	proxy redirect
	run kiln pull -q --tls-verify=false $PROXY/f/bb:v1
	[ "$status" -eq 0 ]
	assert_store_consistent
}

@test "a Docker schema 1 manifest is refused as unsupported (pull, inspect --remote)" {
	proxy schema1
	run kiln pull --tls-verify=false $PROXY/f/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"schema 1"*unsupported* ]]
	[ -z "$(kiln images -q)" ]
	run kiln inspect --remote --tls-verify=false docker://$PROXY/f/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"schema 1"* ]]
	assert_store_consistent
}
