#!/usr/bin/env bats
# The network of RUN steps: by default a private namespace (lo and eth0 on
# the default bridge network, with outbound access through its NAT), shared
# by the build's steps; --network none (only lo), host (the host's
# interfaces), Docker's spellings (default, bridge), RUN --network; the
# generated /etc/hosts and /etc/resolv.conf never reach a layer; nothing is
# left once the build ends.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "the default bridge network needs root"
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
	kiln import -q "$(busybox_tar)" bb >/dev/null
	CTX=$BATS_TEST_TMPDIR/ctx
	mkdir -p "$CTX"
	SERVER_PID=
}

teardown() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	stop_leftover_containers
	umount_under "$BATS_TEST_TMPDIR"
	remove_store
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# build FILE-CONTENT [flags…]: builds $CTX without the cache, output in $output.
build_with() {
	printf '%s\n' "$1" > "$CTX/Containerfile"
	shift
	run kiln build --no-cache "$@" "$CTX"
}

# Builds $CTX in the background (pid in $pid, output in $BATS_TEST_TMPDIR/out)
# until a step prints the line "started" (10 s at most).
build_until_started() {
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" build --no-cache "$CTX" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	pid=$!
	for i in $(seq 100); do
		grep -qx started "$BATS_TEST_TMPDIR/out" && return 0
		sleep 0.1
	done
}

# step_out K: the first line a STEP K/… printed.
step_out() {
	echo "$output" | awk -v k="STEP $1/" 'found { print; exit } index($0, k) == 1 { found = 1 }'
}

