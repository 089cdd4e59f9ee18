#!/usr/bin/env bats
# kiln build: --squash, --squash-all, --output type=local|tar, --format.

load helpers
bats_require_minimum_version 1.5.0

# build_setup's store and context, with a Containerfile whose steps add,
# change and remove files.
squash_setup() {
	build_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN mkdir -p /d/sub && echo 1 > /d/a && echo 1 > /d/sub/x && echo gone > /tmpfile
RUN rm /tmpfile /bin/true && echo 2 > /d/a
RUN rm -rf /d/sub && mkdir /d/sub && echo y > /d/sub/y
COPY Containerfile /cf
CMD ["sh"]
CF
}

nlayers() {
	kiln inspect --format '{{len .RootFS.Layers}}' "$1"
}

tree_of() {
	kiln run --rm "$1" sh -c 'cat /d/a; ls /d/sub; ls /tmpfile /bin/true 2>&1 | wc -l; cat /cf | wc -l'
}

@test "build --squash: the new layers become one over the base, with the same tree" {
	squash_setup
	base=$(nlayers busybox)
	run kiln build -t plain "$CTX"
	[ "$status" -eq 0 ]
	[ "$(nlayers plain)" -eq $((base + 4)) ]
	run kiln build --squash -t sq "$CTX"
	[ "$status" -eq 0 ]
	[ "$(nlayers sq)" -eq $((base + 1)) ]
	[ "$(tree_of sq)" = "$(tree_of plain)" ]
	# History has one entry with a layer per layer.
	n=$(kiln history --format '{{.Size}}' sq | grep -vc '^0B$')
	[ "$n" -eq $((base + 1)) ]
	run kiln build --squash-all -t sqa "$CTX"
	[ "$status" -eq 0 ]
	[ "$(nlayers sqa)" -eq 1 ]
	[ "$(tree_of sqa)" = "$(tree_of plain)" ]
	[ "$(kiln inspect --format '{{json .Config.Cmd}}' sqa)" = '["sh"]' ]
}

@test "build --output type=local and type=tar export the root" {
	squash_setup
	run kiln build --output "type=local,dest=$BATS_TEST_TMPDIR/out" -t o1 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out/d/a")" = 2 ]
	[ -f "$BATS_TEST_TMPDIR/out/d/sub/y" ]
	[ ! -e "$BATS_TEST_TMPDIR/out/d/sub/x" ]
	[ ! -e "$BATS_TEST_TMPDIR/out/tmpfile" ]
	[ -x "$BATS_TEST_TMPDIR/out/bin/busybox" ]
	run kiln build -o "type=tar,dest=$BATS_TEST_TMPDIR/out.tar" -t o2 "$CTX"
	[ "$status" -eq 0 ]
	run tar -tf "$BATS_TEST_TMPDIR/out.tar"
	[[ "$output" == *"d/sub/y"* ]]
	[[ "$output" != *"d/sub/x"* ]]
	[[ "$output" != *".wh."* ]]
	# "-": the tar on stdout, the build's lines on stderr.
	kiln build -o - "$CTX" 2>/dev/null > "$BATS_TEST_TMPDIR/stdout.tar"
	tar -tf "$BATS_TEST_TMPDIR/stdout.tar" | grep -q '^\./d/sub/y$\|^d/sub/y$'
	run kiln build -o "type=bogus,dest=x" "$CTX"
	[ "$status" -ne 0 ]
}

@test "build --format docker|oci: Healthcheck, OnBuild and Shell kept in both" {
	build_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
SHELL ["/bin/sh", "-ec"]
HEALTHCHECK --interval=5s CMD true
ONBUILD RUN echo hi
CF
	for f in docker oci; do
		run kiln build --format $f -t fmt-$f "$CTX"
		[ "$status" -eq 0 ]
		[ "$(kiln inspect --format '{{json .Config.Shell}}' fmt-$f)" = '["/bin/sh","-ec"]' ]
		[ "$(kiln inspect --format '{{json .Config.OnBuild}}' fmt-$f)" = '["RUN echo hi"]' ]
		[[ "$(kiln inspect --format '{{json .Config.Healthcheck}}' fmt-$f)" == *'"CMD-SHELL","true"'* ]]
	done
}
