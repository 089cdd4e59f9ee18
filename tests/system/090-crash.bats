#!/usr/bin/env bats
# Crash safety: each command that changes the store is SIGKILLed at a random
# moment, KILN_CRASH_RUNS times (10 in make check, 50 in make stress); after
# each kill `kiln system check` must find nothing (it runs store_open's
# automatic clean-up of tmp/ first) and the same command must then succeed.
#
# The window: the command is timed once, uninterrupted; each kill then comes
# after a random delay between 0 and 1.3 times that duration, so kills land
# before, during and (sometimes) after the interesting part.

load helpers
load ../lib/registry-helpers
load ../lib/cut-helpers

RUNS=${KILN_CRASH_RUNS:-10}

setup_file() {
	registry_setup_file
	# A two-layer image (busybox + 300 small files) in the registry, and
	# saved as an archive, for pull and load.
	cut_image_setup "$BATS_FILE_TMPDIR/crash" crash/med 'RUN echo hi > /hi'
}

# The store must be clean: system check (after its automatic clean-up).
check_clean() {
	run kiln system check
	if [ "$status" -ne 0 ] || [ "$output" != "No problems found" ]; then
		echo "after a kill of: $*"
		echo "$output"
		return 1
	fi
	[ -z "$(ls "$KROOT/tmp")" ] || { echo "tmp/ not empty: $(ls "$KROOT/tmp")"; return 1; }
}

kill_now() {
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# crash_loop NAME PREPARE REDO -- ARGS...: cut_loop with SIGKILL.
crash_loop() {
	local name=$1 prepare=$2 redo=$3
	shift 4
	cut_loop "$name" "$prepare" "$redo" kill_now check_clean -- "$@"
}

# ---- pull ------------------------------------------------------------------

@test "crash: pull" {
	crash_loop pull pull_prepare pull_redo -- pull -q --tls-verify=false "$REG/$CUT_REPO:v1"
}

# ---- load ------------------------------------------------------------------

@test "crash: load" {
	crash_loop load load_prepare load_redo -- load -q -i "$CUT_DIR/med.tar"
}

# ---- build -----------------------------------------------------------------

build_prepare() {
	kiln image exists bb || kiln import -q "$(busybox_tar)" bb >/dev/null
	kiln rmi -f built >/dev/null 2>&1 || true
}
build_redo() {
	kiln build -q -t built "$CUT_DIR/ctx" >/dev/null && kiln run --rm built test -f /data/d2/f99
}

@test "crash: build" {
	crash_loop build build_prepare build_redo -- build -q --no-cache -t built "$CUT_DIR/ctx"
}

# ---- commit ----------------------------------------------------------------

@test "crash: commit" {
	crash_loop commit commit_prepare commit_redo -- commit c cimg
}

# ---- rmi -------------------------------------------------------------------

@test "crash: rmi" {
	crash_loop rmi rmi_prepare rmi_redo -- rmi med
}

# ---- rm --------------------------------------------------------------------

rm_prepare() {
	kiln image exists med || kiln load -q -i "$CUT_DIR/med.tar" >/dev/null
	kiln container inspect c >/dev/null 2>&1 ||
		kiln run --name c med sh -c 'cp -r /data /data2' >/dev/null
}
rm_redo() {
	if kiln container inspect c >/dev/null 2>&1; then kiln rm c; fi
	! kiln container inspect c >/dev/null 2>&1
}

@test "crash: rm" {
	crash_loop rm rm_prepare rm_redo -- rm c
}

# ---- image prune -----------------------------------------------------------

prune_prepare() {
	kiln image exists med || kiln load -q -i "$CUT_DIR/med.tar" >/dev/null
	kiln image exists bb || kiln import -q "$(busybox_tar)" bb >/dev/null
}
prune_redo() {
	kiln image prune -af >/dev/null && [ -z "$(kiln images -q)" ] &&
		[ -z "$(ls "$KROOT/layers")" ]
}

@test "crash: image prune" {
	crash_loop "image prune" prune_prepare prune_redo -- image prune -af
}
