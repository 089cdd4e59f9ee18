#!/usr/bin/env bats
# Root networking: the default bridge, published ports, user-defined
# networks with name resolution, and that nothing is left behind (veths,
# nft elements, address claims), also after the monitor is killed.
# (busybox 1.35's wget crashes with -T: not used inside containers.)

bats_require_minimum_version 1.5.0
load helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "bridge networking needs root"
	command -v nft >/dev/null || skip "nft is not installed"
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
	kiln import "$(busybox_tar)" bb >/dev/null
	WWW=$BATS_TEST_TMPDIR/www
	mkdir -p "$WWW"
	echo "hello from kiln" > "$WWW/index.html"
}

teardown() {
	stop_leftover_containers
	for n in $(kiln network ls -q --filter name=kt- 2>/dev/null); do
		kiln network rm -f "$n" >/dev/null 2>&1 || true
	done
	umount_under "$BATS_TEST_TMPDIR"
	remove_store
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# An IPv4 address of this host that is not loopback nor a container bridge.
host_addr() {
	ip -4 -o addr show scope global | awk '$2 !~ /^(kiln|cni|docker|podman|veth|kv)/ {split($4,a,"/"); print a[1]; exit}'
}

# fetch URL: the body, retried while the server starts.
fetch() {
	local i
	for i in $(seq 50); do
		if out=$(wget -qO- -T 2 "$1" 2>/dev/null); then
			echo "$out"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

veths_of() {
	ip -o link show | grep -c "kv${1:0:10}" || true
}

# The kernel removes a container's veth pair with its network namespace,
# in the background: wait (up to 5 s) until it is gone.
no_veths_of() {
	local i
	for i in $(seq 50); do
		[ "$(veths_of "$1")" -eq 0 ] && return 0
		sleep 0.1
	done
	echo "veth of $1 still there:"; ip -o link show | grep "kv${1:0:10}"
	return 1
}

@test "--network none has only lo; the default network has eth0 with an address and a route" {
	run kiln run --rm --network none bb ls /sys/class/net
	[ "$status" -eq 0 ]
	[ "$output" = "lo" ]
	run kiln run --rm bb sh -c 'ls /sys/class/net | tr "\n" " "; ip -4 addr show eth0; ip route'
	[ "$status" -eq 0 ]
	[[ "$output" == "eth0 lo "* ]]
	[[ "$output" == *"inet 10.91.0."* ]]
	[[ "$output" == *"default via 10.91.0.1"* ]]
	# bridge and private are the same network
	run kiln run --rm --network private bb ls /sys/class/net
	[[ "$output" == *eth0* ]]
	run kiln run --rm --network bridge bb grep host.containers.internal /etc/hosts
	[[ "$output" == "10.91.0.1"* ]]
	# --add-host and the container's own address are in its hosts file
	run kiln run --rm --add-host db.example:10.1.2.3 --name hostsctr bb cat /etc/hosts
	[[ "$output" == *"10.1.2.3"*"db.example"* ]]
	[[ "$output" == *"10.91.0."*"hostsctr"* ]]
}

@test "a published port serves the host on 127.0.0.1 and on its own address" {
	port=$(free_port)
	id=$(kiln run -d --name web -p "$port:80" -v "$WWW:/www" bb httpd -f -p 80 -h /www)
	run fetch "http://127.0.0.1:$port/"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from kiln" ]
	addr=$(host_addr)
	if [ -n "$addr" ]; then
		run fetch "http://$addr:$port/"
		[ "$status" -eq 0 ]
		[ "$output" = "hello from kiln" ]
	fi
	run kiln port web
	[ "$output" = "80/tcp -> 0.0.0.0:$port" ]
	run kiln port web 80
	[ "$output" = "0.0.0.0:$port" ]
	run kiln ps --format '{{.Ports}}'
	[ "$output" = "0.0.0.0:$port->80/tcp" ]
	run kiln container inspect web --format '{{json .NetworkSettings.Ports}}'
	[ "$output" = "{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"$port\"}]}" ]
	run kiln container inspect web --format '{{.NetworkSettings.IPAddress}} {{.HostConfig.NetworkMode}}'
	[[ "$output" == "10.91.0."*" bridge" ]]
	[ "$(veths_of "$id")" -eq 1 ]
	nft list map ip kiln tcp_any | grep -q " $port : "
	# The same host port a second time is refused.
	run kiln run --rm -p "$port:80" bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"already allocated"* ]]
	kiln rm -f web
	# Nothing is left: no veth, no nft element, no address claim, no
	# process holding the port.
	no_veths_of "$id"
	! nft list map ip kiln tcp_any | grep -q " $port : "
	[ -z "$(sqlite3 "$KROOT/kiln.db" 'SELECT ip FROM net_attach')" ]
	! grep -rqs "$id" /run/kiln-ipam/
	! ps -eo args | grep -v grep | grep -q "$id"
	run wget -qO- -T 1 "http://127.0.0.1:$port/"
	[ "$status" -ne 0 ]
}

