#!/usr/bin/env bats
# Many kiln processes on one store: parallel pulls store an image once,
# parallel builds share their base, prune and rmi never take a layer from
# under a build or a run, lock waits are reported and bounded.  Every test
# ends with `kiln system check` clean.

load helpers
load ../lib/registry-helpers

setup_file() {
	registry_setup_file
	export CC_DIR=$BATS_FILE_TMPDIR/cc
	mkdir -p "$CC_DIR"
	local k="$KILN_BIN --root $CC_DIR/root --runroot $CC_DIR/run"
	local reg=127.0.0.1:$(cat "$RDIR/port")
	$k import -q "$(busybox_tar)" bb >/dev/null
	mkdir -p "$CC_DIR/ctx"
	printf 'FROM bb\nRUN mkdir /data && seq 1 5000 > /data/n\n' > "$CC_DIR/ctx/Containerfile"
	$k build -q -t two "$CC_DIR/ctx" >/dev/null
	$k push -q --tls-verify=false two "$reg/cc/two:v1" >/dev/null
}

assert_check_clean() {
	run kiln system check
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "No problems found" ]
}

# wait_all PID...: every one must succeed; prints the failures' output.
wait_all() {
	local rc=0 p
	for p in "$@"; do
		if ! wait "$p"; then
			rc=1
			cat "$BATS_TEST_TMPDIR/out.$p" 2>/dev/null || true
		fi
	done
	return $rc
}

@test "8 parallel pulls of one image: all succeed, stored once" {
	local pids=()
	for i in $(seq 8); do
		kiln pull -q --tls-verify=false "$REG/cc/two:v1" > "$BATS_TEST_TMPDIR/pull.$i" 2>&1 &
		pids+=($!)
	done
	local rc=0
	for i in $(seq 8); do
		wait "${pids[$((i - 1))]}" || { rc=1; cat "$BATS_TEST_TMPDIR/pull.$i"; }
	done
	[ "$rc" -eq 0 ]
	# Every pull printed the same ID.
	[ "$(cat "$BATS_TEST_TMPDIR"/pull.* | sort -u | wc -l)" -eq 1 ]
	[ "$(kiln images -q | wc -l)" -eq 1 ]
	[ "$(ls "$KROOT/layers" | wc -l)" -eq 2 ]
	[ "$(sqlite3 "$KROOT/kiln.db" 'SELECT count(*) FROM layers')" -eq 2 ]
	kiln run --rm "$REG/cc/two:v1" test -s /data/n
	assert_check_clean
}

@test "4 parallel builds sharing a base: all succeed, the base stored once" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	local pids=() i
	for i in 1 2 3 4; do
		mkdir -p "$BATS_TEST_TMPDIR/ctx$i"
		printf 'FROM bb\nRUN echo common > /c\nRUN echo %s > /i\n' "$i" \
			> "$BATS_TEST_TMPDIR/ctx$i/Containerfile"
		kiln build -q -t "b$i" "$BATS_TEST_TMPDIR/ctx$i" > "$BATS_TEST_TMPDIR/b.$i" 2>&1 &
		pids+=($!)
	done
	local rc=0
	for i in 1 2 3 4; do
		wait "${pids[$((i - 1))]}" || { rc=1; cat "$BATS_TEST_TMPDIR/b.$i"; }
	done
	[ "$rc" -eq 0 ]
	for i in 1 2 3 4; do
		[ "$(kiln run --rm "b$i" cat /i)" = "$i" ]
	done
	# bb's layer once.  "common" is one layer when the builds met in the
	# cache, or one per build that ran the step at the same time (the
	# file times differ, so do the DiffIDs); then one layer per build.
	[ "$(sqlite3 "$KROOT/kiln.db" 'SELECT count(*) FROM layers WHERE parent IS NULL')" -eq 1 ]
	local n=$(ls "$KROOT/layers" | wc -l)
	[ "$n" -ge 6 ] && [ "$n" -le 9 ]
	assert_check_clean
}

