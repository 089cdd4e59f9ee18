#!/usr/bin/env bats
# The registry client's configuration end to end: registries.conf mirrors
# and insecure, the auth files' search order, certs.d client certificates,
# cross-repository mounts on push, uncompressed layers.

load helpers
load ../lib/registry-helpers

teardown() {
	for r in mir auth mtls; do
		[ -d $BATS_TEST_TMPDIR/$r ] && stop_registry $BATS_TEST_TMPDIR/$r
	done
	stop_leftover_containers
	umount_under "$BATS_TEST_TMPDIR"
	remove_store
}

# kiln with a debug log of every registry request (method, URL, status).
debug_log() {
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" --log-level debug "$@" 2>&1
}

@test "registries.conf: mirrors first, then the location; digest-only mirrors; insecure = true" {
	start_registry $BATS_TEST_TMPDIR/mir
	M=$REG
	REG=127.0.0.1:$(cat $RDIR/port)
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb)
	kiln push -q --tls-verify=false bb $M/mir/bb:v1
	kiln push -q --tls-verify=false bb $REG/main/bb:v1
	kiln push -q --tls-verify=false bb $REG/main/bb:v2
	cat > $CONTAINERS_REGISTRIES_CONF <<EOF
[[registry]]
prefix = "example.test/app"
location = "$REG/main"
insecure = true
[[registry.mirror]]
location = "$M/mir"
insecure = true
EOF
	# v1 is on the mirror: it comes from there, the location is not asked.
	run debug_log pull -q example.test/app/bb:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"GET /v2/mir/bb/manifests/v1: 200"* ]]
	[[ "$output" != *"/v2/main/bb/manifests"* ]]
	[ "${lines[-1]}" = "${id#sha256:}" ]
	# v2 is not: the mirror is tried, then the location.
	run debug_log pull -q example.test/app/bb:v2
	[ "$status" -eq 0 ]
	[[ "$output" == *"GET /v2/mir/bb/manifests/v2: 404"* ]]
	[[ "$output" == *"GET /v2/main/bb/manifests/v2: 200"* ]]
	kiln image exists example.test/app/bb:v2
	# copy resolves its source the same way.
	kiln copy -q --dest-tls-verify=false docker://example.test/app/bb:v2 docker://$REG/copied/bb:v2
	[ "$(kiln2 pull -q --tls-verify=false $REG/copied/bb:v2)" = "${id#sha256:}" ]

	# A digest-only mirror is skipped for a tag, used for a digest.
	digest=$(curl -s -o /dev/null -w '%header{docker-content-digest}' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$M/v2/mir/bb/manifests/v1)
	sed -i 's/^insecure = true$/insecure = true\npull-from-mirror = "digest-only"/' \
		$CONTAINERS_REGISTRIES_CONF
	run debug_log pull -q example.test/app/bb:v1
	[ "$status" -eq 0 ]
	[[ "$output" != *"/v2/mir/"* ]]
	[[ "$output" == *"GET /v2/main/bb/manifests/v1: 200"* ]]
	run debug_log pull -q example.test/app/bb@$digest
	[ "$status" -eq 0 ]
	[[ "$output" == *"GET /v2/mir/bb/manifests/$digest: 200"* ]]

	# Without insecure = true, plain HTTP is not used.
	sed -i '/^insecure = true$/d' $CONTAINERS_REGISTRIES_CONF
	run kiln pull -q --retry 0 example.test/app/bb:v2
	[ "$status" -ne 0 ]
	stop_registry $BATS_TEST_TMPDIR/mir
}

@test "credentials: \$XDG_RUNTIME_DIR/containers/auth.json before ~/.docker/config.json; login writes the first; never in the debug log" {
	command -v htpasswd >/dev/null || skip "htpasswd is not installed (make deps)"
	htpasswd -Bbc $BATS_TEST_TMPDIR/htpasswd alice s3cretpw 2>/dev/null
	start_registry $BATS_TEST_TMPDIR/auth --htpasswd $BATS_TEST_TMPDIR/htpasswd
	unset REGISTRY_AUTH_FILE
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg HOME=$BATS_TEST_TMPDIR/home
	mkdir -p $XDG_RUNTIME_DIR/containers $HOME/.docker
	import_bb bb
	run kiln push -q --retry 0 --tls-verify=false bb $REG/c/bb:v1
	[ "$status" -ne 0 ]
	# Docker's config.json is read when nothing else has the registry.
	good=$(printf alice:s3cretpw | base64) bad=$(printf alice:wrong | base64)
	printf '{"auths":{"%s":{"auth":"%s"}}}' $REG $good > $HOME/.docker/config.json
	kiln push -q --tls-verify=false bb $REG/c/bb:v1
	# The containers auth.json comes first: its wrong password is used.
	printf '{"auths":{"%s":{"auth":"%s"}}}' $REG $bad > $XDG_RUNTIME_DIR/containers/auth.json
	run kiln push -q --retry 0 --tls-verify=false bb $REG/c/bb:v2
	[ "$status" -ne 0 ]
	[[ "$output" == *"unauthorized"* || "$output" == *"authentication"* ]]
	[[ "$output" != *wrong* ]]
	# login writes the containers file (its auth.json format).
	rm $XDG_RUNTIME_DIR/containers/auth.json
	kiln login --tls-verify=false -u alice -p s3cretpw $REG
	run jq -r ".auths[\"$REG\"].auth" $XDG_RUNTIME_DIR/containers/auth.json
	[ "$output" = "$good" ]
	rm $HOME/.docker/config.json
	run debug_log push --tls-verify=false bb $REG/c/bb:v3
	[ "$status" -eq 0 ]
	[[ "$output" == *"PUT /v2/c/bb/manifests/v3: 201"* ]]
	[[ "$output" != *s3cretpw* && "$output" != *"$good"* ]]
	run debug_log pull --tls-verify=false $REG/c/bb:v3
	[ "$status" -eq 0 ]
	[[ "$output" != *s3cretpw* && "$output" != *"$good"* ]]
	stop_registry $BATS_TEST_TMPDIR/auth
}

