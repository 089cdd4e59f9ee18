#!/usr/bin/env bats
# Signing on push and the trust policy on pull, against the test registry:
# GPG simple signing in a file:// lookaside, sigstore .sig attachments,
# skopeo interop.  Keys are made here (a temporary GNUPGHOME).

load helpers
load ../lib/registry-helpers

setup_file() {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed (make deps)"
	command -v gpg >/dev/null || skip "gpg is not installed"
	export RDIR=$BATS_FILE_TMPDIR/reg
	"$BATS_TEST_DIRNAME/../lib/registry.sh" start "$RDIR"
	# Two signing keys, A and B, each exported to a keyring file.
	export GNUPGHOME=$BATS_FILE_TMPDIR/gnupg
	mkdir -m 700 "$GNUPGHOME"
	for k in A B; do
		gpg --batch -q --passphrase '' --quick-gen-key "kiln $k <$k@example.com>" ed25519 sign never
	done
	gpg --list-secret-keys --with-colons | awk -F: '/^fpr/ {print $10}' > "$BATS_FILE_TMPDIR/fprs"
	gpg --batch --export "$(sed -n 1p "$BATS_FILE_TMPDIR/fprs")" > "$BATS_FILE_TMPDIR/A.gpg"
	gpg --batch --export "$(sed -n 2p "$BATS_FILE_TMPDIR/fprs")" > "$BATS_FILE_TMPDIR/B.gpg"
}

teardown_file() {
	"$BATS_TEST_DIRNAME/../lib/registry.sh" stop "$RDIR"
	gpgconf --kill all 2>/dev/null || true
}

setup() {
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
	REG=127.0.0.1:$(cat "$RDIR/port")
	export REG
	export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/none.conf
	export TMPDIR=$BATS_TEST_TMPDIR
	export GNUPGHOME=$BATS_FILE_TMPDIR/gnupg
	FA=$(sed -n 1p "$BATS_FILE_TMPDIR/fprs")
	FB=$(sed -n 2p "$BATS_FILE_TMPDIR/fprs")
	# registries.d: this registry's lookaside in the test's directory.
	RD=$BATS_TEST_TMPDIR/registries.d
	mkdir -p "$RD"
	printf 'docker:\n  %s:\n    lookaside: file://%s/sigstore\n    use-sigstore-attachments: true\n' \
		"$REG" "$BATS_TEST_TMPDIR" > "$RD/test.yaml"
}

teardown() {
	[ -f "$BATS_TEST_TMPDIR/web.pid" ] && kill "$(cat "$BATS_TEST_TMPDIR/web.pid")" 2>/dev/null
	remove_store
}

# policy FILE REQUIREMENT-JSON: reject by default, REQUIREMENT for $REG.
policy() {
	printf '{"default":[{"type":"reject"}],"transports":{"docker":{"%s":[%s]}}}\n' "$REG" "$2" > "$1"
}

signed_by() {
	echo "{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"$1\"}"
}

sigstore_signed() {
	echo "{\"type\":\"sigstoreSigned\",\"keyPath\":\"$1\",\"signedIdentity\":{\"type\":\"matchRepository\"}}"
}

@test "gpg: push --sign-by, pull under signedBy accepts; unsigned and other key rejected, nothing stored" {
	import_bb bb
	kiln push -q --tls-verify=false --registries.d "$RD" --sign-by "$FA" bb $REG/s/bb:signed
	ls "$BATS_TEST_TMPDIR"/sigstore/s/bb@sha256=*/signature-1
	kiln push -q --tls-verify=false bb $REG/s/bb:unsigned
	P=$BATS_TEST_TMPDIR/a.json
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/A.gpg")"

	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/s/bb:signed
	[ "$status" -eq 0 ]
	run kiln2 images -q
	[ "${#lines[@]}" -eq 1 ]
	wait_syncer "$BATS_TEST_TMPDIR/root2"
	rm -rf "$BATS_TEST_TMPDIR/root2" "$BATS_TEST_TMPDIR/run2"

	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/s/bb:unsigned
	[ "$status" -eq 125 ]
	[[ "$output" == *"trust policy"*rejected* ]]
	[[ "$output" == *signedBy* ]]
	run kiln2 images -q
	[ -z "$output" ]

	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/B.gpg")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/s/bb:signed
	[ "$status" -eq 125 ]
	[[ "$output" == *signedBy* ]]
	run kiln2 images -q
	[ -z "$output" ]
	[ -z "$(ls "$BATS_TEST_TMPDIR/root2/layers" 2>/dev/null)" ]
}