@test "image prune -af racing builds: both succeed, nothing in use is removed" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	# prune -a removes every image no container uses: the previous
	# round's, whose layers the build reuses from its cache meanwhile, and
	# the new one if the build finishes first.  A container pins bb.
	kiln create --name pin bb true >/dev/null
	mkdir -p "$BATS_TEST_TMPDIR/ctx"
	printf 'FROM bb\nRUN seq 1 3000 > /common\nARG R\nRUN echo $R > /r\n' \
		> "$BATS_TEST_TMPDIR/ctx/Containerfile"
	kiln build -q --build-arg R=0 -t built "$BATS_TEST_TMPDIR/ctx" >/dev/null
	for round in 1 2 3 4 5 6; do
		kiln build -q --build-arg R=$round -t built "$BATS_TEST_TMPDIR/ctx" \
			> "$BATS_TEST_TMPDIR/build.out" 2>&1 &
		local pb=$!
		sleep "0.0$((RANDOM % 5))"
		kiln image prune -af > "$BATS_TEST_TMPDIR/prune.out" 2>&1 &
		local pp=$!
		wait $pb || { cat "$BATS_TEST_TMPDIR/build.out"; false; }
		wait $pp || { cat "$BATS_TEST_TMPDIR/prune.out"; false; }
		if kiln image exists built; then
			[ "$(kiln run --rm built cat /r)" = "$round" ]
			kiln run --rm built test -s /common
		fi
		assert_check_clean
	done
	kiln image exists bb
	kiln container inspect pin >/dev/null
}

@test "rmi racing run: of an image sharing the run's layers, and of the run's own image" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	mkdir -p "$BATS_TEST_TMPDIR/ctx"
	printf 'FROM bb\nRUN echo child > /child\n' > "$BATS_TEST_TMPDIR/ctx/Containerfile"
	kiln build -q -t child "$BATS_TEST_TMPDIR/ctx" >/dev/null
	for round in 1 2 3 4 5; do
		# The parent image goes while a run of the child uses its layer.
		kiln tag bb "old$round"
		kiln rmi bb >/dev/null
		kiln run --rm child cat /bin/busybox > /dev/null &
		local pr=$!
		kiln rmi "old$round" > "$BATS_TEST_TMPDIR/rmi.out" 2>&1 &
		local pm=$!
		wait $pr
		wait $pm || { cat "$BATS_TEST_TMPDIR/rmi.out"; false; }
		kiln run --rm child cat /child
		kiln import -q "$(busybox_tar)" bb >/dev/null
		assert_check_clean
	done
	for round in 1 2 3 4 5; do
		# The run's own image: either the container was created first
		# (rmi refuses: in use) or the image went first (run fails: no
		# such image); never a container on a missing image.
		kiln import -q "$(busybox_tar)" "own$round" >/dev/null
		kiln run --name "c$round" "own$round" true > "$BATS_TEST_TMPDIR/run.out" 2>&1 &
		local pr=$!
		kiln rmi "own$round" > "$BATS_TEST_TMPDIR/rmi.out" 2>&1 &
		local pm=$!
		local run_rc=0 rmi_rc=0
		wait $pr || run_rc=$?
		wait $pm || rmi_rc=$?
		if [ "$run_rc" -eq 0 ]; then
			[ "$rmi_rc" -ne 0 ]
			grep -q "container" "$BATS_TEST_TMPDIR/rmi.out"
			kiln image exists "own$round"
		else
			[ "$rmi_rc" -eq 0 ]
			! kiln container inspect "c$round" >/dev/null 2>&1
		fi
		assert_check_clean
	done
}

@test "a lock wait is reported after a second and gives up after KILN_LOCK_TIMEOUT" {
	kiln images >/dev/null # creates the store
	flock "$KROOT/store.lock" sleep 5 &
	local holder=$!
	sleep 0.2
	local t0=$(date +%s%N)
	KILN_LOCK_TIMEOUT=2 run kiln import -q "$(busybox_tar)" late
	local t1=$(date +%s%N)
	kill $holder 2>/dev/null || true
	wait $holder 2>/dev/null || true
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *"waiting for the store lock"* ]]
	[[ "$output" == *"still held by another kiln process after 2000 ms"* ]]
	# Bounded: about two seconds, not the 60 s default.
	[ $(((t1 - t0) / 1000000)) -lt 4000 ]
	KILN_LOCK_TIMEOUT=abc run kiln images
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid KILN_LOCK_TIMEOUT"* ]]
	# Once free, the same command works and the store is clean.
	kiln import -q "$(busybox_tar)" late >/dev/null
	assert_check_clean
}
