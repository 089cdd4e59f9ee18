#!/usr/bin/env bats
# kiln build: where its inputs come from (context tars, argument files,
# several tags), COPY --exclude and --parents, and a base's ONBUILD triggers.

load helpers
bats_require_minimum_version 1.5.0

tree_of() {
	kiln run --rm "$1" find "$2" -type f | sort | tr '\n' ' '
}

@test "build: COPY --exclude matches below each source, as BuildKit; ** crosses directories" {
	build_setup
	mkdir -p "$CTX/src/a/b" "$CTX/src/c"
	echo 1 > "$CTX/src/a/b/f.txt"
	echo 2 > "$CTX/src/a/g.log"
	echo 3 > "$CTX/src/c/h.txt"
	echo 4 > "$CTX/src/top.log"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
COPY --exclude=*.log src /ex/
COPY --exclude=**/*.log --exclude=c src /ex2/
COPY --exclude=src/c src /ex3/
COPY --exclude=*.log src/* /ex4/
COPY --exclude=g.* src/a/* /ex5/
CF
	run kiln build -t excl "$CTX"
	[ "$status" -eq 0 ]
	# *.log: only the source's own top level; a/g.log stays
	[ "$(tree_of excl /ex)" = "/ex/a/b/f.txt /ex/a/g.log /ex/c/h.txt " ]
	[ "$(tree_of excl /ex2)" = "/ex2/a/b/f.txt " ]
	# a pattern naming the context path of the source matches nothing in it
	[ "$(tree_of excl /ex3)" = "/ex3/a/b/f.txt /ex3/a/g.log /ex3/c/h.txt /ex3/top.log " ]
	# wildcard sources: the matches are seen below the literal part, each
	# matched directory's contents below it
	[ "$(tree_of excl /ex4)" = "/ex4/b/f.txt /ex4/h.txt " ]
	[ "$(tree_of excl /ex5)" = "/ex5/f.txt " ]
	# an excluded file's change does not touch the cache key; a kept one's does
	echo changed > "$CTX/src/top.log"
	run kiln build -t excl "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"STEP 2/6"*"Using cache"*"STEP 3/6"* ]]
	echo changed > "$CTX/src/a/g.log"
	run kiln build -t excl "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" != *"Using cache"* ]]
}

@test "build: COPY --parents keeps the source's parents, from a /./ pivot on" {
	build_setup
	mkdir -p "$CTX/src/a/b" "$CTX/src/c"
	echo 1 > "$CTX/src/a/b/f.txt"
	echo 3 > "$CTX/src/c/h.txt"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
COPY --parents src/a/b/f.txt src/c/h.txt /par/
COPY --parents ./src/./a/b/f.txt /par2/
COPY --parents src/*/h.txt /par3/
CF
	run kiln build -t par "$CTX"
	[ "$status" -eq 0 ]
	[ "$(tree_of par /par)" = "/par/src/a/b/f.txt /par/src/c/h.txt " ]
	[ "$(tree_of par /par2)" = "/par2/a/b/f.txt " ]
	[ "$(tree_of par /par3)" = "/par3/src/c/h.txt " ]
}

@test "build: --build-arg-file, --build-arg wins; several -t; --label" {
	build_setup
	printf 'FROM busybox\nARG A1\nARG A2\nRUN echo "args=$A1/$A2" > /args\n' > "$CTX/Containerfile"
	printf 'A1=one\n# a comment\n\nA2=two\n' > "$BATS_TEST_TMPDIR/args"
	run kiln build --build-arg-file "$BATS_TEST_TMPDIR/args" -t t1 -t t2:v --label l=v "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Successfully tagged localhost/t1:latest"*"Successfully tagged localhost/t2:v"* ]]
	[ "$(kiln run --rm t2:v cat /args)" = "args=one/two" ]
	[ "$(kiln inspect -f '{{.Id}}' t1)" = "$(kiln inspect -f '{{.Id}}' t2:v)" ]
	[ "$(kiln inspect -f '{{json .Config.Labels}}' t1)" = '{"l":"v"}' ]
	kiln build --build-arg-file "$BATS_TEST_TMPDIR/args" --build-arg A2=cli -t t3 "$CTX" >/dev/null
	[ "$(kiln run --rm t3 cat /args)" = "args=one/cli" ]
	run kiln build --build-arg-file "$BATS_TEST_TMPDIR/nope" "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"--build-arg-file"* ]]
}

