#!/usr/bin/env bats
# kiln save / kiln load: round trips in every format, compressed archives,
# corruption, concurrency, SIGKILL, and interop with podman and skopeo.

load helpers


# Imports busybox as NAME and prints its ID.
import_busybox() {
	kiln import -q "$(busybox_tar)" "$1"
	kiln inspect --format '{{.Id}}' "$1"
}

# A private podman store, so the host's is never touched.
podman_() {
	podman --root "$BATS_TEST_TMPDIR/proot" --runroot "$BATS_TEST_TMPDIR/prun" \
		--storage-driver overlay "$@"
}

need_podman() {
	command -v podman >/dev/null || skip "podman is not installed (make deps)"
}

need_skopeo() {
	command -v skopeo >/dev/null || skip "skopeo is not installed (make deps)"
}

# Flips one byte in the middle of the biggest file of a tar archive.
corrupt_biggest() {
	python3 - "$1" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = max((m for m in t.getmembers() if m.isfile()), key=lambda m: m.size)
    off = m.offset_data + m.size // 2
with open(sys.argv[1], "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xff]))
PY
}

@test "save and load round trip in every format" {
	iid=$(import_busybox bb)
	kiln tag bb docker.io/library/busybox:1.0
	for fmt in docker-archive oci-archive oci-dir docker-dir; do
		out=$BATS_TEST_TMPDIR/out.$fmt
		kiln save --format "$fmt" -o "$out" busybox:1.0
		[ -e "$out" ]
		# no temporary left beside it
		[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep kiln-)" ]
		kiln rmi -f "$iid" >/dev/null
		run kiln load -i "$out"
		[ "$status" -eq 0 ]
		if [ "$fmt" = docker-dir ]; then
			# the dir: layout carries no name
			[ "$output" = "Loaded image ID: $iid" ]
			kiln tag "$iid" docker.io/library/busybox:1.0 bb
		else
			[ "$output" = "Loaded image: busybox:1.0" ]
			kiln tag busybox:1.0 bb
		fi
		[ "$(kiln inspect --format '{{.Id}}' busybox:1.0)" = "$iid" ]
		assert_store_consistent
	done
}

@test "save writes the docker >= 25 hybrid, deterministically" {
	import_busybox bb >/dev/null
	kiln save -o "$BATS_TEST_TMPDIR/a.tar" bb
	kiln save bb > "$BATS_TEST_TMPDIR/b.tar"
	cmp "$BATS_TEST_TMPDIR/a.tar" "$BATS_TEST_TMPDIR/b.tar"
	run tar -tvf "$BATS_TEST_TMPDIR/a.tar"
	[[ "$output" == *"0/0"*"1970-01-01 00:00 blobs/sha256/"* ]]
	names=$(tar -tf "$BATS_TEST_TMPDIR/a.tar" | tr '\n' ' ')
	[[ "$names" == "blobs/ blobs/sha256/ blobs/sha256/"*" index.json manifest.json oci-layout repositories " ]]
	run tar -xOf "$BATS_TEST_TMPDIR/a.tar" manifest.json
	[[ "$output" == *'"RepoTags":["localhost/bb:latest"]'* ]]
	run tar -xOf "$BATS_TEST_TMPDIR/a.tar" index.json
	[[ "$output" == *'"io.containerd.image.name":"localhost/bb:latest"'* ]]
	[[ "$output" == *'"org.opencontainers.image.ref.name":"latest"'* ]]
}

@test "save refuses a terminal and unknown formats" {
	import_busybox bb >/dev/null
	command -v script >/dev/null || skip "script(1) is not installed"
	run script -qec "$KILN_BIN --root $KROOT --runroot $KRUN save bb" /dev/null
	[[ "$output" == *"cowardly refusing to save to a terminal. Use the -o flag or redirect"* ]]
	run kiln save --format zip -o "$BATS_TEST_TMPDIR/x" bb
	[ "$status" -eq 125 ]
	[[ "$output" == *'unsupported format "zip"'* ]]
	run kiln save -o "$BATS_TEST_TMPDIR/x" nosuch
	[ "$status" -eq 125 ]
	[[ "$output" == *"No such image: nosuch"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "two images in one archive, and an untagged one" {
	id1=$(import_busybox one)
	kiln import -q "$(many_files_tar)" two >/dev/null
	id2=$(kiln inspect --format '{{.Id}}' two)
	kiln save -o "$BATS_TEST_TMPDIR/two.tar" one two
	kiln rmi one two >/dev/null
	run kiln load -i "$BATS_TEST_TMPDIR/two.tar"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Loaded image: localhost/one:latest" ]
	[ "${lines[1]}" = "Loaded image: localhost/two:latest" ]
	[ "$(kiln inspect --format '{{.Id}}' one)" = "$id1" ]
	[ "$(kiln inspect --format '{{.Id}}' two)" = "$id2" ]
	# saved by ID: no tag
	kiln save -o "$BATS_TEST_TMPDIR/id.tar" "${id1#sha256:}"
	kiln rmi one >/dev/null
	run kiln load -i "$BATS_TEST_TMPDIR/id.tar"
	[ "$output" = "Loaded image ID: $id1" ]
	assert_store_consistent
}

@test "gzip-, zstd- and xz-compressed archives load, from a file or stdin" {
	iid=$(import_busybox bb)
	kiln save -o "$BATS_TEST_TMPDIR/a.tar" bb
	gzip -k "$BATS_TEST_TMPDIR/a.tar"
	zstd -q "$BATS_TEST_TMPDIR/a.tar"
	xz -k "$BATS_TEST_TMPDIR/a.tar"
	for f in a.tar.gz a.tar.zst a.tar.xz; do
		kiln rmi bb >/dev/null
		run kiln load -i "$BATS_TEST_TMPDIR/$f"
		[ "$output" = "Loaded image: localhost/bb:latest" ]
		kiln rmi bb >/dev/null
		run kiln load < "$BATS_TEST_TMPDIR/$f"
		[ "$output" = "Loaded image: localhost/bb:latest" ]
		[ "$(kiln inspect --format '{{.Id}}' bb)" = "$iid" ]
	done
	assert_store_consistent
}

@test "a corrupted layer is refused and nothing is stored" {
	iid=$(import_busybox bb)
	kiln save -o "$BATS_TEST_TMPDIR/a.tar" bb
	kiln rmi bb >/dev/null
	corrupt_biggest "$BATS_TEST_TMPDIR/a.tar"
	run kiln load -i "$BATS_TEST_TMPDIR/a.tar"
	[ "$status" -eq 125 ]
	[[ "$output" == *"content hashes to sha256:"*"the archive is corrupt"* ]]
	[ -z "$(kiln images -q)" ]
	[ -z "$(ls "$KROOT/layers")" ]
	[ -z "$(ls "$KROOT/tmp")" ]
	assert_store_consistent
}

@test "garbage, an empty input and an escaping path are refused" {
	head -c 4096 /dev/urandom > "$BATS_TEST_TMPDIR/junk"
	run kiln load -i "$BATS_TEST_TMPDIR/junk"
	[ "$status" -eq 125 ]
	[[ "$output" == "Error: loading "* ]]
	run kiln load < /dev/null
	[ "$status" -eq 125 ]
	python3 - "$BATS_TEST_TMPDIR/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    ti = tarfile.TarInfo("../manifest.json"); data = b"[]"; ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
PY
	run kiln load -i "$BATS_TEST_TMPDIR/evil.tar"
	[ "$status" -eq 125 ]
	[[ "$output" == *'"../manifest.json": invalid path'* ]]
	[ -z "$(kiln images -q)" ]
}

@test "four loads of the same archive at once leave one consistent image" {
	iid=$(import_busybox bb)
	kiln save -o "$BATS_TEST_TMPDIR/a.tar" bb
	kiln rmi bb >/dev/null
	pids=()
	for i in 1 2 3 4; do
		kiln load -i "$BATS_TEST_TMPDIR/a.tar" > "$BATS_TEST_TMPDIR/l$i.out" 2>&1 &
		pids+=($!)
	done
	for i in 0 1 2 3; do
		wait "${pids[$i]}" || { cat "$BATS_TEST_TMPDIR/l$((i + 1)).out"; false; }
	done
	[ "$(kiln images -q | wc -l)" -eq 1 ]
	[ "$(kiln inspect --format '{{.Id}}' bb)" = "$iid" ]
	[ "$(ls "$KROOT/layers" | wc -l)" -eq 1 ]
	assert_store_consistent
}

@test "SIGKILL during a load leaves the image whole or absent" {
	kiln import -q "$(many_files_tar)" big >/dev/null
	kiln save -o "$BATS_TEST_TMPDIR/big.tar" big
	kiln rmi big >/dev/null
	killed_whole_or_absent big load -i "$BATS_TEST_TMPDIR/big.tar"
	kiln load -i "$BATS_TEST_TMPDIR/big.tar" >/dev/null
	[ -z "$(ls "$KROOT/tmp")" ]
	assert_store_consistent
}

@test "podman load accepts kiln's docker-archive and oci-archive" {
	need_podman
	iid=$(import_busybox bb)
	kiln tag bb docker.io/library/kbox:v1
	kiln save -o "$BATS_TEST_TMPDIR/d.tar" kbox:v1
	kiln save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" kbox:v1
	run podman_ load -i "$BATS_TEST_TMPDIR/d.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Loaded image: docker.io/library/kbox:v1"* ]]
	[ "$(podman_ image inspect --format '{{.Id}}' kbox:v1)" = "${iid#sha256:}" ]
	# ... and runs it.
	podman_run_conf
	run podman_ run --rm --ulimit host --network none kbox:v1 sh -c 'echo hello; cat /etc/hostname >/dev/null; id -u'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello" ]
	[ "${lines[1]}" = "0" ]
	podman_ rmi -f kbox:v1 >/dev/null
	run podman_ load -i "$BATS_TEST_TMPDIR/o.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Loaded image: docker.io/library/kbox:v1"* ]]
	[ "$(podman_ image inspect --format '{{.Id}}' kbox:v1)" = "${iid#sha256:}" ]
	podman_ rmi -a -f >/dev/null 2>&1 || true
}

