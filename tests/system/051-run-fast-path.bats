#!/usr/bin/env bats
# The fast path of kiln run: the cached seccomp program, the generated /etc
# files bind-mounted from the run dir (a tmpfs in real use) with their mount
# points in an init layer there, the mount point in the run dir, and a
# removal without a tmp/op-* directory of its own.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "the seccomp program is compiled once and cached in the runroot" {
	bb
	run kiln run --rm bb true
	[ "$status" -eq 0 ]
	cache=$(ls "$KRUN"/seccomp-*.bpf)
	[ -s "$cache" ]
	before=$(stat -c %Y.%i "$cache")
	run kiln run --rm bb sh -c 'grep ^Seccomp: /proc/self/status; unshare -m true'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Seccomp:	2"* ]]
	[[ "$output" == *"Operation not permitted"* ]]
	[ "$(stat -c %Y.%i "$cache")" = "$before" ]
}

@test "a corrupt or truncated cache is compiled again, never trusted" {
	bb
	kiln run --rm bb true
	cache=$(ls "$KRUN"/seccomp-*.bpf)
	printf 'KILNBPF1garbage' > "$cache"
	run kiln run --rm bb sh -c 'unshare -m true'
	[[ "$output" == *"Operation not permitted"* ]]
	[ "$(stat -c %s "$cache")" -gt 100 ]
	# An empty filter file that claims to be valid is refused too.
	: > "$cache"
	run kiln run --rm bb sh -c 'unshare -m true'
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "generated /etc files: bind mounts from the run dir, writable, never in the upper dir" {
	bb
	kiln create --name c1 --hostname h1 bb sh -c 'grep -c " /etc/hosts " /proc/mounts; cat /etc/hostname; echo 10.9.9.9 added >> /etc/hosts; echo x > /etc/mine' >/dev/null
	id=$(kiln inspect --format '{{.Id}}' c1)
	run kiln start -a c1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1" ]
	[ "${lines[1]}" = "h1" ]
	# the container wrote the run dir's file; the store's disk has none
	grep -q "10.9.9.9 added" "$KRUN/containers/$id/hosts"
	[ "$(cat "$KRUN/containers/$id/hostname")" = "h1" ]
	for f in hosts hostname resolv.conf; do
		[ ! -e "$KROOT/containers/$id/upper/etc/$f" ]
	done
	[ ! -e "$KROOT/containers/$id/merged" ]
	[ -d "$KRUN/containers/$id/merged" ]
	# absent from diff, export and commit
	run kiln diff c1
	[[ "$output" == *"A /etc/mine"* ]]
	[[ "$output" != *hosts* ]] && [[ "$output" != *hostname* ]] && [[ "$output" != *resolv* ]]
	run bash -c "'$KILN_BIN' --root '$KROOT' --runroot '$KRUN' export c1 | tar -t"
	[[ "$output" == *"etc/mine"* ]]
	[[ "$output" != *"etc/hosts"* ]] && [[ "$output" != *"etc/hostname"* ]] && [[ "$output" != *"etc/resolv"* ]]
	kiln commit -q c1 fromc1 >/dev/null
	kiln create --name c2 fromc1 true >/dev/null
	run bash -c "'$KILN_BIN' --root '$KROOT' --runroot '$KRUN' export c2 | tar -t"
	[[ "$output" == *"etc/mine"* ]]
	[[ "$output" != *"etc/hosts"* ]] && [[ "$output" != *"etc/hostname"* ]]
	# /etc keeps the image's mode and owner
	run kiln run --rm bb stat -c '%a %u' /etc
	[ "$output" = "755 0" ]
	# rm takes the run dir and the store's directory, and leaves nothing in tmp/
	kiln rm c1 c2
	[ ! -e "$KRUN/containers/$id" ]
	[ ! -e "$KROOT/containers/$id" ]
	[ -z "$(ls -A "$KROOT/tmp")" ]
}

@test "an image without /etc gets one for the generated files" {
	d=$BATS_TEST_TMPDIR/img
	mkdir -p "$d"
	tar -C "$d" -xf "$(busybox_tar)"
	rm -rf "$d/etc"
	tar -C "$d" -cf "$BATS_TEST_TMPDIR/n.tar" .
	kiln import "$BATS_TEST_TMPDIR/n.tar" noetc >/dev/null
	run kiln run --rm --hostname he noetc sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts; stat -c %a /etc'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "he" ]
	[ "${lines[1]}" = "2" ]
	[ "${lines[2]}" = "755" ]
}

@test "every start writes the /etc files anew: restart, and after the run dir was wiped (a reboot)" {
	bb
	kiln run -d --name r1 --restart always bb sleep 1000 >/dev/null
	id=$(kiln inspect --format '{{.Id}}' r1)
	kiln exec r1 sh -c 'echo 10.9.9.9 added >> /etc/hosts'
	run kiln exec r1 grep -c added /etc/hosts
	[ "$output" = "1" ]
	kiln restart -t 1 r1 >/dev/null
	run kiln exec r1 grep -c added /etc/hosts
	[ "$output" = "0" ]
	# a reboot: the monitor and the container killed, the runroot (a
	# tmpfs) emptied
	pid=$(kiln inspect --format '{{.State.Pid}}' r1)
	mon=$(ps -o ppid= -p "$pid" | tr -d ' ')
	kill -9 "$mon"
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$KRUN"/containers
	run kiln system restart-containers
	[ "$status" -eq 0 ]
	run kiln exec r1 sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts; grep -c " /etc/resolv.conf " /proc/mounts'
	[ "${lines[0]}" = "${id:0:12}" ]
	[ "${lines[1]}" = "2" ]
	[ "${lines[2]}" = "1" ]
	[ -f "$KRUN/containers/$id/hostname" ]
	kiln rm -f r1
}

@test "a removal that died after moving the directory into tmp/ is finished by the next command" {
	bb
	kiln create --name d1 bb true >/dev/null
	id=$(kiln inspect --format '{{.Id}}' d1)
	# what store_container_remove leaves when killed after its commit:
	# the row gone, the directory in tmp/ and no longer locked
	sqlite3 "$KROOT/kiln.db" "DELETE FROM containers WHERE id = '$id'"
	mv "$KROOT/containers/$id" "$KROOT/tmp/ctr-$id"
	run kiln ps -a -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$(ls -A "$KROOT/tmp")" ]
}

@test "a removed container's directory, emptied to its work dir, is the next container's" {
	bb
	kiln run --rm bb sh -c 'echo x > /y; echo z > /etc/z'
	# only the empty work dir is kept, under a name ls, ps and check skip
	[ "$(ls -A "$KROOT/containers/.spare")" = "work" ]
	[ -z "$(ls -A "$KROOT/containers/.spare/work")" ]
	[ -z "$(ls "$KROOT/containers")" ]
	id=$(kiln create --name s1 bb true)
	[ ! -e "$KROOT/containers/.spare" ]
	[ -z "$(ls -A "$KROOT/containers/$id/upper")" ]
	run kiln run --rm bb sh -c 'test -e /y || test -e /etc/z || echo clean'
	[ "$output" = "clean" ]
	run kiln diff s1
	[ -z "$output" ]
	run kiln system check
	[ "$status" -eq 0 ]
	kiln rm s1
	[ -z "$(ls -A "$KROOT/tmp")" ]
}

@test "generated /etc files are bind-mounted and writable under --read-only" {
	bb
	run kiln run --rm --read-only bb sh -c 'echo 10.0.0.1 x >> /etc/hosts && tail -1 /etc/hosts; touch /etc/nope'
	[[ "$output" == *"10.0.0.1 x"* ]]
	[[ "$output" == *"Read-only file system"* ]]
}

@test "an image whose /etc is a symlink keeps it (bind mounts, not an upper /etc)" {
	d=$BATS_TEST_TMPDIR/img
	mkdir -p "$d"
	tar -C "$d" -xf "$(busybox_tar)"
	mv "$d/etc" "$d/real-etc"
	ln -s real-etc "$d/etc"
	tar -C "$d" -cf "$BATS_TEST_TMPDIR/l.tar" .
	kiln import "$BATS_TEST_TMPDIR/l.tar" linked >/dev/null
	run kiln run --rm --hostname hh linked sh -c 'readlink /etc; cat /etc/hostname; cat /real-etc/hostname'
	[ "${lines[0]}" = "real-etc" ]
	[ "${lines[1]}" = "hh" ]
}
