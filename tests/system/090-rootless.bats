#!/usr/bin/env bats
# Rootless kiln: a temporary user with a subordinate id range (created here,
# removed at the end) runs kiln with its default paths: storage under
# $HOME/.local/share/kiln, state under $XDG_RUNTIME_DIR/kiln.  The user's
# files live in a directory of their own under /tmp (bats' temporary
# directories are root's, mode 0700).

load helpers
load ../lib/registry-helpers

rl_user_add() { # NAME [range]: creates the user, with a subordinate range unless "norange"
	local name=$1 home=$RL_DIR/$1
	useradd -M -d "$home" -s /bin/sh "$name"
	mkdir -p "$home/xdg"
	chmod 0700 "$home/xdg"
	chown -R "$name:" "$home"
	chmod 0755 "$home"
	# useradd may have given a range (SUB_UID_MIN in login.defs): one
	# range of our own, or none.
	sed -i "/^$name:/d" /etc/subuid /etc/subgid
	if [ "${2:-}" != norange ]; then
		echo "$name:$RL_SUB:65536" >> /etc/subuid
		echo "$name:$RL_SUB:65536" >> /etc/subgid
	fi
}

rl_user_del() {
	local name=$1 pid
	# The user's processes (the kiln-pause holder, pasta) end with it.
	for pid in $(pgrep -u "$name" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	sed -i "/^$name:/d" /etc/subuid /etc/subgid
	userdel "$name" 2>/dev/null || true
}

setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root to create a test user"
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (uidmap)"
	export RL_DIR=$(mktemp -d /tmp/kiln-rootless.XXXXXX)
	chmod 0755 "$RL_DIR"
	export RL_USER=kilntest$$ RL_USER2=kilntestn$$
	# A range nobody else uses: above every range in /etc/subuid.
	export RL_SUB=$(awk -F: 'BEGIN{m=300000} {e=$2+$3; if (e>m) m=e} END{print m}' /etc/subuid /etc/subgid)
	rl_user_add "$RL_USER"
	rl_user_add "$RL_USER2" norange
	# KILN_ROOTLESS_BIN: make check's ASan build (see the Makefile's
	# system-asan); env -i in kr leaves LeakSanitizer on.
	cp "${KILN_ROOTLESS_BIN:-$KILN_BIN}" "$RL_DIR/kiln"
	cp "$(busybox_tar)" "$RL_DIR/busybox.tar"
	echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$RL_DIR/policy.json"
	chmod 0755 "$RL_DIR/kiln"
	chmod 0644 "$RL_DIR/busybox.tar" "$RL_DIR/policy.json"
	# pasta and slirp4netns open /dev/net/tun, which is 0666 on a normal
	# host (udev) but 0600 on this one.
	export RL_TUN_MODE=$(stat -c %a /dev/net/tun 2>/dev/null || echo "")
	[ -n "$RL_TUN_MODE" ] && chmod 0666 /dev/net/tun
	kr import -q "$RL_DIR/busybox.tar" bb
}

teardown_file() {
	[ -n "${RL_TUN_MODE:-}" ] && chmod "$RL_TUN_MODE" /dev/net/tun
	[ -n "${RL_USER:-}" ] && rl_user_del "$RL_USER"
	[ -n "${RL_USER2:-}" ] && rl_user_del "$RL_USER2"
	[ -n "${RL_DIR:-}" ] && rm -rf "$RL_DIR"
}

setup() { :; }
teardown() {
	kr rm -af >/dev/null 2>&1 || true
}

# kiln as the test user (or $KR_USER), with a clean environment.
kr() {
	local u=${KR_USER:-$RL_USER}
	runuser -u "$u" -- env -i HOME="$RL_DIR/$u" XDG_RUNTIME_DIR="$RL_DIR/$u/xdg" \
		PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
		KILN_SIGNATURE_POLICY="$RL_DIR/policy.json" \
		CONTAINERS_REGISTRIES_CONF="$RL_DIR/none.conf" "$RL_DIR/kiln" "$@"
}

