#!/usr/bin/env bats
# Interop: skopeo inspects and podman pulls what kiln pushes; kiln pulls
# what skopeo copies in (gzip and zstd, v2s2 and OCI) with the same config.

load helpers
load ../lib/registry-helpers

@test "skopeo inspects and podman pulls an image kiln pushed" {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb)
	kiln push -q --tls-verify=false --digestfile $BATS_TEST_TMPDIR/d bb $REG/i/bb:v1
	run skopeo inspect --tls-verify=false docker://$REG/i/bb:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"Digest\": \"$(cat $BATS_TEST_TMPDIR/d)\""* ]]
	command -v podman >/dev/null || skip "podman is not installed"
	run env -u CONTAINERS_REGISTRIES_CONF podman --root "$BATS_TEST_TMPDIR/proot" \
		--runroot "$BATS_TEST_TMPDIR/prun" --storage-driver overlay \
		pull -q --tls-verify=false $REG/i/bb:v1
	podman_ rmi -a -f >/dev/null 2>&1 || true
	umount "$BATS_TEST_TMPDIR/proot/overlay" 2>/dev/null || true
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "${id#sha256:}" ]
}

@test "kiln pulls what skopeo copies in: gzip and zstd, v2s2 and OCI" {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb)
	kiln save -o $BATS_TEST_TMPDIR/bb.tar bb
	skopeo copy -q --dest-tls-verify=false --format v2s2 \
		docker-archive:$BATS_TEST_TMPDIR/bb.tar docker://$REG/s/v2s2:gz
	skopeo copy -q --dest-tls-verify=false --format oci \
		docker-archive:$BATS_TEST_TMPDIR/bb.tar docker://$REG/s/oci:gz
	skopeo copy -q --dest-tls-verify=false --format oci --dest-compress-format zstd \
		docker-archive:$BATS_TEST_TMPDIR/bb.tar docker://$REG/s/ocizstd:zst
	for ref in s/v2s2:gz s/oci:gz s/ocizstd:zst; do
		wait_syncer $BATS_TEST_TMPDIR/root2
		rm -rf $BATS_TEST_TMPDIR/root2 $BATS_TEST_TMPDIR/run2
		[ "$(kiln2 pull -q --tls-verify=false $REG/$ref)" = "${id#sha256:}" ]
	done
}
