# Shared set-up for the system tests: every test gets a private store.

KILN_BIN=${KILN_BIN:-$BATS_TEST_DIRNAME/../../kiln}

# kiln refuses to pull without a trust policy (as podman does), and CI has
# no /etc/containers/policy.json: every test gets a permissive one of its
# own through KILN_SIGNATURE_POLICY (the host's file is never touched).  A
# test that wants another policy passes --signature-policy or sets the
# variable itself.
if [ -z "${KILN_SIGNATURE_POLICY:-}" ]; then
	KILN_SIGNATURE_POLICY=${BATS_RUN_TMPDIR:-${TMPDIR:-/tmp}}/kiln-accept-policy.json
	[ -f "$KILN_SIGNATURE_POLICY" ] ||
		echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$KILN_SIGNATURE_POLICY"
	export KILN_SIGNATURE_POLICY
fi

kiln() {
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" "$@"
}

# A test's look into a store waits out a writer (a command's syncer deletes
# its rows in the background) instead of failing with "database is locked".
sqlite3() {
	command sqlite3 -cmd '.timeout 10000' "$@"
}

# A busybox rootfs tarball, built once per test run.
busybox_tar() {
	local tar=$BATS_RUN_TMPDIR/busybox.tar
	if [ ! -f "$tar" ]; then
		local dir=$BATS_RUN_TMPDIR/busybox-rootfs.$$
		"$BATS_TEST_DIRNAME/../lib/busybox-rootfs.sh" "$dir"
		tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
		rm -rf "$dir"
	fi
	echo "$tar"
}

# random_tar OUT DIRS FILES SIZE [PREFIX]: a tar of DIRS directories (d0,
# d1, …, under PREFIX/ if given) of FILES random files (f0, …) of SIZE bytes.
random_tar() {
	python3 - "$@" <<'PY'
import io, os, sys, tarfile
out, dirs, files, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
top = sys.argv[5] + "/" if len(sys.argv) > 5 else ""
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for d in range(dirs):
        ti = tarfile.TarInfo(f"{top}d{d}"); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
        t.addfile(ti)
        for f in range(files):
            data = os.urandom(size)
            ti = tarfile.TarInfo(f"{top}d{d}/f{f}"); ti.size = len(data); ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
PY
}

# killed_whole_or_absent IMAGE ARGS...: kiln ARGS, which makes IMAGE out of
# many_files_tar's 20,000 files, is SIGKILLed after 0.05 to 1.5 s; each time
# IMAGE must be absent or whole (then it is removed), the store consistent.
killed_whole_or_absent() {
	local image=$1 delay pid layer
	shift
	for delay in 0.05 0.2 0.4 0.8 1.5; do
		# The binary itself, not a subshell running the kiln() function.
		"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" "$@" >/dev/null 2>&1 3>&- &
		pid=$!
		sleep "$delay"
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
		run kiln images --format '{{.Repository}}'
		[ "$status" -eq 0 ]
		if [[ "$output" == *"$image"* ]]; then
			layer=$(kiln inspect --format '{{.GraphDriver.Data.UpperDir}}' "$image")
			[ "$(find "$layer" -type f | wc -l)" -eq 20000 ]
			kiln rmi "$image" >/dev/null
		fi
		assert_store_consistent
	done
}

# A store with busybox imported as "busybox", and an empty build context
# directory in $CTX.
build_setup() {
	kiln import "$(busybox_tar)" busybox >/dev/null
	CTX=$BATS_TEST_TMPDIR/ctx
	mkdir -p "$CTX"
}

# A tar of 20,000 small files, so that an import or load takes a while.
many_files_tar() {
	local tar=$BATS_RUN_TMPDIR/many.tar
	if [ ! -f "$tar" ]; then
		random_tar "$tar.tmp" 40 500 2048
		mv "$tar.tmp" "$tar"
	fi
	echo "$tar"
}

# podman run needs, on this machine, runc (crun fails on hybrid cgroups),
# no default ulimits (no CAP_SYS_RESOURCE) and cgroupfs (no systemd).  The
# file is written only if absent, and the test says so.
podman_run_conf() {
	local conf=/etc/containers/containers.conf
	[ -f "$conf" ] && return 0
	mkdir -p /etc/containers
	printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$conf"
	echo "# wrote $conf for podman run (runc, cgroupfs, no default ulimits)" >&3
}

setup() {
	KROOT=$(mktemp -d "$BATS_TEST_TMPDIR/root.XXXXXX")
	KRUN=$(mktemp -d "$BATS_TEST_TMPDIR/run.XXXXXX")
	export KROOT KRUN
}

# Mounts a test leaves under its temporary directory (podman's private
# store mounts its overlay dir on itself) are undone, deepest first.
umount_under() {
	local m
	for m in $(awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

# Waits for the syncers of the store (the commits' background syncfs) to
# finish: they hold sync.lock shared while they run.
wait_syncer() {
	local root=${1:-$KROOT}
	[ -f "$root/sync.lock" ] || return 0
	timeout 60 flock "$root/sync.lock" true
}

# The test's store removed, after its syncers (a command returns once its
# syncer has the DB open, but one a test killed does not wait: its syncer,
# still opening the DB, would re-create files under rm -rf).
remove_store() {
	wait_syncer
	rm -rf "$KROOT" "$KRUN"
}

# Containers a failed test left running (or paused) are stopped.
stop_leftover_containers() {
	[ -f "$KROOT/kiln.db" ] || return 0
	timeout 30 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" unpause -a >/dev/null 2>&1 || true
	timeout 30 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" rm -af >/dev/null 2>&1 || true
}

teardown() {
	stop_leftover_containers
	umount_under "$BATS_TEST_TMPDIR"
	remove_store
}

# Consistency of the store seen from outside: every layer row has its
# directory and every layer directory has its row; every image's config blob
# is there.
assert_store_consistent() {
	local rows dirs id
	rows=$(sqlite3 "$KROOT/kiln.db" 'SELECT id FROM layers ORDER BY id')
	dirs=$(ls "$KROOT/layers" | sort)
	if [ "$rows" != "$dirs" ]; then
		echo "layer rows: $rows"; echo "layer dirs: $dirs"; return 1
	fi
	for id in $(sqlite3 "$KROOT/kiln.db" 'SELECT id FROM images'); do
		[ -f "$KROOT/blobs/sha256/$id" ] || { echo "config blob of $id missing"; return 1; }
	done
	for id in $(sqlite3 "$KROOT/kiln.db" 'SELECT image_id FROM names'); do
		[ -n "$(sqlite3 "$KROOT/kiln.db" "SELECT id FROM images WHERE id='$id'")" ] ||
			{ echo "name points at missing image $id"; return 1; }
	done
}
