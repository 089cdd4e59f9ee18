#!/usr/bin/env bats
# kiln build: --platform, --isolation, --disable-compression, --jobs,
# --annotation (kept through push), --volume and RUN --mount=type=ssh; an
# image built by kiln, pushed and run by podman.

load helpers
load ../lib/registry-helpers
bats_require_minimum_version 1.5.0

setup() {
	registry_setup
	build_setup
}

@test "build --platform: the host's accepted, another a clear error" {
	printf 'FROM busybox\nRUN echo hi > /hi\n' > "$CTX/Containerfile"
	run kiln build --platform linux/amd64 -t p1 "$CTX"
	[ "$status" -eq 0 ]
	run kiln build --platform linux/arm64 -t p2 "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"--platform linux/arm64: only the host platform (linux/amd64) can be built"* ]]
	run kiln image exists p2
	[ "$status" -ne 0 ]
}

@test "build --isolation, --disable-compression, --jobs are accepted; bad values refused" {
	printf 'FROM busybox\nRUN echo hi > /hi\n' > "$CTX/Containerfile"
	for iso in chroot oci rootless; do
		run kiln build --isolation $iso --disable-compression --jobs 2 -t i-$iso "$CTX"
		[ "$status" -eq 0 ]
	done
	run kiln build --isolation vm "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"--isolation vm: chroot, oci or rootless expected"* ]]
	run kiln build --jobs x "$CTX"
	[ "$status" -eq 125 ]
}

@test "build --annotation: kept in the OCI manifest through push" {
	printf 'FROM busybox\nRUN echo hi > /hi\n' > "$CTX/Containerfile"
	run kiln build --annotation org.example.a=1 --annotation "b=two words" -t ann "$CTX"
	[ "$status" -eq 0 ]
	kiln push -q --tls-verify=false ann $REG/b/ann:v1
	run curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		http://$REG/v2/b/ann/manifests/v1
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.annotations["org.example.a"]')" = 1 ]
	[ "$(echo "$output" | jq -r '.annotations.b')" = "two words" ]
	run kiln build --annotation novalue "$CTX"
	[ "$status" -eq 125 ]
}

@test "build --volume: a host directory bound into RUN steps, not into the layer" {
	mkdir -p "$BATS_TEST_TMPDIR/vol"
	echo from-host > "$BATS_TEST_TMPDIR/vol/in"
	printf 'FROM busybox\nRUN cat /v/in > /copied && echo made > /v/out\n' > "$CTX/Containerfile"
	run kiln build -v "$BATS_TEST_TMPDIR/vol:/v" -t vol "$CTX"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/vol/out")" = made ]
	[ "$(kiln run --rm vol cat /copied)" = from-host ]
	run kiln run --rm vol ls /v
	[ "$status" -ne 0 ]
	# :ro makes the write fail
	run kiln build --no-cache -v "$BATS_TEST_TMPDIR/vol:/v:ro" "$CTX"
	[ "$status" -ne 0 ]
	run kiln build -v "relative:/v" "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"/HOST-DIR:/CONTAINER-DIR"* ]]
}

@test "build RUN --mount=type=ssh: the agent socket forwarded, SSH_AUTH_SOCK set" {
	sock=$BATS_TEST_TMPDIR/agent.sock
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sockpath
CF
	run env SSH_AUTH_SOCK="$sock" "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" \
		build --ssh default -t ssh1 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm ssh1 cat /sockpath)" = /run/buildkit/ssh_agent.0 ]
	run kiln run --rm ssh1 ls /run/buildkit
	[ "$status" -ne 0 ]
	run kiln build --no-cache --ssh "default=$sock" -t ssh2 "$CTX"
	[ "$status" -eq 0 ]
	# no socket: the step runs without it, unless required=true
	run env -u SSH_AUTH_SOCK "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" \
		build --no-cache "$CTX"
	[ "$status" -ne 0 ]
	[[ "$output" != *"ssh default: no agent socket given"* ]]
	printf 'FROM busybox\nRUN --mount=type=ssh,required=true true\n' > "$CTX/Containerfile"
	run env -u SSH_AUTH_SOCK "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" \
		build --no-cache "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"ssh default: no agent socket given"* ]]
}

