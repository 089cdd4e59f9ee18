#!/usr/bin/env bats
# Pods: an infra container (kiln's paused process) holds the network, IPC
# and UTS namespaces its containers join.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "two containers in a pod reach each other on localhost and share the hostname" {
	bb
	run kiln pod create --name web --label tier=front
	[ "$status" -eq 0 ]
	podid=$output
	[[ "$podid" =~ ^[0-9a-f]{64}$ ]]
	echo hello-from-pod > "$BATS_TEST_TMPDIR/index.html"
	kiln run -d --pod web --name srv -v "$BATS_TEST_TMPDIR:/www:ro" bb httpd -f -p 127.0.0.1:8080 -h /www
	run kiln run --rm --pod web bb sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/index.html && break; sleep 0.2; done; hostname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello-from-pod" ]
	[ "${lines[1]}" = "web" ]
	# shared IPC: a POSIX message queue made in one is seen in the other
	kiln run --rm --pod web bb touch /dev/mqueue/shared-q
	run kiln exec srv ls /dev/mqueue
	[ "$output" = "shared-q" ]
	run kiln run --rm bb ls /dev/mqueue
	[ -z "$output" ]
	# a container outside the pod cannot reach it
	run kiln run --rm bb wget -q -T 1 -O - http://127.0.0.1:8080/index.html
	[ "$status" -ne 0 ]
	# ps --pod, --filter pod=
	run kiln ps --pod --format '{{.Names}} {{.PodName}}' --filter pod=web
	[[ "$output" == *"srv web"* ]]
	run kiln ps --pod
	[[ "${lines[0]}" == *"POD ID"*"PODNAME" ]]
	[[ "$output" == *"${podid:0:12}"*"web"* ]]
	run kiln pod ps --format '{{.Name}} {{.Status}} {{.NumberOfContainers}}'
	[ "$output" = "web Running 1" ]
	run kiln pod ps -q
	[ "$output" = "${podid:0:12}" ]
	run kiln pod ps --filter label=tier=front --format '{{.Name}}'
	[ "$output" = "web" ]
	run kiln pod ps --filter label=tier=back --format '{{.Name}}'
	[ -z "$output" ]
	run kiln pod inspect --format '{{.Name}} {{.State}} {{.NumContainers}} {{.SharedNamespaces}}' web
	[ "$output" = "web Running 1 [ipc net uts]" ]
	run kiln pod top web
	[[ "${lines[0]}" == *"COMMAND"*"NAME" ]]
	[[ "$output" == *"httpd"*"srv"* ]]
}

@test "pod stop / start / kill / restart act on all its containers; pod rm -f removes everything" {
	bb
	kiln pod create --name p >/dev/null
	kiln run -d --pod p --name a bb sleep 1000
	kiln run -d --pod p --name b bb sleep 1000
	infra=$(kiln pod inspect --format '{{.InfraContainerID}}' p)
	kiln pod stop -t 1 p
	run kiln ps -a --format '{{.Names}} {{.State}}' --filter pod=p
	[[ "$output" == *"a exited"* ]]
	[[ "$output" == *"b exited"* ]]
	run kiln pod ps --format '{{.Status}}'
	[ "$output" = "Exited" ]
	kiln pod start p
	# the members and the infra
	run kiln ps --format '{{.Names}}' --filter pod=p
	[ "${#lines[@]}" -eq 3 ]
	# the restarted members share the (restarted) infra's network again
	kiln exec a sh -c 'nc -l -p 9000 -e echo pong &'
	sleep 0.3
	run kiln exec b sh -c 'echo | nc 127.0.0.1 9000'
	[ "$output" = "pong" ]
	kiln pod kill p
	sleep 0.5
	run kiln ps --format '{{.Names}}' --filter pod=p
	[ -z "$output" ]
	kiln pod restart p
	run kiln ps --format '{{.Names}}' --filter pod=p
	[ "${#lines[@]}" -eq 3 ]
	run kiln pod rm p
	[ "$status" -eq 125 ]
	[[ "$output" == *"running containers"* ]]
	run kiln pod rm -f p
	[ "$status" -eq 0 ]
	run kiln ps -a -q
	[ -z "$output" ]
	run kiln pod ps -q
	[ -z "$output" ]
	[ ! -e "$KROOT/containers/$infra" ]
	run pgrep -f kiln-pause
	for pid in $output; do ! grep -q "$KROOT" /proc/$pid/cmdline 2>/dev/null || false; done
}

@test "run --pod new:NAME creates the pod; errors are Podman's" {
	bb
	run kiln run --rm --pod new:fresh bb hostname
	[ "$status" -eq 0 ]
	[ "$output" = "fresh" ]
	run kiln pod ps --format '{{.Name}}'
	[ "$output" = "fresh" ]
	run kiln run --rm --pod nosuchpod bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"no pod with name or ID nosuchpod found"* ]]
	run kiln pod create --name fresh
	[ "$status" -eq 125 ]
	[[ "$output" == *"already exists"* ]]
	run kiln run --rm --pod fresh --network host bb true
	[ "$status" -eq 125 ]
	# a pod without an infra shares nothing
	kiln pod create --name loose --infra=false >/dev/null
	run kiln run --rm --pod loose bb hostname
	[ "$status" -eq 0 ]
	[ "$output" != "loose" ]
	run kiln pod create --name bad --infra=false --share net
	[ "$status" -eq 125 ]
	kiln pod rm -f fresh loose
}

@test "ports are published on the pod: the host reaches a member's server" {
	bb
	command -v nft >/dev/null || skip "nft is not installed"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	kiln pod create --name pub -p 127.0.0.1:$port:8080 >/dev/null
	echo published-pod > "$BATS_TEST_TMPDIR/index.html"
	kiln run -d --pod pub -v "$BATS_TEST_TMPDIR:/www:ro" bb httpd -f -p 8080 -h /www
	run sh -c "for i in \$(seq 20); do curl -sf http://127.0.0.1:$port/index.html && exit 0; sleep 0.2; done; exit 1"
	[ "$status" -eq 0 ]
	[ "$output" = "published-pod" ]
	run kiln ps --format '{{.Names}} {{.Ports}}' --filter pod=pub
	[[ "$output" == *"-infra 127.0.0.1:$port->8080/tcp"* ]]
	# a member cannot publish on its own
	run kiln run --rm --pod pub -p 9999:80 bb true
	[ "$status" -eq 125 ]
	kiln pod rm -f pub
	run curl -sf --max-time 1 http://127.0.0.1:$port/index.html
	[ "$status" -ne 0 ]
}