rl_home() { echo "$RL_DIR/$RL_USER"; }
# gone PID: exited (a zombie whose new parent has not reaped it yet counts)
gone() { [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# no_proc PATTERN: no process of the user's command line matches, within 3 s
no_proc() {
	for _ in $(seq 30); do
		pgrep -u "$RL_USER" -f "$1" >/dev/null || return 0
		sleep 0.1
	done
	! pgrep -u "$RL_USER" -f "$1"
}
# kill_forwarders_monitor: SIGKILLs the monitor of the newest port
# forwarder, whose pid is left in $fwd.
kill_forwarders_monitor() {
	local mon
	fwd=$(pgrep -n -u "$RL_USER" -x kiln-portfwd)
	mon=$(ps -o ppid= -p "$fwd" | tr -d ' ')
	[ -n "$mon" ] && [ "$mon" -gt 1 ]
	kill -9 "$mon"
	for _ in $(seq 20); do gone "$fwd" && break; sleep 0.1; done
}
store() { echo "$(rl_home)/.local/share/kiln"; }

@test "rootless: default paths, the user namespace, kiln unshare" {
	[ -f "$(store)/kiln.db" ]
	[ "$(stat -c %U "$(store)/kiln.db")" = "$RL_USER" ]
	[ -s "$(rl_home)/xdg/kiln/pause.pid" ]
	run kr unshare id -u
	[ "$status" -eq 0 ] && [ "$output" = 0 ]
	run kr unshare cat /proc/self/uid_map
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq "^ *0 +$(id -u "$RL_USER") +1$"
	echo "$output" | grep -Eq "^ *1 +$RL_SUB +65536$"
	run kr unshare sh -c 'echo $CONTAINERS_GRAPHROOT'
	[ "$output" = "$(store)" ]
	# Every command joins the same namespace (one holder).
	local p1=$(cat "$(rl_home)/xdg/kiln/pause.pid")
	kr images >/dev/null
	[ "$(cat "$(rl_home)/xdg/kiln/pause.pid")" = "$p1" ]
	[ "$(readlink /proc/$p1/ns/user)" = "$(kr unshare readlink /proc/self/ns/user)" ]
	run kr info --format '{{.Rootless}} {{.DockerRootDir}}'
	[ "$output" = "true $(store)" ]
	# version and --help stay out of it.
	run kr version
	[ "$status" -eq 0 ]
	# As root, unshare is refused (Podman's message).
	run "$KILN_BIN" unshare true
	[ "$status" -eq 125 ]
	[[ "$output" == *"please use unshare with rootless"* ]]
}

@test "rootless: layers keep their owners as subordinate ids; overlay with userxattr" {
	# busybox' files are root's: the user's own uid on the host.
	local diff=$(ls -d "$(store)"/layers/*/diff | head -1)
	[ "$(stat -c %u "$diff/bin/busybox")" = "$(id -u "$RL_USER")" ]
	run kr run --rm bb sh -c 'grep " / " /proc/mounts'
	[ "$status" -eq 0 ]
	[[ "$output" == *userxattr* ]]
}

@test "rootless: an imported layer's files have the tar's modes, owners (mapped) and mtimes" {
	# Files are created with their final mode and chowned only when the
	# kernel did not already give the wanted owner: every case that tells
	# those apart, under a umask that takes bits away.
	local tar=$(rl_home)/meta.tar st=$(rl_home)/store-meta
	python3 - "$tar" <<'PY'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
rows = [("f644", 0o644, 0, 0), ("f666", 0o666, 0, 0), ("f755", 0o755, 0, 0),
        ("f600", 0o600, 0, 0), ("f4755", 0o4755, 0, 0), ("u1000", 0o644, 1000, 1000),
        ("u0", 0o644, 0, 0), ("sg/", 0o2775, 0, 1000), ("sg/a", 0o644, 0, 1000),
        ("sg/b", 0o644, 0, 0), ("u70000", 0o644, 70000, 70000)]
for i, (name, mode, uid, gid) in enumerate(rows):
    ti = tarfile.TarInfo(name.rstrip("/"))
    ti.mode, ti.uid, ti.gid, ti.mtime = mode, uid, gid, 1500000000 + i
    if name.endswith("/"):
        ti.type = tarfile.DIRTYPE
        t.addfile(ti)
    else:
        ti.size = 3
        t.addfile(ti, io.BytesIO(b"abc"))
t.close()
PY
	chmod 0644 "$tar"
	(umask 077; kr --root "$st" import -q "$tar" meta >/dev/null)
	local diff=$(ls -d "$st"/layers/*/diff) u=$(id -u "$RL_USER") g=$(id -g "$RL_USER")
	local s1000=$((RL_SUB + 999))
	run stat -c '%n %a %u:%g %Y' "$diff"/{f644,f666,f755,f600,f4755,u1000,u0,sg,sg/a,sg/b,u70000}
	[ "$status" -eq 0 ]
	local want="$diff/f644 644 $u:$g 1500000000
$diff/f666 666 $u:$g 1500000001
$diff/f755 755 $u:$g 1500000002
$diff/f600 600 $u:$g 1500000003
$diff/f4755 4755 $u:$g 1500000004
$diff/u1000 644 $s1000:$s1000 1500000005
$diff/u0 644 $u:$g 1500000006
$diff/sg 2775 $u:$s1000 1500000007
$diff/sg/a 644 $u:$s1000 1500000008
$diff/sg/b 644 $u:$g 1500000009
$diff/u70000 644 $u:$g 1500000010"
	[ "$output" = "$want" ] || { diff <(echo "$want") <(echo "$output"); false; }
}

@test "rootless: files a container creates belong to the mapped subordinate ids" {
	local vol=$(rl_home)/vol
	mkdir -p "$vol" && chown "$RL_USER:" "$vol"
	run kr run --name ids -v "$vol:/v" bb sh -c \
		'touch /v/root /mine && touch /v/u1000 /theirs && chown 1000:1001 /v/u1000 /theirs && id -u'
	[ "$status" -eq 0 ] && [ "$output" = 0 ]
	[ "$(stat -c %u:%g "$vol/root")" = "$(id -u "$RL_USER"):$(id -g "$RL_USER")" ]
	[ "$(stat -c %u:%g "$vol/u1000")" = "$((RL_SUB + 999)):$((RL_SUB + 1000))" ]
	local id=$(kr inspect --format '{{.Id}}' ids)
	local up=$(store)/containers/$id/upper
	[ "$(stat -c %u "$up/mine")" = "$(id -u "$RL_USER")" ]
	[ "$(stat -c %u:%g "$up/theirs")" = "$((RL_SUB + 999)):$((RL_SUB + 1000))" ]
	# A non-root container user runs as its subordinate id.
	run kr run --rm -u 1234 bb sh -c 'sleep 5 & sleep 0.2; cat /proc/$!/status | grep ^Uid'
	[ "$status" -eq 0 ]
	[[ "$output" == *1234* ]]
	kr rm ids
	# rm removed files owned by subordinate ids.
	[ ! -e "$up" ]
}

@test "rootless: run -d, exec, logs, stop, rm" {
	run kr run -d --name d1 bb sh -c 'echo started; sleep 100'
	[ "$status" -eq 0 ]
	run kr exec d1 sh -c 'echo in-exec $(id -u)'
	[ "$status" -eq 0 ] && [ "$output" = "in-exec 0" ]
	run kr exec -u 1000 d1 id -u
	[ "$output" = 1000 ]
	run kr logs d1
	[ "$output" = started ]
	run kr stop -t 1 d1
	[ "$status" -eq 0 ]
	run kr ps -a --format '{{.Names}} {{.Status}}'
	[[ "$output" == "d1 Exited"* ]]
	kr rm d1
}

@test "rootless: named volumes" {
	kr volume create v1 >/dev/null
	run kr run --rm -v v1:/data bb sh -c 'echo kept > /data/f && chown 42:42 /data/f'
	[ "$status" -eq 0 ]
	run kr run --rm -v v1:/data bb sh -c 'cat /data/f; stat -c %u /data/f'
	[ "$output" = "kept
42" ]
	kr volume rm v1
}

@test "rootless: build with RUN, whiteouts and owners" {
	local ctx=$(rl_home)/ctx
	mkdir -p "$ctx"
	cat > "$ctx/Containerfile" <<'EOF'
FROM bb
RUN echo data > /f && chown 1000:1000 /f && rm /etc/group && mkdir -p /d/sub && touch /d/sub/x
RUN rm -rf /d && mkdir /d && echo new > /d/y
EOF
	chown -R "$RL_USER:" "$ctx"
	run kr build -q -t built "$ctx"
	[ "$status" -eq 0 ]
	run kr run --rm built sh -c 'cat /f; stat -c %u /f; ls /etc/group 2>&1; ls /d'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == data ]]
	[[ "${lines[1]}" == 1000 ]]
	[[ "${lines[2]}" == *"No such file"* ]]
	[[ "${lines[3]}" == y ]]
	# The layer tar round-trips: save and load into a fresh store.
	run kr save -o "$(rl_home)/built.tar" built
	[ "$status" -eq 0 ]
	run kr --root "$(rl_home)/store2" load -i "$(rl_home)/built.tar"
	[ "$status" -eq 0 ]
	run kr --root "$(rl_home)/store2" run --rm built sh -c 'ls /etc/group 2>&1; stat -c %u /f'
	[[ "${lines[0]}" == *"No such file"* ]]
	[[ "${lines[1]}" == 1000 ]]
}

@test "rootless: build's RUN network: none has only lo; the default is pasta's, or the host's with a warning" {
	local ctx=$(rl_home)/ctxnet
	mkdir -p "$ctx"
	printf 'FROM bb\nRUN echo $(ls /sys/class/net)\n' > "$ctx/Containerfile"
	chown -R "$RL_USER:" "$ctx"
	run kr build --no-cache --network none "$ctx"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\nlo\n'* ]]
	run kr build --no-cache "$ctx"
	[ "$status" -eq 0 ]
	if command -v pasta >/dev/null; then
		# lo and pasta's copy of the host's interface, nothing else
		[[ "$output" != *"kiln0"* ]]
		[[ "$output" == *" lo"* || "$output" == *$'\nlo '* ]]
	else
		[[ "$output" == *"pasta is not installed: RUN steps use the host's network"* ]]
		[[ "$output" == *"$(ls /sys/class/net | head -1)"* ]]
	fi
}

@test "rootless: push to and pull from a local registry" {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	start_registry "$BATS_TEST_TMPDIR/reg"
	run kr push -q --tls-verify=false bb "$REG/rl/bb:v1"
	[ "$status" -eq 0 ]
	run kr --root "$(rl_home)/store3" pull -q --tls-verify=false "$REG/rl/bb:v1"
	stop_registry "$BATS_TEST_TMPDIR/reg"
	[ "$status" -eq 0 ]
	run kr --root "$(rl_home)/store3" run --rm "$REG/rl/bb:v1" echo pulled
	[ "$output" = pulled ]
}

@test "rootless: pasta (default) publishes a port; nothing is left after rm" {
	command -v pasta >/dev/null || skip "pasta is not installed (passt)"
	local www=$(rl_home)/www port
	mkdir -p "$www" && echo hello-rootless > "$www/index.html" && chmod -R a+rX "$www"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run kr run -d --name web -p "127.0.0.1:$port:80" -v "$www:/www" bb httpd -f -p 80 -h /www
	[ "$status" -eq 0 ]
	local body=""
	for _ in $(seq 50); do
		body=$(curl -s "http://127.0.0.1:$port/index.html") && [ -n "$body" ] && break
		sleep 0.1
	done
	[ "$body" = hello-rootless ]
	run kr inspect --format '{{.HostConfig.NetworkMode}}' web
	[ "$output" = pasta ]
	run kr run --rm bb ip -o addr
	[[ "$output" == *eth0* ]] || [[ "$output" == *"inet "*"scope global"* ]]
	kr rm -f web
	# pasta is gone with the container.
	run pgrep -u "$RL_USER" -f "pasta --config-net"
	[ "$status" -ne 0 ]
}

@test "rootless: the network is configured before the container's command runs (IPv4, IPv6)" {
	command -v pasta >/dev/null || skip "pasta is not installed (passt)"
	# pasta configures the namespace while the container sets up its
	# root: the command's first look must already find the routes.
	local i
	for i in 1 2 3; do
		run kr run --rm bb ip -4 route
		[ "$status" -eq 0 ]
		[[ "$output" == *"default via"* ]]
		run kr run --rm --network slirp4netns bb ip -4 route
		[[ "$output" == *"default via"* ]]
	done
	# IPv6 as the host has it (pasta copies the host's addresses).
	if ip -6 route show default | grep -q via; then
		run kr run --rm bb sh -c 'ip -6 route; ip -6 addr'
		[[ "$output" == *"default via"* ]]
		[[ "$output" == *"scope global"* ]]
	fi
}

@test "rootless: pasta is stopped after the monitor was killed" {
	command -v pasta >/dev/null || skip "pasta is not installed (passt)"
	kr run -d --name k1 bb sleep 100
	local mon
	mon=$(pgrep -u "$RL_USER" -f "kiln run -d --name k1")
	[ -n "$mon" ]
	pgrep -u "$RL_USER" -f "pasta --config-net" >/dev/null
	kill -9 $mon
	# pasta is the monitor's child, killed with it (no kiln command
	# needed to find it).
	no_proc "pasta --config-net"
	kr ps -a >/dev/null
}

@test "rootless: pasta with published ports: bound when run -d returns; a taken port is an error" {
	command -v pasta >/dev/null || skip "pasta is not installed (passt)"
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	kr run -d --name pp -p "127.0.0.1:$port:80" bb sleep 100
	# pasta's listener takes the connection at once: run waited for
	# the ports, not only for the namespace's routes.
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), timeout=2)"
	# The same port again: it cannot be bound.
	run kr run --rm -p "127.0.0.1:$port:80" bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"port $port"*"in use"* ]]
	# The same for a UDP port, which is pasta's.
	python3 -c "import socket, time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $port)); time.sleep(30)" &
	local holder=$!
	sleep 0.3
	run kr run --rm -p "127.0.0.1:$port:80/udp" bb true
	kill $holder
	[ "$status" -eq 125 ]
	[[ "$output" == *"pasta"*"$port"* ]]
	kr rm -f pp
	run pgrep -u "$RL_USER" -f "pasta --config-net"
	[ "$status" -ne 0 ]
}

