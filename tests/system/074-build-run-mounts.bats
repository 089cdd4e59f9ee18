#!/usr/bin/env bats
# kiln build: RUN --mount=type=cache|bind|tmpfs|secret and RUN heredocs.

load helpers
bats_require_minimum_version 1.5.0

# The layer of the image's top, as a file list.
top_files() {
	kiln run --rm "$1" sh -c "$2"
}

@test "RUN --mount=type=cache persists across builds by id; nothing of it in the layer" {
	build_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
ARG N
RUN --mount=type=cache,id=c1,target=/cache echo "run$N" >> /cache/log && cat /cache/log > /seen
CF
	run kiln build --build-arg N=1 -t c1 "$CTX"
	[ "$status" -eq 0 ]
	run kiln build --build-arg N=2 -t c2 "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm c2 cat /seen
	[ "${lines[0]}" = run1 ]
	[ "${lines[1]}" = run2 ]
	# The target directory was created for the mount and is gone again.
	run kiln run --rm c2 ls -d /cache
	[ "$status" -ne 0 ]
	# Another id is another cache; sharing modes are accepted.
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN --mount=type=cache,id=other,target=/cache,sharing=locked ls /cache | wc -l > /n
RUN --mount=type=cache,id=c1,target=/c,sharing=private,uid=1000,mode=0700 cat /c/log | wc -l > /m
CF
	run kiln build -t c3 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm c3 cat /n)" = 0 ]
	[ "$(kiln run --rm c3 cat /m)" = 2 ]
}

@test "RUN --mount=type=cache,from=STAGE starts as a copy of the stage's source path, then persists" {
	build_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox AS seed
RUN mkdir -p /seed/sub && echo seeded > /seed/sub/f && chown 1000:1000 /seed/sub/f
FROM busybox
ARG N
RUN --mount=type=cache,id=s1,from=seed,source=/seed,target=/c \
	echo "run$N" >> /c/log && { cat /c/sub/f; stat -c %u /c/sub/f; cat /c/log; } > /seen
CF
	run kiln build --build-arg N=1 -t cf1 "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm cf1 cat /seen
	[ "$output" = "seeded
1000
run1" ]
	run kiln build --build-arg N=2 -t cf2 "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm cf2 cat /seen
	[ "$output" = "seeded
1000
run1
run2" ]
	# a missing source path is an error
	printf 'FROM busybox AS seed\nFROM busybox\nRUN --mount=type=cache,from=seed,source=/nope,target=/c true\n' \
		> "$CTX/Containerfile"
	run kiln build "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"cache mount source \"/nope\" in seed"* ]]
}

@test "RUN --mount=type=bind from the context (read-only, content in the key), rw, from a stage" {
	build_setup
	mkdir -p "$CTX/src"
	echo one > "$CTX/src/f"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox AS s
RUN echo from-stage > /made
FROM busybox
RUN --mount=type=bind,source=src,target=/m cat /m/f > /copied && ! touch /m/x 2>/dev/null
RUN --mount=type=bind,source=src,target=/w,rw touch /w/new && ls /w > /listed
RUN --mount=type=bind,from=s,source=/made,target=/made cat /made > /got
CF
	run kiln build -t b1 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm b1 cat /copied)" = one ]
	[ "$(kiln run --rm b1 cat /got)" = from-stage ]
	run kiln run --rm b1 cat /listed
	[[ "$output" == *new* ]]
	[ ! -e "$CTX/src/new" ]
	run kiln run --rm b1 ls -d /m /w
	[ "$status" -ne 0 ]
	# Unchanged source: a hit; changed source: a miss.
	run kiln build -t b1 "$CTX"
	[[ "$output" == *"STEP 4/6: RUN --mount=type=bind,source=src,target=/m"*"--> Using cache"*"STEP 5/6"* ]]
	echo two > "$CTX/src/f"
	run kiln build -t b2 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm b2 cat /copied)" = two ]
}

