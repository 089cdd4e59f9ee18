#!/usr/bin/env bats
# --runtime runc: kiln writes an OCI bundle and hands it to runc (the
# built-in runtime stays the default).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	command -v runc >/dev/null || skip "runc is not installed"
	[ "$(id -u)" -eq 0 ] || skip "--runtime is for root only"
	kiln import "$(busybox_tar)" bb >/dev/null
}

teardown() {
	kiln rm -af >/dev/null 2>&1 || true
}

@test "runtime runc: output and exit codes" {
	run kiln run --rm --runtime runc bb echo hi
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
	run -3 kiln run --rm --runtime runc bb sh -c 'exit 3'
	run -127 kiln run --rm --runtime runc bb nosuchcommand
	[[ "$output" == *"nosuchcommand"* ]]
	# the bundle was runc's: its state dir knows the container while it runs
	run kiln run --rm --runtime runc bb sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	[ "$output" = "sh -c cat /proc/1/cmdline | tr \"\\0\" \" \" " ]
}

@test "runtime runc: env, workdir, user, volume, hostname" {
	mkdir -p "$BATS_TEST_TMPDIR/vol"
	echo payload > "$BATS_TEST_TMPDIR/vol/f"
	run kiln run --rm --runtime runc --hostname h1 -e FOO=bar -w /tmp/wd -u 1000:1001 \
		-v "$BATS_TEST_TMPDIR/vol:/v:ro" bb \
		sh -c 'echo $FOO; pwd; id -u; id -g; cat /v/f; hostname; touch /v/x 2>/dev/null || echo ro'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "bar" ]
	[ "${lines[1]}" = "/tmp/wd" ]
	[ "${lines[2]}" = "1000" ]
	[ "${lines[3]}" = "1001" ]
	[ "${lines[4]}" = "payload" ]
	[ "${lines[5]}" = "h1" ]
	[ "${lines[6]}" = "ro" ]
	# Podman's default capability set, and a masked path
	run kiln run --rm --runtime runc bb sh -c 'grep CapBnd /proc/self/status; wc -c < /proc/timer_list; (echo h > /proc/sysrq-trigger) 2>/dev/null || echo ro'
	[[ "${lines[0]}" == *00000000800405fb ]]
	[ "${lines[1]}" = "0" ]
	[ "${lines[2]}" = "ro" ]
}

@test "runtime runc: --network none has only lo" {
	run kiln run --rm --runtime runc --network none bb ls /sys/class/net
	[ "$status" -eq 0 ]
	[ "$output" = "lo" ]
}

@test "runtime runc: detached, inspect, exec, stop, rm" {
	run kiln run -d --runtime runc --name r1 bb sh -c 'echo started; exec sleep 100'
	[ "$status" -eq 0 ]
	run kiln inspect --format '{{.HostConfig.Runtime}} {{.OCIRuntime}} {{.State.Status}}' r1
	[ "$output" = "runc runc running" ]
	run kiln exec r1 cat /proc/1/cmdline
	[[ "$output" == sleep* ]]
	run kiln logs r1
	[ "$output" = "started" ]
	run kiln stop -t 1 r1
	[ "$status" -eq 0 ]
	run kiln inspect --format '{{.State.Status}} {{.State.ExitCode}}' r1
	# (sleep as pid 1 ignores SIGTERM, as with kiln's runtime and runc's)
	[ "$output" = "exited 137" ]
	run kiln rm r1
	[ "$status" -eq 0 ]
	# runc forgot it, and the root is unmounted
	run runc --root "$KRUN/oci-runtime" list -q
	[ -z "$output" ]
	! grep -q "$KROOT" /proc/self/mountinfo
	# the default stays kiln's own
	kiln create --name k1 bb true
	run kiln inspect --format '{{.HostConfig.Runtime}}' k1
	[ "$output" = "kiln" ]
}

@test "runtime runc: create and start" {
	kiln create --runtime runc --name c1 bb sh -c 'exit 4'
	run -4 kiln start -a c1
	run kiln inspect --format '{{.State.ExitCode}} {{.OCIRuntime}}' c1
	[ "$output" = "4 runc" ]
}

@test "runtime: an unknown one is refused with 125" {
	run -125 kiln run --rm --runtime nosuchruntime bb true
	[[ "$output" == *'unknown OCI runtime "nosuchruntime"'* ]]
	run -125 kiln run --rm --runtime /nonexistent/rt bb true
	[[ "$output" == *'"/nonexistent/rt"'* ]]
	run -125 kiln run --rm --runtime runc --init bb true
	[[ "$output" == *"not supported with --runtime"* ]]
	run kiln ps -aq
	[ -z "$output" ]
}

@test "runtime runc: stdin, limits, read-only, restarts" {
	run bash -c "echo abc | '$KILN_BIN' --root '$KROOT' --runroot '$KRUN' run --rm -i --runtime runc bb cat"
	[ "$output" = "abc" ]
	# (v1 hybrid here; v2 elsewhere)
	run kiln run --rm --runtime runc --pids-limit 20 bb sh -c \
		'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'
	[ "$output" = "20" ]
	run kiln run --rm --runtime runc --read-only bb sh -c 'touch /x 2>/dev/null || echo rofs; touch /tmp/y && echo tmpok'
	[ "${lines[0]}" = "rofs" ]
	[ "${lines[1]}" = "tmpok" ]
	kiln run -d --runtime runc --restart on-failure:2 --name rs bb sh -c 'echo run; exit 1'
	for _ in $(seq 50); do
		[ "$(kiln inspect --format '{{.RestartCount}} {{.State.Status}}' rs)" = "2 exited" ] && break
		sleep 0.1
	done
	run kiln logs rs
	[ "${#lines[@]}" -eq 3 ]
}

@test "runtime runc: -t gets a pty from the runtime's console socket" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	run script -qec "'$KILN_BIN' --root '$KROOT' --runroot '$KRUN' run --rm -t --runtime runc bb sh -c 'tty; exit 5'" /dev/null
	[ "$status" -eq 5 ]
	[[ "$output" == */dev/pts/0* ]]
	kiln run -dt --runtime runc --name t1 bb sh -c 'tty; exec sleep 100'
	for _ in $(seq 30); do
		[ -n "$(kiln logs t1)" ] && break
		sleep 0.1
	done
	run kiln logs t1
	[[ "$output" == */dev/pts/0* ]]
}

@test "runtime runc: the default seccomp profile is in the bundle; unconfined has none" {
	run kiln run --rm --runtime runc --cap-add SYS_ADMIN bb \
		sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true 2>&1; echo rc=$?'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Seccomp:	2"* ]]
	[[ "$output" == *"Operation not permitted"* ]]
	[[ "$output" == *"rc=1"* ]]
	run kiln run --rm --runtime runc --security-opt seccomp=unconfined bb \
		grep ^Seccomp: /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$output" == *"Seccomp:	0"* ]]
}

@test "runtime crun: output, exit code and the seccomp profile (skipped where crun cannot run)" {
	command -v crun >/dev/null || skip "crun is not installed"
	run kiln run --rm --runtime crun bb echo hi
	if [ "$status" -ne 0 ] && [[ "$output" == *"hybrid mode not supported"* ]]; then
		skip "crun does not run on this host's hybrid cgroups"
	fi
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
	run -3 kiln run --rm --runtime crun bb sh -c 'exit 3'
	run kiln run --rm --runtime crun --cap-add SYS_ADMIN bb \
		sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true 2>&1; echo rc=$?'
	[[ "$output" == *"Seccomp:	2"* ]]
	[[ "$output" == *"rc=1"* ]]
}