@test "gpg: a signature for another digest or another identity is rejected" {
	import_bb bb
	kiln push -q --tls-verify=false --registries.d "$RD" --sign-by "$FA" bb $REG/id/bb:v1
	kiln push -q --tls-verify=false --format v2s2 bb $REG/id/bb:other
	P=$BATS_TEST_TMPDIR/a.json
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/A.gpg")"
	# The v1 signature moved under the digest of :other.
	d1=$(ls -d "$BATS_TEST_TMPDIR"/sigstore/id/bb@sha256=*)
	d2=$(skopeo inspect --tls-verify=false --raw docker://$REG/id/bb:other | sha256sum | cut -d' ' -f1)
	mkdir -p "$BATS_TEST_TMPDIR/sigstore/id/bb@sha256=$d2"
	cp "$d1/signature-1" "$BATS_TEST_TMPDIR/sigstore/id/bb@sha256=$d2/"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/id/bb:other
	[ "$status" -eq 125 ]
	[[ "$output" == *signedBy* ]]
	# Signed as :v1, pulled as :v2 (same digest): matchRepoDigestOrExact fails.
	skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
		docker://$REG/id/bb:v1 docker://$REG/id/bb:v2
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/id/bb:v2
	[ "$status" -eq 125 ]
	# ... and remapIdentity/matchRepository accept it.
	policy "$P" "{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"$BATS_FILE_TMPDIR/A.gpg\",\"signedIdentity\":{\"type\":\"matchRepository\"}}"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/id/bb:v2
	[ "$status" -eq 0 ]
}

@test "policy: reject by default, a missing policy file is refused" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/r/bb:v1
	P=$BATS_TEST_TMPDIR/reject.json
	echo '{"default":[{"type":"reject"}]}' > "$P"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" $REG/r/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *reject* ]]
	run kiln2 pull -q --tls-verify=false --signature-policy "$BATS_TEST_TMPDIR/nope.json" $REG/r/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"no trust policy"* ]]
	run kiln2 images -q
	[ -z "$output" ]
	# A trusted registry scope under a reject default.
	printf '{"default":[{"type":"reject"}],"transports":{"docker":{"%s":[{"type":"insecureAcceptAnything"}]}}}\n' "$REG" > "$P"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" $REG/r/bb:v1
	[ "$status" -eq 0 ]
	# Other transports have their own scopes.
	kiln push -q bb oci:$BATS_TEST_TMPDIR/lay:v1
	run kiln2 pull -q --signature-policy "$P" oci:$BATS_TEST_TMPDIR/lay:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *reject* ]]
}

