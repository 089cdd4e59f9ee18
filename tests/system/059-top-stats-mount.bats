#!/usr/bin/env bats
# kiln top, kiln stats --no-stream, kiln mount / unmount.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "top lists the container's processes with Podman's descriptors" {
	bb
	kiln run -d --name t bb sh -c 'sleep 1000 & exec sleep 2000'
	run kiln top t
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^USER\ +PID\ +PPID\ +%CPU\ +ELAPSED\ +TTY\ +TIME\ +COMMAND$ ]]
	[[ "${lines[1]}" =~ ^root\ +1\ +0\ +.*sleep\ 2000$ ]]
	[[ "${lines[2]}" =~ ^root\ +2\ +1\ +.*sleep\ 1000$ ]]
	[ "${#lines[@]}" -eq 3 ]
	run kiln top t pid,comm hpid
	[[ "${lines[0]}" =~ ^PID\ +COMMAND\ +HPID$ ]]
	hpid=$(awk 'NR==2 {print $3}' <<<"$output")
	[ "$(cat /proc/$hpid/comm)" = sleep ]
	# ps options (or anything not a descriptor): the container's own ps
	# runs them, as Podman does
	run kiln top t -o pid,comm
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ PID\ +COMMAND ]]
	[[ "$output" == *"sleep"* ]]
	kiln create --name idle bb true
	run kiln top idle
	[ "$status" -eq 125 ]
	[[ "$output" == *"running containers"* ]]
	kiln rm -f t
}

@test "stats --no-stream: memory against the limit, pids, format" {
	bb
	kiln run -d --name lim -m 64m --pids-limit 20 bb sh -c 'sleep 1000 & sleep 1000 & exec sleep 1000'
	kiln run -d --name free bb sleep 1000
	run kiln stats --no-stream
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT\ +MEM\ %\ +NET\ I/O\ +BLOCK\ I/O\ +PIDS$ ]]
	[ "${#lines[@]}" -eq 3 ]
	run kiln stats --no-stream --format '{{.Name}}|{{.MemUsage}}|{{.PIDs}}' lim
	[[ "$output" =~ ^lim\|[0-9.]+[KM]i?B\ /\ 64MiB\|3$ ]]
	run kiln stats --no-stream --format '{{.Name}} {{.PIDs}}' free
	[ "$output" = "free 1" ]
	# a busy container shows CPU use
	kiln run -d --name busy bb sh -c 'while :; do :; done'
	sleep 1
	run kiln stats --no-stream --format '{{.CPUPerc}}' busy
	pct=${output%\%}
	[ "${pct%%.*}" -ge 10 ]
	run kiln stats --no-stream --format json busy
	[[ "$output" == *'"Name": "busy"'* ]]
	kiln rm -f lim free busy
}

@test "mount prints the merged dir, is counted, and unmount undoes it" {
	bb
	kiln create --name m bb sh -c 'cat /from-host'
	run kiln mount m
	[ "$status" -eq 0 ]
	dir=$output
	[ -x "$dir/bin/busybox" ]
	mountpoint -q "$dir"
	# a second mount counts; the listing shows it
	kiln mount m >/dev/null
	run kiln mount
	[[ "$output" == *"$dir"* ]]
	echo written-on-host > "$dir/from-host"
	# the container runs on that mount and sees the file
	run kiln start -a m
	[ "$output" = "written-on-host" ]
	kiln unmount m
	mountpoint -q "$dir"
	kiln unmount m
	run mountpoint -q "$dir"
	[ "$status" -ne 0 ]
	run kiln mount
	[ -z "$output" ]
	# the file stays in the container's upper dir
	run kiln start -a m
	[ "$output" = "written-on-host" ]
	# rm of a mounted container unmounts it first
	kiln mount m
	kiln rm m
	run mountpoint -q "$dir"
	[ "$status" -ne 0 ]
	# --all
	kiln create --name a1 bb true
	kiln create --name a2 bb true
	kiln mount a1 a2
	run kiln umount --all
	[ "${#lines[@]}" -eq 2 ]
	[ -z "$(kiln mount)" ]
}