@test "rootless: pasta's TCP ports are kiln's splice forwarder's: the host's address too; gone after rm and with the monitor" {
	command -v pasta >/dev/null || skip "pasta is not installed (passt)"
	local www=$(rl_home)/www3 port addr fwd mon
	addr=$(ip -4 -o addr show scope global | awk '$2 !~ /^(kiln|cni|docker|podman|veth|kv)/ {split($4,a,"/"); print a[1]; exit}')
	[ -n "$addr" ] || skip "this host has no address besides loopback"
	mkdir -p "$www/cgi-bin" && echo hello-fwd > "$www/index.html"
	printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' \
		> "$www/cgi-bin/peer"
	chmod -R a+rX "$www" && chmod 0755 "$www/cgi-bin/peer"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	kr run -d --name fw -p "$port:80" -v "$www:/www" bb httpd -f -p 80 -h /www
	run curl -s --retry 20 --retry-connrefused --retry-delay 0 "http://127.0.0.1:$port/index.html"
	[ "$output" = hello-fwd ]
	run curl -s -m 10 "http://$addr:$port/index.html"
	[ "$output" = hello-fwd ]
	# Through the forwarder, not pasta's tap: the client is the
	# container's loopback (as with Podman's rootlessport).
	run curl -s -m 10 "http://$addr:$port/cgi-bin/peer"
	[ "$output" = 127.0.0.1 ] || [ "$output" = "[::ffff:127.0.0.1]" ]
	fwd=$(pgrep -n -u "$RL_USER" -x kiln-portfwd)
	[ -n "$fwd" ]
	kr rm -f fw
	for _ in $(seq 20); do gone "$fwd" && break; sleep 0.1; done
	gone "$fwd"
	# no listener left (connections may wait in TIME_WAIT)
	python3 -c "import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', $port)); s.listen()"
	# The forwarder dies with its monitor.
	kr run -d --name fw2 -p "$port:80" bb sleep 100
	kill_forwarders_monitor
	gone "$fwd"
	kr ps -a >/dev/null
	# A restarted container's forwarder binds the ports again; the
	# monitor reaps the last one's.
	kr run -d --name fw3 --restart always -p "$port:80" bb sh -c 'sleep 0.3; exit 1'
	fwd=$(pgrep -n -u "$RL_USER" -x kiln-portfwd)
	mon=$(ps -o ppid= -p "$fwd" | tr -d ' ')
	for _ in $(seq 50); do
		[ "$(kr inspect --format '{{.RestartCount}}' fw3)" -ge 3 ] && break
		sleep 0.1
	done
	[ "$(kr inspect --format '{{.RestartCount}}' fw3)" -ge 3 ]
	run sh -c "ps -o stat=,comm= --ppid $mon | grep kiln-portfwd"
	[[ "$output" != *Z* ]]
	[[ "$output" == *kiln-portfwd* ]] || [ "$(kr inspect --format '{{.State.Running}}' fw3)" = false ]
	kr rm -f fw3
}

