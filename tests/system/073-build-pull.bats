#!/usr/bin/env bats
# kiln build: FROM (and COPY --from) pull a missing base through the
# registry client; --pull always|missing|never, --tls-verify, --creds,
# --authfile passed through.

load helpers
load ../lib/registry-helpers
bats_require_minimum_version 1.5.0

setup_file() {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed (make deps)"
	export RDIR=$BATS_FILE_TMPDIR/reg
	"$BATS_TEST_DIRNAME/../lib/registry.sh" start "$RDIR"
	if command -v htpasswd >/dev/null; then
		htpasswd -Bbc "$BATS_FILE_TMPDIR/htpasswd" alice s3cret 2>/dev/null
		export ADIR=$BATS_FILE_TMPDIR/areg
		"$BATS_TEST_DIRNAME/../lib/registry.sh" start "$ADIR" --htpasswd "$BATS_FILE_TMPDIR/htpasswd"
	fi
}

teardown_file() {
	"$BATS_TEST_DIRNAME/../lib/registry.sh" stop "$RDIR"
	[ -z "${ADIR:-}" ] || "$BATS_TEST_DIRNAME/../lib/registry.sh" stop "$ADIR"
}

setup() {
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
	REG=127.0.0.1:$(cat "$RDIR/port")
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/none.conf
	CTX=$BATS_TEST_TMPDIR/ctx
	mkdir -p "$CTX"
}

@test "build --pull: missing pulls once, never refuses, always pulls again; COPY --from an image pulls too" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/bp/bb:v1
	printf 'FROM %s/bp/bb:v1\nRUN echo built > /b\n' "$REG" > "$CTX/Containerfile"
	# kiln2: a store without the base.
	run kiln2 build --pull=never -t x "$CTX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not in local storage"*"--pull=never"* ]]
	run kiln2 build --tls-verify=false -t x "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Trying to pull $REG/bp/bb:v1..."* ]]
	run kiln2 run --rm x cat /b
	[ "$output" = built ]
	# Present now: no pull with the default (missing) or never.
	run kiln2 build --tls-verify=false -t x "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" != *"Trying to pull"* ]]
	run kiln2 build --pull=never -t x "$CTX"
	[ "$status" -eq 0 ]
	# --pull alone is always.
	run kiln2 build --pull --tls-verify=false -t x "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Trying to pull $REG/bp/bb:v1..."* ]]
	[[ "$output" == *"--> Using cache"* ]]
	# TLS verification on by default: plain HTTP fails.
	printf 'FROM %s/bp/bb:v1\n' "$REG" > "$CTX/Containerfile"
	run kiln2 build --pull=always -t y "$CTX"
	[ "$status" -ne 0 ]
	# COPY --from=IMAGE pulls a missing image.
	kiln push -q --tls-verify=false bb $REG/bp/other:v2
	printf 'FROM scratch\nCOPY --from=%s/bp/other:v2 /bin/busybox /busybox\n' "$REG" > "$CTX/Containerfile"
	run kiln2 build --tls-verify=false -t z "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Trying to pull $REG/bp/other:v2..."* ]]
	run kiln2 bud --pull=bogus "$CTX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--pull=bogus"* ]]
}

@test "build --pull: --creds and --authfile reach the registry" {
	[ -n "${ADIR:-}" ] || skip "htpasswd is not installed"
	AREG=127.0.0.1:$(cat "$ADIR/port")
	import_bb bb
	kiln push -q --tls-verify=false --creds alice:s3cret bb $AREG/auth/bb:v1
	printf 'FROM %s/auth/bb:v1\n' "$AREG" > "$CTX/Containerfile"
	run kiln2 build --tls-verify=false -t a "$CTX"
	[ "$status" -ne 0 ]
	run kiln2 build --tls-verify=false --creds alice:s3cret -t a "$CTX"
	[ "$status" -eq 0 ]
	auth=$(printf alice:s3cret | base64)
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$AREG" "$auth" > "$BATS_TEST_TMPDIR/auth.json"
	run kiln2 build --pull=always --tls-verify=false --authfile "$BATS_TEST_TMPDIR/auth.json" -t a "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Trying to pull $AREG/auth/bb:v1..."* ]]
}

@test "build --format docker: push defaults to a Docker v2s2 manifest; oci to OCI; podman runs it" {
	import_bb busybox
	printf 'FROM busybox\nRUN echo fmt > /f\nHEALTHCHECK CMD true\nCMD ["cat", "/f"]\n' > "$CTX/Containerfile"
	kiln build -q --format docker -t fd "$CTX" >/dev/null
	kiln build -q --format oci -t fo "$CTX" >/dev/null
	kiln push -q --tls-verify=false fd $REG/fmt/d:1
	kiln push -q --tls-verify=false fo $REG/fmt/o:1
	accept='Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json'
	run curl -s -H "$accept" http://$REG/v2/fmt/d/manifests/1
	[[ "$output" == *'"mediaType":"application/vnd.docker.distribution.manifest.v2+json"'* ]]
	[[ "$output" == *'rootfs.diff.tar.gzip'* ]]
	run curl -s -H "$accept" http://$REG/v2/fmt/o/manifests/1
	[[ "$output" == *'application/vnd.oci.image.manifest.v1+json'* ]]
	# Healthcheck in both configs.
	run kiln2 pull -q --tls-verify=false $REG/fmt/o:1
	[[ "$(kiln2 inspect --format '{{json .Config.Healthcheck}}' $REG/fmt/o:1)" == *CMD-SHELL* ]]
	command -v podman >/dev/null || skip "podman is not installed"
	podman_run_conf
	run env -u CONTAINERS_REGISTRIES_CONF podman --root "$BATS_TEST_TMPDIR/proot" \
		--runroot "$BATS_TEST_TMPDIR/prun" --storage-driver overlay \
		run --rm --tls-verify=false $REG/fmt/d:1
	podman_ rmi -a -f >/dev/null 2>&1 || true
	umount "$BATS_TEST_TMPDIR/proot/overlay" 2>/dev/null || true
	[ "${lines[-1]}" = fmt ]
}
