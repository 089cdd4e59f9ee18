#!/usr/bin/env bats
# kiln push / pull / image exists against the real registry (plain HTTP on
# 127.0.0.1): round trips, formats, chunked uploads, short names, manifest
# lists, errors.

load helpers
load ../lib/registry-helpers

setup_file() {
	# --allow-urls: the foreign-layer test's manifest names a URL.
	registry_setup_file --allow-urls
}

@test "push then pull: the same image, Podman's output, -q prints only the ID" {
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb)
	run kiln push --tls-verify=false bb $REG/t1/bb:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Getting image source signatures"* ]]
	[[ "$output" == *"Copying blob sha256:"* ]]
	[[ "$output" == *"Writing manifest to image destination"* ]]
	run kiln2 pull --tls-verify=false $REG/t1/bb:v1
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Trying to pull $REG/t1/bb:v1..." ]]
	[[ "$output" == *"Copying config sha256:${id#sha256:}"* ]]
	[ "${lines[-1]}" = "${id#sha256:}" ]
	run kiln2 pull -q --tls-verify=false $REG/t1/bb:v1
	[ "$status" -eq 0 ]
	[ "$output" = "${id#sha256:}" ]
	# The manifest digest is the image's repo digest (inspect and images --digests).
	mdigest=$(curl -s -o /dev/null -w '%header{docker-content-digest}' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REG/v2/t1/bb/manifests/v1)
	run kiln2 inspect --format '{{json .RepoDigests}}' $REG/t1/bb:v1
	[ "$output" = "[\"$REG/t1/bb@$mdigest\"]" ]
	run kiln2 images --digests --format '{{.Repository}} {{.Digest}}'
	[ "$output" = "$REG/t1/bb $mdigest" ]
	KROOT=$BATS_TEST_TMPDIR/root2 assert_store_consistent
}

@test "pull skips layers already in the store and keeps the registry's blob" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/t2/bb:v1
	kiln2 pull -q --tls-verify=false $REG/t2/bb:v1
	# The layer blob kept is the registry's gzip blob, byte for byte.
	ldigest=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		http://$REG/v2/t2/bb/manifests/v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
	[ -f "$BATS_TEST_TMPDIR/root2/blobs/sha256/${ldigest#sha256:}" ]
	kiln push -q --tls-verify=false bb $REG/t2/bb:v2
	run kiln2 pull --tls-verify=false $REG/t2/bb:v2
	[ "$status" -eq 0 ]
	[[ "$output" == *"skipped: already exists"* ]]
}

@test "push --format v2s2, --compression-format zstd and chunked uploads pull back" {
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb)
	kiln push -q --tls-verify=false --format v2s2 --chunk-size 65536 bb $REG/t3/bb:docker
	run curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		http://$REG/v2/t3/bb/manifests/docker
	[[ "$output" == *'"mediaType":"application/vnd.docker.distribution.manifest.v2+json"'* ]]
	kiln push -q --tls-verify=false --compression-format zstd bb $REG/t3/bb:zstd
	run curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REG/v2/t3/bb/manifests/zstd
	[[ "$output" == *'tar+zstd'* ]]
	[ "$(kiln2 pull -q --tls-verify=false $REG/t3/bb:docker)" = "${id#sha256:}" ]
	[ "$(kiln2 pull -q --tls-verify=false $REG/t3/bb:zstd)" = "${id#sha256:}" ]
	run kiln push --tls-verify=false --format v2s2 --compression-format zstd bb $REG/t3/bb:bad
	[ "$status" -eq 125 ]
	[[ "$output" == *"zstd layers need the OCI format"* ]]
}

@test "--digestfile holds the digest the registry serves" {
	import_bb bb
	kiln push -q --tls-verify=false --digestfile $BATS_TEST_TMPDIR/d bb $REG/t4/bb:v1
	served=$(curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		http://$REG/v2/t4/bb/manifests/v1 | tr -d '\r' | sed -n 's/^Docker-Content-Digest: //ip')
	[ "$(cat $BATS_TEST_TMPDIR/d)" = "$served" ]
	# Pull by digest works and names no tag.
	run kiln2 pull -q --tls-verify=false $REG/t4/bb@$served
	[ "$status" -eq 0 ]
}

@test "short names: search registries in order, aliases" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/shorty:latest
	kiln push -q --tls-verify=false bb $REG/ns/aliased:v1
	cat > $BATS_TEST_TMPDIR/reg.conf <<CONF
unqualified-search-registries = ["127.0.0.1:1", "$REG"]
[aliases]
"myalias" = "$REG/ns/aliased"
CONF
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/reg.conf
	run kiln2 pull --retry 0 --tls-verify=false shorty
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Trying to pull 127.0.0.1:1/shorty:latest..." ]]
	[[ "$output" == *"Trying to pull $REG/shorty:latest..."* ]]
	run kiln2 pull --tls-verify=false myalias:v1
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Trying to pull $REG/ns/aliased:v1..." ]]
	kiln2 image exists $REG/ns/aliased:v1
}