@test "an image kiln built, pushed to a registry, is pulled and run by podman" {
	command -v podman >/dev/null || skip "podman is not installed (make deps)"
	podman_run_conf
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN echo built-by-kiln > /msg
COPY Containerfile /cf
ENV GREETING=hello
CMD ["sh", "-c", "cat /msg; echo $GREETING"]
CF
	kiln build -q -t pushme "$CTX" >/dev/null
	kiln push -q --tls-verify=false pushme $REG/b/pushme:v1
	run env -u CONTAINERS_REGISTRIES_CONF podman --root "$BATS_TEST_TMPDIR/proot" \
		--runroot "$BATS_TEST_TMPDIR/prun" --storage-driver overlay \
		pull -q --tls-verify=false $REG/b/pushme:v1
	[ "$status" -eq 0 ]
	run podman_ run --rm --ulimit host --net none $REG/b/pushme:v1
	podman_ rmi -a -f >/dev/null 2>&1 || true
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = built-by-kiln ]
	[ "${lines[1]}" = hello ]
}

@test "COPY --chmod: symbolic clauses applied to each file's own mode" {
	mkdir -p "$CTX/d/sub"
	echo a > "$CTX/d/a"; chmod 0644 "$CTX/d/a"
	echo b > "$CTX/d/sub/b"; chmod 0755 "$CTX/d/sub/b"
	chmod 0750 "$CTX/d/sub"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
COPY --chmod=u+x,g-r,o=r d /s
COPY --chmod=a+X,go-w d /x
COPY --chmod=0604 d/a /oct
CF
	run kiln build -t cm "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm cm stat -c '%n %a' /s/a /s/sub /s/sub/b /x/a /x/sub /x/sub/b /oct
	[ "${lines[0]}" = "/s/a 704" ]
	[ "${lines[1]}" = "/s/sub 714" ]
	[ "${lines[2]}" = "/s/sub/b 714" ]
	[ "${lines[3]}" = "/x/a 644" ]
	[ "${lines[4]}" = "/x/sub 751" ]
	[ "${lines[5]}" = "/x/sub/b 755" ]
	[ "${lines[6]}" = "/oct 604" ]
	printf 'FROM busybox\nCOPY --chmod=u+q d /s\n' > "$CTX/Containerfile"
	run kiln build "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid chmod u+q"* ]]
}

@test "COPY --link: the layer is built apart from the layers below" {
	echo f > "$CTX/f"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN mkdir /real && ln -s /real /via && chmod 0700 /real && adduser -D -u 1234 bob 2>/dev/null || echo 'bob:x:1234:1234::/:/bin/sh' >> /etc/passwd
COPY --link --chown=bob f /via/f
COPY f /plain/f
CF
	run kiln build -t lk "$CTX"
	[ "$status" -eq 0 ]
	# without --link the copy would follow /via into /real
	run kiln run --rm lk sh -c 'ls -ld /via | cut -c1; ls /real | wc -l; stat -c "%u %a" /via/f'
	[ "${lines[0]}" = d ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = "1234 644" ]
	# the layer holds only the copy and its fresh parent
	n=$(kiln inspect --format '{{len .RootFS.Layers}}' lk)
	[ "$n" -ge 3 ]
}

