#!/usr/bin/env bats
# Remote look-ups without pulling: kiln list-tags (paginated tags/list) and
# kiln inspect --remote (skopeo inspect's shape, --raw, --config), compared
# with skopeo where it is installed.

load helpers
load ../lib/registry-helpers

@test "list-tags: every tag, across Link pages, skopeo's JSON" {
	import_bb bb
	for t in a b c d e; do kiln push -q --tls-verify=false bb $REG/lt/bb:$t; done
	run kiln list-tags --tls-verify=false docker://$REG/lt/bb
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Repository"], " ".join(sorted(d["Tags"])))')" = "$REG/lt/bb a b c d e" ]
	# Two tags a page: three pages followed through Link headers.
	run kiln list-tags --page-size 2 --tls-verify=false docker://$REG/lt/bb
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["Tags"])))')" = "a b c d e" ]
	if command -v skopeo >/dev/null; then
		skopeo list-tags --tls-verify=false docker://$REG/lt/bb >$BATS_TEST_TMPDIR/sk
		kiln list-tags --tls-verify=false docker://$REG/lt/bb >$BATS_TEST_TMPDIR/k
		python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); a["Tags"].sort(); b["Tags"].sort(); sys.exit(a!=b)' \
			$BATS_TEST_TMPDIR/sk $BATS_TEST_TMPDIR/k
	fi
}

@test "list-tags: errors (no transport, a tag, an unknown repository)" {
	run kiln list-tags $REG/lt/bb
	[ "$status" -eq 125 ]
	[[ "$output" == *"only the docker:// transport"* ]]
	run kiln list-tags --tls-verify=false docker://$REG/lt/bb:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"tag or digest"* ]]
	run kiln list-tags --tls-verify=false docker://$REG/nope/nothing
	[ "$status" -eq 125 ]
	[[ "$output" == *"NAME_UNKNOWN"* || "$output" == *"not known"* || "$output" == *"unknown"* ]]
}

@test "inspect --remote: digest, config fields, tags; --raw and --config bytes" {
	import_bb bb
	id=$(kiln inspect --format '{{.Id}}' bb)
	kiln push -q --tls-verify=false --digestfile $BATS_TEST_TMPDIR/d bb $REG/ri/bb:v1
	kiln push -q --tls-verify=false bb $REG/ri/bb:v2
	run kiln inspect --remote --tls-verify=false docker://$REG/ri/bb:v1
	[ "$status" -eq 0 ]
	echo "$output" >$BATS_TEST_TMPDIR/k.json
	python3 - "$BATS_TEST_TMPDIR/k.json" "$(cat $BATS_TEST_TMPDIR/d)" "$REG" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["Digest"] == sys.argv[2], d
assert d["Name"] == sys.argv[3] + "/ri/bb", d
assert sorted(d["RepoTags"]) == ["v1", "v2"], d
assert d["Os"] == "linux" and d["Architecture"], d
assert len(d["Layers"]) == 1 and d["LayersData"][0]["Digest"] == d["Layers"][0], d
for k in ("Created", "DockerVersion", "Labels", "Env"):
    assert k in d, k
PY
	# --raw: the manifest bytes the registry serves, whose digest is the image's.
	kiln inspect --remote --raw --tls-verify=false docker://$REG/ri/bb:v1 >$BATS_TEST_TMPDIR/raw
	[ "sha256:$(sha256sum <$BATS_TEST_TMPDIR/raw | cut -d' ' -f1)" = "$(cat $BATS_TEST_TMPDIR/d)" ]
	# --config --raw: the config blob, whose digest is the image ID.
	kiln inspect --remote --config --raw --tls-verify=false docker://$REG/ri/bb:v1 >$BATS_TEST_TMPDIR/cfg
	[ "sha256:$(sha256sum <$BATS_TEST_TMPDIR/cfg | cut -d' ' -f1)" = "sha256:${id#sha256:}" ]
	run kiln inspect --remote --no-tags --format '{{.Os}} {{len .RepoTags}}' --tls-verify=false docker://$REG/ri/bb:v1
	[ "$output" = "linux 0" ]
	# Nothing was pulled.
	run kiln images -q
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	if command -v skopeo >/dev/null; then
		skopeo inspect --tls-verify=false docker://$REG/ri/bb:v1 >$BATS_TEST_TMPDIR/s.json
		python3 - "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/k.json" <<'PY'
import json, sys
s, k = (json.load(open(f)) for f in sys.argv[1:])
s["RepoTags"].sort(); k["RepoTags"].sort()
# Older skopeo (1.9) has no LayersData: compare what it prints.
for key in s:
    if key != "Created":
        assert s[key] == k.get(key), (key, s[key], k.get(key))
assert set(s) <= set(k), set(s) - set(k)
PY
	fi
}

@test "inspect --remote: a missing image and local inspect untouched" {
	run kiln inspect --remote --tls-verify=false docker://$REG/ri/none:v1
	[ "$status" -eq 125 ]
	[[ "$output" == *"inspecting \"docker://$REG/ri/none:v1\""* ]]
	import_bb bb
	run kiln inspect --format '{{.Os}}' bb
	[ "$status" -eq 0 ]
	[ "$output" = "linux" ]
}
