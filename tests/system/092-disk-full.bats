#!/usr/bin/env bats
# A full disk: the store on a 40 MB tmpfs.  A pull or build that runs out of
# space fails with a clear error and leaves nothing behind (tmp/ empty,
# system check clean); on a disk filled to the last byte, rmi, rm and image
# prune still work (the store's space reserve is released for them), so
# the user can recover.

load helpers
load ../lib/registry-helpers

setup_file() {
	registry_setup_file
	# An image of 12 MB of random data (it does not compress) in the
	# registry.
	export DF_DIR=$BATS_FILE_TMPDIR/df
	mkdir -p "$DF_DIR/ctx"
	head -c 12000000 /dev/urandom > "$DF_DIR/ctx/big"
	printf 'FROM bb\nCOPY big /big\n' > "$DF_DIR/ctx/Containerfile"
	local k="$KILN_BIN --root $DF_DIR/root --runroot $DF_DIR/run"
	local reg=127.0.0.1:$(cat "$RDIR/port")
	$k import -q "$(busybox_tar)" bb >/dev/null
	$k build -q -t big "$DF_DIR/ctx" >/dev/null
	$k push -q --tls-verify=false big "$reg/df/big:v1" >/dev/null
}

setup() {
	registry_setup
	SMALL=$BATS_TEST_TMPDIR/small
	mkdir -p "$SMALL"
	mount -t tmpfs -o size=40m tmpfs "$SMALL" || skip "cannot mount a tmpfs here"
	KROOT=$SMALL/root
	mkdir -p "$KROOT"
}

teardown() {
	stop_leftover_containers
	umount_under "$SMALL"
	umount -l "$SMALL" 2>/dev/null || true
	rm -rf "$KRUN"
}

# Fills the disk to the last byte.
fill_disk() {
	dd if=/dev/zero of="$SMALL/fill" bs=64k 2>/dev/null || true
	[ "$(df --output=avail -B1 "$SMALL" | tail -1)" -lt 65536 ]
}

assert_clean_after() {
	[ -z "$(ls "$KROOT/tmp")" ] || { echo "tmp/: $(ls "$KROOT/tmp")"; return 1; }
	run kiln system check
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "disk full: a pull that runs out of space fails cleanly, removals still work" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	[ -f "$KROOT/reserve" ]
	kiln run --name c bb true
	# 40 MB minus busybox, the reserve and 16 MB of filler: not room for
	# the 12 MB layer twice (its blob and its files).
	head -c 16000000 /dev/zero > "$SMALL/fill"
	run kiln pull -q --tls-verify=false "$REG/df/big:v1"
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *"No space left on device"* || "$output" == *"disk is full"* ]]
	assert_clean_after
	! kiln image exists "$REG/df/big:v1"

	# The last byte taken: removals still work.
	fill_disk
	run kiln rm c
	echo "$output"
	[ "$status" -eq 0 ]
	run kiln rmi bb
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(kiln images -q)" ]
	[ ! -f "$KROOT/reserve" ]
	assert_clean_after

	# Room again: the reserve comes back, the pull works.
	rm -f "$SMALL/fill"
	kiln images >/dev/null
	[ -f "$KROOT/reserve" ]
	run kiln pull -q --tls-verify=false "$REG/df/big:v1"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_clean_after
}

@test "disk full: a build that runs out of space fails cleanly, image prune still works" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	kiln import -q "$(busybox_tar)" other >/dev/null
	kiln tag bb dangling-soon
	mkdir -p "$BATS_TEST_TMPDIR/ctx"
	head -c 50000000 /dev/zero > "$BATS_TEST_TMPDIR/ctx/zeros"
	printf 'FROM bb\nCOPY zeros /zeros\n' > "$BATS_TEST_TMPDIR/ctx/Containerfile"
	run kiln build -t toobig "$BATS_TEST_TMPDIR/ctx"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"No space left on device"* ]]
	assert_clean_after
	! kiln image exists toobig

	fill_disk
	run kiln image prune -af
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(kiln images -q)" ]
	[ -z "$(ls "$KROOT/layers")" ]
	assert_clean_after
}
