#!/usr/bin/env bats
# kiln manifest: lists kept in the store (create, add, annotate, remove,
# inspect, push --all, rm, exists), and interop both ways: a list podman
# makes is resolved by kiln pull --platform, kiln's list by podman/skopeo.

load helpers
load ../lib/registry-helpers

# Two distinct images (imported at different times: different configs).
two_images() {
	import_bb bb1
	sleep 1.1
	import_bb bb2
	ID1=$(kiln inspect --format '{{.Id}}' bb1); ID1=${ID1#sha256:}
	ID2=$(kiln inspect --format '{{.Id}}' bb2); ID2=${ID2#sha256:}
	[ "$ID1" != "$ID2" ]
}

jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

@test "manifest create/add/annotate/remove/inspect/exists/rm" {
	two_images
	run kiln manifest create mylist
	[ "$status" -eq 0 ]
	lid=$output
	[[ "$lid" =~ ^[0-9a-f]{64}$ ]]
	run kiln manifest create mylist
	[ "$status" -eq 125 ]
	[[ "$output" == *"already exists"* ]]
	kiln manifest exists mylist
	run kiln manifest exists nolist
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	run kiln manifest add mylist bb1
	[ "$output" = "$lid" ]
	kiln manifest add --arch arm64 --variant v8 --annotation org.example=yes mylist bb2
	run kiln manifest inspect mylist
	[ "$status" -eq 0 ]
	echo "$output" >$BATS_TEST_TMPDIR/l.json
	[ "$(jq_ 'd["mediaType"], len(d["manifests"])' <$BATS_TEST_TMPDIR/l.json)" = "application/vnd.oci.image.index.v1+json 2" ]
	[ "$(jq_ 'd["manifests"][1]["platform"]["architecture"], d["manifests"][1]["platform"]["variant"], d["manifests"][1]["annotations"]["org.example"]' <$BATS_TEST_TMPDIR/l.json)" = "arm64 v8 yes" ]
	d2=$(jq_ 'd["manifests"][1]["digest"]' <$BATS_TEST_TMPDIR/l.json)
	# annotate by digest and by image.
	kiln manifest annotate --os freebsd mylist $d2
	kiln manifest annotate --annotation a=b mylist bb1
	run kiln manifest inspect mylist
	[ "$(echo "$output" | jq_ 'd["manifests"][1]["platform"]["os"], d["manifests"][0]["annotations"]["a"]')" = "freebsd b" ]
	run kiln manifest annotate mylist sha256:0000000000000000000000000000000000000000000000000000000000000000
	[ "$status" -eq 125 ]
	[[ "$output" == *"no instance matching digest"* ]]
	run kiln manifest remove mylist $d2
	[ "$output" = "$lid" ]
	run kiln manifest inspect mylist
	[ "$(echo "$output" | jq_ 'len(d["manifests"])')" = "1" ]
	run kiln manifest rm mylist
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Untagged: localhost/mylist:latest" ]
	[ "${lines[1]}" = "Deleted: $lid" ]
	run kiln manifest inspect --tls-verify=false mylist
	[ "$status" -eq 125 ]
	# The images themselves are untouched.
	kiln image exists bb1
}

@test "manifest push --all: kiln pull, podman and skopeo pick the right instance" {
	two_images
	kiln manifest create ml
	kiln manifest add ml bb1
	kiln manifest add --arch arm64 --variant v8 ml bb2
	run kiln manifest push --all --tls-verify=false --digestfile $BATS_TEST_TMPDIR/d ml $REG/ml/list:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Writing manifest list to image destination"* ]]
	# The registry serves the list under its digest.
	run kiln inspect --remote --raw --tls-verify=false docker://$REG/ml/list:v1
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$(cat $BATS_TEST_TMPDIR/d)" ]
	run kiln2 pull -q --tls-verify=false --platform linux/arm64/v8 $REG/ml/list:v1
	[ "$status" -eq 0 ]
	[ "$output" = "$ID2" ]
	run kiln2 pull -q --tls-verify=false --platform linux/amd64 $REG/ml/list:v1
	[ "$output" = "$ID1" ]
	run kiln2 pull -q --tls-verify=false --platform linux/s390x $REG/ml/list:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"linux/arm64/v8"* ]]
	if command -v skopeo >/dev/null; then
		skopeo --override-arch arm64 --override-variant v8 copy -q --src-tls-verify=false \
			docker://$REG/ml/list:v1 dir:$BATS_TEST_TMPDIR/sk
		[ "$(jq_ 'd["config"]["digest"]' <$BATS_TEST_TMPDIR/sk/manifest.json)" = "sha256:$ID2" ]
	fi
	command -v podman >/dev/null || skip "podman is not installed"
	run env -u CONTAINERS_REGISTRIES_CONF podman --root "$BATS_TEST_TMPDIR/proot" \
		--runroot "$BATS_TEST_TMPDIR/prun" --storage-driver overlay \
		pull -q --tls-verify=false --arch arm64 --variant v8 $REG/ml/list:v1
	podman_ rmi -a -f >/dev/null 2>&1 || true
	umount "$BATS_TEST_TMPDIR/proot/overlay" 2>/dev/null || true
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$ID2" ]
}

