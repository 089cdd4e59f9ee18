#!/usr/bin/env bats
# run/create flags: --dns*, --add-host, --shm-size, --ulimit, --group-add,
# --init, --cidfile, --device, --rootfs, --log-driver, --log-opt, --pull,
# --runtime (kiln; external ones in 057-runtime-runc.bats), --memory-swap, --restart parsing.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "--dns, --dns-search, --dns-option replace the host's resolver lines" {
	bb
	run kiln run --rm --dns 10.1.2.3 --dns 10.1.2.4 --dns-search example.com \
		--dns-option ndots:2 bb cat /etc/resolv.conf
	[ "$status" -eq 0 ]
	[[ "$output" == *"nameserver 10.1.2.3"* ]]
	[[ "$output" == *"nameserver 10.1.2.4"* ]]
	[[ "$output" == *"search example.com"* ]]
	[[ "$output" == *"options ndots:2"* ]]
	# the host's own nameserver lines are gone
	[ "$(grep -c '^nameserver' <<<"$output")" -eq 2 ]
	run kiln run --rm --dns not-an-ip bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"not an ip address"* ]]
}

@test "--add-host adds /etc/hosts entries, also on a read-only root" {
	bb
	run kiln run --rm --add-host db:10.0.0.5 --add-host cache=fd00::1 bb cat /etc/hosts
	[ "$status" -eq 0 ]
	[[ "$output" == *"10.0.0.5	db"* ]]
	[[ "$output" == *"fd00::1	cache"* ]]
	run kiln run --rm --read-only --add-host db:10.0.0.5 bb grep -w db /etc/hosts
	[ "$output" = "10.0.0.5	db" ]
	run kiln run --rm --add-host nocolon bb true
	[ "$status" -eq 125 ]
	run kiln create --add-host db:10.0.0.5 --dns 10.9.9.9 --name keep bb true
	[ "$status" -eq 0 ]
	kiln start -a keep
	run kiln start -a keep
	run kiln run --rm bb cat /etc/hosts
	[[ "$output" != *db* ]]
}

@test "--shm-size sizes /dev/shm" {
	bb
	run kiln run --rm --shm-size 16m bb df -k /dev/shm
	[ "$status" -eq 0 ]
	[[ "$output" == *" 16384 "* ]]
	run kiln run --rm bb df -k /dev/shm
	[[ "$output" == *" 65536 "* ]]
	run kiln run --rm --shm-size lots bb true
	[ "$status" -eq 125 ]
}

@test "--ulimit sets the limits; a bad one is refused before anything runs" {
	bb
	run kiln run --rm --ulimit nofile=100:200 bb sh -c 'ulimit -n; ulimit -Hn'
	[ "$status" -eq 0 ]
	[ "$output" = $'100\n200' ]
	run kiln run --rm --ulimit nproc=50 bb sh -c 'ulimit -u'
	[ "$output" = "50" ]
	run kiln run --rm --ulimit bogus=1 bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid ulimit"* ]]
	run kiln run --rm --ulimit nofile=300:200 bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"soft limit must be less"* ]]
}

@test "--group-add adds supplementary groups by name and number" {
	bb
	run kiln run --rm --group-add 1234 --group-add nogroup bb id -G
	[ "$status" -eq 0 ]
	[[ " $output " == *" 1234 "* ]]
	ng=$(kiln run --rm bb sh -c 'grep ^nogroup: /etc/group | cut -d: -f3')
	[[ " $output " == *" $ng "* ]]
	run kiln run --rm --group-add nosuchgroup bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"unable to find group nosuchgroup"* ]]
}

