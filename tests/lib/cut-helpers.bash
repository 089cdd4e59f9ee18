# Shared by tests/system/090-crash.bats and 093-power-loss.bats: a command
# that changes the store is cut at a random moment (SIGKILL, or its disk
# frozen as at a power loss), the store must then be sound and the command
# must succeed again.  Load after registry-helpers.

# cut_image_setup DIR REPO [CONTAINERFILE_LINE]: a two-layer image (busybox
# + 300 small random files, plus CONTAINERFILE_LINE), built as "med" in a
# private store in DIR, saved as $CUT_DIR/med.tar and pushed to the file's
# registry as REPO:v1.  Exports CUT_DIR and CUT_REPO (setup_file).
cut_image_setup() {
	export CUT_DIR=$1 CUT_REPO=$2
	mkdir -p "$CUT_DIR/ctx"
	random_tar "$CUT_DIR/ctx/data.tar" 3 100 1024 data
	{
		printf 'FROM bb\nADD data.tar /\n'
		[ -z "${3:-}" ] || printf '%s\n' "$3"
	} > "$CUT_DIR/ctx/Containerfile"
	local k="$KILN_BIN --root $CUT_DIR/root --runroot $CUT_DIR/run"
	local reg=127.0.0.1:$(cat "$RDIR/port")
	$k import -q "$(busybox_tar)" bb >/dev/null
	$k build -q -t med "$CUT_DIR/ctx" >/dev/null
	$k save -o "$CUT_DIR/med.tar" med
	$k push -q --tls-verify=false med "$reg/$CUT_REPO:v1" >/dev/null
}

# cut_loop NAME PREPARE REDO CUT CHECK -- ARGS...: ARGS (a kiln command) is
# timed once, whole; then, $RUNS times, PREPARE (a command, split on spaces)
# puts the store in the state the command needs, the command starts and CUT
# PID (a function) ends it after a random delay between 0 and 1.3 times that
# duration (so cuts land before, during and sometimes after the interesting
# part).  CHECK WHAT (a function) must find the store sound, and REDO (a
# function) must finish the job and succeed; CHECK again after it.
cut_loop() {
	local name=$1 prepare=$2 redo=$3 cut=$4 check=$5
	shift 6
	local i t0 t1 window delay pid
	$prepare
	t0=$(date +%s%N)
	kiln "$@" >/dev/null
	t1=$(date +%s%N)
	window=$(((t1 - t0) / 1000000 * 13 / 10 + 1))
	for i in $(seq "$RUNS"); do
		$prepare
		delay=$((RANDOM % window))
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" "$@" >/dev/null 2>&1 3>&- &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		$cut "$pid"
		$check "$name (run $i, cut after ${delay} ms of ${window})"
		run $redo
		if [ "$status" -ne 0 ]; then
			echo "$name again after the cut (run $i, ${delay} ms): $output"
			return 1
		fi
		$check "$name, then $name again"
	done
	echo "# $name: $RUNS cuts, window ${window} ms" >&3
}

# ---- the commands both files cut (the image from cut_image_setup) ----------

load_prepare() {
	kiln rmi -f med >/dev/null 2>&1 || true
}
load_redo() {
	kiln load -q -i "$CUT_DIR/med.tar" && kiln run --rm med test -s /data/d2/f99
}

pull_prepare() {
	kiln rmi -f "$REG/$CUT_REPO:v1" >/dev/null 2>&1 || true
}
pull_redo() {
	kiln pull -q --tls-verify=false "$REG/$CUT_REPO:v1" &&
		kiln run --rm "$REG/$CUT_REPO:v1" test -s /data/d2/f99
}

rmi_prepare() {
	kiln image exists med || kiln load -q -i "$CUT_DIR/med.tar" >/dev/null
}
rmi_redo() {
	if kiln image exists med; then kiln rmi med; fi
	! kiln image exists med
}

commit_prepare() {
	kiln image exists med || kiln load -q -i "$CUT_DIR/med.tar" >/dev/null
	kiln container inspect c >/dev/null 2>&1 ||
		kiln run --name c med sh -c 'cp -r /data /data2 && echo x > /f' >/dev/null
	kiln rmi -f cimg >/dev/null 2>&1 || true
}
commit_redo() {
	kiln commit c cimg >/dev/null && kiln run --rm cimg test -s /data2/d2/f99
}
