#!/usr/bin/env bats
# image trust show|set and generate-sigstore-key: policy.json without a registry.

load helpers

@test "image trust set writes policy.json scopes; show lists them" {
	p=$BATS_TEST_TMPDIR/policy.json
	run kiln image trust set --policypath "$p" -t reject default
	[ "$status" -eq 0 ]
	run kiln image trust set --policypath "$p" -t accept docker.io
	[ "$status" -eq 0 ]
	echo pw > "$BATS_TEST_TMPDIR/pw"
	run kiln generate-sigstore-key --output-prefix "$BATS_TEST_TMPDIR/key" --passphrase-file "$BATS_TEST_TMPDIR/pw"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/key.private")" = 600 ]
	grep -q 'BEGIN PUBLIC KEY' "$BATS_TEST_TMPDIR/key.pub"
	# Never overwritten.
	run kiln generate-sigstore-key --output-prefix "$BATS_TEST_TMPDIR/key"
	[ "$status" -eq 125 ]
	run kiln image trust set --policypath "$p" -t sigstoreSigned -f "$BATS_TEST_TMPDIR/key.pub" quay.io/team
	[ "$status" -eq 0 ]
	run kiln image trust show --policypath "$p"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^default\ +reject ]]
	[[ "${lines[1]}" =~ ^docker.io\ +accept ]]
	[[ "${lines[2]}" =~ ^quay.io/team\ +sigstoreSigned\ +$BATS_TEST_TMPDIR/key.pub$ ]]
	python3 -c "
import json
d = json.load(open('$p'))
assert d['default'] == [{'type': 'reject'}]
assert d['transports']['docker']['docker.io'] == [{'type': 'insecureAcceptAnything'}]
assert d['transports']['docker']['quay.io/team'][0]['type'] == 'sigstoreSigned'
"
	run kiln image trust show --policypath "$p" --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; assert len(json.load(sys.stdin)) == 3'
}

@test "image trust refuses bad input and keeps the file" {
	p=$BATS_TEST_TMPDIR/policy.json
	kiln image trust set --policypath "$p" -t accept default
	cp "$p" "$BATS_TEST_TMPDIR/before"
	run kiln image trust set --policypath "$p" -t bogus default
	[ "$status" -eq 125 ]
	run kiln image trust set --policypath "$p" -t signedBy docker.io
	[ "$status" -eq 125 ]
	cmp "$p" "$BATS_TEST_TMPDIR/before"
	echo '{"default": [], "extra": 1}' > "$p"
	run kiln image trust show --policypath "$p"
	[ "$status" -eq 125 ]
	[[ "$output" == Error:* ]]
}

@test "load checks the trust policy for the archive's transport and path" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	T=$BATS_TEST_TMPDIR
	kiln save -o $T/d.tar bb
	kiln save --format oci-archive -o $T/o.tar bb
	kiln save --format oci-dir -o $T/lay bb
	kiln rmi bb >/dev/null
	P=$T/p.json
	echo '{"default":[{"type":"reject"}]}' > $P
	run kiln load --signature-policy $P -i $T/d.tar
	[ "$status" -eq 125 ]
	[[ "$output" == *"docker-archive:$T/d.tar is rejected"*reject* ]]
	run kiln load --signature-policy $P < $T/d.tar
	[ "$status" -eq 125 ]
	run kiln load --signature-policy $P -i $T/lay
	[ "$status" -eq 125 ]
	[[ "$output" == *"oci:$T/lay"* ]]
	[ -z "$(kiln images -q)" ]
	# The transport's scope trusted (docker-archive: kiln's hybrid archive
	# has a manifest.json; the oci-archive one has none; docker-archive
	# has only the "" scope, as in containers/image).
	printf '{"default":[{"type":"reject"}],"transports":{"docker-archive":{"":[{"type":"insecureAcceptAnything"}]}}}\n' > $P
	kiln load -q --signature-policy $P -i $T/d.tar
	run kiln load --signature-policy $P -i $T/o.tar
	[ "$status" -eq 125 ]
	[[ "$output" == *"oci-archive:$T/o.tar"* ]]
	printf '{"default":[{"type":"reject"}],"transports":{"oci-archive":{"%s":[{"type":"insecureAcceptAnything"}]}}}\n' "$T/o.tar" > $P
	kiln load -q --signature-policy $P -i $T/o.tar
	# signedBy cannot pass: an archive carries no signatures kiln reads.
	printf '{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/dev/null"}]}\n' > $P
	run kiln load --signature-policy $P -i $T/d.tar
	[ "$status" -eq 125 ]
	[[ "$output" == *signedBy* ]]
}
