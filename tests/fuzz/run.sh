#!/bin/sh
# Runs libFuzzer targets for a bounded time, JOBS at once (default 2: the CI
# machines have two cores).  usage: run.sh SECONDS OUTDIR TARGET...
# Each target fuzzes on its seed corpus tests/fuzz/corpus/<name>/ (read
# only) plus OUTDIR/new-<name>/ (new inputs land there, never in the
# repository); a crash leaves OUTDIR/crash-<name>-* and fails the run.
# Per target it prints the final line with execs/s, cov: and ft:.
secs=$1; out=$2; shift 2
jobs=${FUZZ_JOBS:-2}
mkdir -p "$out"

one() {
	f=$1; n=${f##*/fuzz_}
	mkdir -p "$out/new-$n" "tests/fuzz/corpus/$n"
	"$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/crash-$n-" "$out/new-$n" "tests/fuzz/corpus/$n" \
		>"$out/$n.log" 2>&1
	rc=$?
	# The last status line ("#N DONE cov: C ft: F corp: … exec/s: E …").
	last=$(grep -E '^#[0-9]+' "$out/$n.log" | tail -1)
	if [ $rc -ne 0 ]; then
		tail -40 "$out/$n.log"
		echo "FAILED: fuzz $n (exit $rc, see $out/$n.log)"
		return 1
	fi
	echo "fuzz $n ($secs s): $last"
}

export secs out
failed=0
# Run JOBS targets at a time; each result is printed when its target ends.
pids=""
for f in "$@"; do
	while [ "$(echo $pids | wc -w)" -ge "$jobs" ]; do
		new=""
		for p in $pids; do
			if kill -0 "$p" 2>/dev/null; then new="$new $p"; else wait "$p" || failed=1; fi
		done
		pids=$new
		[ "$(echo $pids | wc -w)" -ge "$jobs" ] && sleep 1
	done
	one "$f" &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || failed=1; done
[ $failed -eq 0 ] && echo "fuzz: $# targets, $secs s each, no finding"
exit $failed
