#!/usr/bin/env bats
# TLS with a CA made here (--cert-dir), htpasswd basic auth with login /
# logout, and bearer tokens from the tests' token server.

load helpers
load ../lib/registry-helpers

setup_file() {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed (make deps)"
	command -v htpasswd >/dev/null || skip "htpasswd is not installed (make deps)"
	local d=$BATS_FILE_TMPDIR
	mkdir -p $d/certs
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kiln-test-ca \
		-keyout $d/ca.key -out $d/certs/ca.crt 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout $d/srv.key -out $d/srv.csr 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' > $d/ext
	openssl x509 -req -in $d/srv.csr -CA $d/certs/ca.crt -CAkey $d/ca.key -CAcreateserial \
		-days 2 -extfile $d/ext -out $d/srv.crt 2>/dev/null
	htpasswd -Bbc $d/htpasswd alice s3cret 2>/dev/null
	"$BATS_TEST_DIRNAME/../lib/registry.sh" start $d/tls --tls $d/srv.crt $d/srv.key
	"$BATS_TEST_DIRNAME/../lib/registry.sh" start $d/basic --tls $d/srv.crt $d/srv.key --htpasswd $d/htpasswd
	# Token auth: the token server signs with tok.key, the registry trusts tok.crt.
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kiln-token \
		-keyout $d/tok.key -out $d/tok.crt 2>/dev/null
	python3 "$BATS_TEST_DIRNAME/../lib/token-server.py" $d/tok.key $d/tokport bob:pa55 --anon-pull &
	echo $! > $d/tokpid
	wait_port_file $d/tokport
	"$BATS_TEST_DIRNAME/../lib/registry.sh" start $d/bearer \
		--token http://127.0.0.1:$(cat $d/tokport)/token $d/tok.crt
}

teardown_file() {
	local d=$BATS_FILE_TMPDIR
	for r in tls basic bearer; do "$BATS_TEST_DIRNAME/../lib/registry.sh" stop $d/$r; done
	[ -f $d/tokpid ] && kill "$(cat $d/tokpid)" 2>/dev/null || true
}

setup() {
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/none.conf
	export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json
	D=$BATS_FILE_TMPDIR
	TLS=127.0.0.1:$(cat $D/tls/port)
	BASIC=127.0.0.1:$(cat $D/basic/port)
	BEARER=127.0.0.1:$(cat $D/bearer/port)
}

@test "TLS: the CA from --cert-dir is trusted; without it the certificate is refused" {
	import_bb bb
	run kiln push --retry 0 bb $TLS/t/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"certificate"* ]]
	kiln push -q --cert-dir $D/certs bb $TLS/t/bb:v1
	id=$(kiln inspect --format '{{.Id}}' bb)
	[ "$(kiln2 pull -q --cert-dir $D/certs $TLS/t/bb:v1)" = "${id#sha256:}" ]
	# --tls-verify=false also gets through.
	kiln2 pull -q --tls-verify=false $TLS/t/bb:v1
}

@test "basic auth: login writes auth.json, push and pull use it, logout removes it" {
	import_bb bb
	run kiln push --retry 0 --cert-dir $D/certs bb $BASIC/t/bb:v1
	[ "$status" -eq 125 ]
	run kiln login --cert-dir $D/certs -u alice -p wrong $BASIC
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid username/password"* ]]
	[[ "$output" != *"wrong"* ]]
	run kiln login --cert-dir $D/certs -u alice -p s3cret $BASIC
	[ "$status" -eq 0 ]
	[ "$output" = "Login Succeeded!" ]
	grep -q "\"$BASIC\"" $REGISTRY_AUTH_FILE
	[ "$(stat -c %a $REGISTRY_AUTH_FILE)" = 600 ]
	[ "$(kiln login --get-login $BASIC)" = alice ]
	kiln push -q --cert-dir $D/certs bb $BASIC/t/bb:v1
	kiln2 pull -q --cert-dir $D/certs $BASIC/t/bb:v1
	run kiln logout $BASIC
	[ "$status" -eq 0 ]
	run kiln login --get-login $BASIC
	[ "$status" -eq 125 ]
	[[ "$output" == *"not logged into $BASIC"* ]]
	# --creds and --password-stdin.
	kiln2 pull -q --cert-dir $D/certs --creds alice:s3cret $BASIC/t/bb:v1
	echo s3cret | kiln login --cert-dir $D/certs -u alice --password-stdin --authfile $BATS_TEST_TMPDIR/other.json $BASIC
	kiln2 pull -q --cert-dir $D/certs --authfile $BATS_TEST_TMPDIR/other.json $BASIC/t/bb:v1
}

