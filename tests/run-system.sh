#!/bin/bash
# Runs the bats system tests (TAP) and ends with "system: N passed, N failed,
# N skipped", the plain summary line CI reads.
#
# bats does not end while any process still holds its output open, so a
# test that leaves a background process behind would hang the whole run.
# Every process started under this run carries KILN_TEST_RUN in its
# environment: once the last result is printed, whatever still carries it
# is listed and killed; so is everything when the run outlives
# KILN_SYSTEM_DEADLINE seconds (default 50 minutes).
#
# KILN_SYSTEM_JOBS=N (default 1) runs the .bats files N at a time, one bats
# process per file, the slowest files first; each file's TAP output is
# printed whole, under a "# FILE" line, when it ends.  Each file gets its own
# KILN_TEST_RUN tag, so what is killed after it is only what it left.  The
# files share the host as concurrent runs on one machine do: their stores,
# ports and users are their own.  With options (-f, --timing, …) among the
# arguments the files run one bats process as with N=1.
export KILN_TEST_RUN="run.$$.$RANDOM"
deadline=${KILN_SYSTEM_DEADLINE:-3000}
jobs=${KILN_SYSTEM_JOBS:-1}
# a single test never takes this long; bats reports it as a timeout
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-600}
# Measured slowest first (then the rest in name order), so that the last
# file to start is a short one.
SLOW_FIRST="090-crash 095-hostile 071-build-oracle 090-rootless 091-concurrency
	057-health-restart 062-registry-faults 100-api 081-sign-registry 091-network"

# Processes tagged $1 that are no longer under this script: what tests left
# running (an orphan is re-parented away from us).
strays() {
	local tag=$1 p mine
	mine=" $(ps -e -o pid=,ppid= | awk -v root=$$ '
		{ parent[$1] = $2 }
		END { for (p in parent) { q = p
			while (q > 1 && q != root) q = parent[q]
			if (q == root) printf "%s ", p } }') "
	for p in $(grep -l -s -z -x "KILN_TEST_RUN=$tag" /proc/[0-9]*/environ |
		cut -d/ -f3); do
		[ "$p" = "$$" ] && continue
		case $mine in *" $p "*) continue ;; esac
		kill -0 "$p" 2>/dev/null && echo "$p"
	done
}

# kill_strays TAG WHY
kill_strays() {
	local list
	list=$(strays "$1")
	[ -z "$list" ] && return 0
	echo "# $2: killing what it left running:"
	# shellcheck disable=SC2086
	ps -o pid=,args= -p "$(echo $list | tr ' ' ,)" | sed 's/^/#   /'
	# shellcheck disable=SC2086
	kill -9 $list 2>/dev/null
	return 0
}

# run_bats OUT TAG ARGS...: bats on ARGS, TAP into OUT, processes tagged
# TAG; kills what the tests leave once the last result is in, and
# everything at the deadline.  Returns bats' exit code.
run_bats() {
	local out=$1 tag=$2 bats_pid plan done_n all_done="" rc
	shift 2
	KILN_TEST_RUN=$tag bats --tap "$@" >"$out" 2>&1 &
	bats_pid=$!
	while kill -0 $bats_pid 2>/dev/null; do
		sleep 0.5
		plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -1)
		done_n=$(grep -c '^\(not \)\?ok ' "$out")
		if [ -n "$plan" ] && [ "$done_n" -ge "$plan" ] && [ -z "$all_done" ]; then
			all_done=$SECONDS
		fi
		if [ -n "$all_done" ] && [ $((SECONDS - all_done)) -ge 20 ]; then
			kill_strays "$tag" "the last test is over but bats is not" >>"$out"
			all_done=$((SECONDS + 1000000))
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "not ok - the system tests outlived ${deadline}s" >>"$out"
			kill_strays "$tag" "deadline" >>"$out"
			pkill -9 -P $bats_pid 2>/dev/null
			kill -9 $bats_pid 2>/dev/null
			break
		fi
	done
	wait $bats_pid
	rc=$?
	kill_strays "$tag" "after the run" >>"$out"
	return $rc
}

SECONDS=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files=()
for a in "$@"; do
	case $a in
	-*) jobs=1 ;;
	*) if [ -d "$a" ]; then files+=("$a"/*.bats); else files+=("$a"); fi ;;
	esac
done

rc=0
if [ "$jobs" -le 1 ]; then
	: >"$tmp/all.out"
	tail -n +1 -f "$tmp/all.out" &
	tail_pid=$!
	run_bats "$tmp/all.out" "$KILN_TEST_RUN" "$@" || rc=1
	sleep 0.5
	kill $tail_pid 2>/dev/null
	wait $tail_pid 2>/dev/null
else
	ordered=()
	for s in $SLOW_FIRST; do
		for f in "${files[@]}"; do
			[ "$(basename "$f" .bats)" = "$s" ] && ordered+=("$f")
		done
	done
	for f in "${files[@]}"; do
		case " $SLOW_FIRST " in *[[:space:]]"$(basename "$f" .bats)"[[:space:]]*) ;;
		*) ordered+=("$f") ;; esac
	done
	echo 0 >"$tmp/next"
	# The next file of the queue (empty when there is none).
	next_file() {
		local i
		exec 9>>"$tmp/queue.lock"
		flock 9
		i=$(cat "$tmp/next")
		echo $((i + 1)) >"$tmp/next"
		exec 9>&-
		[ "$i" -lt "${#ordered[@]}" ] && echo "$i"
	}
	worker() {
		local i f
		while i=$(next_file) && [ -n "$i" ]; do
			f=${ordered[$i]}
			run_bats "$tmp/$i.out" "$KILN_TEST_RUN.$i" "$f" || echo "$f" >>"$tmp/failed"
			(
				flock 8
				echo "# $f ($((SECONDS)) s into the run)"
				cat "$tmp/$i.out"
			) 8>>"$tmp/print.lock"
		done
	}
	pids=""
	for w in $(seq "$jobs"); do
		worker &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	cat "$tmp"/[0-9]*.out >"$tmp/all.out" 2>/dev/null
	[ -s "$tmp/failed" ] && rc=1
fi
passed=$(grep -c '^ok ' "$tmp/all.out" | tr -d ' ')
skipped=$(grep -c '^ok .* # skip' "$tmp/all.out" | tr -d ' ')
failed=$(grep -c '^not ok ' "$tmp/all.out" | tr -d ' ')
echo "system: $((passed - skipped)) passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
