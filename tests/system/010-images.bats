#!/usr/bin/env bats
# import → images → tag → inspect → untag → rmi, and their errors.

load helpers

@test "import, list, tag, inspect, untag, rmi" {
	tar=$(busybox_tar)
	run kiln import "$tar" busybox
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	id=${output#sha256:}

	run kiln images
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	[[ "${lines[1]}" =~ ^localhost/busybox\ +latest\ +${id:0:12}\ +(Less\ than\ a\ second|[0-9]+\ seconds)\ ago\ +[0-9.]+[kM]B$ ]]

	run kiln tag busybox example.com/team/bb:v1
	[ "$status" -eq 0 ]
	run kiln images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" == *"example.com/team/bb:v1 ${id:0:12}"* ]]
	[[ "$output" == *"localhost/busybox:latest ${id:0:12}"* ]]

	run kiln inspect --format '{{.Id}} {{.Os}} {{json .RepoTags}}' busybox
	[ "$status" -eq 0 ]
	[ "$output" = "sha256:$id linux [\"example.com/team/bb:v1\",\"localhost/busybox:latest\"]" ]

	run kiln image inspect "${id:0:12}"
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert len(d)==1
i=d[0]
for k in ("Id","RepoTags","RepoDigests","Parent","Comment","Created","Config","Architecture","Os","Size","GraphDriver","RootFS","Metadata"):
    assert k in i, k
assert i["RootFS"]["Type"]=="layers" and len(i["RootFS"]["Layers"])==1
assert i["Comment"].startswith("Imported from")
'
	run kiln untag "$id" example.com/team/bb:v1
	[ "$status" -eq 0 ]
	run kiln images -q
	[ "$output" = "${id:0:12}" ]

	run kiln rmi busybox
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Untagged: localhost/busybox:latest" ]
	[ "${lines[1]}" = "Deleted: sha256:$id" ]
	run kiln images -q
	[ -z "$output" ]
	[ -z "$(ls "$KROOT/layers")" ]
	[ ! -e "$KROOT/blobs/sha256/$id" ]
	assert_store_consistent
}

@test "import from stdin, gzip and zstd, with --message" {
	tar=$(busybox_tar)
	gzip -c "$tar" > "$BATS_TEST_TMPDIR/bb.tar.gz"
	zstd -q -c "$tar" > "$BATS_TEST_TMPDIR/bb.tar.zst"
	run kiln import - plain < "$tar"
	[ "$status" -eq 0 ]
	run kiln import -m "from gzip" "$BATS_TEST_TMPDIR/bb.tar.gz" gz
	[ "$status" -eq 0 ]
	run kiln import "$BATS_TEST_TMPDIR/bb.tar.zst" zst:1
	[ "$status" -eq 0 ]
	# The same content gives the same layer (DiffID of the uncompressed tar).
	a=$(kiln inspect --format '{{json .RootFS.Layers}}' plain)
	b=$(kiln inspect --format '{{json .RootFS.Layers}}' gz)
	c=$(kiln inspect --format '{{json .RootFS.Layers}}' zst:1)
	[ "$a" = "$b" ] && [ "$b" = "$c" ]
	[ "$a" = "[\"sha256:$(sha256sum < "$tar" | cut -d' ' -f1)\"]" ]
	[ "$(ls "$KROOT/layers" | wc -l)" -eq 1 ]
	run kiln inspect --format '{{.Comment}}' gz
	[ "$output" = "from gzip" ]
	[ -x "$KROOT/layers/$(ls "$KROOT/layers")/diff/bin/busybox" ]
	assert_store_consistent
}

@test "short names: localhost first, then docker.io" {
	tar=$(busybox_tar)
	kiln import "$tar" docker.io/library/alpine:3 >/dev/null
	kiln import "$tar" docker.io/library/busybox >/dev/null
	run kiln inspect --format '{{json .RepoTags}}' alpine:3
	[ "$output" = '["alpine:3"]' ]
	run kiln inspect --format '{{json .RepoTags}}' busybox
	[ "$output" = '["busybox:latest"]' ]
	kiln tag busybox mine >/dev/null
	run kiln inspect --format '{{json .RepoTags}}' mine
	[ "$output" = '["busybox:latest","localhost/mine:latest"]' ]
	run kiln images --format '{{.Repository}}:{{.Tag}}'
	[[ "$output" == *"busybox:latest"* ]]
	[[ "$output" == *"localhost/mine:latest"* ]]
}

@test "bad input: clear error, exit 125, nothing stored" {
	run kiln import /nonexistent.tar
	[ "$status" -eq 125 ]
	[[ "$output" == "Error: opening \"/nonexistent.tar\": No such file or directory" ]]

	head -c 3000 /dev/urandom > "$BATS_TEST_TMPDIR/garbage"
	run kiln import "$BATS_TEST_TMPDIR/garbage" junk
	[ "$status" -eq 125 ]
	[[ "$output" == Error:\ importing* ]]

	run kiln import "$(busybox_tar)" 'Bad/Name'
	[ "$status" -eq 125 ]
	[[ "$output" == *"must be lowercase"* ]]

	run kiln images -q
	[ -z "$output" ]
	[ -z "$(ls "$KROOT/layers")" ]
	[ -z "$(ls "$KROOT/tmp")" ]

	run kiln inspect nothere
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "[]" ]
	[ "${lines[1]}" = "Error: No such object: nothere" ]

	run kiln rmi nothere
	[ "$status" -eq 1 ]
	[ "$output" = "Error: No such image: nothere" ]

	run kiln tag nothere x
	[ "$status" -eq 125 ]

	run kiln images --bogus
	[ "$status" -eq 125 ]
	[ "$output" = "Error: unknown flag: --bogus" ]

	run kiln frobnicate
	[ "$status" -eq 125 ]
	[[ "$output" == *"unrecognized command"* ]]

	run kiln --log-level loud images
	[ "$status" -eq 125 ]
}