@test "rootless: slirp4netns publishes a port; --network none has only lo" {
	command -v slirp4netns >/dev/null || skip "slirp4netns is not installed"
	local www=$(rl_home)/www2 port
	mkdir -p "$www" && echo via-slirp > "$www/index.html" && chmod -R a+rX "$www"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run kr run -d --name ws --network slirp4netns -p "$port:80" -v "$www:/www" bb httpd -f -p 80 -h /www
	[ "$status" -eq 0 ]
	local body=""
	for _ in $(seq 50); do
		body=$(curl -s "http://127.0.0.1:$port/index.html") && [ -n "$body" ] && break
		sleep 0.1
	done
	[ "$body" = via-slirp ]
	# TCP through kiln's forwarder (as Podman's rootlessport), not
	# slirp4netns' user-mode TCP
	pgrep -u "$RL_USER" -x kiln-portfwd >/dev/null
	kr rm -f ws
	sleep 0.2
	run pgrep -u "$RL_USER" -f "slirp4netns --configure"
	[ "$status" -ne 0 ]
	run kr run --rm --network none bb sh -c 'ls /sys/class/net'
	[ "$status" -eq 0 ] && [ "$output" = lo ]
	# The forwarder holds slirp4netns' --exit-fd: both go with a killed
	# monitor.
	local fwd
	kr run -d --name ws2 --network slirp4netns -p "$port:80" -p "$port:80/udp" bb sleep 100
	kill_forwarders_monitor
	no_proc "slirp4netns --configure"
	gone "$fwd"
	kr ps -a >/dev/null
}