@test "--init: pid 1 is an init that reaps orphans and passes signals and the exit code" {
	bb
	run kiln run --rm --init bb sh -c 'cat /proc/1/comm; echo $$'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "kiln-init" ]
	[ "${lines[1]}" != "1" ]
	run kiln run --rm --init bb sh -c 'exit 7'
	[ "$status" -eq 7 ]
	# an orphaned zombie is reaped by the init
	run kiln run --rm --init bb sh -c '(sleep 0.2 &) ; sleep 1; ps -o stat,comm | grep -c "^Z" || true'
	[ "${lines[-1]}" = "0" ]
	# stop's SIGTERM reaches the command through the init
	kiln run -d --init --name initsig bb sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'
	sleep 0.5
	kiln stop -t 5 initsig
	run kiln inspect --format '{{.State.ExitCode}}' initsig
	[ "$output" = "42" ]
	run -127 kiln run --rm --init bb nosuchcmd
	[ "$status" -eq 127 ]
}

@test "--cidfile writes the ID and refuses an existing file" {
	bb
	cid="$BATS_TEST_TMPDIR/cid"
	run kiln create --cidfile "$cid" bb true
	[ "$status" -eq 0 ]
	[ "$(cat "$cid")" = "$output" ]
	run kiln run --cidfile "$cid" bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"container id file found"* ]]
}

@test "--device makes a host device node usable in the container" {
	bb
	run kiln run --rm --device /dev/zero:/dev/myzero bb sh -c 'head -c 4 /dev/myzero | od -An -tx1'
	[ "$status" -eq 0 ]
	[[ "$output" == *"00 00 00 00"* ]]
	run kiln run --rm --device /etc/passwd bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"not a device node"* ]]
}

@test "--rootfs runs an exploded root filesystem" {
	root="$BATS_TEST_TMPDIR/rootfs"
	mkdir -p "$root"
	tar -xf "$(busybox_tar)" -C "$root"
	run kiln run --rm --rootfs "$root" sh -c 'echo hi > /made-here; cat /etc/hostname >/dev/null; echo ok'
	[ "$status" -eq 0 ]
	[ "$output" = "ok" ]
	[ -f "$root/made-here" ]
	run kiln run --rm --rootfs "$BATS_TEST_TMPDIR/nothing" true
	[ "$status" -eq 125 ]
}

@test "--log-driver none keeps no log; --log-opt max-size bounds the log" {
	bb
	kiln run -d --name nolog --log-driver none bb echo hello
	kiln wait nolog
	run kiln logs nolog
	[ "$status" -eq 125 ]
	[[ "$output" == *"'none' log driver"* ]]
	kiln run -d --name small --log-opt max-size=2k bb sh -c 'i=0; while [ $i -lt 500 ]; do echo line-$i; i=$((i+1)); done'
	kiln wait small
	size=$(stat -c %s "$KROOT"/containers/$(kiln inspect --format '{{.Id}}' small)/ctr.log)
	[ "$size" -le 2048 ]
	run kiln logs small
	[[ "$output" == *"line-499"* ]]
	run kiln run --rm --log-driver syslog bb true
	[ "$status" -eq 125 ]
}

@test "--pull never refuses a missing image; --runtime kiln, a missing runtime refused" {
	bb
	run kiln run --rm --pull never nosuchimage true
	[ "$status" -eq 125 ]
	[[ "$output" == *"image not known"* ]]
	run kiln run --rm --pull never bb true
	[ "$status" -eq 0 ]
	run kiln run --rm --runtime kiln bb true
	[ "$status" -eq 0 ]
	run kiln run --rm --runtime /nonexistent/crun bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *'OCI runtime "/nonexistent/crun"'* ]]
}

@test "--memory-swap needs --memory; --restart is checked" {
	bb
	run kiln run --rm --memory-swap 64m bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"memory limit"* ]]
	run kiln run --rm --restart sometimes bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid restart policy"* ]]
}