@test "manifest push --format v2s2 gives a Docker list; push without --all needs the instances" {
	two_images
	kiln manifest create dl bb1
	run kiln manifest push --tls-verify=false dl $REG/ml/missing:v1
	[ "$status" -eq 125 ]
	kiln manifest push -q --all --format v2s2 --tls-verify=false dl $REG/ml/docker:v1
	run kiln inspect --remote --raw --tls-verify=false docker://$REG/ml/docker:v1
	[ "$(echo "$output" | jq_ 'd["mediaType"]')" = "application/vnd.docker.distribution.manifest.list.v2+json" ]
	[ "$(echo "$output" | jq_ 'd["manifests"][0]["mediaType"]')" = "application/vnd.docker.distribution.manifest.v2+json" ]
	run kiln2 pull -q --tls-verify=false $REG/ml/docker:v1
	[ "$output" = "$ID1" ]
}

@test "a list podman makes is resolved to the right platform by kiln pull --platform" {
	command -v podman >/dev/null || skip "podman is not installed"
	two_images
	kiln push -q --tls-verify=false bb1 $REG/pm/bb1:v1
	kiln push -q --tls-verify=false bb2 $REG/pm/bb2:v1
	pm() { env -u CONTAINERS_REGISTRIES_CONF podman --root "$BATS_TEST_TMPDIR/proot" \
		--runroot "$BATS_TEST_TMPDIR/prun" --storage-driver overlay "$@"; }
	pm manifest create localhost/plist
	pm manifest add --tls-verify=false localhost/plist docker://$REG/pm/bb1:v1
	pm manifest add --tls-verify=false --arch arm64 --variant v8 localhost/plist docker://$REG/pm/bb2:v1
	run pm manifest push --all --tls-verify=false localhost/plist docker://$REG/pm/list:v1
	podman_ rmi -a -f >/dev/null 2>&1 || true
	umount "$BATS_TEST_TMPDIR/proot/overlay" 2>/dev/null || true
	[ "$status" -eq 0 ]
	run kiln pull -q --tls-verify=false --platform linux/arm64/v8 $REG/pm/list:v1
	[ "$status" -eq 0 ]
	[ "$output" = "$ID2" ]
	run kiln2 pull -q --tls-verify=false --platform linux/amd64 $REG/pm/list:v1
	[ "$output" = "$ID1" ]
	# kiln manifest add of a remote list: only the host's instance, or --all.
	kiln manifest create fromreg
	kiln manifest add --tls-verify=false fromreg docker://$REG/pm/list:v1
	run kiln manifest inspect fromreg
	[ "$(echo "$output" | jq_ 'len(d["manifests"])')" = "1" ]
	kiln manifest add --all --tls-verify=false fromreg docker://$REG/pm/list:v1
	run kiln manifest inspect fromreg
	[ "$(echo "$output" | jq_ 'len(d["manifests"])')" = "2" ]
	# Pushed to the same repository, the instances are already there.
	kiln manifest push -q --all --tls-verify=false fromreg $REG/pm/list:v2
	run kiln2 pull -q --tls-verify=false --platform linux/arm64/v8 $REG/pm/list:v2
	[ "$output" = "$ID2" ]
}

@test "copy --all copies a list with every instance, keeping its digest" {
	two_images
	kiln manifest create ml bb1
	kiln manifest add --arch arm64 --variant v8 ml bb2
	kiln manifest push -q --all --tls-verify=false ml $REG/ca/src:v1
	kiln2 copy -q --all --src-tls-verify=false --dest-tls-verify=false \
		docker://$REG/ca/src:v1 docker://$REG/ca/dst:v1
	src=$(kiln inspect --remote --raw --tls-verify=false docker://$REG/ca/src:v1 | sha256sum)
	dst=$(kiln inspect --remote --raw --tls-verify=false docker://$REG/ca/dst:v1 | sha256sum)
	[ "$src" = "$dst" ]
	run kiln2 images -q
	[ -z "$output" ]
	run kiln2 pull -q --tls-verify=false --platform linux/arm64/v8 $REG/ca/dst:v1
	[ "$output" = "$ID2" ]
	run kiln2 pull -q --tls-verify=false $REG/ca/dst:v1
	[ "$output" = "$ID1" ]
	# Without --all: the host's image only.
	kiln2 copy -q --src-tls-verify=false --dest-tls-verify=false \
		docker://$REG/ca/src:v1 docker://$REG/ca/one:v1
	run kiln inspect --remote --raw --tls-verify=false docker://$REG/ca/one:v1
	[[ "$output" != *'"manifests"'* ]]
}

@test "manifest push --all copies instances added from other repositories" {
	two_images
	kiln push -q --tls-verify=false bb1 $REG/o1/a:v1
	kiln push -q --tls-verify=false bb2 $REG/o2/b:v1
	kiln rmi bb1 bb2 >/dev/null
	kiln manifest create ml2
	kiln manifest add --tls-verify=false ml2 docker://$REG/o1/a:v1
	kiln manifest add --tls-verify=false --arch arm64 ml2 docker://$REG/o2/b:v1
	run kiln manifest push --tls-verify=false ml2 $REG/o3/list:v1
	[ "$status" -eq 125 ]
	kiln manifest push -q --all --tls-verify=false ml2 $REG/o3/list:v1
	run kiln2 pull -q --tls-verify=false $REG/o3/list:v1
	[ "$output" = "$ID1" ]
	run kiln2 pull -q --tls-verify=false --platform linux/arm64 $REG/o3/list:v1
	[ "$output" = "$ID2" ]
}
