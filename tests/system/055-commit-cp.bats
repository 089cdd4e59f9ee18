#!/usr/bin/env bats
# kiln diff, commit, export, cp: a container's filesystem and its changes.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "diff prints A/C/D as docker does, without the generated /etc files" {
	bb
	id=$(kiln create bb true)
	run kiln diff "$id"
	[ "$status" -eq 0 ] && [ "$output" = "" ]
	kiln run --name c1 bb sh -c 'mkdir -p /new/sub; echo x > /new/sub/f; echo y >> /etc/passwd; rm /bin/ls'
	run kiln diff c1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "C /bin" ]
	[ "${lines[1]}" = "D /bin/ls" ]
	[ "${lines[2]}" = "C /etc" ]
	[ "${lines[3]}" = "C /etc/passwd" ]
	[ "${lines[4]}" = "A /new" ]
	[ "${lines[5]}" = "A /new/sub" ]
	[ "${lines[6]}" = "A /new/sub/f" ]
	[ "${#lines[@]}" -eq 7 ]
	run kiln diff --format json c1
	[ "$(echo "$output" | jq -r '.deleted[0]')" = "/bin/ls" ]
}

@test "commit makes the upper dir a layer; -c, -m, -a; the container keeps running" {
	bb
	kiln run -d --name c1 bb sh -c 'echo committed > /hello; rm /bin/ls; sleep 100' >/dev/null
	for i in $(seq 50); do kiln exec c1 test -f /hello && break; sleep 0.1; done
	run kiln commit -m "my message" -a "Jane <j@x>" -c 'ENV FOO=bar' -c 'CMD ["cat", "/hello"]' c1 newimg
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	run kiln ps -q --filter status=running
	[ "${#lines[@]}" -eq 1 ]
	run kiln run --rm newimg
	[ "$output" = "committed" ]
	run kiln run --rm newimg sh -c 'echo $FOO; ls /bin/ls; cat /etc/hostname'
	[ "${lines[0]}" = "bar" ]
	[[ "$output" == *"No such file"* ]]
	# the committed image does not carry c1's generated hostname
	[[ "$output" != *"$(kiln inspect --format '{{.Id}}' c1 | cut -c1-12)"* ]]
	run kiln image inspect --format '{{.Author}} {{.Comment}} {{len .RootFS.Layers}}' newimg
	[ "$output" = "Jane <j@x> my message 2" ]
	run kiln history --format '{{.Comment}}' newimg
	[ "${lines[0]}" = "my message" ]
	# as docker: the container's -e and -u go into the image
	kiln run --name c2 -e ADDED=yes -u 1:1 bb true
	kiln commit -q c2 fromc2 >/dev/null
	run kiln run --rm fromc2 sh -c 'echo $ADDED; id -u'
	[ "${lines[0]}" = "yes" ] && [ "${lines[1]}" = "1" ]
	run kiln image inspect --format '{{json .Config.Env}}' fromc2
	[[ "$output" != *HOSTNAME* ]] && [[ "$output" != *container=* ]]
	run kiln commit --squash c1 other
	[ "$status" -eq 125 ]
	run kiln commit -c 'BOGUS x' c1 other
	[ "$status" -eq 125 ]
	kiln rm -f c1 >/dev/null
}

@test "export writes the merged rootfs as a tar" {
	bb
	kiln run --name c1 bb sh -c 'echo e > /exported; rm /bin/ls' >/dev/null
	kiln export -o "$BATS_TEST_TMPDIR/c.tar" c1
	run tar -tf "$BATS_TEST_TMPDIR/c.tar"
	[[ "$output" == *"exported"* ]]
	[[ "$output" == *"bin/sh"* ]]
	! grep -qx 'bin/ls' <<<"$output"
	[[ "$output" != *".wh."* ]]
	kiln export c1 > "$BATS_TEST_TMPDIR/d.tar"
	cmp "$BATS_TEST_TMPDIR/c.tar" "$BATS_TEST_TMPDIR/d.tar"
	# the exported tar imports back
	kiln import "$BATS_TEST_TMPDIR/c.tar" re >/dev/null
	run kiln run --rm re cat /exported
	[ "$output" = "e" ]
}

@test "cp both directions, - tar streams, stopped and running containers" {
	bb
	h=$BATS_TEST_TMPDIR
	mkdir -p "$h/dir/sub" && echo one > "$h/dir/sub/f" && echo file > "$h/file"
	kiln create --name c1 bb sleep 100 >/dev/null
	kiln cp "$h/file" c1:/file.txt
	kiln cp "$h/dir" c1:/tmp
	kiln cp "$h/dir/." c1:/contents
	kiln start c1 >/dev/null
	run kiln exec c1 sh -c 'cat /file.txt /tmp/dir/sub/f /contents/sub/f'
	[ "$output" = "$(printf 'file\none\none')" ]
	# into the running container
	echo live > "$h/live"
	kiln cp "$h/live" c1:/tmp/
	run kiln exec c1 cat /tmp/live
	[ "$output" = "live" ]
	# out of it
	kiln cp c1:/etc/passwd "$h/passwd.copy"
	grep -q '^root:' "$h/passwd.copy"
	mkdir "$h/out"
	kiln cp c1:/tmp/dir "$h/out"
	[ "$(cat "$h/out/dir/sub/f")" = "one" ]
	# tar streams
	kiln cp c1:/tmp/dir - | tar -tf - | grep -qx 'dir/sub/f'
	tar -C "$h/dir" -cf - sub | kiln cp - c1:/root
	run kiln exec c1 cat /root/sub/f
	[ "$output" = "one" ]
	# as docker: a stream needs an existing directory
	run kiln cp - c1:/streamed < /dev/null
	[ "$status" -eq 125 ]
	[[ "$output" == *"must be a directory"* ]]
	run kiln cp c1:/nonexistent "$h/x"
	[ "$status" -eq 125 ]
	kiln rm -f c1 >/dev/null
}

@test "cp resolves paths inside the container: symlinks cannot reach the host" {
	bb
	h=$BATS_TEST_TMPDIR
	echo secret > "$h/secret"
	kiln run --name c1 bb sh -c "ln -s $h /escape; ln -s ../../../../../../$h /rel" >/dev/null
	echo payload > "$h/payload"
	run kiln cp "$h/payload" c1:/escape/written
	[ ! -e "$h/written" ]
	run kiln cp "$h/payload" c1:/rel/written
	[ ! -e "$h/written" ]
	run kiln cp c1:/escape/secret "$h/got"
	[ "$status" -ne 0 ]
	[ ! -e "$h/got" ]
}
