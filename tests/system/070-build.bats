#!/usr/bin/env bats
# kiln build: instructions, the cache, stages, flags, failures.

load helpers
bats_require_minimum_version 1.5.0

cfg() {
	kiln inspect -f "{{json .Config.$1}}" "$2"
}

@test "build: metadata instructions set the config as Docker does" {
	build_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
ENV A=1 B="two words"
LABEL x=y "with space"=z
EXPOSE 80 53/udp
VOLUME ["/data"]
USER nobody
WORKDIR /app
WORKDIR sub
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
CF
	run kiln build -t meta "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"STEP 1/11: FROM busybox"* ]]
	[[ "$output" == *"COMMIT localhost/meta:latest"* ]]
	[[ "$output" == *"Successfully tagged localhost/meta:latest"* ]]
	id=${lines[-1]}
	[ ${#id} -eq 64 ]
	[ "$(cfg Env meta)" = '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=1","B=two words"]' ] ||
		[ "$(cfg Env meta)" = '["A=1","B=two words"]' ]
	[ "$(cfg Labels meta)" = '{"with space":"z","x":"y"}' ]
	[ "$(cfg ExposedPorts meta)" = '{"53/udp":{},"80/tcp":{}}' ]
	[ "$(cfg Volumes meta)" = '{"/data":{}}' ]
	[ "$(cfg User meta)" = '"nobody"' ]
	[ "$(cfg WorkingDir meta)" = '"/app/sub"' ]
	[ "$(cfg StopSignal meta)" = '"SIGINT"' ]
	[ "$(cfg Entrypoint meta)" = '["/bin/sh","-c"]' ]
	[ "$(cfg Cmd meta)" = '["echo hi"]' ]
	# Each WORKDIR made its directory (one layer each), the others no layer.
	run kiln inspect -f '{{len .RootFS.Layers}}' meta
	[ "$output" = 3 ]
	run kiln run --rm meta 'pwd; echo $A'
	[ "$output" = "/app/sub
1" ]
}

@test "build: RUN sees env, args, USER and WORKDIR; its output is streamed; whiteouts" {
	build_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
ARG V=dflt
ENV E=env
WORKDIR /w
RUN echo "run: $V $E $(pwd) $(id -u)" && echo data > f && rm /etc/group && mkdir -p /tmp/x
USER 65534
RUN id -u > /tmp/uid
CF
	run kiln build --build-arg V=given -t r "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"run: given env /w 0"* ]]
	run kiln run --rm r cat /w/f /tmp/uid
	[ "$output" = "data
65534" ]
	run kiln run --rm r ls /etc/group
	[ "$status" -ne 0 ]
	# no mount point the run needed was left in the layer
	run kiln run --rm r cat /etc/hostname
	[ "$status" -eq 0 ]
}

@test "build: COPY semantics (dir contents, wildcards, dest dirs, --chown names, --chmod, heredoc)" {
	build_setup
	mkdir -p "$CTX/dir/sub" "$CTX/w"
	echo a > "$CTX/dir/a"; echo s > "$CTX/dir/sub/s"
	echo 1 > "$CTX/w/x1.txt"; echo 2 > "$CTX/w/x2.txt"; echo n > "$CTX/w/no.md"
	echo f > "$CTX/file"; chmod 0750 "$CTX/file"
	ln -s a "$CTX/dir/link"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
COPY dir /d
COPY w/*.txt /t/
COPY file /new/deep/renamed
COPY --chown=nobody:nogroup file /own
COPY --chown=65534 file /own2
COPY --chmod=600 file /mode
COPY ../../file /escaped
WORKDIR /rel
COPY file .
COPY <<EOT /here.txt
hello heredoc
EOT
CF
	run kiln build -t cp "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm cp sh -c 'ls /d; ls /t; cat /new/deep/renamed; readlink /d/link; cat /here.txt'
	[ "$output" = "a
link
sub
x1.txt
x2.txt
f
a
hello heredoc" ]
	run kiln run --rm cp stat -c '%n %a %u:%g' /own /own2 /mode /escaped /rel/file /new/deep
	[ "${lines[0]}" = "/own 750 65534:65534" ]
	[ "${lines[1]}" = "/own2 750 65534:65534" ]
	[ "${lines[2]}" = "/mode 600 0:0" ]
	[ "${lines[3]}" = "/escaped 750 0:0" ]
	[ "${lines[4]}" = "/rel/file 750 0:0" ]
	[ "${lines[5]}" = "/new/deep 755 0:0" ]
}

@test "build: COPY errors name the step and line; nothing is tagged" {
	build_setup
	printf 'FROM busybox\nRUN echo x\nCOPY nosuch /x\n' > "$CTX/Containerfile"
	run kiln build -t bad "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *'building at STEP "COPY nosuch /x" (Containerfile:3)'* ]]
	[[ "$output" == *nosuch* ]]
	run kiln image exists bad
	[ "$status" -ne 0 ]
	[ -z "$(ls "$KROOT/tmp")" ]
	printf 'FROM busybox\nCOPY --chown=nouser f /x\n' > "$CTX/Containerfile"
	touch "$CTX/f"
	run kiln build "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"unable to find user nouser"* ]]
}

@test "build: a failing RUN exits with its code and leaves nothing" {
	build_setup
	printf 'FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo after\n' > "$CTX/Containerfile"
	run kiln build -t fail "$CTX"
	[ "$status" -eq 3 ]
	[[ "$output" == *'building at STEP "RUN exit 3" (Containerfile:3): while running runtime: exit status 3'* ]]
	[[ "$output" != *after* ]]
	run kiln image exists fail
	[ "$status" -ne 0 ]
	[ -z "$(ls "$KROOT/tmp")" ]
	[ -z "$(grep " $KROOT" /proc/mounts)" ]
	run kiln images -q
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	printf 'FROM busybox\nRUN /nonexistent\n' > "$CTX/Containerfile"
	run -127 kiln build "$CTX"
}

@test "build: the Containerfile is checked before any work" {
	build_setup
	printf 'FROM busybox\nRUN echo should-not-run\nFROBNICATE x\n' > "$CTX/Containerfile"
	run kiln build "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"unknown instruction"* ]]
	[[ "$output" != *should-not-run* ]]
	printf 'FROM nosuchimage\n' > "$CTX/Containerfile"
	run kiln build --pull=never "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *'"nosuchimage" is not in local storage'* ]]
}

@test "build cache: hits on rebuild and after touch, misses on content, mode, args, ignore changes" {
	build_setup
	mkdir -p "$CTX/src"
	echo v1 > "$CTX/src/a"; echo b > "$CTX/src/b"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
ARG X=1
COPY src /src
RUN cat /src/a > /out
CMD ["cat", "/out"]
CF
	# ARG, COPY, RUN and CMD are cached steps.
	id1=$(kiln build -q "$CTX")
	run kiln build "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 4 ]
	[ "${lines[-1]}" = "$id1" ]
	touch "$CTX/src/a" "$CTX/src"
	run kiln build "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 4 ]
	[ "${lines[-1]}" = "$id1" ]
	echo v2 > "$CTX/src/a"
	run kiln build -t c "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 1 ]
	[ "$(kiln run --rm c)" = v2 ]
	chmod 0600 "$CTX/src/b"
	run kiln build "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 1 ]
	run kiln build --build-arg X=2 "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 0 ]
	run kiln build --build-arg X=2 "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 4 ]
	echo src/b > "$CTX/.containerignore"
	run kiln build --build-arg X=2 "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 1 ]
	run kiln build --no-cache --build-arg X=2 "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 0 ]
	run kiln build --layers=false --build-arg X=2 "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 0 ]
	assert_store_consistent
}

@test "build: .containerignore keeps files out of COPY" {
	build_setup
	mkdir -p "$CTX/d/keep" "$CTX/d/skip"
	touch "$CTX/d/keep/k" "$CTX/d/skip/s" "$CTX/d/x.log" "$CTX/d/y.txt"
	printf 'd/skip\n*/*.log\n' > "$CTX/.containerignore"
	printf 'FROM busybox\nCOPY d /d\n' > "$CTX/Containerfile"
	kiln build -t ign "$CTX" >/dev/null
	run sh -c "'$KILN_BIN' --root '$KROOT' --runroot '$KRUN' run --rm ign find /d | sort"
	[ "$output" = "/d
/d/keep
/d/keep/k
/d/y.txt" ]
	printf 'FROM busybox\nCOPY d/x.log /x\n' > "$CTX/Containerfile"
	run kiln build "$CTX"
	[ "$status" -eq 125 ]
}

@test "build: multi-stage COPY --from, --target, stage as base" {
	build_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox AS one
RUN echo one > /one
FROM busybox AS two
COPY --from=one /one /from-one
RUN echo two > /two
FROM one
COPY --from=two /two /two
COPY --from=busybox /bin/busybox /bb
CF
	run kiln build -t ms "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[3/3] STEP 6/8: FROM one"* ]]
	run kiln run --rm ms cat /one /two
	[ "$output" = "one
two" ]
	run kiln build -t tg --target two "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm tg sh -c 'cat /from-one /two; ls /one'
	[ "${lines[0]}" = one ]
	[ "${lines[1]}" = two ]
	[ "$status" -ne 0 ]
	# A rebuild reuses every stage.
	run kiln build -t ms "$CTX"
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 5 ]
}

@test "build: ADD extracts local tars; --iidfile; -f - ; kiln bud and kiln image build" {
	build_setup
	mkdir -p "$BATS_TEST_TMPDIR/t/inner"
	echo in > "$BATS_TEST_TMPDIR/t/inner/f"
	tar -C "$BATS_TEST_TMPDIR/t" -czf "$CTX/a.tgz" inner
	printf 'FROM busybox\nADD a.tgz /x/\nCOPY a.tgz /y/\n' > "$CTX/Containerfile"
	kiln build --iidfile "$BATS_TEST_TMPDIR/iid" -t add "$CTX" >/dev/null
	run kiln run --rm add sh -c 'cat /x/inner/f; ls /y'
	[ "$output" = "in
a.tgz" ]
	[ "$(cat "$BATS_TEST_TMPDIR/iid")" = "sha256:$(kiln inspect -f '{{.Id}}' add | sed 's/^sha256://')" ]
	run sh -c "printf 'FROM busybox\nLABEL via=stdin\n' | '$KILN_BIN' --root '$KROOT' --runroot '$KRUN' bud -f - -t stdin '$CTX'"
	[ "$status" -eq 0 ]
	[ "$(cfg Labels stdin)" = '{"via":"stdin"}' ]
	run kiln image build -q --label k=v -t lab "$CTX"
	[ "$status" -eq 0 ]
	[ ${#output} -eq 64 ]
	[ "$(cfg Labels lab)" = '{"k":"v"}' ]
}

@test "build: ADD extracts bzip2, xz and zstd tars too (a plain .zst file is copied)" {
	build_setup
	mkdir -p "$BATS_TEST_TMPDIR/t/inner"
	echo in > "$BATS_TEST_TMPDIR/t/inner/f"
	tar -C "$BATS_TEST_TMPDIR/t" -cf "$BATS_TEST_TMPDIR/a.tar" inner
	bzip2 -c "$BATS_TEST_TMPDIR/a.tar" > "$CTX/a.tar.bz2"
	xz -c "$BATS_TEST_TMPDIR/a.tar" > "$CTX/a.tar.xz"
	zstd -q -c "$BATS_TEST_TMPDIR/a.tar" > "$CTX/a.tar.zst"
	echo not a tar | zstd -q -c > "$CTX/plain.zst"
	printf 'FROM busybox\nADD a.tar.bz2 /b/\nADD a.tar.xz /x/\nADD a.tar.zst /z/\nADD plain.zst /p/\n' \
		> "$CTX/Containerfile"
	run kiln build -q -t addc "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm addc sh -c 'cat /b/inner/f /x/inner/f /z/inner/f; ls /p'
	[ "$output" = "in
in
in
plain.zst" ]
}

@test "build: --timestamp gives the same image ID in two stores; save/load keeps it" {
	build_setup
	mkdir -p "$CTX/d"; echo x > "$CTX/d/f"
	printf 'FROM busybox\nCOPY d /d\nRUN mkdir -p /a/b && echo fixed > /a/b/c\nENV Z=1\n' > "$CTX/Containerfile"
	id1=$(kiln build -q --timestamp 1700000000 "$CTX")
	other=$(mktemp -d "$BATS_TEST_TMPDIR/root2.XXXXXX")
	kiln save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
	"$KILN_BIN" --root "$other" --runroot "$KRUN" load -i "$BATS_TEST_TMPDIR/bb.tar" >/dev/null
	id2=$(SOURCE_DATE_EPOCH=1700000000 "$KILN_BIN" --root "$other" --runroot "$KRUN" build -q --no-cache "$CTX")
	[ "$id1" = "$id2" ]
	run kiln inspect -f '{{.Created}}' "$id1"
	[[ "$output" == 2023-11-14* ]]
	# The built layers are re-tarred for save; a load elsewhere gets the same ID.
	kiln tag "$id1" ts
	kiln save -o "$BATS_TEST_TMPDIR/ts.tar" ts
	third=$(mktemp -d "$BATS_TEST_TMPDIR/root3.XXXXXX")
	run "$KILN_BIN" --root "$third" --runroot "$KRUN" load -i "$BATS_TEST_TMPDIR/ts.tar"
	[ "$status" -eq 0 ]
	run "$KILN_BIN" --root "$third" --runroot "$KRUN" inspect -f '{{.Id}}' ts
	[[ "$output" == *"$id1" ]]
	rm -rf "$other" "$third"
}

@test "build: history has podman's shape (empty_layer for metadata steps)" {
	build_setup
	printf 'FROM busybox\nENV A=1\nRUN echo x > /x\nCMD ["sh"]\n' > "$CTX/Containerfile"
	kiln build -t h "$CTX" >/dev/null
	run kiln history --format '{{.CreatedBy}}|{{.Size}}' --no-trunc h
	[[ "${lines[0]}" == '/bin/sh -c #(nop) CMD ["sh"]|0B' ]]
	[[ "${lines[1]}" == "/bin/sh -c echo x > /x|"* ]]
	[[ "${lines[2]}" == '/bin/sh -c #(nop) ENV A=1|0B' ]]
}

@test "build: RUN --device (CDI): an optional device is left out with a warning, a required one fails" {
	build_setup
	printf 'FROM busybox\nRUN --device=vendor.com/gpu=all echo ran\n' > "$CTX/Containerfile"
	run kiln build --no-cache "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"RUN --device vendor.com/gpu=all: no CDI devices are available to kiln's RUN steps; running without it"* ]]
	[[ "$output" == *$'\nran\n'* ]]
	printf 'FROM busybox\nRUN --device=vendor.com/gpu=all,required echo ran\n' > "$CTX/Containerfile"
	run kiln build --no-cache -t dev "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *'building at STEP "RUN --device=vendor.com/gpu=all,required echo ran" (Containerfile:2): RUN --device vendor.com/gpu=all: no CDI devices'* ]]
	run kiln image exists dev
	[ "$status" -ne 0 ]
}