@test "sigstore: push --sign-by-sigstore-private-key, pull accepts; other key and a moved signature rejected" {
	import_bb bb
	echo pw > "$BATS_TEST_TMPDIR/pw"
	kiln generate-sigstore-key --output-prefix "$BATS_TEST_TMPDIR/k1" --passphrase-file "$BATS_TEST_TMPDIR/pw"
	kiln generate-sigstore-key --output-prefix "$BATS_TEST_TMPDIR/k2"
	kiln push -q --tls-verify=false --sign-by-sigstore-private-key "$BATS_TEST_TMPDIR/k1.private" \
		--sign-passphrase-file "$BATS_TEST_TMPDIR/pw" bb $REG/ss/bb:v1
	P=$BATS_TEST_TMPDIR/s.json
	policy "$P" "$(sigstore_signed "$BATS_TEST_TMPDIR/k1.pub")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/ss/bb:v1
	[ "$status" -eq 0 ]
	wait_syncer "$BATS_TEST_TMPDIR/root2"
	rm -rf "$BATS_TEST_TMPDIR/root2" "$BATS_TEST_TMPDIR/run2"

	policy "$P" "$(sigstore_signed "$BATS_TEST_TMPDIR/k2.pub")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/ss/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *sigstoreSigned* ]]

	# Tampered: v1's .sig attached to another image's digest.
	kiln push -q --tls-verify=false --format v2s2 bb $REG/ss/bb:v2
	d1=$(skopeo inspect --tls-verify=false --raw docker://$REG/ss/bb:v1 | sha256sum | cut -d' ' -f1)
	d2=$(skopeo inspect --tls-verify=false --raw docker://$REG/ss/bb:v2 | sha256sum | cut -d' ' -f1)
	skopeo copy -q --policy "$KILN_SIGNATURE_POLICY" --src-tls-verify=false --dest-tls-verify=false \
		docker://$REG/ss/bb:sha256-$d1.sig docker://$REG/ss/bb:sha256-$d2.sig
	policy "$P" "$(sigstore_signed "$BATS_TEST_TMPDIR/k1.pub")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/ss/bb:v2
	[ "$status" -eq 125 ]
	[[ "$output" == *sigstoreSigned* ]]
	run kiln2 images -q
	[ -z "$output" ]
}

@test "interop: skopeo --sign-by is accepted by kiln; kiln --sign-by is accepted by skopeo" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/sk/src:v1
	P=$BATS_TEST_TMPDIR/a.json
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/A.gpg")"
	skopeo copy -q --policy "$KILN_SIGNATURE_POLICY" --registries.d "$RD" --dest-tls-verify=false \
		--src-tls-verify=false --sign-by "$FA" docker://$REG/sk/src:v1 docker://$REG/sk/bb:v1
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/sk/bb:v1
	[ "$status" -eq 0 ]
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/B.gpg")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/sk/bb:v1
	[ "$status" -eq 125 ]

	kiln push -q --tls-verify=false --registries.d "$RD" --sign-by "$FA" bb $REG/ks/bb:v1
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/A.gpg")"
	skopeo copy -q --policy "$P" --registries.d "$RD" --src-tls-verify=false --remove-signatures \
		docker://$REG/ks/bb:v1 oci:$BATS_TEST_TMPDIR/out:v1
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/B.gpg")"
	run skopeo copy -q --policy "$P" --registries.d "$RD" --src-tls-verify=false --remove-signatures \
		docker://$REG/ks/bb:v1 oci:$BATS_TEST_TMPDIR/out2:v1
	[ "$status" -ne 0 ]
	[[ "$output" == *"not signed by"* || "$output" == *"signed by"* || "$output" == *"rejected"* ]]
}

@test "interop: skopeo verifies kiln's sigstore signature; skopeo's is accepted by kiln" {
	import_bb bb
	kiln generate-sigstore-key --output-prefix "$BATS_TEST_TMPDIR/k1"
	P=$BATS_TEST_TMPDIR/s.json
	policy "$P" "$(sigstore_signed "$BATS_TEST_TMPDIR/k1.pub")"
	kiln push -q --tls-verify=false --sign-by-sigstore-private-key "$BATS_TEST_TMPDIR/k1.private" \
		bb $REG/kss/bb:v1
	run skopeo copy -q --policy "$P" --registries.d "$RD" --src-tls-verify=false --remove-signatures \
		docker://$REG/kss/bb:v1 oci:$BATS_TEST_TMPDIR/out:v1
	# Debian's skopeo is built without sigstore (neither signing nor verifying).
	if [[ "$output" == *"sigstore disabled"* ]]; then
		skip "this skopeo has no sigstore support"
	fi
	[ "$status" -eq 0 ]

	kiln push -q --tls-verify=false bb $REG/sks/src:v1
	: > "$BATS_TEST_TMPDIR/empty"
	run skopeo copy -q --policy "$KILN_SIGNATURE_POLICY" --registries.d "$RD" --dest-tls-verify=false \
		--sign-by-sigstore-private-key "$BATS_TEST_TMPDIR/k1.private" \
		--sign-passphrase-file "$BATS_TEST_TMPDIR/empty" \
		--src-tls-verify=false docker://$REG/sks/src:v1 docker://$REG/sks/bb:v1
	if [[ "$output" == *"sigstore disabled"* ]]; then
		skip "this skopeo cannot sign with sigstore keys"
	fi
	[ "$status" -eq 0 ]
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/sks/bb:v1
	[ "$status" -eq 0 ]
}

@test "gpg: signatures read from an http:// lookaside" {
	import_bb bb
	mkdir -p "$BATS_TEST_TMPDIR/web"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	python3 -m http.server --bind 127.0.0.1 --directory "$BATS_TEST_TMPDIR/web" "$port" \
		>/dev/null 2>&1 &
	echo $! > "$BATS_TEST_TMPDIR/web.pid"
	printf 'docker:\n  %s:\n    lookaside: http://127.0.0.1:%s/sigs\n    lookaside-staging: file://%s/web/sigs\n' \
		"$REG" "$port" "$BATS_TEST_TMPDIR" > "$RD/test.yaml"
	kiln push -q --tls-verify=false --registries.d "$RD" --sign-by "$FA" bb $REG/h/bb:v1
	kiln push -q --tls-verify=false --registries.d "$RD" --sign-by "$FB" bb $REG/h/bb:v1
	ls "$BATS_TEST_TMPDIR"/web/sigs/h/bb@sha256=*/signature-2
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	P=$BATS_TEST_TMPDIR/b.json
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/B.gpg")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/h/bb:v1
	[ "$status" -eq 0 ]
}

@test "image sign: a pushed image signed afterwards is accepted; --directory" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/is/bb:v1
	P=$BATS_TEST_TMPDIR/a.json
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/A.gpg")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/is/bb:v1
	[ "$status" -eq 125 ]
	run kiln image sign --tls-verify=false --registries.d "$RD" $REG/is/bb:v1
	[ "$status" -eq 125 ]
	kiln image sign --tls-verify=false --registries.d "$RD" --sign-by "$FA" docker://$REG/is/bb:v1
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/is/bb:v1
	[ "$status" -eq 0 ]
	kiln image sign --tls-verify=false -d "$BATS_TEST_TMPDIR/elsewhere" --sign-by "$FB" docker://$REG/is/bb:v1
	ls "$BATS_TEST_TMPDIR"/elsewhere/is/bb@sha256=*/signature-1
}

