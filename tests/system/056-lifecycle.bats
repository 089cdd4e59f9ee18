#!/usr/bin/env bats
# restart, rename, pause/unpause, container prune, system prune.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "restart stops and starts again, a stopped container too" {
	bb
	kiln run -d --name r1 bb sh -c 'echo started >> /count; sleep 100' >/dev/null
	pid1=$(kiln inspect --format '{{.State.Pid}}' r1)
	run kiln restart -t 0 r1
	[ "$status" -eq 0 ] && [ "${lines[-1]}" = "r1" ]
	[ "$(kiln inspect --format '{{.State.Status}}' r1)" = "running" ]
	pid2=$(kiln inspect --format '{{.State.Pid}}' r1)
	[ "$pid1" != "$pid2" ]
	for i in $(seq 50); do [ "$(kiln exec r1 cat /count | wc -l)" = "2" ] && break; sleep 0.1; done
	run kiln exec r1 cat /count
	[ "$output" = "$(printf 'started\nstarted')" ]
	kiln stop -t 0 r1 >/dev/null
	run kiln restart r1
	[ "$status" -eq 0 ]
	[ "$(kiln inspect --format '{{.State.Status}}' r1)" = "running" ]
	kiln rm -f r1 >/dev/null
	run kiln restart nosuch
	[ "$status" -eq 125 ]
}

@test "rename" {
	bb
	id=$(kiln create --name old bb true)
	run kiln rename old new
	[ "$status" -eq 0 ]
	[ "$(kiln inspect --format '{{.Name}}' "$id")" = "new" ]
	run kiln inspect old
	[ "$status" -ne 0 ]
	kiln create --name other bb true >/dev/null
	run kiln rename new other
	[ "$status" -eq 125 ]
	[[ "$output" == *'the container name "other" is already in use'* ]]
	run kiln rename new 'bad/name'
	[ "$status" -eq 125 ]
}

@test "pause freezes every process, unpause thaws them, stop works on a paused one" {
	bb
	# a busy loop of shell builtins, its progress read from its CPU time
	# (this VM's kernel, 6.18 with the cgroup v1 freezer, sometimes loses a
	# sleeping task's timer wakeup across freeze/thaw, so no sleeps here)
	kiln run -d --name p1 bb sh -c 'while true; do :; done' >/dev/null
	sleep 0.2
	pid=$(kiln inspect --format '{{.State.Pid}}' p1)
	cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
	run kiln pause p1
	[ "$status" -eq 0 ] && [ "$output" = "p1" ]
	[ "$(kiln inspect --format '{{.State.Status}} {{.State.Paused}}' p1)" = "paused true" ]
	run kiln ps --format '{{.Names}} {{.State}} {{.Status}}' --filter status=paused
	[[ "$output" == "p1 paused Up "*" (Paused)" ]]
	id=$(kiln inspect --format '{{.Id}}' p1)
	if [ -d /sys/fs/cgroup/freezer ]; then
		st=$(find /sys/fs/cgroup/freezer -maxdepth 4 -name "kiln-pause-$id" -exec cat {}/freezer.state \;)
		[ "$st" = "FROZEN" ]
		grep -qx "$pid" "$(find /sys/fs/cgroup/freezer -maxdepth 4 -name "kiln-pause-$id")/cgroup.procs"
	fi
	a=$(cpu); sleep 0.3; b=$(cpu)
	[ "$a" = "$b" ]
	run kiln pause p1
	[ "$status" -eq 125 ]
	run kiln unpause p1
	[ "$status" -eq 0 ] && [ "$output" = "p1" ]
	[ "$(kiln inspect --format '{{.State.Status}}' p1)" = "running" ]
	sleep 0.3
	c=$(cpu)
	[ "$c" -gt "$b" ]
	run kiln unpause p1
	[ "$status" -eq 125 ]
	kiln pause p1 >/dev/null
	run kiln stop -t 1 p1
	[ "$status" -eq 0 ]
	[ "$(kiln inspect --format '{{.State.Status}}' p1)" = "exited" ]
	[ -z "$(find /sys/fs/cgroup -maxdepth 5 -name "kiln-pause-$id" 2>/dev/null)" ]
	run kiln pause p1
	[ "$status" -eq 125 ]
}

@test "container prune removes stopped containers only" {
	bb
	kiln create --name c1 bb true >/dev/null
	kiln run --name c2 bb true >/dev/null
	kiln run -d --name c3 bb sleep 100 >/dev/null
	id1=$(kiln inspect --format '{{.Id}}' c1)
	run kiln container prune -f
	[ "${lines[0]}" = "Deleted Containers:" ]
	[[ "$output" == *"$id1"* ]]
	[[ "${lines[-1]}" == "Total reclaimed space: "* ]]
	run kiln ps -a --format '{{.Names}}'
	[ "$output" = "c3" ]
	run kiln container prune <<<"n"
	[ "$status" -eq 0 ]
	kiln rm -f c3 >/dev/null
}

@test "system prune: containers, dangling images, with --volumes anonymous volumes, -a every unused image" {
	bb
	kiln tag bb other >/dev/null
	kiln run --name c1 -v /anon -v named:/n bb true >/dev/null
	kiln run -d --name keep bb sleep 100 >/dev/null
	run kiln system prune -f
	[ "${lines[0]}" = "Deleted Containers:" ]
	[ "$(kiln volume ls -q | wc -l)" = "2" ]
	run kiln system prune -f --volumes
	[[ "$output" != *"Deleted Volumes:"* ]] || [[ "$output" != *named* ]]
	run kiln volume ls -q
	[ "$output" = "named" ]
	kiln rm -f keep >/dev/null
	run kiln system prune -f -a
	[[ "$output" == *"Deleted Images:"* ]]
	run kiln images -q
	[ "$output" = "" ]
}
