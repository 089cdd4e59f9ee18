#!/usr/bin/env bats
# Commits do not wait for the disk: they record what they wrote in the
# unsynced table and a detached syncer syncs the store and deletes the
# rows.  Rows whose syncer is gone are re-verified by the next command.

load helpers

bats_require_minimum_version 1.5.0

unsynced() {
	sqlite3 "$KROOT/kiln.db" "SELECT count(*) FROM unsynced"
}

# The layer of image $1 and its blob's path.
layer_of() {
	local dir
	dir=$(kiln inspect --format '{{.GraphDriver.Data.UpperDir}}' "$1")
	LAYER=$(basename "$(dirname "$dir")")
	BLOB=$(sqlite3 "$KROOT/kiln.db" "SELECT compressed_digest FROM layers WHERE id='$LAYER'")
	BLOB=$KROOT/blobs/sha256/${BLOB#sha256:}
}

# Imports busybox as bb with the syncer's syncfs held back $1 us (strace
# delay injection), returning once the image is committed; $tracer is the
# strace to wait for.
import_held() {
	command -v strace >/dev/null || skip "strace is needed"
	strace -f -qq -o /dev/null -e trace=syncfs -e inject=syncfs:delay_enter="$1" \
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" import -q "$(busybox_tar)" bb \
		>/dev/null 3>&- &
	tracer=$!
	local i
	for i in $(seq 100); do
		[ "$(sqlite3 "$KROOT/kiln.db" "SELECT count(*) FROM images" 2>/dev/null)" = 1 ] &&
			return 0
		sleep 0.05
	done
}

# The command import_held started has exited (bounded wait): its syncer,
# held in its syncfs, has the DB open and its name set.
held_command_exited() {
	local main i
	main=$(pgrep -P "$tracer" | head -1)
	for i in $(seq 600); do
		[ -n "$main" ] && kill -0 "$main" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# An orphan row for layer $1 (no syncer holds it), written under mount $2.
orphan_row() {
	sqlite3 "$KROOT/kiln.db" \
		"INSERT INTO unsynced (batch, mount, layer) VALUES ('dead', '$2', '$1')"
}

@test "deferred sync: the syncer deletes the commit's rows once the store is synced" {
	# The command has returned, the rows are there; once the syncer is
	# through they are gone.
	import_held 2000000
	[ "$(unsynced)" = 2 ] # the layer, the image's config
	# A command meanwhile leaves them alone: their syncer lives.
	kiln images -q >/dev/null
	[ "$(unsynced)" = 2 ]
	wait "$tracer"
	wait_syncer
	[ "$(unsynced)" = 0 ]
	run kiln system check
	[ "$output" = "No problems found" ]
}

@test "deferred sync: import, load and commit leave no rows behind" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	kiln save -o "$BATS_TEST_TMPDIR/bb.tar" bb
	kiln rmi bb >/dev/null
	kiln load -q -i "$BATS_TEST_TMPDIR/bb.tar" >/dev/null
	kiln run --name c bb sh -c 'echo x > /f'
	kiln commit -q c cimg >/dev/null
	wait_syncer
	[ "$(unsynced)" = 0 ]
	kiln run --rm cimg test -s /f
}

@test "deferred sync: rows left by a dead syncer are re-verified, a damaged layer dropped" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	kiln import -q "$(busybox_tar)" bb2 >/dev/null # the same layer
	kiln run --name c bb true
	wait_syncer
	layer_of bb
	orphan_row "$LAYER" "$(sqlite3 "$KROOT/kiln.db" "SELECT 'same'")"
	echo garbage >> "$BLOB"
	# Held shared (a syncer lives): nothing is re-verified yet.
	flock -s "$KROOT/sync.lock" "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" images -q >/dev/null
	[ "$(unsynced)" = 1 ]
	run --separate-stderr kiln images --format '{{.Repository}}'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"removed after an interrupted sync"*"its layer $LAYER is damaged"* ]]
	[ -z "$output" ]
	! kiln container inspect c >/dev/null 2>&1
	[ "$(unsynced)" = 0 ]
	run kiln system check
	[ "$output" = "No problems found" ]
}

@test "deferred sync: a sound layer written under another mount is re-extracted from its blob" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	wait_syncer
	layer_of bb
	# Under another mount (or boot) the page cache may have lost files the
	# blob still has: the directory is rebuilt from it.
	: > "$KROOT/layers/$LAYER/diff/bin/busybox"
	orphan_row "$LAYER" "another-boot/1"
	kiln run --rm bb /bin/busybox true
	[ -s "$KROOT/layers/$LAYER/diff/bin/busybox" ]
	[ "$(unsynced)" = 0 ]
	# Under the same mount, only re-verified (the page cache was kept).
	layer_of bb
	orphan_row "$LAYER" "$(sqlite3 "$KROOT/kiln.db" "SELECT 'x'")"
	kiln images -q >/dev/null
	[ "$(unsynced)" = 0 ]
	kiln image exists bb
	run kiln system check
	[ "$output" = "No problems found" ]
}

@test "deferred sync: a store removed while its syncer runs is not re-created" {
	import_held 1500000
	# The command has exited: its syncer, held in its syncfs, has the DB's
	# files open and creates nothing more in the store.
	held_command_exited
	rm -rf "$KROOT"
	wait "$tracer"
	[ ! -e "$KROOT" ]
}

@test "deferred sync: a store removed right after the command returns goes whole" {
	# The command waits until its syncer has the DB open: a syncer still
	# starting would create the WAL's files under `rm -rf`, which then
	# fails with "Directory not empty".
	local i root
	for i in $(seq 8); do
		root=$BATS_TEST_TMPDIR/s$i
		"$KILN_BIN" --root "$root" --runroot "$KRUN" import -q "$(busybox_tar)" bb >/dev/null
		rm -rf "$root"
	done
	# The syncers end without re-creating anything.
	for i in $(seq 600); do
		pgrep -f -- "__store-syncer $BATS_TEST_TMPDIR/s" >/dev/null || break
		sleep 0.05
	done
	run ! pgrep -f -- "__store-syncer $BATS_TEST_TMPDIR/s"
	[ -z "$(ls "$BATS_TEST_TMPDIR" | grep '^s[0-9]')" ]
}

@test "deferred sync: the syncer shows in ps as kiln-syncer" {
	import_held 2000000
	held_command_exited
	local p
	p=$(pgrep -f -- "__store-syncer $KROOT " | head -1)
	[ -n "$p" ]
	run ps -o comm= -p "$p"
	[ "$output" = kiln-syncer ]
	wait "$tracer"
}

@test "deferred sync: a syncer that cannot start does not hold up the command" {
	command -v strace >/dev/null || skip "strace is needed"
	# Its exec fails: the pipe the command waits on hangs up at once (a
	# wait for the syncer's 10 s bound would exceed the timeout).
	timeout 8 strace -f -qq -o /dev/null -P /proc/self/exe -e trace=execve \
		-e inject=execve:error=ENOENT \
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" import -q "$(busybox_tar)" bb \
		>/dev/null 2>&1
	[ "$(unsynced)" = 2 ]
	# Nobody's rows: the next command re-verifies them.
	kiln images -q >/dev/null
	[ "$(unsynced)" = 0 ]
	kiln image exists bb
}
