#!/usr/bin/env bats
# Simulated power loss: un-synced writes are dropped, synced ones survive.
#
# The mechanism (no device-mapper on these machines, so no dm-flakey): the
# store lives on ext4 in a loop device over a file, mounted with commit=600
# (no timed journal commit) and made with lazy_itable_init=0 (no background
# zeroing), so that within a test only fsync/syncfs reach the device (the
# kernel writes dirty pages back after 30 s, longer than a run).  A kiln
# command runs; at a random moment it is stopped (SIGSTOP: no more syscalls),
# and the loop device's backing file is copied: the copy is exactly what the
# disk held at that instant, every write not yet synced missing.  The command
# is then killed, and the copy is mounted on a new loop device (ext4 replays
# its journal, as after a reboot).  On it: `kiln system check` (full: every
# blob and layer re-hashed) must be clean after its automatic clean-up,
# every image listed must run, and the command must succeed again.
#
# KILN_POWER_RUNS cuts per command (2 in make check, 10 in make stress).

load helpers
load ../lib/registry-helpers
load ../lib/cut-helpers

bats_require_minimum_version 1.5.0

RUNS=${KILN_POWER_RUNS:-2}

setup_file() {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null ||
		skip "losetup and mkfs.ext4 are needed"
	registry_setup_file
	cut_image_setup "$BATS_FILE_TMPDIR/pl" pl/med
}

setup() {
	registry_setup
	DISK=$BATS_TEST_TMPDIR/disk
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	LOOP=""
}

teardown() {
	stop_leftover_containers
	umount_under "$BATS_TEST_TMPDIR"
	[ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
	rm -rf "$KRUN"
}

# mount_disk IMAGE: the image on a new loop device at $MNT; the store in it.
mount_disk() {
	LOOP=$(losetup -f --show "$1") || skip "no loop device"
	mount -o commit=600 "$LOOP" "$MNT"
	KROOT=$MNT/root
	mkdir -p "$KROOT"
}

unmount_disk() {
	wait_syncer # a commit's syncer keeps the filesystem busy
	umount_under "$MNT"
	umount "$MNT" 2>/dev/null || umount -l "$MNT"
	losetup -d "$LOOP"
	LOOP=""
}

fresh_disk() {
	rm -f "$DISK"
	truncate -s 96M "$DISK"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$DISK"
	mount_disk "$DISK"
}

# The state after the cut: clean, every image runs.  (The recovery of
# what a commit wrote unsynced may warn on stderr that it removed an image.)
assert_survived() {
	run --separate-stderr kiln system check
	if [ "$status" -ne 0 ] || [ "$output" != "No problems found" ]; then
		echo "after a power cut during: $*"
		echo "$output$stderr"
		return 1
	fi
	local id
	for id in $(kiln images -q); do
		kiln run --rm "$id" /bin/busybox true ||
			{ echo "image $id does not run after the cut ($*)"; return 1; }
	done
}

# What came before the command is on the disk.
synced() {
	"$@"
	sync
}

# The power cut: the command stopped (no more syscalls), the disk copied as
# it is, the command killed, the copy mounted as after a reboot.
power_cut() {
	kill -STOP "$1" 2>/dev/null || true
	cp --sparse=always "$DISK" "$DISK.cut"
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	unmount_disk
	mv "$DISK.cut" "$DISK"
	mount_disk "$DISK"
	rm -rf "$KRUN" && mkdir -p "$KRUN" # /run does not survive a reboot
}

# power_loop NAME PREPARE REDO -- ARGS...: cut_loop with power cuts, on a
# fresh disk.
power_loop() {
	local name=$1 prepare=$2 redo=$3
	shift 4
	fresh_disk
	cut_loop "$name" "synced $prepare" "$redo" power_cut assert_survived -- "$@"
}

@test "power loss: load" {
	power_loop load load_prepare load_redo -- load -q -i "$CUT_DIR/med.tar"
}

@test "power loss: pull" {
	power_loop pull pull_prepare pull_redo -- pull -q --tls-verify=false "$REG/$CUT_REPO:v1"
}

@test "power loss: rmi" {
	power_loop rmi rmi_prepare rmi_redo -- rmi med
}

@test "power loss: commit" {
	power_loop commit commit_prepare commit_redo -- commit c cimg
}

@test "power loss: after a pull returned, before its syncer synced" {
	command -v strace >/dev/null || skip "strace is needed"
	fresh_disk
	# The syncer's syncfs held back: the pull has committed and returned,
	# its layers' files are only in the page cache when the power goes.
	strace -f -qq -o /dev/null -e trace=syncfs -e inject=syncfs:delay_enter=5000000 \
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" \
		pull -q --tls-verify=false "$REG/$CUT_REPO:v1" >/dev/null 2>&1 3>&- &
	local tracer=$! i
	for i in $(seq 200); do
		[ "$(sqlite3 "$KROOT/kiln.db" "SELECT count(*) FROM images" 2>/dev/null)" = 1 ] && break
		sleep 0.05
	done
	power_cut "$tracer"
	# The commit is on the disk, with the rows saying what was not synced.
	[ "$(sqlite3 "$KROOT/kiln.db" "SELECT count(*) FROM images")" = 1 ]
	[ "$(sqlite3 "$KROOT/kiln.db" "SELECT count(*) FROM unsynced")" -gt 0 ]
	assert_survived "pull, cut before its sync"
	[ "$(sqlite3 "$KROOT/kiln.db" "SELECT count(*) FROM unsynced")" = 0 ]
	pull_redo
	assert_survived "pull again after the cut"
}
