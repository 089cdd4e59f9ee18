#!/usr/bin/env bats
# kiln attach: a detached container's stdio through its monitor's socket.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "attach streams output, forwards stdin (-i) and returns the exit code" {
	bb
	kiln run -d -i --name in bb sh -c 'read x; echo got $x; echo oops >&2; exit 4'
	run --separate-stderr kiln attach in <<<"hello"
	[ "$status" -eq 4 ]
	[ "$output" = "got hello" ]
	[ "$stderr" = "oops" ]
	kiln run -d --name late bb sh -c 'sleep 1; echo late-line'
	run kiln attach late
	[ "$status" -eq 0 ]
	[ "$output" = "late-line" ]
	# the log has it too
	run kiln logs late
	[ "$output" = "late-line" ]
	# two clients at once both see the output
	kiln run -d --name two bb sh -c 'sleep 1; echo both'
	kiln attach two > "$BATS_TEST_TMPDIR/a1" &
	bg=$!
	kiln attach two > "$BATS_TEST_TMPDIR/a2"
	wait "$bg" # not a bare wait: BATS_TEST_TIMEOUT keeps a watchdog child
	[ "$(cat "$BATS_TEST_TMPDIR/a1")" = both ]
	[ "$(cat "$BATS_TEST_TMPDIR/a2")" = both ]
}

@test "the detach keys leave the container running; --no-stdin; errors" {
	bb
	kiln run -d -i --name keep bb sh -c 'while read l; do echo "echo:$l"; done'
	run kiln attach keep < <(printf 'one\n'; sleep 0.5; printf '\x10\x11'; sleep 5)
	[ "$status" -eq 0 ]
	[ "$output" = "echo:one" ]
	run kiln inspect --format '{{.State.Status}}' keep
	[ "$output" = "running" ]
	run kiln attach --detach-keys ctrl-x,y keep < <(printf 'two\n'; sleep 0.5; printf '\x18y'; sleep 5)
	[ "$output" = "echo:two" ]
	run kiln inspect --format '{{.State.Status}}' keep
	[ "$output" = "running" ]
	# --no-stdin: our stdin is not read (the container keeps waiting)
	timeout 2 kiln attach --no-stdin keep <<<"three" || true
	run kiln logs keep
	[[ "$output" != *three* ]]
	run kiln attach --detach-keys ctrl-9 keep
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid detach keys"* ]]
	kiln rm -f keep
	kiln create --name idle bb true
	run kiln attach idle
	[ "$status" -eq 125 ]
	[[ "$output" == *"only attach to running containers"* ]]
}

@test "attach forwards signals to the container (--sig-proxy)" {
	bb
	kiln run -d --name sig bb sh -c 'trap "echo caught; exit 9" USR1; while :; do sleep 0.1; done'
	# the binary itself (the kiln wrapper function would be a subshell)
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" attach sig > "$BATS_TEST_TMPDIR/out" &
	apid=$!
	sleep 1
	kill -USR1 $apid
	wait $apid || status=$?
	[ "${status:-0}" -eq 9 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = caught ]
}

@test "attach to a foreground container with a terminal (-t); without one it is refused" {
	bb
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" run -t -i --name fgt bb \
		sh -c 'read x; echo "got:$x"; sleep 1; echo tail-line' \
		</dev/null >"$BATS_TEST_TMPDIR/fg.out" 2>&1 3>&- &
	fg=$!
	for _ in $(seq 50); do
		[ "$(kiln inspect --format '{{.State.Status}}' fgt 2>/dev/null)" = running ] && break
		sleep 0.1
	done
	# the attached client's input reaches the terminal; both see the output
	run kiln attach fgt < <(printf 'hello\n'; sleep 3)
	[ "$status" -eq 0 ]
	[[ "$output" == *"got:hello"* ]]
	[[ "$output" == *"tail-line"* ]]
	wait "$fg"
	grep -q tail-line "$BATS_TEST_TMPDIR/fg.out"
	# no terminal: the output goes straight to the caller, nothing to attach to
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" run --name fgn bb sleep 3 \
		</dev/null >/dev/null 2>&1 3>&- &
	fg=$!
	for _ in $(seq 50); do
		[ "$(kiln inspect --format '{{.State.Status}}' fgn 2>/dev/null)" = running ] && break
		sleep 0.1
	done
	run kiln attach fgn
	[ "$status" -eq 125 ]
	[[ "$output" == *"started detached or with -t"* ]]
	kiln rm -f fgt fgn
	wait "$fg" || true
}