@test "ADD <url>: downloaded (0600, not extracted), content in the cache key; --checksum" {
	www=$BATS_TEST_TMPDIR/www
	mkdir -p "$www"
	echo v1 > "$www/file.txt"
	tar -C "$www" -czf "$www/a.tar.gz" file.txt
	python3 -m http.server 0 --bind 127.0.0.1 --directory "$www" > "$BATS_TEST_TMPDIR/http.log" 2>&1 &
	pid=$!
	port=
	for _ in $(seq 100); do
		port=$(ss -ltnp 2>/dev/null | grep "pid=$pid," | grep -o '127.0.0.1:[0-9]*' | cut -d: -f2 | head -1)
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ]
	sum=$(sha256sum "$www/file.txt" | cut -d' ' -f1)
	cat > "$CTX/Containerfile" <<CF
FROM busybox
ADD http://127.0.0.1:$port/file.txt /dl/
ADD http://127.0.0.1:$port/a.tar.gz /dl/
ADD --checksum=sha256:$sum http://127.0.0.1:$port/file.txt /named
CF
	run kiln build -t url "$CTX"
	[ "$status" -eq 0 ]
	run kiln run --rm url sh -c 'cat /dl/file.txt /named; stat -c "%a" /dl/file.txt; ls /dl'
	[ "${lines[0]}" = v1 ]
	[ "${lines[1]}" = v1 ]
	[ "${lines[2]}" = 600 ]
	[ "${lines[3]}" = a.tar.gz ]
	[ "${lines[4]}" = file.txt ]
	run kiln build -t url "$CTX"
	step2=$(echo "$output" | awk '/STEP 2\/4/{p=1;next} /STEP 3\/4/{p=0} p')
	[[ "$step2" == *"Using cache"* ]]
	# a changed file at the same URL misses; the checksum now fails
	echo v2 > "$www/file.txt"
	run kiln build -t url "$CTX"
	kill $pid
	[ "$status" -eq 125 ]
	[[ "$output" == *"checksum mismatch for http://127.0.0.1:$port/file.txt"* ]]
	step2=$(echo "$output" | awk '/STEP 2\/4/{p=1;next} /STEP 3\/4/{p=0} p')
	[[ "$step2" != *"Using cache"* ]]
	printf 'FROM busybox\nADD --checksum=sha256:%s f /f\n' "$sum" > "$CTX/Containerfile"
	echo x > "$CTX/f"
	run kiln build "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"checksum can't be specified for non-HTTP(S) sources"* ]]
}

@test "RUN steps get podman's default capabilities and seccomp filter; --security=insecure lifts them" {
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN grep -E '^(CapBnd|CapEff|Seccomp):' /proc/self/status > /confined
RUN --security=insecure grep -E '^(CapBnd|Seccomp):' /proc/self/status > /insecure
USER 1000
RUN grep -E '^(CapEff|Seccomp):' /proc/self/status > /tmp/user
CF
	run kiln build -t caps "$CTX"
	[ "$status" -eq 0 ]
	# podman 4's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL
	# NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT
	want=00000000800405fb
	run kiln run --rm caps cat /confined /insecure /tmp/user
	[ "${lines[0]}" = "CapEff:	$want" ]
	[ "${lines[1]}" = "CapBnd:	$want" ]
	[ "${lines[2]}" = "Seccomp:	2" ]
	[ "${lines[3]}" != "CapBnd:	$want" ]
	[ "${lines[4]}" = "Seccomp:	0" ]
	[ "${lines[5]}" = "CapEff:	0000000000000000" ]
	[ "${lines[6]}" = "Seccomp:	2" ]
}

