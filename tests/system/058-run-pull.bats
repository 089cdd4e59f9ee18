#!/usr/bin/env bats
# kiln run --pull: an image that is not local is pulled (missing), always
# pulled again (always), or refused (never); through the trust policy.

load helpers
load ../lib/registry-helpers

@test "run pulls a missing image, --pull always pulls again, --pull never refuses" {
	import_bb bb
	kiln push -q --tls-verify=false bb $REG/runpull/bb:v1
	run kiln2 run --rm --pull never --tls-verify=false $REG/runpull/bb:v1 echo hi
	[ "$status" -eq 125 ]
	[[ "$output" == *"image not known"* ]]
	run kiln2 run --rm --tls-verify=false $REG/runpull/bb:v1 echo hi
	[ "$status" -eq 0 ]
	[[ "$output" == *"Trying to pull $REG/runpull/bb:v1"* ]]
	[[ "${lines[-1]}" == "hi" ]]
	# now local: no pull
	run kiln2 run --rm --tls-verify=false $REG/runpull/bb:v1 echo again
	[ "$output" = "again" ]
	run kiln2 run --rm --pull always --tls-verify=false $REG/runpull/bb:v1 echo always
	[[ "$output" == *"Trying to pull"* ]]
	[[ "${lines[-1]}" == "always" ]]
	# the trust policy applies: a reject-all policy refuses the pull
	echo '{"default":[{"type":"reject"}]}' > "$BATS_TEST_TMPDIR/reject.json"
	KILN_SIGNATURE_POLICY="$BATS_TEST_TMPDIR/reject.json" run kiln run --rm --pull always \
		--tls-verify=false $REG/runpull/bb:v1 true
	[ "$status" -eq 125 ]
}