@test "rmi: several names, by ID needs -f, -a" {
	tar=$(busybox_tar)
	id=$(kiln import "$tar" one)
	id=${id#sha256:}
	kiln tag one two
	run kiln rmi "${id:0:12}"
	[ "$status" -eq 1 ]
	[[ "$output" == *"must be forced"* ]]
	run kiln rmi two
	[ "$status" -eq 0 ]
	[ "$output" = "Untagged: localhost/two:latest" ]
	kiln tag one three
	run kiln rmi -f "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Deleted: sha256:$id"* ]]
	kiln import "$tar" a >/dev/null
	kiln import "$tar" >/dev/null
	run kiln images
	[[ "$output" == *"<none>"*"<none>"* ]]
	run kiln rmi -a
	[ "$status" -eq 0 ]
	[ -z "$(kiln images -q)" ]
	[ -z "$(ls "$KROOT/layers")" ]
	assert_store_consistent
}

@test "images: -q, --no-trunc, json, filter by reference" {
	tar=$(busybox_tar)
	id=$(kiln import "$tar" web:1)
	kiln import "$tar" db:2 >/dev/null
	run kiln images --no-trunc --format '{{.ID}}' web
	[ "$output" = "$id" ]
	run kiln images web:1
	[ "${#lines[@]}" -eq 2 ]
	# docker: one JSON object per line, docker's fields.
	run kiln images --format json
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[0]}" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert sorted(d)==["Containers","CreatedAt","CreatedSince","Digest","ID","Repository","SharedSize","Size","Tag","UniqueSize","VirtualSize"], d; assert d["CreatedAt"].endswith(" +0000 UTC")'
	run kiln images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}'
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED$ ]]
	run kiln images --format '{{.Nope}}'
	[ "$status" -eq 125 ]
	[[ "$output" == *"can't evaluate field Nope"* ]]
}

@test "version, info, global options and storage.conf" {
	run kiln version
	[ "$status" -eq 0 ]
	[[ "$output" == *"Version:"* ]]
	run kiln version --format '{{.Client.Version}}'
	[ "$output" = "0.1.0" ]
	run kiln info --format '{{.Driver}} {{.DockerRootDir}}'
	[ "$output" = "overlay $KROOT" ]
	run kiln --storage-driver btrfs images
	[ "$status" -eq 125 ]
	[[ "$output" == *"storage driver \"btrfs\" is not supported"* ]]

	conf=$BATS_TEST_TMPDIR/storage.conf
	printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/g"\nrunroot = "%s/r"\n' \
		"$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR" > "$conf"
	KILN_STORAGE_CONF=$conf run "$KILN_BIN" info --format '{{.DockerRootDir}}'
	[ "$output" = "$BATS_TEST_TMPDIR/g" ]
	[ -f "$BATS_TEST_TMPDIR/g/kiln.db" ]
	printf '[storage]\ngraphroot = 5\n' > "$conf"
	KILN_STORAGE_CONF=$conf run "$KILN_BIN" images
	[ "$status" -eq 125 ]
	[[ "$output" == *graphroot* ]]
}
