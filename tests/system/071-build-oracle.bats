#!/usr/bin/env bats
# kiln build against buildah bud (Debian's 1.28) on the same contexts: the
# image configs and the file trees must be equal.  Containerfiles without
# RUN (buildah's RUN needs its own runtime set-up).

load helpers

setup_file() {
	command -v buildah >/dev/null || skip "buildah is not installed"
}

oracle_setup() {
	command -v buildah >/dev/null || skip "buildah is not installed"
	kiln import "$(busybox_tar)" busybox >/dev/null
	kiln save -o "$BATS_TEST_TMPDIR/bb.tar" busybox
	BROOT=$BATS_TEST_TMPDIR/buildah-root
	BRUN=$BATS_TEST_TMPDIR/buildah-run
	CTX=$BATS_TEST_TMPDIR/ctx
	mkdir -p "$CTX/dir/sub" "$CTX/w"
	echo a > "$CTX/dir/a"; echo s > "$CTX/dir/sub/s"; chmod 0640 "$CTX/dir/sub/s"
	echo 1 > "$CTX/w/x1.txt"; echo 2 > "$CTX/w/x2.txt"; echo n > "$CTX/w/no.md"
	echo f > "$CTX/file"; chmod 0750 "$CTX/file"
	ln -sf a "$CTX/dir/link"
	bah pull -q "docker-archive:$BATS_TEST_TMPDIR/bb.tar" >/dev/null
}

bah() {
	buildah --root "$BROOT" --runroot "$BRUN" --storage-driver overlay "$@"
}

# Builds $CTX/Containerfile with both; loads buildah's image into kiln's
# store as "theirs"; kiln's is "ours".
build_both() {
	kiln build --format docker -t ours "$CTX" >/dev/null
	bah bud -q --identity-label=false --format docker --layers -t theirs "$CTX" >/dev/null
	bah push -q theirs "docker-archive:$BATS_TEST_TMPDIR/theirs.tar:localhost/theirs:latest" >/dev/null
	kiln load -i "$BATS_TEST_TMPDIR/theirs.tar" >/dev/null
}

compare_configs() {
	kiln inspect -f '{{json .Config}}' ours > "$BATS_TEST_TMPDIR/ours.json"
	kiln inspect -f '{{json .Config}}' theirs > "$BATS_TEST_TMPDIR/theirs.json"
	python3 - "$BATS_TEST_TMPDIR/ours.json" "$BATS_TEST_TMPDIR/theirs.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
bad = 0
for f in "Env Cmd Entrypoint WorkingDir User Labels ExposedPorts Volumes StopSignal".split():
    # buildah writes empty values where Docker omits the field
    x, y = a.get(f) or None, b.get(f) or None
    if x != y:
        print(f"{f}: kiln {x!r}, buildah {y!r}"); bad = 1
sys.exit(bad)
PY
}

tree() {
	kiln run --rm --entrypoint '' "$1" sh -c \
		'find / -xdev ! -path / ! -path /etc/hosts ! -path /etc/hostname ! -path /etc/resolv.conf -exec stat -c "%n|%F|%a|%u:%g|%s|%N" {} + | sort; find / -xdev -type f ! -path /etc/hosts ! -path /etc/hostname ! -path /etc/resolv.conf -exec md5sum {} + | sort'
}

compare_trees() {
	diff <(tree ours) <(tree theirs)
}

@test "oracle: metadata instructions" {
	oracle_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM localhost/busybox
ENV A=1 B="two words"
ENV C=$A
LABEL x=y "with space"=z
EXPOSE 80 53/udp
VOLUME ["/data"]
USER nobody
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
CF
	build_both
	compare_configs
}

@test "oracle: COPY of files, directories, wildcards" {
	oracle_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM localhost/busybox
COPY dir /d
COPY w/*.txt /t/
COPY file /new/deep/renamed
COPY file dir/a /two/
WORKDIR /app
COPY file .
CF
	build_both
	compare_configs
	compare_trees
}

@test "oracle: COPY --chown and --chmod" {
	oracle_setup
	cat > "$CTX/Containerfile" <<'CF'
FROM localhost/busybox
COPY --chown=nobody:nogroup file /own
COPY --chown=65534 dir /owndir
COPY --chmod=600 file /mode
CF
	build_both
	compare_trees
}

@test "oracle: multi-stage COPY --from and ARG" {
	oracle_setup
	cat > "$CTX/Containerfile" <<'CF'
ARG BASE=localhost/busybox
FROM $BASE AS one
COPY dir /stage
FROM $BASE
ARG V=x
ENV V=$V
COPY --from=one /stage/sub /fromone
CF
	build_both
	compare_configs
	compare_trees
}
