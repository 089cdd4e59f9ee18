#!/usr/bin/env bats
# Named and anonymous volumes: -v NAME:/path, --mount type=volume, the
# first-mount copy of the image's content, kiln volume create|ls|inspect|
# rm|prune, rm -v.

bats_require_minimum_version 1.5.0
load helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

@test "volume create|ls|inspect|rm as docker prints them" {
	run kiln volume create myvol
	[ "$status" -eq 0 ] && [ "$output" = "myvol" ]
	# creating an existing volume returns it
	run kiln volume create myvol
	[ "$status" -eq 0 ] && [ "$output" = "myvol" ]
	run kiln volume create --label a=b other
	[ "$output" = "other" ]
	run kiln volume ls
	[ "${lines[0]}" = "DRIVER    VOLUME NAME" ]
	[ "${lines[1]}" = "local     myvol" ]
	[ "${lines[2]}" = "local     other" ]
	run kiln volume ls -q --filter label=a=b
	[ "$output" = "other" ]
	run kiln volume ls --format '{{.Name}} {{.Driver}}'
	[ "${lines[0]}" = "myvol local" ]
	run kiln volume inspect myvol
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.[0].Name')" = "myvol" ]
	[ "$(echo "$output" | jq -r '.[0].Driver')" = "local" ]
	[ "$(echo "$output" | jq -r '.[0].Scope')" = "local" ]
	[ "$(echo "$output" | jq -r '.[0].Mountpoint')" = "$KROOT/volumes/myvol/_data" ]
	[ -d "$KROOT/volumes/myvol/_data" ]
	run kiln volume inspect --format '{{.Labels.a}}' other
	[ "$output" = "b" ]
	run kiln volume inspect nosuch
	[ "$status" -ne 0 ]
	run kiln volume create 'bad/name'
	[ "$status" -eq 125 ]
	run kiln volume rm myvol
	[ "$output" = "myvol" ]
	[ ! -e "$KROOT/volumes/myvol" ]
	run kiln volume rm myvol
	[ "$status" -eq 125 ]
	[[ "$output" == *"no such volume myvol"* ]]
	run kiln volume rm -f myvol
	[ "$status" -eq 0 ]
	run kiln volume create
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
}

@test "-v NAME:/path creates the volume, populated from the image the first time" {
	bb
	run kiln run --rm -v data:/etc bb sh -c 'cat /etc/passwd | head -1; echo new > /etc/added'
	[ "$status" -eq 0 ]
	[[ "$output" == root:* ]]
	[ -f "$KROOT/volumes/data/_data/passwd" ]
	[ "$(cat "$KROOT/volumes/data/_data/added")" = "new" ]
	# the data persists; a non-empty volume is not populated again
	rm "$KROOT/volumes/data/_data/passwd"
	run kiln run --rm --mount type=volume,source=data,target=/x bb sh -c 'cat /x/added; ls /x/passwd'
	[ "${lines[0]}" = "new" ]
	[ "$status" -ne 0 ]
	# read-only volume
	run kiln run --rm -v data:/x:ro bb sh -c 'echo y > /x/y'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	# a fresh read-only volume is populated too
	run kiln run --rm -v rovol:/etc:ro bb sh -c 'head -1 /etc/passwd; touch /etc/x'
	[[ "${lines[0]}" == root:* ]]
	[[ "$output" == *"Read-only file system"* ]]
	[ -f "$KROOT/volumes/rovol/_data/passwd" ]
	# a path the image lacks: an empty volume
	run kiln run --rm -v fresh:/nothere bb ls -A /nothere
	[ "$status" -eq 0 ] && [ "$output" = "" ]
	run kiln run --rm -v 'bad$name:/x' bb true
	[ "$status" -eq 125 ]
}

@test "volume rm refuses a volume in use; rm -v removes anonymous volumes only" {
	bb
	id=$(kiln create -v named:/a -v /anon bb true)
	run kiln volume ls -q
	[ "${#lines[@]}" -eq 2 ]
	anon=$(kiln volume ls -q | grep -v '^named$')
	[[ "$anon" =~ ^[0-9a-f]{64}$ ]]
	run kiln volume rm named
	[ "$status" -eq 125 ]
	[[ "$output" == *"volume is in use - [$id]"* ]]
	run kiln volume ls -q --filter dangling=true
	[ "$output" = "" ]
	run kiln rm -v "$id"
	[ "$status" -eq 0 ]
	run kiln volume ls -q
	[ "$output" = "named" ]
}

@test "volume prune removes unused anonymous volumes, -a every unused one" {
	bb
	kiln volume create keep >/dev/null
	id=$(kiln create -v /anon bb true)
	kiln rm "$id" >/dev/null
	kiln volume create used >/dev/null
	kiln create --name user -v used:/u bb true >/dev/null
	run kiln volume prune -f
	[ "${lines[0]}" = "Deleted Volumes:" ]
	[[ "${lines[1]}" =~ ^[0-9a-f]{64}$ ]]
	[[ "$output" == *"Total reclaimed space:"* ]]
	run kiln volume ls -q
	[ "${lines[0]}" = "keep" ] && [ "${lines[1]}" = "used" ]
	run kiln volume prune -f -a
	[ "${lines[1]}" = "keep" ]
	run kiln volume ls -q
	[ "$output" = "used" ]
}

@test "run --rm removes the container's anonymous volumes, not named ones; inspect shows Mounts" {
	bb
	run kiln run --rm -v /anon -v keep:/k bb true
	[ "$status" -eq 0 ]
	run kiln volume ls -q
	[ "$output" = "keep" ]
	kiln create --name m1 -v keep:/k:ro -v /anon2 -v "$BATS_TEST_TMPDIR:/b" bb true >/dev/null
	run kiln container inspect --format '{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}};{{end}}' m1
	[ "$output" = "volume /k false;volume /anon2 true;bind /b true;" ]
	run kiln container inspect --format '{{(index .Mounts 0).Name}} {{(index .Mounts 0).Driver}}' m1
	[ "$output" = "keep local" ]
	run kiln container inspect --format '{{(index .Mounts 0).Source}}' m1
	[ "$output" = "$KROOT/volumes/keep/_data" ]
}
