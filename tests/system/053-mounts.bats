#!/usr/bin/env bats
# -v/--volume bind mounts, --mount type=bind|tmpfs, --tmpfs, and the
# guarantee that no symlink (in the image or in a volume) can make a mount
# land outside the container's root.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "-v binds a host directory read-write, :ro read-only, :z and :Z are accepted" {
	bb
	src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src" && echo hostdata > "$src/f"
	run kiln run --rm -v "$src:/data" bb sh -c 'cat /data/f; echo fromctr > /data/g'
	[ "$output" = "hostdata" ]
	[ "$(cat "$src/g")" = "fromctr" ]
	run kiln run --rm -v "$src:/data:ro,z" bb sh -c 'echo x > /data/h'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$src/h" ]
	run kiln run --rm -v "$src:/data:Z" bb cat /data/f
	[ "$output" = "hostdata" ]
	# A file source onto a path whose parents do not exist in the image.
	run kiln run --rm -v "$src/f:/new/dir/file.txt" bb cat /new/dir/file.txt
	[ "$output" = "hostdata" ]
}

@test "--tmpfs and --mount type=tmpfs|bind" {
	bb
	src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	run kiln run --rm --tmpfs /scratch:size=1m,mode=700 bb sh -c 'stat -c %a /scratch; grep " /scratch " /proc/mounts'
	[ "${lines[0]}" = "700" ]
	[[ "${lines[1]}" == *"tmpfs rw,nosuid,nodev"*"size=1024k"* ]]
	run kiln run --rm --mount type=tmpfs,target=/t,tmpfs-size=2m --mount "type=bind,source=$src,target=/m,ro" bb sh -c 'grep -E " /(t|m) " /proc/mounts'
	[[ "$output" == *" /t tmpfs "*"size=2048k"* ]]
	[[ "$output" == *" /m "*" ro,"* ]]
	# The mounts are kept in the plan: start runs them again.
	id=$(kiln create --tmpfs /scratch bb sh -c 'grep -c " /scratch " /proc/mounts')
	run kiln start -a "$id"
	[ "$output" = "1" ]
}

@test "invalid mounts are kiln's errors (125)" {
	bb
	run kiln run --rm -v ./relative:/x bb true
	[ "$status" -eq 125 ]
	run kiln run --rm -v /nonexistent-dir:/x bb true
	[ "$status" -eq 125 ]
	run kiln run --rm -v /tmp:relative bb true
	[ "$status" -eq 125 ]
	run kiln run --rm -v /tmp:/x:bogus bb true
	[ "$status" -eq 125 ]
	run kiln run --rm --mount type=nfs,target=/x bb true
	[ "$status" -eq 125 ]
	run kiln run --rm --tmpfs /x:size=1m,exec=\$\(id\) bb true
	[ "$status" -eq 125 ]
}

@test "a symlink in the image cannot make a bind mount land outside the rootfs" {
	host=$BATS_TEST_TMPDIR/hostside
	mkdir -p "$host"
	d=$BATS_TEST_TMPDIR/img
	mkdir -p "$d"
	tar -C "$d" -xf "$(busybox_tar)"
	# Absolute and relative escapes, pointing at the host directory.
	ln -s "$host" "$d/abs"
	ln -s "../../../../../../../..$host" "$d/rel"
	tar -C "$d" -cf "$BATS_TEST_TMPDIR/evil.tar" .
	kiln import "$BATS_TEST_TMPDIR/evil.tar" evil >/dev/null
	src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src" && echo payload > "$src/p"
	run kiln run --rm -v "$src:/abs/mnt" -v "$src:/rel/mnt2" evil sh -c 'cat /abs/mnt/p /rel/mnt2/p'
	[ "$status" -eq 0 ]
	# Nothing was created or mounted on the host side.
	[ -z "$(ls -A "$host")" ]
	! grep -q "$host" /proc/self/mountinfo
}

@test "a symlink in a volume cannot make a nested bind mount land outside the rootfs" {
	bb
	host=$BATS_TEST_TMPDIR/hostside
	mkdir -p "$host"
	vol=$BATS_TEST_TMPDIR/vol
	mkdir -p "$vol"
	ln -s "$host" "$vol/esc"
	src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src" && echo payload > "$src/p"
	run kiln run --rm -v "$vol:/data" -v "$src:/data/esc/inner" bb sh -c 'cat /data/esc/inner/p'
	[ "$status" -eq 0 ]
	[ "$output" = "payload" ]
	[ -z "$(ls -A "$host")" ]
}