@test "manifest push --sign-by: the list and each instance are signed; pulls of either platform verify" {
	import_bb bb1
	sleep 1.1 # another created time: another image
	import_bb bb2
	kiln manifest create ml
	kiln manifest add ml bb1
	kiln manifest add --arch arm64 --variant v8 ml bb2
	kiln manifest push --all --tls-verify=false --registries.d "$RD" --sign-by "$FA" ml $REG/ml/list:v1
	[ "$(ls -d "$BATS_TEST_TMPDIR"/sigstore/ml/list@sha256=* | wc -l)" -eq 3 ]
	P=$BATS_TEST_TMPDIR/a.json
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/A.gpg")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/ml/list:v1
	[ "$status" -eq 0 ]
	run kiln2 pull -q --tls-verify=false --platform linux/arm64/v8 --signature-policy "$P" \
		--registries.d "$RD" $REG/ml/list:v1
	[ "$status" -eq 0 ]
}

@test "gpg: a registry with the signature API keeps the signatures (no lookaside)" {
	import_bb bb
	python3 "$BATS_TEST_DIRNAME/../lib/sig-ext-proxy.py" "$(cat "$RDIR/port")" \
		"$BATS_TEST_TMPDIR/ext.port" &
	echo $! > "$BATS_TEST_TMPDIR/web.pid"
	wait_port_file "$BATS_TEST_TMPDIR/ext.port"
	EXT=127.0.0.1:$(cat "$BATS_TEST_TMPDIR/ext.port")
	kiln push -q --tls-verify=false --registries.d "$RD" --sign-by "$FA" bb $EXT/x/bb:v1
	[ ! -e "$BATS_TEST_TMPDIR/sigstore" ]
	kiln push -q --tls-verify=false bb $EXT/x/bb:unsigned
	P=$BATS_TEST_TMPDIR/a.json
	printf '{"default":[{"type":"reject"}],"transports":{"docker":{"%s":[%s]}}}\n' "$EXT" \
		"$(signed_by "$BATS_FILE_TMPDIR/A.gpg")" > "$P"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $EXT/x/bb:v1
	[ "$status" -eq 0 ]
	wait_syncer "$BATS_TEST_TMPDIR/root2"
	rm -rf "$BATS_TEST_TMPDIR/root2" "$BATS_TEST_TMPDIR/run2"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $EXT/x/bb:unsigned
	[ "$status" -eq 125 ]
	[[ "$output" == *signedBy* ]]
	# skopeo reads them there too.
	skopeo copy -q --policy "$P" --registries.d "$RD" --src-tls-verify=false --remove-signatures \
		docker://$EXT/x/bb:v1 oci:$BATS_TEST_TMPDIR/out:v1
}

