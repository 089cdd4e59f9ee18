#!/usr/bin/env bats
# kiln system service under concurrent load: list requests and `docker run
# --rm` at once all succeed, and afterwards the service holds the same fds
# as before and no child process (bench/api-load.sh is the heavier form).

load helpers
load ../lib/api-helpers

setup() {
	api_setup_busybox
}

teardown() {
	api_teardown
}

# The service's open fds, listed by target, once it has been quiet long
# enough to close its kept store handles (a second or two).
settled_fds() {
	local prev= cur
	for _ in $(seq 20); do
		sleep 0.5
		cur=$(ls -l /proc/"$SVC_PID"/fd | tail -n +2 | awk '{print $NF}' | sed 's/\[.*//' | sort)
		[ "$cur" = "$prev" ] && [ "$(echo "$cur" | grep -c 'kiln.db$')" -eq 0 ] && break
		prev=$cur
	done
	echo "$cur"
}

@test "api load: 100 concurrent lists and 10 concurrent run --rm, no fd or process leaked" {
	docker run --rm busybox true
	before=$(settled_fds)
	d=$BATS_TEST_TMPDIR
	pids=()
	for i in $(seq 50); do
		curl -m 60 -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" \
			'http://d/v1.47/containers/json?all=1' >>"$d/codes" 3>&- &
		pids+=($!)
		curl -m 60 -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" \
			http://d/v1.47/images/json >>"$d/codes" 3>&- &
		pids+=($!)
	done
	for i in $(seq 10); do
		(out=$(timeout 120 docker run --rm busybox echo "run$i" 2>&1)
		 [ "$out" = "run$i" ] && echo ok || echo "fail: $out") >>"$d/runs" 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}"
	[ "$(wc -l <"$d/codes")" -eq 100 ]
	run grep -vc '^200$' "$d/codes"
	[ "$output" = 0 ]
	run grep -c '^ok$' "$d/runs"
	echo "runs: $(cat "$d/runs")"
	[ "$output" = 10 ]
	[ -z "$(kiln ps -aq)" ]
	after=$(settled_fds)
	echo "fds before: $before"
	echo "fds after: $after"
	[ "$before" = "$after" ]
	[ "$(service_children)" -eq 0 ]
}

@test "api: lists see the CLI's changes at once (kept store handles, remembered labels)" {
	d=$BATS_TEST_TMPDIR/lab
	mkdir -p "$d" && echo x >"$d/f" && tar -C "$d" -cf "$d.tar" .
	kiln import -q -c 'LABEL team=blue' "$d.tar" labelled >/dev/null
	for _ in 1 2; do
		run curl -sf --unix-socket "$SOCK" http://d/v1.47/images/json
		[ "$status" -eq 0 ]
		[ "$(echo "$output" | jq -r '.[] | select(.RepoTags[0] | test("labelled")) | .Labels.team')" = blue ]
	done
	kiln tag labelled other:1
	run curl -sf --unix-socket "$SOCK" http://d/v1.47/images/json
	[[ "$output" == *'"localhost/other:1"'* ]]
	kiln rmi -f labelled other:1 >/dev/null
	run curl -sf --unix-socket "$SOCK" http://d/v1.47/images/json
	[[ "$output" != *labelled* ]]
	kiln create --name c1 busybox true >/dev/null
	[ "$(curl -sf --unix-socket "$SOCK" 'http://d/v1.47/containers/json?all=1' | jq -r '.[0].Names[0]')" = /c1 ]
	kiln rm c1 >/dev/null
	[ "$(curl -sf --unix-socket "$SOCK" 'http://d/v1.47/containers/json?all=1')" = '[]' ]
}
