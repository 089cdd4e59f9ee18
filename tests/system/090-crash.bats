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

RUNS=${KILN_CRASH_RUNS:-10}

setup_file() {
	registry_setup_file
	# A two-layer image (busybox + 300 small files) in the registry, and
	# saved as an archive, for pull and load.
	export CRASH_DIR=$BATS_FILE_TMPDIR/crash
	mkdir -p "$CRASH_DIR"
	python3 - "$CRASH_DIR/data.tar" <<'PY'
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
	local k="$KILN_BIN --root $CRASH_DIR/root --runroot $CRASH_DIR/run"
	$k import -q "$(busybox_tar)" bb >/dev/null
	mkdir -p "$CRASH_DIR/ctx"
	cp "$CRASH_DIR/data.tar" "$CRASH_DIR/ctx/"
	printf 'FROM bb\nADD data.tar /\nRUN echo hi > /hi\n' > "$CRASH_DIR/ctx/Containerfile"
	$k build -q -t med "$CRASH_DIR/ctx" >/dev/null
	$k save -o "$CRASH_DIR/med.tar" med
	local reg=127.0.0.1:$(cat "$RDIR/port")
	$k push -q --tls-verify=false med "$reg/crash/med:v1" >/dev/null
}

teardown_file() {
	registry_teardown_file
}

setup() {
	registry_setup
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

sleep_ms() {
	sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
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

# crash_loop NAME PREPARE REDO -- ARGS...: PREPARE (a function) puts the
# store in the state the command needs; ARGS is the kiln command; REDO (a
# function) runs it again where it still has something to do, and must
# succeed.
crash_loop() {
	local name=$1 prepare=$2 redo=$3
	shift 4
	local t0 t1 window i delay
	$prepare
	t0=$(now_ms)
	kiln "$@" >/dev/null
	t1=$(now_ms)
	window=$(((t1 - t0) * 13 / 10 + 1))
	for i in $(seq "$RUNS"); do
		$prepare
		delay=$((RANDOM % window))
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" "$@" >/dev/null 2>&1 &
		local pid=$!
		sleep_ms "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		check_clean "$name (run $i, after ${delay} ms of ${window})"
		run $redo
		if [ "$status" -ne 0 ]; then
			echo "$name again after the kill (run $i, ${delay} ms): $output"
			return 1
		fi
		check_clean "$name, then $name again"
	done
	echo "# $name: $RUNS kills, window ${window} ms" >&3
}

# ---- pull ------------------------------------------------------------------

pull_prepare() {
	kiln rmi -f "$REG/crash/med:v1" >/dev/null 2>&1 || true
}
pull_redo() {
	kiln pull -q --tls-verify=false "$REG/crash/med:v1" &&
		kiln run --rm "$REG/crash/med:v1" test -f /data/d2/f99
}

@test "crash: pull" {
	crash_loop pull pull_prepare pull_redo -- pull -q --tls-verify=false "$REG/crash/med:v1"
}

# ---- load ------------------------------------------------------------------

load_prepare() {
	kiln rmi -f med >/dev/null 2>&1 || true
}
load_redo() {
	kiln load -q -i "$CRASH_DIR/med.tar" && kiln run --rm med test -f /data/d2/f99
}

@test "crash: load" {
	crash_loop load load_prepare load_redo -- load -q -i "$CRASH_DIR/med.tar"
}

# ---- build -----------------------------------------------------------------

build_prepare() {
	kiln image exists bb || kiln import -q "$(busybox_tar)" bb >/dev/null
	kiln rmi -f built >/dev/null 2>&1 || true
}
build_redo() {
	kiln build -q -t built "$CRASH_DIR/ctx" >/dev/null && kiln run --rm built test -f /data/d2/f99
}

@test "crash: build" {
	crash_loop build build_prepare build_redo -- build -q --no-cache -t built "$CRASH_DIR/ctx"
}

# ---- commit ----------------------------------------------------------------

commit_prepare() {
	kiln image exists med || kiln load -q -i "$CRASH_DIR/med.tar" >/dev/null
	kiln container inspect c >/dev/null 2>&1 ||
		kiln run --name c med sh -c 'cp -r /data /data2 && echo x > /f' >/dev/null
	kiln rmi -f cimg >/dev/null 2>&1 || true
}
commit_redo() {
	kiln commit c cimg >/dev/null && kiln run --rm cimg test -f /data2/d2/f99
}

@test "crash: commit" {
	crash_loop commit commit_prepare commit_redo -- commit c cimg
}

# ---- rmi -------------------------------------------------------------------

rmi_prepare() {
	kiln image exists med || kiln load -q -i "$CRASH_DIR/med.tar" >/dev/null
}
rmi_redo() {
	if kiln image exists med; then kiln rmi med; fi
	! kiln image exists med
}

@test "crash: rmi" {
	crash_loop rmi rmi_prepare rmi_redo -- rmi med
}

# ---- rm --------------------------------------------------------------------

rm_prepare() {
	kiln image exists med || kiln load -q -i "$CRASH_DIR/med.tar" >/dev/null
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
	kiln image exists med || kiln load -q -i "$CRASH_DIR/med.tar" >/dev/null
	kiln image exists bb || kiln import -q "$(busybox_tar)" bb >/dev/null
}
prune_redo() {
	kiln image prune -af >/dev/null && [ -z "$(kiln images -q)" ] &&
		[ -z "$(ls "$KROOT/layers")" ]
}

@test "crash: image prune" {
	crash_loop "image prune" prune_prepare prune_redo -- image prune -af
}
