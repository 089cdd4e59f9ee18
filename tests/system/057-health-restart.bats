#!/usr/bin/env bats
# Health checks (run by the container's monitor, kiln healthcheck run, ps
# and inspect) and restart policies (carried out by the monitor).

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

wait_for() { # wait_for SECONDS COMMAND...
	local n=$(( $1 * 10 )); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

restarts_are() { # NAME "COUNT STATUS"
	[ "$(kiln inspect --format '{{.RestartCount}} {{.State.Status}}' "$1")" = "$2" ]
}

health_is() {
	[ "$(kiln inspect --format '{{.State.Health.Status}}' "$1")" = "$2" ]
}

@test "the monitor runs the health check on its interval; ps and inspect show it" {
	bb
	kiln run -d --name h --health-cmd 'test -e /tmp/ok' --health-interval 1s \
		--health-retries 2 bb sh -c 'touch /tmp/ok; sleep 1000'
	run kiln ps --format '{{.Status}}'
	[[ "$output" == *"(health: starting)"* ]]
	wait_for 10 health_is h healthy
	run kiln ps --format '{{.Names}} {{.Status}}'
	[[ "$output" == "h Up "*"(healthy)" ]]
	run kiln inspect --format '{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}}' h
	[ "$output" = "[CMD-SHELL test -e /tmp/ok] 2" ]
	# failing twice (retries 2) makes it unhealthy
	kiln exec h rm /tmp/ok
	wait_for 10 health_is h unhealthy
	run kiln inspect --format '{{.State.Health.FailingStreak}}' h
	[ "$output" -ge 2 ]
	run kiln ps --format '{{.Status}}'
	[[ "$output" == *"(unhealthy)" ]]
	# kiln healthcheck run: now, exit 1 and "unhealthy"; then healthy again
	run kiln healthcheck run h
	[ "$status" -eq 1 ]
	[ "$output" = "unhealthy" ]
	kiln exec h touch /tmp/ok
	run kiln healthcheck run h
	[ "$status" -eq 0 ]
	health_is h healthy
	run kiln inspect --format '{{range .State.Health.Log}}{{.ExitCode}} {{end}}' h
	[[ "$output" == *"1 0 " ]]
	kiln rm -f h
}

@test "the check's output and a timeout are recorded; the image's HEALTHCHECK is used; --no-healthcheck" {
	bb
	kiln run -d --name slow --health-cmd 'echo out-here; sleep 5' --health-timeout 500ms \
		--health-interval 1h bb sleep 1000
	run kiln healthcheck run slow
	[ "$status" -eq 1 ]
	run kiln inspect --format '{{(index .State.Health.Log 0).Output}}' slow
	[[ "$output" == *"exceeded timeout"* ]]
	kiln run -d --name outp --health-cmd '["echo", "said-this"]' --health-interval 1h bb sleep 1000
	kiln healthcheck run outp
	run kiln inspect --format '{{(index .State.Health.Log 0).Output}}' outp
	[[ "$output" == "said-this"* ]]
	# an image with a HEALTHCHECK
	printf 'FROM bb\nHEALTHCHECK --interval=1s CMD true\n' > "$BATS_TEST_TMPDIR/Containerfile"
	kiln build -q -t hc "$BATS_TEST_TMPDIR" >/dev/null
	kiln run -d --name img hc sleep 1000
	wait_for 10 health_is img healthy
	kiln run -d --name noh --no-healthcheck hc sleep 1000
	run kiln inspect --format '{{json .State}}' noh
	[[ "$output" != *Health* ]]
	run kiln healthcheck run noh
	[ "$status" -eq 125 ]
	[[ "$output" == *"no defined healthcheck"* ]]
	kiln rm -f slow outp img noh
}

@test "--restart on-failure:N restarts a failing container N times, then stops" {
	bb
	kiln run -d --name f --restart on-failure:2 bb sh -c 'echo run; exit 3'
	wait_for 15 restarts_are f "2 exited"
	sleep 1
	run kiln logs f
	[ "$(grep -c '^run$' <<<"$output")" -eq 3 ]
	run kiln inspect --format '{{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' f
	[ "$output" = "3 on-failure 2" ]
	# success is not restarted by on-failure
	kiln run -d --name ok --restart on-failure bb true
	kiln wait ok
	run kiln inspect --format '{{.RestartCount}}' ok
	[ "$output" = "0" ]
	run kiln run --rm --restart always bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"conflicts with --restart"* ]]
}

@test "a foreground run with a restart policy returns the first exit; a detached monitor restarts it" {
	bb
	run kiln run --name fgr --restart on-failure:2 bb sh -c 'echo run; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = "run" ]
	wait_for 15 restarts_are fgr "2 exited"
	sleep 1
	# the two restarts ran under the detached monitor, into the log
	run kiln logs fgr
	[ "$(grep -c '^run$' <<<"$output")" -eq 2 ]
	# no policy, or a success under on-failure: nothing comes back
	run kiln run --name fgok --restart on-failure bb true
	[ "$status" -eq 0 ]
	sleep 0.5
	restarts_are fgok "0 exited"
	kiln rm -f fgr fgok
}

@test "--restart always brings a killed process back; stop ends it for good" {
	bb
	kiln run -d --name a --restart always bb sleep 1000
	pid1=$(kiln inspect --format '{{.State.Pid}}' a)
	kill -9 "$pid1"
	wait_for 10 sh -c "p=\$(\"$KILN_BIN\" --root $KROOT --runroot $KRUN inspect --format '{{.State.Pid}}' a); [ \"\$p\" != 0 ] && [ \"\$p\" != $pid1 ]"
	run kiln inspect --format '{{.State.Status}} {{.RestartCount}}' a
	[ "$output" = "running 1" ]
	kiln stop -t 1 a
	sleep 1
	run kiln inspect --format '{{.State.Status}}' a
	[ "$output" = "exited" ]
	# a new start runs it (and its policy) again
	kiln start a
	run kiln inspect --format '{{.State.Status}} {{.RestartCount}}' a
	[ "$output" = "running 0" ]
	kiln rm -f a
	# no monitor is left behind
	run pgrep -f "sleep 1000"
	[ "$status" -ne 0 ] || ! grep -q "$KROOT" /proc/$output/cmdline 2>/dev/null
}

@test "system restart-containers brings back always/unless-stopped containers after their monitors died" {
	bb
	kiln run -d --name al --restart always bb sleep 1000
	kiln run -d --name us --restart unless-stopped bb sleep 1000
	kiln run -d --name us-stopped --restart unless-stopped bb sleep 1000
	kiln run -d --name plain bb sleep 1000
	kiln stop -t 1 us-stopped
	# a reboot, as the containers see it: monitors and containers killed
	for n in al us plain; do
		pid=$(kiln inspect --format '{{.State.Pid}}' $n)
		mon=$(ps -o ppid= -p "$pid" | tr -d ' ')
		kill -9 "$mon"
	done
	sleep 0.5
	run kiln ps -a --format '{{.Names}} {{.State}}'
	[[ "$output" == *"al exited"* ]]
	[[ "$output" == *"us exited"* ]]
	run kiln system restart-containers
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	run kiln ps --format '{{.Names}}'
	[[ "$output" == *al* ]]
	[[ "$output" == *us* ]]
	[[ "$output" != *us-stopped* ]]
	[[ "$output" != *plain* ]]
	# running ones are left alone
	run kiln system restart-containers
	[ -z "$output" ]
	kiln rm -f al us us-stopped plain
}
