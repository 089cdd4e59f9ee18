#!/usr/bin/env bats
# kiln copy between transports (docker://, oci:, oci-archive:,
# docker-archive:, dir:) without touching the store; kiln pull and push
# over the same transports.

load helpers
load ../lib/registry-helpers

setup() {
	registry_setup
	export TMPDIR=$BATS_TEST_TMPDIR
}

@test "copy: registry → every transport → registry, same image, store untouched" {
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb); id=${id#sha256:}
	kiln push -q --tls-verify=false bb $REG/c/bb:v1
	T=$BATS_TEST_TMPDIR
	run kiln2 copy --src-tls-verify=false docker://$REG/c/bb:v1 oci-archive:$T/a.tar
	[ "$status" -eq 0 ]
	kiln2 copy -q oci-archive:$T/a.tar docker-archive:$T/d.tar:x/bb:v2
	kiln2 copy -q docker-archive:$T/d.tar dir:$T/dir
	kiln2 copy -q dir:$T/dir oci:$T/layout:v3
	kiln2 copy -q --dest-tls-verify=false oci:$T/layout:v3 docker://$REG/c/bb:back
	# Nothing was stored in kiln2's store, and no temporary store is left.
	run kiln2 images -q
	[ -z "$output" ]
	[ -z "$(ls -d $T/kiln-copy.* 2>/dev/null)" ]
	run kiln2 pull -q --tls-verify=false $REG/c/bb:back
	[ "$output" = "$id" ]
	# Other tools read what kiln wrote.
	if command -v skopeo >/dev/null; then
		skopeo inspect --format '{{.Digest}}' docker-archive:$T/d.tar >/dev/null
		skopeo inspect oci-archive:$T/a.tar >/dev/null
		run skopeo inspect --config dir:$T/dir
		[ "$status" -eq 0 ]
	fi
}

@test "copy: its temporary store is gone when it returns (no syncer left behind)" {
	import_bb bb
	T=$BATS_TEST_TMPDIR
	kiln save -q --format oci-archive -o $T/src.tar bb
	for i in 1 2 3 4 5; do
		kiln2 copy -q oci-archive:$T/src.tar dir:$T/d$i
		[ -z "$(ls -d $T/kiln-copy.* 2>/dev/null)" ]
	done
	# A copy's store is thrown away: it starts no syncer.
	[ -z "$(pgrep -f "__store-syncer $T/kiln-copy" || true)" ]
}

@test "copy: a digest mismatch in the source fails and writes nothing" {
	import_bb bb
	T=$BATS_TEST_TMPDIR
	kiln save --format oci-dir -o $T/lay bb
	blob=$(ls -S $T/lay/blobs/sha256 | head -1)
	chmod u+w $T/lay/blobs/sha256/$blob
	printf 'x' | dd of=$T/lay/blobs/sha256/$blob bs=1 seek=100 conv=notrunc 2>/dev/null
	run kiln copy -q oci:$T/lay docker-archive:$T/out.tar
	[ "$status" -eq 125 ]
	[ ! -e $T/out.tar ]
	run kiln copy bb docker-archive:$T/out.tar
	[ "$status" -eq 125 ]
	[[ "$output" == *"a transport is needed"* ]]
}

@test "pull and push over archive transports" {
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb); id=${id#sha256:}
	T=$BATS_TEST_TMPDIR
	kiln push -q bb oci-archive:$T/o.tar
	kiln push -q bb docker-archive:$T/d.tar:my/img:t1
	kiln push -q bb dir:$T/d
	# The store's names are as before.
	run kiln images --format '{{.Repository}}:{{.Tag}}'
	[ "$output" = "localhost/bb:latest" ]
	run kiln2 pull -q oci-archive:$T/o.tar
	[ "$output" = "$id" ]
	run kiln2 pull -q docker-archive:$T/d.tar
	[ "$output" = "$id" ]
	kiln2 inspect localhost/my/img:t1 >/dev/null
	run kiln2 pull -q dir:$T/d
	[ "$output" = "$id" ]
}

@test "push --compression-level: the level reaches the compressor; bad levels refused" {
	import_bb bb
	kiln push -q --tls-verify=false --compression-format zstd --compression-level 1 \
		--force-compression bb $REG/lvl/bb:1
	kiln push -q --tls-verify=false --compression-format zstd --compression-level 19 \
		--force-compression bb $REG/lvl/bb:19
	size() {
		kiln inspect --remote --raw --tls-verify=false docker://$REG/lvl/bb:$1 |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["size"])'
	}
	s1=$(size 1); s19=$(size 19)
	[ "$s19" -lt "$s1" ]
	run kiln push --compression-level 0 bb $REG/lvl/bb:0
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid --compression-level"* ]]
}