@test "signatures a pull kept go along with push and copy; --remove-signatures drops them" {
	import_bb bb
	kiln generate-sigstore-key --output-prefix "$BATS_TEST_TMPDIR/k1"
	kiln push -q --tls-verify=false --registries.d "$RD" --sign-by "$FA" \
		--sign-by-sigstore-private-key "$BATS_TEST_TMPDIR/k1.private" bb $REG/carry/bb:v1
	P=$BATS_TEST_TMPDIR/a.json
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/A.gpg")"
	kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/carry/bb:v1
	# push: both signatures written for the new repository.
	kiln2 push -q --tls-verify=false --registries.d "$RD" $REG/carry/bb:v1 $REG/carry2/bb:v1
	ls "$BATS_TEST_TMPDIR"/sigstore/carry2/bb@sha256=*/signature-1
	d=$(skopeo inspect --tls-verify=false --raw docker://$REG/carry2/bb:v1 | sha256sum | cut -d' ' -f1)
	skopeo inspect --tls-verify=false --raw docker://$REG/carry2/bb:sha256-$d.sig | grep -q dev.cosignproject.cosign/signature
	# They verify there (the identity they name is carry's).
	remap="{\"type\":\"remapIdentity\",\"prefix\":\"$REG/carry2\",\"signedPrefix\":\"$REG/carry\"}"
	policy "$P" "{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"$BATS_FILE_TMPDIR/A.gpg\",\"signedIdentity\":$remap},{\"type\":\"sigstoreSigned\",\"keyPath\":\"$BATS_TEST_TMPDIR/k1.pub\",\"signedIdentity\":$remap}"
	run kiln --root "$BATS_TEST_TMPDIR/root3" --runroot "$BATS_TEST_TMPDIR/run3" pull -q \
		--tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/carry2/bb:v1
	[ "$status" -eq 0 ]
	# --remove-signatures: none written.
	kiln2 push -q --tls-verify=false --registries.d "$RD" --remove-signatures $REG/carry/bb:v1 $REG/carry3/bb:v1
	[ ! -e "$BATS_TEST_TMPDIR/sigstore/carry3" ]
	run skopeo inspect --tls-verify=false --raw docker://$REG/carry3/bb:sha256-$d.sig
	[ "$status" -ne 0 ]
	# A push that changes the manifest would invalidate them: refused.
	run kiln2 push -q --tls-verify=false --registries.d "$RD" --format v2s2 $REG/carry/bb:v1 $REG/carry4/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalidate"*"--remove-signatures"* ]]
	kiln2 push -q --tls-verify=false --registries.d "$RD" --format v2s2 --remove-signatures \
		$REG/carry/bb:v1 $REG/carry4/bb:v1
	# copy carries them too, unless --remove-signatures.
	kiln copy -q --src-tls-verify=false --dest-tls-verify=false --signature-policy "$KILN_SIGNATURE_POLICY" \
		--registries.d "$RD" docker://$REG/carry/bb:v1 docker://$REG/carry5/bb:v1
	ls "$BATS_TEST_TMPDIR"/sigstore/carry5/bb@sha256=*/signature-1
	skopeo inspect --tls-verify=false --raw docker://$REG/carry5/bb:sha256-$d.sig >/dev/null
	kiln copy -q --src-tls-verify=false --dest-tls-verify=false --remove-signatures \
		--registries.d "$RD" docker://$REG/carry/bb:v1 docker://$REG/carry6/bb:v1
	[ ! -e "$BATS_TEST_TMPDIR/sigstore/carry6" ]
}

@test "run and build pull a missing image through the policy: --signature-policy" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/rb/bb:v1
	P=$BATS_TEST_TMPDIR/a.json
	policy "$P" "$(signed_by "$BATS_FILE_TMPDIR/A.gpg")"
	run kiln2 run --rm --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/rb/bb:v1 true
	[ "$status" -eq 125 ]
	[[ "$output" == *signedBy* ]]
	printf 'FROM %s/rb/bb:v1\nRUN true\n' "$REG" > "$BATS_TEST_TMPDIR/Containerfile"
	run kiln2 build --tls-verify=false --signature-policy "$P" --registries.d "$RD" \
		-f "$BATS_TEST_TMPDIR/Containerfile" "$BATS_TEST_TMPDIR"
	[ "$status" -eq 125 ]
	[[ "$output" == *signedBy* ]]
	run kiln2 images -q
	[ -z "$output" ]
	# --pull=never does not pull at all.
	run kiln2 run --rm --pull=never $REG/rb/bb:v1 true
	[ "$status" -eq 125 ]
	[[ "$output" == *"image not known"* ]]
	# Signed: both pull and go on.
	kiln image sign --tls-verify=false --registries.d "$RD" --sign-by "$FA" docker://$REG/rb/bb:v1
	run kiln2 run --rm --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/rb/bb:v1 echo ran
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = ran ]
	kiln2 rmi -a -f >/dev/null
	kiln2 build -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" \
		-f "$BATS_TEST_TMPDIR/Containerfile" "$BATS_TEST_TMPDIR"
}