@test "certs.d: a CA and a client certificate from ~/.config/containers/certs.d/HOST:PORT" {
	local d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kiln-test-ca \
		-keyout $d/ca.key -out $d/ca.crt 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout $d/srv.key -out $d/srv.csr 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' > $d/ext
	openssl x509 -req -in $d/srv.csr -CA $d/ca.crt -CAkey $d/ca.key -CAcreateserial \
		-days 2 -extfile $d/ext -out $d/srv.crt 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=kiln-client -keyout $d/client.key \
		-out $d/client.csr 2>/dev/null
	openssl x509 -req -in $d/client.csr -CA $d/ca.crt -CAkey $d/ca.key -CAcreateserial \
		-days 2 -out $d/client.cert 2>/dev/null
	start_registry $d/mtls --tls $d/srv.crt $d/srv.key --clientca $d/ca.crt $d/client.cert $d/client.key
	export HOME=$d/home
	cd_=$HOME/.config/containers/certs.d/$REG
	mkdir -p $cd_
	cp $d/ca.crt $cd_/
	import_bb bb
	# The CA alone: the registry wants a client certificate.
	run kiln push -q --retry 0 bb $REG/m/bb:v1
	[ "$status" -ne 0 ]
	cp $d/client.cert $d/client.key $cd_/
	kiln push -q bb $REG/m/bb:v1
	id=$(kiln inspect --format '{{.Id}}' bb)
	[ "$(kiln2 pull -q $REG/m/bb:v1)" = "${id#sha256:}" ]
	stop_registry $d/mtls
}

@test "push mounts a blob from the repository the image came from instead of uploading it" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/from/bb:v1
	kiln2 pull -q --tls-verify=false $REG/from/bb:v1 >/dev/null
	layer=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		http://$REG/v2/from/bb/manifests/v1 | jq -r '.layers[0].digest')
	run kiln2 --log-level debug push --tls-verify=false $REG/from/bb:v1 $REG/to/bb:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"POST /v2/to/bb/blobs/uploads/?mount=$layer&from=from/bb: 201"* ]]
	[[ "$output" != *"PUT "*"digest=$layer"* ]]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I http://$REG/v2/to/bb/blobs/$layer)" = 200 ]
}

@test "pull: an uncompressed layer (OCI tar media type) is verified and stored" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/src/bb:v1
	m=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REG/v2/src/bb/manifests/v1)
	gz=$(jq -r '.layers[0].digest' <<<"$m")
	curl -s http://$REG/v2/src/bb/blobs/$gz | gunzip > $BATS_TEST_TMPDIR/layer.tar
	tar_digest=sha256:$(sha256sum < $BATS_TEST_TMPDIR/layer.tar | cut -d' ' -f1)
	size=$(stat -c %s $BATS_TEST_TMPDIR/layer.tar)
	registry_put_blob $REG plain/bb $BATS_TEST_TMPDIR/layer.tar $tar_digest
	cfg=$(jq -r '.config.digest' <<<"$m")
	curl -s http://$REG/v2/src/bb/blobs/$cfg > $BATS_TEST_TMPDIR/cfg
	registry_put_blob $REG plain/bb $BATS_TEST_TMPDIR/cfg $cfg
	jq -c --arg d $tar_digest --argjson s $size \
		'.layers[0] = {mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $d, size: $s}' \
		<<<"$m" > $BATS_TEST_TMPDIR/manifest
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary @$BATS_TEST_TMPDIR/manifest http://$REG/v2/plain/bb/manifests/v1)" = 201 ]
	id=$(kiln inspect --format '{{.Id}}' bb)
	[ "$(kiln2 pull -q --tls-verify=false $REG/plain/bb:v1)" = "${id#sha256:}" ]
	run kiln2 run --rm $REG/plain/bb:v1 cat /etc/passwd
	[ "$status" -eq 0 ]
	[[ "$output" == *root* ]]
	KROOT=$BATS_TEST_TMPDIR/root2 assert_store_consistent
}
