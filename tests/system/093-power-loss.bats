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

RUNS=${KILN_POWER_RUNS:-2}

setup_file() {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null ||
		skip "losetup and mkfs.ext4 are needed"
	registry_setup_file
	export PL_DIR=$BATS_FILE_TMPDIR/pl
	mkdir -p "$PL_DIR/ctx"
	python3 - "$PL_DIR/ctx/data.tar" <<'PY'
import io, os, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for d in range(3):
        ti = tarfile.TarInfo(f"data/d{d}"); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
        t.addfile(ti)
        for f in range(100):
            data = os.urandom(1024)
            ti = tarfile.TarInfo(f"data/d{d}/f{f}"); ti.size = len(data); ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
PY
	printf 'FROM bb\nADD data.tar /\n' > "$PL_DIR/ctx/Containerfile"
	local k="$KILN_BIN --root $PL_DIR/root --runroot $PL_DIR/run"
	local reg=127.0.0.1:$(cat "$RDIR/port")
	$k import -q "$(busybox_tar)" bb >/dev/null
	$k build -q -t med "$PL_DIR/ctx" >/dev/null
	$k save -o "$PL_DIR/med.tar" med
	$k push -q --tls-verify=false med "$reg/pl/med:v1" >/dev/null
}

teardown_file() {
	registry_teardown_file
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

# The state after the cut: clean, every image runs.
assert_survived() {
	run kiln system check
	if [ "$status" -ne 0 ] || [ "$output" != "No problems found" ]; then
		echo "after a power cut during: $*"
		echo "$output"
		return 1
	fi
	local id
	for id in $(kiln images -q); do
		kiln run --rm "$id" /bin/busybox true ||
			{ echo "image $id does not run after the cut ($*)"; return 1; }
	done
}

# power_loop NAME PREPARE REDO -- ARGS...
power_loop() {
	local name=$1 prepare=$2 redo=$3
	shift 4
	local i t0 t1 window delay
	fresh_disk
	$prepare
	t0=$(date +%s%N)
	kiln "$@" >/dev/null
	t1=$(date +%s%N)
	window=$(((t1 - t0) / 1000000 * 13 / 10 + 1))
	for i in $(seq "$RUNS"); do
		$prepare
		sync # what came before the command is on the disk
		delay=$((RANDOM % window))
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" "$@" >/dev/null 2>&1 &
		local pid=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		kill -STOP "$pid" 2>/dev/null || true
		cp --sparse=always "$DISK" "$DISK.cut"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		unmount_disk
		mv "$DISK.cut" "$DISK"
		mount_disk "$DISK"
		rm -rf "$KRUN" && mkdir -p "$KRUN" # /run does not survive a reboot
		assert_survived "$name (cut $i after ${delay} ms of ${window})"
		run $redo
		if [ "$status" -ne 0 ]; then
			echo "$name again after the cut (run $i, ${delay} ms): $output"
			return 1
		fi
		assert_survived "$name, then $name again"
	done
	echo "# $name: $RUNS power cuts, window ${window} ms" >&3
}

load_prepare() {
	kiln rmi -f med >/dev/null 2>&1 || true
}
load_redo() {
	kiln load -q -i "$PL_DIR/med.tar" && kiln run --rm med test -s /data/d2/f99
}

@test "power loss: load" {
	power_loop load load_prepare load_redo -- load -q -i "$PL_DIR/med.tar"
}

pull_prepare() {
	kiln rmi -f "$REG/pl/med:v1" >/dev/null 2>&1 || true
}
pull_redo() {
	kiln pull -q --tls-verify=false "$REG/pl/med:v1" &&
		kiln run --rm "$REG/pl/med:v1" test -s /data/d2/f99
}

@test "power loss: pull" {
	power_loop pull pull_prepare pull_redo -- pull -q --tls-verify=false "$REG/pl/med:v1"
}

rmi_prepare() {
	kiln image exists med || kiln load -q -i "$PL_DIR/med.tar" >/dev/null
}
rmi_redo() {
	if kiln image exists med; then kiln rmi med; fi
	! kiln image exists med
}

@test "power loss: rmi" {
	power_loop rmi rmi_prepare rmi_redo -- rmi med
}

commit_prepare() {
	kiln image exists med || kiln load -q -i "$PL_DIR/med.tar" >/dev/null
	kiln container inspect c >/dev/null 2>&1 ||
		kiln run --name c med sh -c 'cp -r /data /data2' >/dev/null
	kiln rmi -f cimg >/dev/null 2>&1 || true
}
commit_redo() {
	kiln commit c cimg >/dev/null && kiln run --rm cimg test -s /data2/d2/f99
}

@test "power loss: commit" {
	power_loop commit commit_prepare commit_redo -- commit c cimg
}