@test "dir: signatures (signature-N beside the manifest, as skopeo writes them) are verified" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/dirsig/bb:v1
	T=$BATS_TEST_TMPDIR
	skopeo copy -q --policy "$KILN_SIGNATURE_POLICY" --src-tls-verify=false --sign-by "$FA" \
		--sign-identity $REG/dirsig/bb:v1 docker://$REG/dirsig/bb:v1 dir:$T/signed
	[ -s $T/signed/signature-1 ]
	# Another manifest (converted), unsigned.
	skopeo copy -q --policy "$KILN_SIGNATURE_POLICY" --src-tls-verify=false --format v2s2 \
		docker://$REG/dirsig/bb:v1 dir:$T/unsigned
	req() {
		printf '{"default":[{"type":"reject"}],"transports":{"dir":{"":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"%s","signedIdentity":{"type":"exactReference","dockerReference":"%s"}}]}}}\n' \
			"$1" "$REG/dirsig/bb:v1" > $T/p.json
	}
	req "$BATS_FILE_TMPDIR/A.gpg"
	run kiln2 pull -q --signature-policy $T/p.json dir:$T/signed
	[ "$status" -eq 0 ]
	kiln2 rmi -a -f >/dev/null
	run kiln2 pull -q --signature-policy $T/p.json dir:$T/unsigned
	[ "$status" -eq 125 ]
	[[ "$output" == *signedBy* ]]
	req "$BATS_FILE_TMPDIR/B.gpg"
	run kiln2 pull -q --signature-policy $T/p.json dir:$T/signed
	[ "$status" -eq 125 ]
	[[ "$output" == *signedBy* ]]
	# A signature for another manifest: the bytes changed under it.
	req "$BATS_FILE_TMPDIR/A.gpg"
	cp $T/signed/signature-1 $T/unsigned/
	run kiln2 pull -q --signature-policy $T/p.json dir:$T/unsigned
	[ "$status" -eq 125 ]
	run kiln2 images -q
	[ -z "$output" ]
}

@test "image sign --sign-by-sigstore-private-key attaches a signature the policy accepts" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/iss/bb:v1
	echo pw > "$BATS_TEST_TMPDIR/pw"
	kiln generate-sigstore-key --output-prefix "$BATS_TEST_TMPDIR/k1" --passphrase-file "$BATS_TEST_TMPDIR/pw"
	P=$BATS_TEST_TMPDIR/s.json
	policy "$P" "$(sigstore_signed "$BATS_TEST_TMPDIR/k1.pub")"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/iss/bb:v1
	[ "$status" -eq 125 ]
	run kiln image sign --tls-verify=false docker://$REG/iss/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"--sign-by-sigstore-private-key"* ]]
	kiln image sign --tls-verify=false --sign-by-sigstore-private-key "$BATS_TEST_TMPDIR/k1.private" \
		--sign-passphrase-file "$BATS_TEST_TMPDIR/pw" docker://$REG/iss/bb:v1
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/iss/bb:v1
	[ "$status" -eq 0 ]
}

