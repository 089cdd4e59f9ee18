#!/usr/bin/env bats
# The fast path of kiln run: the cached seccomp program, the generated /etc
# files written into the upper dir, and the fall-backs that keep Docker's
# behaviour where that shortcut does not fit.

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

@test "generated /etc files: in the upper dir when /etc is a plain directory" {
	bb
	kiln create --name c1 --hostname h1 bb true >/dev/null
	id=$(kiln ps -aq --no-trunc)
	[ -f "$KROOT/containers/$id/upper/etc/hostname" ]
	[ ! -e "$KROOT/containers/$id/userdata" ]
	run kiln run --rm --hostname h2 bb sh -c 'cat /etc/hostname; grep -c h2 /etc/hosts; cat /etc/resolv.conf | head -1'
	[ "${lines[0]}" = "h2" ]
	[ "${lines[1]}" = "1" ]
	# /etc keeps the image's mode and owner.
	run kiln run --rm bb stat -c '%a %u' /etc
	[ "$output" = "755 0" ]
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
