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
	cp "$KILN_BIN" "$RL_DIR/kiln"
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

@test "rootless: pasta is stopped after the monitor was killed" {
	command -v pasta >/dev/null || skip "pasta is not installed (passt)"
	kr run -d --name k1 bb sleep 100
	local mon
	mon=$(pgrep -u "$RL_USER" -f "kiln run -d --name k1")
	[ -n "$mon" ]
	pgrep -u "$RL_USER" -f "pasta --config-net" >/dev/null
	kill -9 $mon
	sleep 0.3
	kr ps -a >/dev/null
	run pgrep -u "$RL_USER" -f "pasta --config-net"
	[ "$status" -ne 0 ]
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
	kr rm -f ws
	sleep 0.2
	run pgrep -u "$RL_USER" -f "slirp4netns --configure"
	[ "$status" -ne 0 ]
	run kr run --rm --network none bb sh -c 'ls /sys/class/net'
	[ "$status" -eq 0 ] && [ "$output" = lo ]
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