@test "blocked registries are refused" {
	cat > $BATS_TEST_TMPDIR/reg.conf <<CONF
[[registry]]
location = "$REG"
blocked = true
CONF
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/reg.conf
	run kiln pull --tls-verify=false $REG/any/thing:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"blocked"* ]]
}

@test "a manifest list resolves to the platform asked for, or lists what is there" {
	import_bb bb
	kiln push -q --tls-verify=false --digestfile $BATS_TEST_TMPDIR/d bb $REG/t5/multi:amd
	d=$(cat $BATS_TEST_TMPDIR/d)
	size=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REG/v2/t5/multi/manifests/$d | wc -c)
	idx='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
	idx+='{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'$d'","size":'$size',"platform":{"architecture":"arm64","os":"linux"}},'
	idx+='{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'$d'","size":'$size',"platform":{"architecture":"unknown","os":"unknown"}}]}'
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
		--data-binary "$idx" http://$REG/v2/t5/multi/manifests/list
	run kiln pull --tls-verify=false --platform linux/arm64 $REG/t5/multi:list
	[ "$status" -eq 0 ]
	run kiln pull --tls-verify=false --platform linux/s390x $REG/t5/multi:list
	[ "$status" -eq 125 ]
	[[ "$output" == *"no image found in manifest list for platform linux/s390x (available: linux/arm64)"* ]]
}

@test "errors: unknown image, unknown tag, not a registry; image exists" {
	run kiln pull --tls-verify=false $REG/nothing/here:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"MANIFEST_UNKNOWN"* || "$output" == *"NAME_UNKNOWN"* ]]
	run kiln image exists $REG/nothing/here:v1
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	import_bb bb
	kiln image exists bb
	assert_store_consistent
}

@test "pull refuses a manifest over 4 MiB (when the registry takes one)" {
	python3 - > $BATS_TEST_TMPDIR/big.json <<'PY'
import json
print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
             "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
  "layers": [], "annotations": {"pad": "x" * (5 * 1024 * 1024)}}))
PY
	code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary @$BATS_TEST_TMPDIR/big.json http://$REG/v2/t6/big/manifests/v1)
	if [ "$code" = 201 ]; then
		run kiln pull --tls-verify=false $REG/t6/big:v1
		[ "$status" -eq 125 ]
		[[ "$output" == *"larger than 4 MiB"* ]]
	fi
}

@test "foreign and non-distributable layers are not pushed; their descriptors and urls are kept" {
	import_bb bb
	kiln push -q --tls-verify=false --format v2s2 bb $REG/fl/src:v1
	# A hand-made manifest: the layer marked foreign, with a URL.
	curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		http://$REG/v2/fl/src/manifests/v1 > $BATS_TEST_TMPDIR/m.json
	python3 - $BATS_TEST_TMPDIR/m.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
m["layers"][0]["urls"] = ["https://example.com/layer.tar.gz"]
open(sys.argv[1], "w").write(json.dumps(m))
PY
	curl -sf -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
		--data-binary @$BATS_TEST_TMPDIR/m.json http://$REG/v2/fl/src/manifests/foreign
	layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' $BATS_TEST_TMPDIR/m.json)
	kiln2 pull -q --tls-verify=false $REG/fl/src:foreign
	run kiln2 push --tls-verify=false $REG/fl/src:foreign $REG/fl2/dst:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Skipping foreign blob $layer"* ]]
	# Not uploaded (nor mounted) to the destination repository.
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I http://$REG/v2/fl2/dst/blobs/$layer)" = 404 ]
	curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		http://$REG/v2/fl2/dst/manifests/v1 | cmp - $BATS_TEST_TMPDIR/m.json
	# As OCI: the non-distributable type, urls kept.
	kiln2 push -q --tls-verify=false --format oci $REG/fl/src:foreign $REG/fl3/dst:v1
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I http://$REG/v2/fl3/dst/blobs/$layer)" = 404 ]
	run curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REG/v2/fl3/dst/manifests/v1
	[[ "$output" == *'"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"'* ]]
	[[ "$output" == *'"urls":["https://example.com/layer.tar.gz"]'* ]]
}