@test "skopeo reads kiln's archives as docker-archive and oci-archive" {
	need_skopeo
	iid=$(import_busybox bb)
	diff_id=$(kiln inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RootFS"]["Layers"][0])')
	kiln save -o "$BATS_TEST_TMPDIR/d.tar" bb
	kiln save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" bb
	for ref in "docker-archive:$BATS_TEST_TMPDIR/d.tar" "oci-archive:$BATS_TEST_TMPDIR/d.tar" \
		"oci-archive:$BATS_TEST_TMPDIR/o.tar"; do
		run skopeo inspect --raw "$ref"
		[ "$status" -eq 0 ]
		[ "$(echo "$output" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')" = "$iid" ]
		run skopeo inspect "$ref"
		[ "$status" -eq 0 ]
		[[ "$output" == *"$diff_id"* ]]
	done
}

@test "podman save output loads into kiln with the same image ID" {
	need_podman
	iid=$(import_busybox bb)
	kiln save -o "$BATS_TEST_TMPDIR/k.tar" bb
	podman_ load -i "$BATS_TEST_TMPDIR/k.tar" >/dev/null
	podman_ tag localhost/bb:latest docker.io/library/pbox:v1
	podman_ save --format docker-archive -o "$BATS_TEST_TMPDIR/pd.tar" pbox:v1 2>/dev/null
	podman_ save --format oci-archive -o "$BATS_TEST_TMPDIR/po.tar" pbox:v1 2>/dev/null
	podman_ rmi -a -f >/dev/null 2>&1 || true
	kiln rmi bb >/dev/null
	for f in pd.tar po.tar; do
		run kiln load -i "$BATS_TEST_TMPDIR/$f"
		[ "$status" -eq 0 ]
		[ "$output" = "Loaded image: pbox:v1" ]
		[ "$(kiln inspect --format '{{.Id}}' docker.io/library/pbox:v1)" = "$iid" ]
		kiln rmi pbox:v1 >/dev/null
	done
	# podman's classic layout with a flipped layer byte: the DiffID check
	corrupt_biggest "$BATS_TEST_TMPDIR/pd.tar"
	run kiln load -i "$BATS_TEST_TMPDIR/pd.tar"
	[ "$status" -eq 125 ]
	[[ "$output" == *"the archive is corrupt"* ]]
	[ -z "$(kiln images -q)" ]
	assert_store_consistent
}
