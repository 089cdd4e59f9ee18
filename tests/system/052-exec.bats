#!/usr/bin/env bats
# kiln exec: the container's namespaces, cgroups, capabilities, seccomp
# and user; -e -u -w -i -t -d; exit codes.

bats_require_minimum_version 1.5.0
load helpers


start() {
	kiln import "$(busybox_tar)" bb >/dev/null
	kiln run -d --name ex --hostname exhost --pids-limit 40 "$@" bb sleep 1000 >/dev/null
}

teardown() {
	kiln rm -f ex >/dev/null 2>&1 || true
	remove_store
}

@test "exec runs in the container's PID, UTS and mount namespaces" {
	start
	run kiln exec ex sh -c 'hostname; ps -o pid,comm | grep -c sleep; cat /etc/hostname; ls /proc/1/root >/dev/null && echo ok'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "exhost" ]
	[ "${lines[1]}" = "1" ]
	[ "${lines[2]}" = "exhost" ]
	# PID 1 is the container's init, not the host's.
	run kiln exec ex cat /proc/1/cmdline
	[[ "$output" == sleep* ]]
	# A file written by exec is seen by the container (same rootfs).
	kiln exec ex sh -c 'echo shared > /tmp/f'
	run kiln exec ex cat /tmp/f
	[ "$output" = "shared" ]
}

@test "exec gets the container's capabilities, seccomp filter and cgroups" {
	start --cap-drop CHOWN
	run kiln exec ex grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status
	[[ "$output" == *"CapEff:	00000000800405fa"* ]]
	[[ "$output" == *"CapBnd:	00000000800405fa"* ]]
	[[ "$output" == *"Seccomp:	2"* ]]
	run kiln exec ex sh -c 'unshare -m true'
	[[ "$output" == *"Operation not permitted"* ]]
	# Same pids cgroup as the init: the limit covers exec'd processes.
	init=$(kiln exec ex cat /proc/1/cgroup | grep pids)
	self=$(kiln exec ex cat /proc/self/cgroup | grep pids)
	[ "$init" = "$self" ]
}

@test "exec -e -u -w, and the environment of the container" {
	kiln import -c 'ENV FROMIMAGE=yes' "$(busybox_tar)" bbenv >/dev/null
	kiln run -d --name ex -e RUNVAR=r bbenv sleep 1000 >/dev/null
	run kiln exec -e FOO=bar -e RUNVAR=over ex sh -c 'echo $FOO $RUNVAR $FROMIMAGE $HOME'
	[ "$output" = "bar over yes /root" ]
	run kiln exec -u nobody ex id -u
	[ "$output" = "65534" ]
	run kiln exec -u 1234:5678 ex id
	[[ "$output" == "uid=1234 gid=5678"* ]]
	run kiln exec -w /tmp ex pwd
	[ "$output" = "/tmp" ]
	run kiln exec -u nosuchuser ex true
	[ "$status" -eq 125 ]
	[[ "$output" == *"unable to find user nosuchuser"* ]]
	run kiln exec -w relative ex true
	[ "$status" -eq 125 ]
}

@test "exec exit codes: the command's, 126, 127, 125 on a stopped container" {
	start
	run kiln exec ex sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run -127 kiln exec ex nosuchcommand
	[[ "$output" == *"not found"* ]]
	run -126 kiln exec ex /etc/passwd
	run kiln exec nosuchcontainer true
	[ "$status" -eq 125 ]
	kiln stop -t 0 ex >/dev/null
	run kiln exec ex true
	[ "$status" -eq 125 ]
	[[ "$output" == *"container state improper"* ]]
}

@test "exec -i streams stdin, -t gives a pty, -d returns at once" {
	start
	run bash -c "echo piped | '$KILN_BIN' --root '$KROOT' --runroot '$KRUN' exec -i ex cat"
	[ "$output" = "piped" ]
	# Without -i, stdin is /dev/null.
	run bash -c "echo piped | '$KILN_BIN' --root '$KROOT' --runroot '$KRUN' exec ex cat"
	[ "$output" = "" ]
	run kiln exec -t ex tty
	[[ "$output" == /dev/pts/* ]]
	run kiln exec -d ex sh -c 'sleep 1; echo done > /tmp/d'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	sleep 2
	run kiln exec ex cat /tmp/d
	[ "$output" = "done" ]
}

@test "exec leaves its caller in the host's namespaces: exec_die is journaled, nothing is written into the container" {
	start
	run kiln exec ex sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run kiln events --stream=false --filter event=exec_die --format '{{.Action}} {{.Actor.Attributes.exitCode}}'
	[ "$status" -eq 0 ]
	[ "$output" = "exec_die 3" ]
	# The journal's path, seen from inside the container: absent.
	run kiln exec ex test -e "$KROOT/events.jsonl"
	[ "$status" -eq 1 ]
	# A signal to kiln exec reaches the exec process (the caller's child).
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" exec ex sleep 30 >/dev/null 2>&1 3>&- &
	local pid=$!
	sleep 1
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
}