@test "RUN --mount=type=bind from the context hides what .containerignore excludes (as BuildKit)" {
	build_setup
	mkdir -p "$CTX/src/sub" "$CTX/src/logs"
	echo keep > "$CTX/src/keep.txt"
	echo secret > "$CTX/src/secret.txt"
	echo log > "$CTX/src/sub/x.log"
	echo kept > "$CTX/src/sub/y.txt"
	echo l > "$CTX/src/logs/a.log"
	echo back > "$CTX/src/logs/important.log"
	printf 'src/secret.txt\nsrc/sub/*.log\nsrc/logs\n!src/logs/important.log\n' > "$CTX/.containerignore"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN --mount=type=bind,source=src,target=/m find /m | sort > /ro
RUN --mount=type=bind,target=/c,rw touch /c/new && find /c/src | sort > /rw
CF
	run kiln build -t ign1 "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm ign1 cat /ro
	[ "$output" = "/m
/m/keep.txt
/m/logs
/m/logs/important.log
/m/sub
/m/sub/y.txt" ]
	run kiln run --rm ign1 cat /rw
	[[ "$output" == *"/c/src/keep.txt"* ]]
	[[ "$output" != *secret* ]]
	[[ "$output" != *x.log* ]]
	# the context itself is untouched by the rw mount
	[ ! -e "$CTX/new" ]
	# an ignored file changing does not change what the step saw: a hit
	echo other > "$CTX/src/secret.txt"
	run kiln build -t ign2 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 2 ]
	# an ignored file as the source is not there
	printf 'FROM busybox\nRUN --mount=type=bind,source=src/secret.txt,target=/s cat /s\n' > "$CTX/Containerfile"
	run kiln build "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *'bind mount source "src/secret.txt": excluded by .containerignore'* ]]
}

@test "RUN --mount=type=tmpfs" {
	build_setup
	printf 'FROM busybox\nRUN --mount=type=tmpfs,target=/t,size=1m echo x > /t/y && grep " /t tmpfs" /proc/mounts > /mnt-line\n' > "$CTX/Containerfile"
	run kiln build -t t1 "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm t1 cat /mnt-line
	[[ "$output" == *"/t tmpfs"* ]]
	run kiln run --rm t1 ls -d /t
	[ "$status" -ne 0 ]
}

@test "RUN --mount=type=secret: from a file or env, never in a layer or in history" {
	build_setup
	echo -n s3cr3t-file > "$BATS_TEST_TMPDIR/sec"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN --mount=type=secret,id=tok cat /run/secrets/tok > /leak1 && stat -c %a /run/secrets/tok > /mode
RUN --mount=type=secret,id=envtok,target=/etc/tok,required cp /etc/tok /leak2
RUN --mount=type=secret,id=absent ls /run/secrets/absent 2>/dev/null || echo none > /absent
RUN --mount=type=secret,id=tok,env=TOKVAR echo "$TOKVAR" > /leak3
CF
	export MYTOK=s3cr3t-env
	run kiln build --secret id=tok,src="$BATS_TEST_TMPDIR/sec" --secret id=envtok,env=MYTOK -t s1 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm s1 cat /leak1)" = s3cr3t-file ]
	[ "$(kiln run --rm s1 cat /leak2)" = s3cr3t-env ]
	[ "$(kiln run --rm s1 cat /mode)" = 400 ]
	[ "$(kiln run --rm s1 cat /absent)" = none ]
	[ "$(kiln run --rm s1 cat /leak3)" = s3cr3t-file ]
	run kiln inspect --format '{{json .Config.Env}}' s1
	[[ "$output" != *TOKVAR* ]]
	run kiln run --rm s1 ls /run/secrets /etc/tok
	[ "$status" -ne 0 ]
	# Not in history (the secret's value is not in the cache key either: a
	# changed secret still hits, as with BuildKit).
	run kiln history --no-trunc s1
	[[ "$output" != *s3cr3t* ]]
	# A required secret that is not given fails when the step runs.
	printf 'FROM busybox\nRUN --mount=type=secret,id=envtok,required true\n' > "$CTX/Containerfile"
	run kiln build -t s2 "$CTX"
	[ "$status" -ne 0 ]
	[[ "$output" == *"secret envtok"* ]]
}

@test "RUN heredocs: a script, a shebang script, a heredoc fed to a command" {
	build_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
ARG WHO=world
RUN <<EOF
echo "hello $WHO" > /h
echo second >> /h
EOF
RUN <<EOF
#!/bin/sh -e
echo shebang > /s
EOF
RUN cat <<EOT > /c && echo after >> /c
line1
EOT
RUN <<-EOF
	echo tabbed > /t
	EOF
CF
	run kiln build -t h1 "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm h1 cat /h
	[ "${lines[0]}" = "hello world" ]
	[ "${lines[1]}" = second ]
	[ "$(kiln run --rm h1 cat /s)" = shebang ]
	run kiln run --rm h1 cat /c
	[ "${lines[0]}" = line1 ]
	[ "${lines[1]}" = after ]
	[ "$(kiln run --rm h1 cat /t)" = tabbed ]
	run kiln run --rm h1 ls -a /
	[[ "$output" != *kiln-run-heredoc* ]]
	run kiln build -t h1 "$CTX"
	[[ "$output" == *"--> Using cache"* ]]
}