@test "oci:DIR:TAG writes ref.name = TAG as skopeo does; each tool reads the other's" {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb); id=${id#sha256:}
	T=$BATS_TEST_TMPDIR
	kiln push -q bb oci:$T/lay:v1
	grep -q '"org.opencontainers.image.ref.name":"v1"' $T/lay/index.json
	skopeo inspect oci:$T/lay:v1 >/dev/null
	kiln push -q bb oci-archive:$T/a.tar:t2
	skopeo inspect oci-archive:$T/a.tar:t2 >/dev/null
	skopeo copy -q --policy "$KILN_SIGNATURE_POLICY" oci:$T/lay:v1 oci:$T/sk:v2
	run kiln2 pull -q oci:$T/sk:v2
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	run kiln2 pull -q oci:$T/sk:nope
	[ "$status" -eq 125 ]
	[[ "$output" == *'no image named "nope"'* ]]
	kiln2 copy -q oci:$T/lay:v1 oci-archive:$T/b.tar:t3
	skopeo inspect oci-archive:$T/b.tar:t3 >/dev/null
}

@test "copy between registries goes blob by blob: not extracted, bytes and digest kept, wrong bytes refused" {
	start_registry $BATS_TEST_TMPDIR/reg2
	R2=$REG
	REG=127.0.0.1:$(cat $RDIR/port)
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/dc/bb:v1
	# An image whose layer is not a tar at all: a store could not take it,
	# a registry copy carries it as skopeo does.
	m=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REG/v2/dc/bb/manifests/v1)
	cfg=$(jq -r .config.digest <<<"$m")
	curl -s http://$REG/v2/dc/bb/blobs/$cfg > $BATS_TEST_TMPDIR/cfg
	head -c 300000 /dev/urandom > $BATS_TEST_TMPDIR/junk
	registry_put_blob $REG odd/x $BATS_TEST_TMPDIR/cfg
	registry_put_blob $REG odd/x $BATS_TEST_TMPDIR/junk
	junk=sha256:$(sha256sum < $BATS_TEST_TMPDIR/junk | cut -d' ' -f1)
	jq -c --arg d $junk '.layers[0] = {mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $d, size: 300000}' \
		<<<"$m" > $BATS_TEST_TMPDIR/manifest
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary @$BATS_TEST_TMPDIR/manifest http://$REG/v2/odd/x/manifests/v1)" = 201 ]
	want=sha256:$(sha256sum < $BATS_TEST_TMPDIR/manifest | cut -d' ' -f1)
	run kiln copy --src-tls-verify=false --dest-tls-verify=false --digestfile $BATS_TEST_TMPDIR/d \
		docker://$REG/odd/x:v1 docker://$R2/odd/x:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Copying blob $junk"* ]]
	[ "$(cat $BATS_TEST_TMPDIR/d)" = "$want" ]
	[ "$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$R2/v2/odd/x/manifests/v1 | sha256sum | cut -d' ' -f1)" = "${want#sha256:}" ]
	[ "$(curl -s http://$R2/v2/odd/x/blobs/$junk | sha256sum | cut -d' ' -f1)" = "${junk#sha256:}" ]
	# Within one registry the layer is mounted, not sent again.
	run "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" --log-level debug copy --src-tls-verify=false \
		--dest-tls-verify=false docker://$REG/odd/x:v1 docker://$REG/odd2/x:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"POST /v2/odd2/x/blobs/uploads/?mount=$junk&from=odd/x: 201"* ]]
	[[ "$output" != *"GET /v2/odd/x/blobs/$junk"* ]]
	# Bytes that do not match their digest: refused, naming the blob; no manifest written.
	data=$(find $RDIR/data -path "*/blobs/sha256/*/${junk#sha256:}/data")
	printf 'x' | dd of=$data bs=1 seek=1000 conv=notrunc 2>/dev/null
	run kiln copy --src-tls-verify=false --dest-tls-verify=false \
		docker://$REG/odd/x:v1 docker://$R2/odd3/x:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"blob $junk"* ]]
	[ "$(curl -s -o /dev/null -w '%{http_code}' http://$R2/v2/odd3/x/manifests/v1)" = 404 ]
	[ -z "$(ls -A $BATS_TEST_TMPDIR | grep kiln-)" ]
	stop_registry $BATS_TEST_TMPDIR/reg2
}