@test "bearer tokens: anonymous pull, push with credentials, anonymous push denied" {
	import_bb bb
	run kiln push --retry 0 --tls-verify=false bb $BEARER/t/bb:v1
	[ "$status" -eq 125 ]
	kiln push -q --tls-verify=false --creds bob:pa55 bb $BEARER/t/bb:v1
	id=$(kiln inspect --format '{{.Id}}' bb)
	[ "$(kiln2 pull -q --tls-verify=false $BEARER/t/bb:v1)" = "${id#sha256:}" ]
	run kiln login --tls-verify=false -u bob -p nope $BEARER
	[ "$status" -eq 125 ]
	[[ "$output" != *"nope"* ]]
	kiln login --tls-verify=false -u bob -p pa55 $BEARER
	kiln push -q --tls-verify=false bb $BEARER/t/bb:v2
}

@test "bearer tokens: one token per scope for the life of a command" {
	import_bb bb
	kiln push -q --tls-verify=false --creds bob:pa55 bb $BEARER/once/bb:v1
	: > $D/tokport.log
	# A pull's GETs (manifest, config, layer) share the repository's pull token.
	kiln2 pull -q --tls-verify=false $BEARER/once/bb:v1
	run cat $D/tokport.log
	[ "$output" = "repository:once/bb:pull" ]
	# A push's HEADs, uploads and manifest share its pull,push token.
	: > $D/tokport.log
	kiln2 push -q --tls-verify=false --creds bob:pa55 $BEARER/once/bb:v1 $BEARER/once2/bb:v1
	cat $D/tokport.log
	[ "$(grep -c 'repository:once2/bb:pull,push$' $D/tokport.log)" = 1 ]
}

@test "copy: --src-creds/--dest-creds, --src-cert-dir/--dest-cert-dir, --src-/--dest-tls-verify per side" {
	import_bb bb
	kiln push -q --tls-verify=false --creds bob:pa55 bb $BEARER/c/bb:v1
	# Source: bearer (anonymous pull, no TLS); destination: basic auth over TLS.
	run kiln copy -q --retry 0 --src-tls-verify=false --dest-cert-dir $D/certs \
		docker://$BEARER/c/bb:v1 docker://$BASIC/c/bb:v1
	[ "$status" -eq 125 ]
	kiln copy -q --src-tls-verify=false --dest-cert-dir $D/certs --dest-creds alice:s3cret \
		docker://$BEARER/c/bb:v1 docker://$BASIC/c/bb:v1
	# The other way: the source needs credentials and its CA, the destination
	# wants bob's and no TLS.
	kiln copy -q --src-cert-dir $D/certs --src-creds alice:s3cret --dest-tls-verify=false \
		--dest-creds bob:pa55 docker://$BASIC/c/bb:v1 docker://$BEARER/c/back:v1
	id=$(kiln inspect --format '{{.Id}}' bb)
	[ "$(kiln2 pull -q --tls-verify=false $BEARER/c/back:v1)" = "${id#sha256:}" ]
	# --dest-authfile: credentials read from that file for the destination only.
	echo s3cret | kiln login --cert-dir $D/certs -u alice --password-stdin --authfile $BATS_TEST_TMPDIR/dst.json $BASIC
	kiln copy -q --src-tls-verify=false --dest-cert-dir $D/certs --dest-authfile $BATS_TEST_TMPDIR/dst.json \
		docker://$BEARER/c/bb:v1 docker://$BASIC/c/again:v1
}