# The rules where buildah 1.28 departs from Docker (071-build-oracle.bats
# leaves them out): Docker's behaviour is kiln's.
@test "Docker's rules where buildah 1.28 differs: SHELL wraps later shell-form CMD/ENTRYPOINT, escape, \${v#p} forms, RUN heredoc, WORKDIR creates" {
	cat > "$CTX/Containerfile" <<'CF'
# escape=`
FROM busybox
SHELL ["/bin/sh", "-ec"]
CMD echo c
ENTRYPOINT echo e
ARG P=prefix-rest
ENV A=${P#prefix-} B=${P%-rest} C=${P/rest/best} D=a\b
RUN <<EOF
echo from-heredoc > /h
EOF
WORKDIR /made/by/workdir
CF
	run kiln build -t rules "$CTX"
	[ "$status" -eq 0 ]
	[ "$(kiln inspect -f '{{json .Config.Cmd}}' rules)" = '["/bin/sh","-ec","echo c"]' ]
	[ "$(kiln inspect -f '{{json .Config.Entrypoint}}' rules)" = '["/bin/sh","-ec","echo e"]' ]
	env=$(kiln inspect -f '{{json .Config.Env}}' rules)
	[[ "$env" == *'"A=rest"'* && "$env" == *'"B=prefix"'* && "$env" == *'"C=prefix-best"'* ]]
	[[ "$env" == *'"D=a\\b"'* ]]
	[ "$(kiln run --rm --entrypoint cat rules /h)" = from-heredoc ]
	run kiln run --rm --entrypoint ls rules -d /made/by/workdir
	[ "$status" -eq 0 ]
}

@test "build --jobs 2: independent stages build at the same time" {
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox AS a
RUN sleep 2 && date +%s > /a
FROM busybox AS b
RUN sleep 2 && date +%s > /b
FROM busybox AS c
COPY --from=a /a /a
RUN cat /a > /c
FROM busybox
COPY --from=b /b /b
COPY --from=c /c /c
CF
	start=$(date +%s)
	run kiln build --jobs 2 -t jobs "$CTX"
	end=$(date +%s)
	[ "$status" -eq 0 ]
	# a and b ran at once: they ended within a second of each other, and the
	# whole build took well under the 4 s the two sleeps need in a row
	a=$(kiln run --rm jobs cat /c); b=$(kiln run --rm jobs cat /b)
	[ $((a > b ? a - b : b - a)) -le 1 ]
	[ $((end - start)) -lt 4 ]
	# the build's own pass found those stages in the cache
	[[ "$output" == *"Using cache"* ]]
	[[ "$output" == *"Successfully tagged localhost/jobs:latest"* ]]
	# without the cache there is nothing to share: built in order
	run kiln build --jobs 2 --no-cache -t jobs2 "$CTX"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm jobs2 sh -c 'cat /c /b' | sort -n | awk 'NR==1{f=$1} NR==2{print $1-f}')" -ge 2 ]
}

@test "build --cache-to / --cache-from: cache entries in a registry repository, tagged by key" {
	echo one > "$CTX/f"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN date +%s%N > /stamp
COPY f /f
ENV E=1
CF
	run kiln build --tls-verify=false --cache-to $REG/c/app -t first "$CTX"
	[ "$status" -eq 0 ]
	run curl -sf http://$REG/v2/c/app/tags/list
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '.tags | length')" -eq 2 ]
	# another store with the same base: both layer steps come from the registry
	kiln save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
	kiln2 load -q -i "$BATS_TEST_TMPDIR/bb.tar" >/dev/null
	run kiln2 build --tls-verify=false --cache-from $REG/c/app -t second "$CTX"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c 'Using cache')" -ge 2 ]
	[ "$(kiln2 run --rm second cat /stamp)" = "$(kiln run --rm first cat /stamp)" ]
	# now in the local cache too: no registry needed
	run kiln2 build -t third "$CTX"
	[ "$(echo "$output" | grep -c 'Using cache')" -ge 2 ]
	# a changed file misses (the RUN before it still hits)
	echo two > "$CTX/f"
	run kiln2 build --tls-verify=false --cache-from $REG/c/app -t fourth "$CTX"
	[ "$status" -eq 0 ]
	[ "$(kiln2 run --rm fourth cat /f)" = two ]
	run kiln build --cache-from $REG/c/app:tag "$CTX"
	[ "$status" -eq 125 ]
	[[ "$output" == *"a repository without tag or digest expected"* ]]
}