@test "containers reach a published port through the host's address (hairpin NAT)" {
	addr=$(host_addr)
	[ -n "$addr" ] || skip "this host has no address besides loopback"
	mkdir -p "$WWW/cgi-bin"
	printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' \
		> "$WWW/cgi-bin/peer"
	chmod 0755 "$WWW/cgi-bin/peer"
	port=$(free_port)
	id=$(kiln run -d --name web -p "$port:80" -v "$WWW:/www" bb httpd -f -p 80 -h /www)
	run fetch "http://127.0.0.1:$port/"
	[ "$output" = "hello from kiln" ]
	gw=$(kiln network inspect kiln --format '{{(index .IPAM.Config 0).Gateway}}')
	# The container itself: its packet goes back out of the bridge port
	# it came in by (hairpin mode), masqueraded (else it would arrive
	# from its own address).
	run kiln exec web timeout 10 wget -qO- "http://$addr:$port/"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from kiln" ]
	# A peer on the same bridge is masqueraded to the bridge's address,
	# as Podman does: without, its reply would not pass the host's
	# conntrack on a host without br_netfilter.
	run kiln run --rm bb timeout 10 wget -qO- "http://$addr:$port/cgi-bin/peer"
	[ "$status" -eq 0 ]
	[ "$output" = "$gw" ] || [ "$output" = "[::ffff:$gw]" ]
	# and a container on a user-defined network
	kiln network create kt-hairpin >/dev/null
	run kiln run --rm --network kt-hairpin bb timeout 10 wget -qO- "http://$addr:$port/"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from kiln" ]
	kiln rm -f web
	no_veths_of "$id"
	! nft list map ip kiln tcp_any | grep -q " $port : "
}

@test "an older kiln's nft table gets the hairpin rules on the next command, its elements kept" {
	command -v unshare >/dev/null || skip "unshare is not installed"
	# The first version of the table, in a network namespace of its own
	# (the host's table is shared with the tests running beside).
	cat > "$BATS_TEST_TMPDIR/old.nft" <<'NFT'
table ip kiln {
	set nets { type ipv4_addr; flags interval; }
	set bridges { type ifname; }
	set internal { type ifname; }
	map tcp_any { type inet_service : ipv4_addr . inet_service; }
	map udp_any { type inet_service : ipv4_addr . inet_service; }
	map tcp_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }
	map udp_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }
	chain ports {
		dnat ip to ip daddr . tcp dport map @tcp_ip
		dnat ip to ip daddr . udp dport map @udp_ip
		dnat ip to tcp dport map @tcp_any
		dnat ip to udp dport map @udp_any
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump ports
	}
	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local jump ports
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 127.0.0.0/8 oifname @bridges masquerade
		ip saddr @nets ip daddr != @nets masquerade
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname @internal oifname != @internal drop
		oifname @internal iifname != @internal drop
	}
}
add element ip kiln tcp_any { 65000 : 10.99.0.2 . 80 }
NFT
	export KILN_BIN
	run unshare -n sh -c 'nft -f "$1/old.nft" &&
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" run --rm bb true &&
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" run --rm bb true &&
		nft list table ip kiln' sh "$BATS_TEST_TMPDIR"
	[ "$status" -eq 0 ]
	[[ "$output" == *"chain hairpin {"*"ip saddr @nets masquerade"* ]]
	[ "$(grep -c 'ct status dnat jump hairpin' <<<"$output")" = 1 ]
	[[ "$output" == *"65000 : 10.99.0.2 . 80"* ]]
}