@test "build: RUN steps get a private network by default: lo and eth0 only, reaching a server on the bridge" {
	# The first build creates the default network's bridge.
	build_with 'FROM bb
RUN ls /sys/class/net | tr "\n" " "; echo; ip -4 addr show eth0; ip route'
	[ "$status" -eq 0 ]
	[[ "$output" == *"eth0 lo "* ]]
	[[ "$output" != *kiln0* ]]
	[[ "$output" == *"inet 10.91.0."* ]]
	gw=$(kiln network inspect kiln --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
	[[ "$output" == *"default via $gw"* ]]
	# Outbound: a server the test runs on the bridge's address.
	port=$(free_port)
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www" && echo "served to the build" > "$www/index.html"
	python3 -m http.server --bind "$gw" --directory "$www" "$port" >"$BATS_TEST_TMPDIR/http.log" 2>&1 3>&- &
	SERVER_PID=$!
	build_with "FROM bb
RUN for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO /got http://$gw:$port/index.html && break; sleep 0.3; done; cat /got
RUN cat /got; ip -4 -o addr show eth0"
	[ "$status" -eq 0 ]
	[[ "$output" == *"served to the build"*"served to the build"* ]]
	# Two RUN steps, one namespace: one veth for the build, its address
	# claim dropped at the end.
	ip=$(echo "$output" | sed -n 's/.*inet \(10\.91\.0\.[0-9]*\).*/\1/p' | head -1)
	[ -n "$ip" ]
	[ ! -e "/run/kiln-ipam/kiln0/$ip" ] || ! grep -q '^build-' "/run/kiln-ipam/kiln0/$ip"
	# Docker's spellings of the same network.
	for n in default bridge private; do
		build_with 'FROM bb
RUN ls /sys/class/net | tr "\n" " "' --network "$n"
		[ "$status" -eq 0 ]
		[[ "$output" == *"eth0 lo "* ]]
	done
}

@test "build --network none: only lo, up; host: the host's interfaces" {
	build_with 'FROM bb
RUN ls /sys/class/net; ip -o link show lo' --network none
	[ "$status" -eq 0 ]
	[ "$(step_out 2)" = lo ]
	[[ "$output" == *"lo: <LOOPBACK,UP"* ]]
	[[ "$output" != *eth0* ]]
	# Tests running beside this one add and remove veths and bridges: only
	# the devices present both before and after the build must be seen.
	local before after
	before=$(ls /sys/class/net)
	build_with 'FROM bb
RUN ls /sys/class/net | tr "\n" " "' --network host
	[ "$status" -eq 0 ]
	after=$(ls /sys/class/net)
	for dev in $(comm -12 <(echo "$before" | sort) <(echo "$after" | sort)); do
		[[ "$output" == *"$dev"* ]]
	done
	# podman's alias
	build_with 'FROM bb
RUN echo $(ls /sys/class/net)' --net none
	[ "$status" -eq 0 ]
	[ "$(step_out 2)" = lo ]
	# RUN --network overrides the build's
	build_with 'FROM bb
RUN --network=none echo $(ls /sys/class/net)
RUN --network=host echo $(ls /sys/class/net)
RUN --network=default echo $(ls /sys/class/net)'
	[ "$status" -eq 0 ]
	[ "$(step_out 2)" = lo ]
	[[ "$(step_out 3)" == *"kiln0"* ]]
	[ "$(step_out 4)" = "eth0 lo" ]
}

@test "build --network: an unknown mode is refused before any work" {
	build_with 'FROM bb
RUN touch /x' --network foo
	[ "$status" -eq 125 ]
	[[ "$output" == *"--network foo"* ]]
	[[ "$output" != *"STEP 1"* ]]
}

@test "build: the private network's hosts and resolv.conf are the step's, never in a layer" {
	out=$BATS_TEST_TMPDIR/out
	build_with 'FROM bb
RUN cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo "1.2.3.4 added" >> /etc/hosts
RUN grep -c added /etc/hosts || true' -t netfiles --output "type=local,dest=$out"
	[ "$status" -eq 0 ]
	[[ "$output" == *"127.0.0.1	localhost"* ]]
	[[ "$output" == *"host.containers.internal"* ]]
	[[ "$output" == *"10.91.0."*"	$(hostname)"* ]]
	# the host's resolver configuration
	first_ns=$(grep -m1 '^nameserver' /etc/resolv.conf || true)
	[ -z "$first_ns" ] || [[ "$output" == *"$first_ns"* ]]
	# A step's change to the file does not reach the next step or the image.
	[ "$(step_out 3)" = 0 ]
	[ ! -e "$out/etc/hosts" ]
	[ ! -e "$out/etc/resolv.conf" ]
}

@test "build: a killed build takes its RUN step along; its veth and address claim go" {
	build_with 'FROM bb
RUN true'
	[ "$status" -eq 0 ] # (makes the bridge; the next build is killed)
	# a duration of its own: no other process runs "sleep $secs"
	secs=$((100000 + RANDOM))
	printf 'FROM bb\nRUN ip -4 -o addr show eth0; echo started; exec sleep %s\n' "$secs" > "$CTX/Containerfile"
	build_until_started
	grep -qx started "$BATS_TEST_TMPDIR/out"
	ip=$(sed -n 's/.*inet \(10\.91\.0\.[0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/out" | head -1)
	veth=kb$(printf %x "$pid")
	ip link show "$veth" >/dev/null
	kill -9 "$pid"
	wait "$pid" || true
	# The step (pid 1 of its PID namespace) dies with the build, the
	# namespace with it, and the kernel removes the pair.
	for i in $(seq 50); do
		! pgrep -f "sleep $secs" >/dev/null && ! ip link show "$veth" >/dev/null 2>&1 && break
		sleep 0.1
	done
	run pgrep -f "sleep $secs"
	[ "$status" -ne 0 ]
	run ip link show "$veth"
	[ "$status" -ne 0 ]
	# The claim of a dead build is stale: it blocks no later build.
	[ -n "$ip" ]
	build_with 'FROM bb
RUN ip -4 -o addr show eth0'
	[ "$status" -eq 0 ]
	[[ "$output" == *"inet 10.91.0."* ]]
}

@test "build: an image's /etc symlinked to a host path: the step's mount points are made inside the root only" {
	host=$BATS_TEST_TMPDIR/hostetc
	mkdir -p "$host" "$BATS_TEST_TMPDIR/r"
	tar -C "$BATS_TEST_TMPDIR/r" -xf "$(busybox_tar)"
	rm -rf "$BATS_TEST_TMPDIR/r/etc"
	ln -s "$host" "$BATS_TEST_TMPDIR/r/etc"
	tar -C "$BATS_TEST_TMPDIR/r" -cf "$BATS_TEST_TMPDIR/sym.tar" .
	kiln import -q "$BATS_TEST_TMPDIR/sym.tar" bbsym >/dev/null
	printf 'FROM bbsym\nRUN echo started; sleep 2\n' > "$CTX/Containerfile"
	build_until_started
	# while the step runs: nothing made in the host's directory
	run ls -A "$host"
	wait "$pid"
	grep -qx started "$BATS_TEST_TMPDIR/out"
	[ -z "$output" ]
}
