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
out=$(mktemp)
export KILN_TEST_RUN="run.$$.$RANDOM"
deadline=${KILN_SYSTEM_DEADLINE:-3000}
# a single test never takes this long; bats reports it as a timeout
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-600}

# Processes of this run that are no longer under this script: what tests
# left running (an orphan is re-parented away from us).
strays() {
	local p q mine
	mine=" $(ps -e -o pid=,ppid= | awk -v root=$$ '
		{ parent[$1] = $2 }
		END { for (p in parent) { q = p
			while (q > 1 && q != root) q = parent[q]
			if (q == root) printf "%s ", p } }') "
	for p in $(grep -l -s -z -x "KILN_TEST_RUN=$KILN_TEST_RUN" /proc/[0-9]*/environ |
		cut -d/ -f3); do
		[ "$p" = "$$" ] && continue
		case $mine in *" $p "*) continue ;; esac
		kill -0 "$p" 2>/dev/null && echo "$p"
	done
}

kill_strays() {
	local list
	list=$(strays)
	[ -z "$list" ] && return 0
	echo "# $1: killing what it left running:"
	# shellcheck disable=SC2086
	ps -o pid=,args= -p "$(echo $list | tr ' ' ,)" | sed 's/^/#   /'
	# shellcheck disable=SC2086
	kill -9 $list 2>/dev/null
	return 0
}

bats --tap "$@" >"$out" 2>&1 &
bats_pid=$!
tail -n +1 -f --pid=$bats_pid "$out" &
tail_pid=$!

start=$SECONDS
while kill -0 $bats_pid 2>/dev/null; do
	sleep 2
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -1)
	done_n=$(grep -c '^\(not \)\?ok ' "$out")
	if [ -n "$plan" ] && [ "$done_n" -ge "$plan" ] && [ -z "${all_done:-}" ]; then
		all_done=$SECONDS
	fi
	if [ -n "${all_done:-}" ] && [ $((SECONDS - all_done)) -ge 20 ]; then
		kill_strays "the last test is over but bats is not"
		all_done=$((SECONDS + 1000000))
	fi
	if [ $((SECONDS - start)) -ge "$deadline" ]; then
		echo "not ok - the system tests outlived ${deadline}s" | tee -a "$out"
		kill_strays "deadline"
		pkill -9 -P $bats_pid 2>/dev/null
		kill -9 $bats_pid 2>/dev/null
		break
	fi
done
wait $bats_pid
rc=$?
wait $tail_pid 2>/dev/null
kill_strays "after the run"
passed=$(grep -c '^ok ' "$out" | tr -d ' ')
skipped=$(grep -c '^ok .* # skip' "$out" | tr -d ' ')
failed=$(grep -c '^not ok ' "$out" | tr -d ' ')
rm -f "$out"
echo "system: $((passed - skipped)) passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
