#!/usr/bin/env bats
# kiln run and the container commands: exit codes, image semantics, the
# detached life cycle, stale states, and isolation seen from inside.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "run prints the output and returns the container's exit code" {
	bb
	run kiln run --rm bb echo hello
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
	run kiln run --rm bb sh -c 'echo out; echo err >&2; exit 7'
	[ "$status" -eq 7 ]
	[[ "$output" == *out* ]] && [[ "$output" == *err* ]]
	# (PID 1 ignores signals it does not handle: its child dies.)
	run kiln run --rm bb sh -c 'sleep 100 & kill -9 $!; wait $!'
	[ "$status" -eq 137 ]
}

@test "exit codes 127, 126 and 125" {
	bb
	run -127 kiln run --rm bb nosuchcommand
	[[ "$output" == *"executable file \`nosuchcommand\` not found in \$PATH"* ]]
	run -126 kiln run --rm bb /etc/passwd
	[[ "$output" == *"Permission denied"* ]]
	run -127 kiln run --rm bb /no/such/file
	run kiln run --rm nosuchimage true
	[ "$status" -eq 125 ]
	run kiln run --rm -w relative bb true
	[ "$status" -eq 125 ]
	run kiln run --rm --bogus bb true
	[ "$status" -eq 125 ]
	# A failed --rm run leaves nothing behind.
	[ -z "$(kiln ps -aq)" ]
}

@test "ENTRYPOINT and CMD merge as Docker does; --entrypoint overrides" {
	kiln import -c 'ENTRYPOINT ["echo", "ep"]' -c 'CMD ["default"]' "$(busybox_tar)" ep >/dev/null
	run kiln run --rm ep
	[ "$output" = "ep default" ]
	run kiln run --rm ep mine too
	[ "$output" = "ep mine too" ]
	# --entrypoint drops the image's CMD as well.
	run kiln run --rm --entrypoint echo ep
	[ "$output" = "" ]
	run kiln run --rm --entrypoint echo ep x y
	[ "$output" = "x y" ]
	run kiln run --rm --entrypoint "" ep echo plain
	[ "$output" = "plain" ]
	kiln import -c 'CMD ["echo", "cmd only"]' "$(busybox_tar)" cmdonly >/dev/null
	run kiln run --rm cmdonly
	[ "$output" = "cmd only" ]
	run kiln run --rm cmdonly echo replaced
	[ "$output" = "replaced" ]
	# No command at all is kiln's error.
	bb
	run kiln run --rm bb
	[ "$status" -eq 125 ]
	[[ "$output" == *"no command or entrypoint provided"* ]]
}

@test "image Env, WorkingDir and User apply; flags override" {
	kiln import -c 'ENV A=img B=img' -c 'WORKDIR /srv/app' -c 'USER nobody' \
		"$(busybox_tar)" cfg >/dev/null
	run kiln run --rm cfg sh -c 'echo $A $B; pwd; id -u; echo $HOME'
	[ "${lines[0]}" = "img img" ]
	[ "${lines[1]}" = "/srv/app" ]
	[ "${lines[2]}" = "65534" ]
	[ "${lines[3]}" = "/home" ]
	printf '# comment\nB=file\n\nC=file\n' > "$BATS_TEST_TMPDIR/env"
	run kiln run --rm -e A=flag --env-file "$BATS_TEST_TMPDIR/env" -w /other -u 0 cfg \
		sh -c 'echo $A $B $C; pwd; id -u'
	[ "${lines[0]}" = "flag file file" ]
	[ "${lines[1]}" = "/other" ]
	[ "${lines[2]}" = "0" ]
	# -e KEY takes the host's value.
	FROMHOST=yes run kiln run --rm -e FROMHOST cfg sh -c 'echo $FROMHOST'
	[ "$output" = "yes" ]
}

@test "-u resolves names from the container's /etc/passwd and /etc/group" {
	bb
	run kiln run --rm -u nobody bb id
	# the primary group is a supplementary one too, as podman run shows
	# (057-interop-run.bats compares it)
	[ "$output" = "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)" ]
	run kiln run --rm -u 1234:5678 bb sh -c 'id -u; id -g'
	[ "${lines[0]}" = "1234" ] && [ "${lines[1]}" = "5678" ]
	run kiln run --rm -u nobody:root bb id -g
	[ "$output" = "0" ]
	run kiln run --rm -u ghost bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"unable to find user ghost"* ]]
	# A non-root user has no capabilities.
	run kiln run --rm -u nobody bb grep CapEff /proc/self/status
	[[ "$output" == *"0000000000000000" ]]
}