@test "rootless: /dev/net/tun unusable gives a clear error" {
	chmod 0600 /dev/net/tun
	run kr run --rm --network pasta bb true
	chmod 0666 /dev/net/tun
	[ "$status" -eq 125 ]
	[[ "$output" == *"/dev/net/tun"* ]]
	[[ "$output" == *"--network none"* ]]
}

@test "rootless: resource limits on cgroup v1 are warned about and ignored" {
	[ -d /sys/fs/cgroup/memory ] || skip "not a cgroup v1 host"
	run kr run --rm --memory 64m bb echo ran
	[ "$status" -eq 0 ]
	[[ "$output" == *"Resource limits are not supported and ignored on cgroups V1 rootless"* ]]
	[[ "$output" == *ran ]]
}

@test "rootless: a user without subordinate ids gets a one-id mapping and a warning" {
	KR_USER=$RL_USER2 run kr import -q "$RL_DIR/busybox.tar" bb
	[ "$status" -eq 0 ]
	[[ "$output" == *"no subordinate ids for user $RL_USER2"* ]]
	KR_USER=$RL_USER2 run kr unshare cat /proc/self/uid_map
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	# The warning is given once, when the namespace is made.
	KR_USER=$RL_USER2 run kr run --rm bb id -u
	[ "$status" -eq 0 ] && [ "$output" = 0 ]
}