# upload_blob REPO FILE: a monolithic upload with curl.
upload_blob() {
	local loc d
	d=sha256:$(sha256sum "$2" | cut -d' ' -f1)
	loc=$(curl -si -X POST "http://$REG/v2/$1/blobs/uploads/" | tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
	case $loc in /*) loc=http://$REG$loc ;; esac
	curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$2" "$loc&digest=$d" >/dev/null
}

@test "sigstore interop with OpenSSL: kiln signs with an openssl key (openssl verifies); an openssl-made signature is accepted" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	import_bb bb
	T=$BATS_TEST_TMPDIR
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $T/key.pem 2>/dev/null
	openssl pkey -in $T/key.pem -pubout -out $T/pub.pem
	kiln push -q --tls-verify=false --sign-by-sigstore-private-key $T/key.pem bb $REG/osl/bb:v1
	d=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REG/v2/osl/bb/manifests/v1 | sha256sum | cut -d' ' -f1)
	curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		http://$REG/v2/osl/bb/manifests/sha256-$d.sig > $T/sig.json
	python3 - $T/sig.json $T <<'PY'
import json, sys, base64
m = json.load(open(sys.argv[1]))
l = m["layers"][0]
assert l["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
open(sys.argv[2] + "/sig.der", "wb").write(base64.b64decode(l["annotations"]["dev.cosignproject.cosign/signature"]))
open(sys.argv[2] + "/payload.digest", "w").write(l["digest"])
PY
	curl -sf http://$REG/v2/osl/bb/blobs/$(cat $T/payload.digest) > $T/payload
	openssl dgst -sha256 -verify $T/pub.pem -signature $T/sig.der $T/payload
	python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); c=p["critical"]; assert c["type"]=="cosign container image signature" and c["image"]["docker-manifest-digest"]=="sha256:"+sys.argv[2], p' $T/payload $d

	# The other way: a payload and signature made by hand and openssl.
	kiln push -q --tls-verify=false bb $REG/osl/other:v1
	d=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REG/v2/osl/other/manifests/v1 | sha256sum | cut -d' ' -f1)
	printf '{"critical":{"identity":{"docker-reference":"%s/osl/other:v1"},"image":{"docker-manifest-digest":"sha256:%s"},"type":"cosign container image signature"},"optional":null}' "$REG" "$d" > $T/p2
	openssl dgst -sha256 -sign $T/key.pem -out $T/s2.der $T/p2
	echo '{}' > $T/cfg
	upload_blob osl/other $T/p2
	upload_blob osl/other $T/cfg
	python3 - $T "$(base64 -w0 $T/s2.der)" > $T/m2 <<'PY'
import json, sys, hashlib, os
t, sig = sys.argv[1], sys.argv[2]
def desc(p, mt):
    b = open(p, "rb").read()
    return {"mediaType": mt, "size": len(b), "digest": "sha256:" + hashlib.sha256(b).hexdigest()}
l = desc(t + "/p2", "application/vnd.dev.cosign.simplesigning.v1+json")
l["annotations"] = {"dev.cosignproject.cosign/signature": sig}
print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": desc(t + "/cfg", "application/vnd.oci.image.config.v1+json"), "layers": [l]}))
PY
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary @$T/m2 http://$REG/v2/osl/other/manifests/sha256-$d.sig >/dev/null
	P=$T/s.json
	policy "$P" "$(sigstore_signed $T/pub.pem)"
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/osl/other:v1
	[ "$status" -eq 0 ]
	kiln generate-sigstore-key --output-prefix $T/k2
	policy "$P" "$(sigstore_signed $T/k2.pub)"
	wait_syncer $T/root2
	rm -rf $T/root2 $T/run2
	run kiln2 pull -q --tls-verify=false --signature-policy "$P" --registries.d "$RD" $REG/osl/other:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *sigstoreSigned* ]]
}