@test "containers.conf ([containers]) gives run its defaults; flags win" {
	bb
	conf="$BATS_TEST_TMPDIR/containers.conf"
	cat > "$conf" <<'CONF'
[containers]
default_capabilities = ["CHOWN", "KILL"]
env = ["FROM_CONF=yes", "PATH=/nowhere"]
default_ulimits = ["nofile=300:400"]
dns_servers = ["10.7.7.7"]
dns_searches = ["conf.example"]
shm_size = "8m"
init = true
log_driver = "none"
CONF
	export KILN_CONTAINERS_CONF="$conf"
	run kiln run --rm bb sh -c 'grep ^CapEff /proc/self/status; echo $FROM_CONF; ulimit -n; grep nameserver /etc/resolv.conf; grep search /etc/resolv.conf; df -k /dev/shm | tail -1; cat /proc/1/comm'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "CapEff:	0000000000000021" ]
	[ "${lines[1]}" = "yes" ]
	[ "${lines[2]}" = "300" ]
	[ "${lines[3]}" = "nameserver 10.7.7.7" ]
	[ "${lines[4]}" = "search conf.example" ]
	[[ "${lines[5]}" == *" 8192 "* ]]
	[ "${lines[6]}" = "kiln-init" ]
	# the image's PATH stays above the configured env
	run kiln run --rm bb sh -c 'echo $PATH'
	[[ "$output" != "/nowhere" ]]
	# flags win
	run kiln run --rm --ulimit nofile=100:200 --dns 10.8.8.8 -e FROM_CONF=flag bb sh -c 'ulimit -n; grep nameserver /etc/resolv.conf; echo $FROM_CONF'
	[ "${lines[0]}" = "100" ]
	[ "${lines[1]}" = "nameserver 10.8.8.8" ]
	[ "${lines[2]}" = "flag" ]
	kiln run -d --name nolog bb echo hi
	kiln wait nolog
	run kiln logs nolog
	[ "$status" -eq 125 ]
	# a broken file is an error, not ignored
	echo '[containers' > "$conf"
	run kiln run --rm bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"containers.conf"* ]]
	echo 'containers = 1' > "$conf"
	printf '[containers]\nlog_driver = "syslog"\n' > "$conf"
	run kiln run --rm bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"log_driver"* ]]
}

@test "containers.conf: Podman's CONTAINERS_CONF and CONTAINERS_CONF_OVERRIDE merge key by key" {
	bb
	printf '[containers]\nenv = ["A=base"]\ndefault_ulimits = ["nofile=300:400"]\n' > "$BATS_TEST_TMPDIR/base.conf"
	printf '[containers]\nenv = ["A=over"]\n' > "$BATS_TEST_TMPDIR/over.conf"
	CONTAINERS_CONF=$BATS_TEST_TMPDIR/base.conf run kiln run --rm bb sh -c 'echo $A; ulimit -n'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "base" ]
	[ "${lines[1]}" = "300" ]
	CONTAINERS_CONF=$BATS_TEST_TMPDIR/base.conf CONTAINERS_CONF_OVERRIDE=$BATS_TEST_TMPDIR/over.conf \
		run kiln run --rm bb sh -c 'echo $A; ulimit -n'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "over" ]
	[ "${lines[1]}" = "300" ]
	CONTAINERS_CONF=$BATS_TEST_TMPDIR/missing.conf run kiln run --rm bb true
	[ "$status" -eq 125 ]
	[[ "$output" == *"missing.conf"* ]]
}

@test "the image's EXPOSE and HEALTHCHECK are carried into the container's config" {
	bb
	printf 'FROM bb\nEXPOSE 8080 53/udp\nHEALTHCHECK --interval=5m --retries=4 CMD true\n' > "$BATS_TEST_TMPDIR/Containerfile"
	kiln build -q -t ex "$BATS_TEST_TMPDIR" >/dev/null
	kiln create --name e1 --expose 9000 ex true >/dev/null
	run kiln inspect --format '{{json .Config.ExposedPorts}}' e1
	[ "$output" = '{"53/udp":{},"8080/tcp":{},"9000/tcp":{}}' ]
	run kiln inspect --format '{{json .NetworkSettings.Ports}}' e1
	[[ "$output" == *'"8080/tcp":null'* ]]
	run kiln inspect --format '{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}' e1
	[ "$output" = "[CMD-SHELL true] 300000000000 4" ]
}