@test "rootless: --userns keep-id, nomap, auto and --uidmap" {
	local uid=$(id -u "$RL_USER") gid=$(id -g "$RL_USER")
	run kr run --rm --network none --userns keep-id bb sh -c 'id -u; id -g; stat -c %u /bin/busybox'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$uid" ] && [ "${lines[1]}" = "$gid" ]
	# The image's root files stay root's inside (a chowned copy).
	[ "${lines[2]}" = 0 ]
	# A file the user writes through a volume is the user's on the host.
	local vol=$(rl_home)/kvol
	mkdir -p "$vol" && chown "$RL_USER:" "$vol"
	kr run --rm --network none --userns keep-id -v "$vol:/v" bb touch /v/mine
	[ "$(stat -c %u "$vol/mine")" = "$uid" ]
	run kr run --rm --network none --userns nomap bb cat /proc/self/uid_map
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq "^ *0 +1 +65536$"
	run kr run --rm --network none --userns auto:size=2000 bb sh -c 'cat /proc/self/uid_map; touch /w && echo w'
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq "^ *0 +1 +2000$"
	[[ "$output" == *w ]]
	run kr run --rm --network none --uidmap 0:100:5000 bb cat /proc/self/uid_map /proc/self/gid_map
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -Ec "^ *0 +100 +5000$")" = 2 ]
	# exec joins the container's own user namespace.
	kr run -d --name kx --network none --userns keep-id bb sleep 100 >/dev/null
	run kr exec kx id -u
	[ "$output" = "$uid" ]
	run kr diff kx
	[ "$status" -eq 125 ]
	[[ "$output" == *"full copy"* ]]
	run kr run --rm --userns bogus bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid --userns"* ]]
}