@test "--hostname, --name and name conflicts; generated /etc files" {
	bb
	run kiln run --rm --hostname box --name named bb sh -c 'hostname; cat /etc/hostname; grep box /etc/hosts'
	[ "${lines[0]}" = "box" ]
	[ "${lines[1]}" = "box" ]
	[[ "${lines[2]}" == *"box named"* ]]
	kiln create --name taken bb true >/dev/null
	run kiln run --name taken bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *'the container name "taken" is already in use'* ]]
	# The default hostname is the short ID.
	id=$(kiln create bb hostname)
	run kiln start -a "$id"
	[ "$output" = "${id:0:12}" ]
}

@test "detached: run -d, ps, logs, stop, wait, rm" {
	bb
	id=$(kiln run -d --name det bb sh -c 'echo started; echo oops >&2; trap "echo bye; exit 3" TERM; while :; do sleep 0.1; done')
	[[ "$id" =~ ^[0-9a-f]{64}$ ]]
	run kiln ps
	[[ "$output" == *"${id:0:12}"*"Up "*"det"* ]]
	run kiln ps -q --no-trunc
	[ "$output" = "$id" ]
	for i in $(seq 50); do kiln logs det | grep -q started && break; sleep 0.1; done
	run kiln logs det
	[[ "$output" == *started* ]] && [[ "$output" == *oops* ]]
	run kiln logs --tail 1 -t det
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" =~ ^20[0-9-]+T[0-9:.]+Z\  ]]
	grep -Eq '^[0-9T:.Z-]+ stdout F started$' "$KROOT/containers/$id/ctr.log"
	run kiln rm det
	[ "$status" -eq 125 ]
	[[ "$output" == *"cannot remove container $id as it is running"* ]]
	run kiln stop -t 5 det
	[ "$status" -eq 0 ] && [ "$output" = "det" ]
	run kiln wait det
	[ "$output" = "3" ]
	run kiln logs det
	[[ "$output" == *bye* ]]
	run kiln ps -a --format '{{.Names}} {{.State}}'
	[ "$output" = "det exited" ]
	[[ "$(kiln ps -a)" == *"Exited (3)"* ]]
	run kiln inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.Name}}' det
	[ "$output" = "exited 3 det" ]
	kiln rm det
	[ -z "$(kiln ps -aq)" ]
	[ ! -e "$KROOT/containers/$id" ]
}

@test "stop falls back to SIGKILL; kill -s; start again; wait" {
	bb
	kiln run -d --name k bb sh -c 'trap "" TERM; trap "exit 5" USR1; while :; do sleep 0.1; done' >/dev/null
	run kiln stop -t 1 k
	[ "$status" -eq 0 ]
	run kiln wait k
	[ "$output" = "137" ]
	kiln start k >/dev/null
	[[ "$(kiln ps --format '{{.Names}}')" == k ]]
	# (init of a PID namespace only gets the signals it handles)
	kiln kill -s USR1 k
	run kiln wait k
	[ "$output" = "5" ]
	run kiln kill k
	[ "$status" -eq 125 ]
	kiln rm k >/dev/null
}

@test "--rm leaves no row, no directories, no mount" {
	bb
	kiln run --rm bb true
	kiln run -d --rm --name gone bb true >/dev/null
	run kiln wait gone
	[ -z "$(kiln ps -aq)" ]
	[ -z "$(ls "$KROOT/containers" 2>/dev/null)" ]
	[ -z "$(ls "$KRUN/containers" 2>/dev/null)" ]
	! grep -q "$KROOT" /proc/self/mountinfo
}

@test "a SIGKILLed foreground run leaves a state the next ps -a corrects" {
	bb
	# A duration no other test (nor a parallel file) sleeps for.
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" run --name victim bb sleep 100501 &
	pid=$!
	for i in $(seq 50); do [ "$(kiln ps -q)" ] && break; sleep 0.1; done
	[ "$(kiln ps --format '{{.State}}')" = "running" ]
	kill -9 $pid
	wait $pid || true
	run kiln ps -a --format '{{.Names}} {{.State}}'
	[ "$output" = "victim exited" ]
	run kiln inspect --format '{{.State.ExitCode}}' victim
	[ "$output" = "-1" ]
	# The container's process died with its monitor.
	! pgrep -x -f 'sleep 100501' >/dev/null
	kiln rm victim >/dev/null
}

