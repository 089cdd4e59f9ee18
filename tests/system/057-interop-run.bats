#!/usr/bin/env bats
# Interop: an image podman built and saved runs in kiln with the same
# output as `podman run` for the same command (the issue's ten commands
# and a few more), only the engine's own names normalised.

load helpers

podman_() {
	podman --root "$BATS_TEST_TMPDIR/proot" --runroot "$BATS_TEST_TMPDIR/prun" \
		--storage-driver overlay "$@"
}

setup_file() {
	command -v podman >/dev/null || skip "podman is not installed (make deps)"
}

# The image: busybox with an ENV, WORKDIR, USER-able passwd entry, built
# by podman, saved with podman save, loaded by kiln.
make_image() {
	podman_ import -q "$(busybox_tar)" localhost/bbase >/dev/null
	mkdir -p "$BATS_TEST_TMPDIR/ctx"
	cat > "$BATS_TEST_TMPDIR/ctx/Containerfile" <<'CF'
FROM localhost/bbase
ENV GREETING=hello APP_HOME=/srv/app
RUN mkdir -p /srv/app && echo 'app:x:1000:1000:app:/home/app:/bin/sh' >> /etc/passwd && \
    echo 'app:x:1000:' >> /etc/group && echo data > /srv/app/file
WORKDIR /srv/app
CMD ["sh", "-c", "echo default-cmd"]
CF
	podman_ build -q -t localhost/interop "$BATS_TEST_TMPDIR/ctx" >/dev/null
	podman_ save -o "$BATS_TEST_TMPDIR/img.tar" localhost/interop
	kiln load -q -i "$BATS_TEST_TMPDIR/img.tar" >/dev/null
}

# same ARGS...: runs both with --rm --network none --hostname h1 ARGS and
# compares stdout and the exit code.
same() {
	local k p ks ps
	k=$(kiln run --rm --network none --hostname h1 "$@" 2>/dev/null) && ks=0 || ks=$?
	p=$(podman_ run --rm --network none --ulimit host --hostname h1 "$@" 2>/dev/null) && ps=0 || ps=$?
	# the engine's own marks; TERM without -t: Podman sets it (its
	# containers.conf env), Docker does not, and kiln follows Docker
	k=$(sed -e '/^container=/d' -e '/^TERM=xterm$/d' <<<"$k")
	p=$(sed -e '/^container=/d' -e '/^TERM=xterm$/d' <<<"$p")
	if [ "$k" != "$p" ] || [ "$ks" != "$ps" ]; then
		echo "differs for: $*" >&2
		diff <(echo "$p"; echo "exit $ps") <(echo "$k"; echo "exit $ks") >&2 || true
		return 1
	fi
}

@test "the same image gives the same output under kiln run and podman run" {
	podman_run_conf
	make_image
	img=localhost/interop
	same $img
	same $img sh -c 'env | sort'
	same $img id
	same $img pwd
	same $img cat /etc/hostname
	same $img sh -c 'ls -1a / | grep -v "^\.containerenv$"'
	same $img sh -c 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status'
	same -u app $img sh -c 'id; echo $HOME; pwd'
	same -u 1000:1000 -w /tmp $img sh -c 'id; pwd'
	same -e GREETING=overridden -e EXTRA=1 $img sh -c 'echo $GREETING $APP_HOME $EXTRA'
	same --entrypoint echo $img one two
	same $img sh -c 'exit 7'
	same $img cat /srv/app/file
	same $img sh -c 'ls /proc/sys >/dev/null && echo x > /proc/sysrq-trigger; echo $?'
	same --read-only $img sh -c 'touch /x 2>/dev/null; echo $?; touch /tmp/y; echo $?'
	same --dns 10.1.1.1 --dns-search s.example $img sh -c 'grep -v "^#" /etc/resolv.conf'
	podman_ rmi -a -f >/dev/null 2>&1 || true
}