@test "build: the context from a tar on stdin, a tarball path (gzip), a tar with -f inside" {
	build_setup
	echo hello > "$CTX/file"
	printf 'FROM busybox\nCOPY file /f\n' > "$CTX/Containerfile"
	printf 'FROM busybox\nCOPY file /g\n' > "$CTX/Other"
	tar -C "$CTX" -cf "$BATS_TEST_TMPDIR/ctx.tar" .
	gzip -c "$BATS_TEST_TMPDIR/ctx.tar" > "$BATS_TEST_TMPDIR/ctx.tar.gz"
	run sh -c "'$KILN_BIN' --root '$KROOT' --runroot '$KRUN' build -t fromstdin - < '$BATS_TEST_TMPDIR/ctx.tar'"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm fromstdin cat /f)" = hello ]
	run kiln build -t fromtgz "$BATS_TEST_TMPDIR/ctx.tar.gz"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm fromtgz cat /f)" = hello ]
	run kiln build -f Other -t other "$BATS_TEST_TMPDIR/ctx.tar"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm other cat /g)" = hello ]
	# not a tar, not a directory: a clear error
	echo junk > "$BATS_TEST_TMPDIR/junk"
	run kiln build "$BATS_TEST_TMPDIR/junk"
	[ "$status" -ne 0 ]
	[[ "$output" == *junk* ]]
}

@test "build: a base's ONBUILD triggers run first in the child, and are not inherited" {
	build_setup
	echo ctxfile > "$CTX/file"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
ONBUILD RUN echo trigger-ran > /trig
ONBUILD COPY file /from-child-context
CF
	kiln build -t onb-base "$CTX" >/dev/null
	[ "$(kiln inspect -f '{{len .Config.OnBuild}}' onb-base)" = 2 ]
	# the base's own build does not run its triggers
	run kiln run --rm onb-base ls /trig
	[ "$status" -ne 0 ]
	mkdir -p "$BATS_TEST_TMPDIR/c2"
	echo child > "$BATS_TEST_TMPDIR/c2/file"
	printf 'FROM onb-base\nRUN cat /trig /from-child-context\n' > "$BATS_TEST_TMPDIR/c2/Containerfile"
	run kiln build -t onb-child "$BATS_TEST_TMPDIR/c2"
	[ "$status" -eq 0 ]
	[[ "$output" == *"RUN echo trigger-ran"*"COPY file /from-child-context"*"trigger-ran"*"child"* ]]
	[ "$(kiln inspect -f '{{json .Config.OnBuild}}' onb-child)" = null ]
	# a grandchild runs nothing
	printf 'FROM onb-child\nRUN true\n' > "$BATS_TEST_TMPDIR/c2/Containerfile"
	run kiln build -t onb-grand "$BATS_TEST_TMPDIR/c2"
	[ "$status" -eq 0 ]
	[[ "$output" != *trigger-ran* ]]
}

@test "build -q: stdout holds only the image ID; a failing step's output is shown then" {
	build_setup
	printf 'FROM busybox\nRUN echo run-out; echo run-err >&2\n' > "$CTX/Containerfile"
	run --separate-stderr kiln build -q --no-cache "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	[ -z "$stderr" ]
	printf 'FROM busybox\nRUN echo before-fail; exit 3\n' > "$CTX/Containerfile"
	run --separate-stderr kiln build -q "$CTX"
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	[[ "$stderr" == *before-fail*"exit status 3"* ]]
}