@test "rmi refuses an image a container uses" {
	bb
	id=$(kiln create bb true)
	run kiln rmi bb
	[ "$status" -ne 0 ]
	[[ "$output" == *"container ${id:0:12} is using its referenced image"* ]]
	kiln rm "$id" >/dev/null
	kiln rmi bb >/dev/null
}

@test "isolation: capabilities, PID namespace, masked and read-only paths" {
	bb
	run kiln run --rm bb grep -E '^Cap(Eff|Bnd|Inh)' /proc/self/status
	[ "${lines[0]}" = $'CapInh:\t0000000000000000' ]
	[ "${lines[1]}" = $'CapEff:\t00000000800405fb' ]
	[ "${lines[2]}" = $'CapBnd:\t00000000800405fb' ]
	run kiln run --rm --cap-drop ALL --cap-add NET_ADMIN bb grep CapEff /proc/self/status
	[ "$output" = $'CapEff:\t0000000000001000' ]
	run kiln run --rm --privileged bb grep CapEff /proc/self/status
	[ "$output" != $'CapEff:\t00000000800405fb' ]
	# Only the container's processes are visible.
	run kiln run --rm bb sh -c 'ps -o pid= | wc -l; echo $$'
	[ "${lines[0]}" -le 3 ] && [ "${lines[1]}" = "1" ]
	run kiln run --rm bb sh -c 'echo c > /proc/sysrq-trigger'
	[ "$status" -ne 0 ]
	run kiln run --rm bb sh -c 'cat /proc/kcore | wc -c; ls /sys/firmware | wc -l'
	[ "${lines[0]}" = "0" ] && [ "${lines[1]}" = "0" ]
	run kiln run --rm bb touch /sys/x
	[ "$status" -ne 0 ]
}

@test "seccomp: the default profile forbids unshare with EPERM; unconfined does not" {
	bb
	# CAP_SYS_ADMIN would allow it: only seccomp stands in the way.
	run kiln run --rm --cap-add SYS_ADMIN bb unshare -U true
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	run kiln run --rm --cap-add SYS_ADMIN --security-opt seccomp=unconfined bb unshare -U true
	[ "$status" -eq 0 ]
	run kiln run --rm --cap-add SYS_ADMIN bb sh -c 'mkdir /m && mount -t tmpfs t /m'
	[ "$status" -ne 0 ]
}

@test "--read-only holds, with writable /tmp" {
	bb
	run kiln run --rm --read-only bb touch /etc/x
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	run kiln run --rm --read-only bb touch /tmp/x
	[ "$status" -eq 0 ]
	# Without it, writes land in the container's upper directory.
	id=$(kiln create bb sh -c 'echo data > /written')
	kiln start -a "$id"
	[ "$(cat "$KROOT/containers/$id/upper/written")" = "data" ]
}

@test "--pids-limit contains a fork bomb" {
	bb
	[ -d /sys/fs/cgroup/pids ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || skip "no pids cgroup controller"
	# Tests beside this one make and remove kiln-* cgroups: only this
	# container's (named by its id) must be gone after it.
	run timeout 60 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" run --rm --pids-limit 50 \
		--cidfile "$BATS_TEST_TMPDIR/cid" bb sh -c \
		'sh -c "for i in \$(seq 200); do sleep 5 & done" 2>/dev/null; set -- /proc/[0-9]*; echo $#'
	[ "$status" -eq 0 ]
	[ "$output" -le 50 ]
	cid=$(cat "$BATS_TEST_TMPDIR/cid")
	[ ${#cid} -eq 64 ]
	! ls -d /sys/fs/cgroup/pids/kiln-"$cid" /sys/fs/cgroup/pids/*/kiln-"$cid" /sys/fs/cgroup/kiln-"$cid" 2>/dev/null
}

@test "--memory is enforced where the memory controller is available" {
	bb
	[ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || skip "no memory cgroup controller"
	run kiln run --rm --memory 16m bb sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null || true'
	# Allocating more than the limit gets the container killed.
	run timeout 60 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" run --rm --memory 16m bb \
		sh -c 'x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived ${#x}'
	[ "$status" -eq 137 ]
}