@test "rootless: the vfs storage driver (no overlay mount)" {
	local r=$(rl_home)/vfs
	kr --root "$r" --storage-driver vfs import -q "$RL_DIR/busybox.tar" bb >/dev/null
	run kr --root "$r" --storage-driver vfs run --name v1 --network none bb sh -c \
		'grep -c " overlay " /proc/mounts; echo x > /made; chown 7:7 /made'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	local id=$(kr --root "$r" --storage-driver vfs inspect --format '{{.Id}}' v1)
	[ "$(stat -c %u "$r/containers/$id/rootfs/made")" = "$((RL_SUB + 6))" ]
	run kr --root "$r" --storage-driver vfs start -a v1
	[ "$status" -eq 0 ]
	kr --root "$r" --storage-driver vfs rm v1
	[ ! -e "$r/containers/$id" ]
	# storage.conf's driver = "vfs" does the same.
	mkdir -p "$(rl_home)/.config/kiln"
	printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\n' "$r" > "$(rl_home)/.config/kiln/storage.conf"
	chown -R "$RL_USER:" "$(rl_home)/.config"
	run kr run --rm --network none bb sh -c 'grep -c " overlay " /proc/mounts'
	rm -rf "$(rl_home)/.config"
	[ "$output" = 0 ]
}

@test "root: --uidmap and --subuidname run the container in a user namespace of its own" {
	local r=$BATS_TEST_TMPDIR/rootstore
	"$KILN_BIN" --root "$r/root" --runroot "$r/run" import -q "$(busybox_tar)" bb >/dev/null
	run "$KILN_BIN" --root "$r/root" --runroot "$r/run" run --name um --uidmap 0:200000:65536 bb \
		sh -c 'cat /proc/self/uid_map; id -u; stat -c %u /bin/busybox; touch /mine; touch /u5; chown 5:6 /u5'
	[ "$status" -eq 0 ]
	echo "${lines[0]}" | grep -Eq "^ *0 +200000 +65536$"
	[ "${lines[1]}" = 0 ] && [ "${lines[2]}" = 0 ]
	local id=$("$KILN_BIN" --root "$r/root" --runroot "$r/run" inspect --format '{{.Id}}' um)
	[ "$(stat -c %u "$r/root/containers/$id/rootfs/mine")" = 200000 ]
	[ "$(stat -c %u:%g "$r/root/containers/$id/rootfs/u5")" = 200005:200006 ]
	run "$KILN_BIN" --root "$r/root" --runroot "$r/run" run --rm --network none --subuidname "$RL_USER" bb \
		cat /proc/self/uid_map
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq "^ *0 +$RL_SUB +65536$"
	run "$KILN_BIN" --root "$r/root" --runroot "$r/run" run --rm --userns keep-id bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"only supported in rootless mode"* ]]
	"$KILN_BIN" --root "$r/root" --runroot "$r/run" rm um
	wait_syncer "$r/root"
	rm -rf "$r"
}