@test "progress bars on a terminal (Podman's shape), plain lines otherwise, nothing with -q" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	head -c 3000000 /dev/urandom > $BATS_TEST_TMPDIR/rnd
	printf 'FROM scratch\nCOPY rnd /rnd\n' > $BATS_TEST_TMPDIR/Containerfile
	kiln build -q -t big $BATS_TEST_TMPDIR >/dev/null
	kiln push -q --tls-verify=false big $REG/bars/big:v1
	tty_run() { script -qec "$*" /dev/null; }
	run tty_run "$KILN_BIN" --root $BATS_TEST_TMPDIR/r2 --runroot $BATS_TEST_TMPDIR/r2r \
		pull --tls-verify=false $REG/bars/big:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Getting image source signatures"* ]]
	[[ "$output" =~ Copying\ blob\ [0-9a-f]{12}\ \[[=\>-]+\]\ [0-9.]+MiB\ /\ [0-9.]+MiB ]]
	[[ "$output" =~ Copying\ blob\ [0-9a-f]{12}\ done ]]
	[[ "$output" == *$'\033['*A* ]]
	[[ "$output" == *"Writing manifest to image destination"* ]]
	src=$REG
	start_registry $BATS_TEST_TMPDIR/reg2 # an empty one: every blob is uploaded
	run tty_run "$KILN_BIN" --root $BATS_TEST_TMPDIR/r2 --runroot $BATS_TEST_TMPDIR/r2r \
		push --tls-verify=false $src/bars/big:v1 $REG/bars/again:v1
	stop_registry $BATS_TEST_TMPDIR/reg2
	REG=$src
	[ "$status" -eq 0 ]
	[[ "$output" =~ Copying\ blob\ [0-9a-f]{12}\ done ]]
	# -q on a terminal: only the ID.
	run tty_run "$KILN_BIN" --root $BATS_TEST_TMPDIR/r3 --runroot $BATS_TEST_TMPDIR/r3r \
		pull -q --tls-verify=false $REG/bars/big:v1
	[ "$status" -eq 0 ]
	[[ "$output" != *Copying* ]]
	# Not a terminal: plain lines, no escapes.
	run kiln2 pull --tls-verify=false $REG/bars/big:v1
	[[ "$output" == *"Copying blob sha256:"* ]]
	[[ "$output" != *$'\033'* ]]
}

@test "chunked uploads: --chunk-size, else [engine] chunk_size of kiln's containers.conf" {
	# A store per push: a store that pushed the image once mounts its
	# blobs into the next repository instead of uploading them.
	kn() { "$KILN_BIN" --root $BATS_TEST_TMPDIR/s$1 --runroot $BATS_TEST_TMPDIR/s$1.run "${@:2}"; }
	patches() { grep -c 'PATCH .*/blobs/uploads/' || true; }
	for i in 1 2 3; do kn $i import -q "$(busybox_tar)" bb >/dev/null; done
	# busybox's layer is about 1 MiB: monolithic by default.
	n=$(kn 1 --log-level debug push --tls-verify=false bb $REG/ch/bb:a 2>&1 | patches)
	[ "$n" -eq 0 ]
	n=$(kn 2 --log-level debug push --tls-verify=false --chunk-size 262144 bb $REG/ch2/bb:a 2>&1 | patches)
	[ "$n" -ge 3 ]
	printf '[engine]\nchunk_size = 262144\n' > $BATS_TEST_TMPDIR/containers.conf
	n=$(KILN_CONTAINERS_CONF=$BATS_TEST_TMPDIR/containers.conf kn 3 --log-level debug push \
		--tls-verify=false bb $REG/ch3/bb:a 2>&1 | patches)
	[ "$n" -ge 3 ]
	run kiln2 pull -q --tls-verify=false $REG/ch3/bb:a
	[ "$status" -eq 0 ]
}

@test "pull --all-tags pulls every tag of the repository" {
	import_bb bb
	for t in a b c; do kiln push -q --tls-verify=false bb $REG/at/bb:$t; done
	id=$(kiln inspect --format '{{.Id}}' bb); id=${id#sha256:}
	run kiln2 pull -q --all-tags --tls-verify=false $REG/at/bb
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[2]}" = "$id" ]
	run kiln2 images --format '{{.Repository}}:{{.Tag}}'
	[[ "$output" == *"$REG/at/bb:a"* && "$output" == *"$REG/at/bb:c"* ]]
	run kiln2 pull -a --tls-verify=false $REG/at/bb:a
	[ "$status" -eq 125 ]
	[[ "$output" == *"tag can't be used with --all-tags"* ]]
}