@test "-P publishes exposed ports to random host ports; ip-bound and udp mappings" {
	id=$(kiln run -d -P --expose 80 -p 127.0.0.1::8080/udp -v "$WWW:/www" bb httpd -f -p 80 -h /www)
	run kiln port "$id" 80/tcp
	[[ "$output" == "0.0.0.0:"* ]]
	port=${output#0.0.0.0:}
	run fetch "http://127.0.0.1:$port/"
	[ "$output" = "hello from kiln" ]
	run kiln port "$id" 8080/udp
	[[ "$output" == "127.0.0.1:"* ]]
	uport=${output#127.0.0.1:}
	nft list map ip kiln udp_ip | grep -q "127.0.0.1 . $uport : "
	kiln rm -f "$id"
	! nft list map ip kiln udp_ip | grep -q "127.0.0.1 . $uport : "
	! nft list map ip kiln tcp_any | grep -q " $port : "
}

@test "containers on a user-defined network reach each other by name and alias" {
	run kiln network create --label team=a kt-net
	[ "$status" -eq 0 ]
	[ "$output" = "kt-net" ]
	run kiln network ls --format '{{.Name}} {{.Driver}}' --filter name=kt-
	[ "$output" = "kt-net bridge" ]
	run kiln network ls --filter label=team=a -q
	[ -n "$output" ]
	subnet=$(kiln network inspect kt-net --format '{{(index .IPAM.Config 0).Subnet}}')
	[[ "$subnet" == 10.91.*.0/24 ]]
	bridge=$(kiln network inspect kt-net --format '{{index .Options "com.docker.network.bridge.name"}}')
	ip link show "$bridge" >/dev/null
	# masqueraded to the outside like the default network
	nft list set ip kiln nets | grep -q "$subnet"
	nft list set ip kiln bridges | grep -q "\"$bridge\""
	kiln run -d --name srv --network kt-net --network-alias web.alias -v "$WWW:/www" bb httpd -f -p 80 -h /www
	run kiln run --rm --network kt-net bb sh -c 'for i in $(seq 50); do wget -qO- http://srv/ && break; sleep 0.1; done'
	[ "$status" -eq 0 ]
	[ "$output" = "hello from kiln" ]
	run kiln run --rm --network kt-net bb wget -qO- http://web.alias/
	[ "$output" = "hello from kiln" ]
	# A peer that joins later appears in the running container's hosts.
	kiln run -d --name late --network kt-net bb sleep 1000
	run kiln exec srv grep -w late /etc/hosts
	[ "$status" -eq 0 ]
	kiln rm -f late
	run kiln exec srv grep -w late /etc/hosts
	[ "$status" -ne 0 ]
	# The network is in use: rm refuses, inspect lists the container.
	run kiln network inspect kt-net --format '{{len .Containers}}'
	[ "$output" = "1" ]
	run kiln network rm kt-net
	[ "$status" -eq 125 ]
	kiln rm -f srv
	run kiln network rm kt-net
	[ "$status" -eq 0 ]
	run ip link show "$bridge"
	[ "$status" -ne 0 ]
	run kiln network inspect kt-net
	[ "$status" -eq 125 ]
}

@test "network connect and disconnect a running container" {
	kiln network create kt-two >/dev/null
	kiln run -d --name c1 bb sleep 1000
	kiln run -d --name c2 --network kt-two bb sleep 1000
	kiln network connect kt-two c1
	run kiln exec c1 ls /sys/class/net
	[[ "$output" == *eth1* ]]
	run kiln exec c2 grep -cw c1 /etc/hosts
	[ "$output" = "1" ]
	run kiln network connect kt-two c1
	[ "$status" -eq 125 ]
	kiln network disconnect kt-two c1
	run kiln exec c1 ls /sys/class/net
	[[ "$output" != *eth1* ]]
	run kiln exec c2 grep -cw c1 /etc/hosts
	[ "$output" = "0" ]
	kiln rm -f c1 c2 >/dev/null
	run kiln network prune -f
	[[ "$output" == *kt-two* ]]
}

@test "after SIGKILL of the monitor, the next kiln ps cleans the network up" {
	port=$(free_port)
	id=$(kiln run -d -p "$port:80" bb sleep 1000)
	pid=$(kiln container inspect "$id" --format '{{.State.Pid}}')
	monitor=$(ps -o ppid= -p "$pid" | tr -d ' ')
	[ -n "$monitor" ] && [ "$monitor" -gt 1 ]
	kill -9 "$monitor"
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	# The kernel may drop the veth with the namespace; the port and the
	# address stay until kiln notices.
	nft list map ip kiln tcp_any | grep -q " $port : "
	[ -n "$(sqlite3 "$KROOT/kiln.db" 'SELECT ip FROM net_attach')" ]
	run kiln ps -a --format '{{.Names}} {{.State}}'
	[[ "$output" == *exited* ]]
	! nft list map ip kiln tcp_any | grep -q " $port : "
	[ -z "$(sqlite3 "$KROOT/kiln.db" 'SELECT ip FROM net_attach')" ]
	no_veths_of "$id"
	! grep -rqs "$id" /run/kiln-ipam/
}

@test "a container restarts on its network; its MAC follows its address" {
	kiln run -d --name again bb sleep 1000
	run kiln exec again cat /sys/class/net/eth0/address
	[[ "$output" == 02:6b:0a:5b:00:* ]]
	kiln stop -t 0 again
	kiln start again
	run kiln exec again sh -c 'ip -4 addr show eth0; ip route'
	[ "$status" -eq 0 ]
	[[ "$output" == *"inet 10.91.0."* ]]
	[[ "$output" == *"default via 10.91.0.1"* ]]
	[ "$(sqlite3 "$KROOT/kiln.db" 'SELECT count(*) FROM net_attach')" = 1 ]
}

@test "the default subnet comes from containers.conf" {
	conf=$BATS_TEST_TMPDIR/containers.conf
	printf '[network]\ndefault_subnet = "10.92.7.0/24"\n' > "$conf"
	KILN_CONTAINERS_CONF=$conf run kiln run --rm bb sh -c 'ip -4 addr show eth0; ip route'
	# (kiln0 is the host's: the second store's gateway joins it)
	ip addr del 10.92.7.1/24 dev kiln0 2>/dev/null || true
	nft delete element ip kiln nets { 10.92.7.0/24 } 2>/dev/null || true
	[ "$status" -eq 0 ]
	[[ "$output" == *"inet 10.92.7.2/24"* ]]
	[[ "$output" == *"default via 10.92.7.1"* ]]
	run kiln network inspect kiln --format '{{(index .IPAM.Config 0).Subnet}}'
	[ "$output" = "10.92.7.0/24" ]
}

@test "a pod on a user-defined network: its containers share the pod's address" {
	kiln network create kt-pod >/dev/null
	kiln pod create --name kp --network kt-pod >/dev/null
	run kiln run --rm --pod kp bb ip -4 addr show eth0
	[ "$status" -eq 0 ]
	[[ "$output" == *"inet 10.91."* ]]
	kiln pod rm -f kp >/dev/null
	run kiln network rm kt-pod
	[ "$status" -eq 0 ]
}

@test "port and network flags are checked" {
	run kiln run --rm -p 99999:80 bb true
	[ "$status" -eq 125 ]
	run kiln run --rm -p abc bb true
	[ "$status" -eq 125 ]
	run kiln run --rm --network none -p 8080:80 bb true
	[ "$status" -eq 125 ]
	run kiln run --rm --network nosuchnet bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"network not found"* ]]
	run kiln network create --subnet 10.91.0.0/24 kt-clash
	[ "$status" -eq 125 ]
	run kiln network rm kiln
	[ "$status" -eq 125 ]
	[ -z "$(kiln ps -aq)" ]
}
