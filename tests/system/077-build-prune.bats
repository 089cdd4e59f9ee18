#!/usr/bin/env bats
# kiln builder prune and the build's own GC of its memos and cache mounts.

load helpers
bats_require_minimum_version 1.5.0

setup_prune() {
	build_setup
	echo data > "$CTX/f"
	cat > "$CTX/Containerfile" <<'CF'
FROM busybox
COPY f /f
RUN --mount=type=cache,id=c1,target=/c1 echo x > /c1/x
RUN --mount=type=cache,id=c2,target=/c2 echo y > /c2/y
CF
	kiln build -t p "$CTX" >/dev/null
}

@test "builder prune: memos and unheld cache mounts go; -a also drops every cache row" {
	setup_prune
	[ "$(ls "$KROOT/build-memo" | wc -l)" -eq 1 ]
	[ "$(find "$KROOT/build-mounts/cache" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 2 ]
	# c1 is held by a "running build"
	c1=$(ls "$KROOT/build-mounts/cache" | grep -v lock | head -1)
	exec 9<"$KROOT/build-mounts/cache/$c1.lock"
	flock -s 9
	run kiln builder prune
	[ "$status" -eq 0 ]   # no answer on stdin: nothing done
	[ "$(ls "$KROOT/build-memo" | wc -l)" -eq 1 ]
	run kiln builder prune -f
	exec 9<&-
	[ "$status" -eq 0 ]
	[[ "$output" == "Total reclaimed space: "* ]]
	[ "$(ls "$KROOT/build-memo" | wc -l)" -eq 0 ]
	[ -d "$KROOT/build-mounts/cache/$c1" ]
	[ "$(find "$KROOT/build-mounts/cache" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 1 ]
	# rows kept: the rebuild hits
	run kiln build -t p "$CTX"
	[[ "$output" == *"Using cache"* ]]
	run kiln builder prune -a -f
	[ "$status" -eq 0 ]
	[ "$(find "$KROOT/build-mounts/cache" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 0 ]
	run kiln build -t p "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" != *"Using cache"* ]]
	run kiln builder prune -f extra
	[ "$status" -eq 125 ]
}

@test "build: memos and cache mounts unused for 30 days are removed by a later build" {
	setup_prune
	cp "$KROOT/build-memo/"* "$KROOT/build-memo/0123456789abcdef0123456789abcdef"
	touch -d '40 days ago' "$KROOT/build-memo/0123456789abcdef0123456789abcdef"
	for f in "$KROOT/build-mounts/cache/"*; do touch -d '40 days ago' "$f"; done
	touch -d '2 days ago' "$KROOT/build-mounts/gc-stamp"
	printf 'FROM busybox\nRUN true\n' > "$BATS_TEST_TMPDIR/Containerfile"
	kiln build -f "$BATS_TEST_TMPDIR/Containerfile" "$BATS_TEST_TMPDIR" >/dev/null
	[ ! -e "$KROOT/build-memo/0123456789abcdef0123456789abcdef" ]
	[ "$(find "$KROOT/build-mounts/cache" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 0 ]
	[ "$(ls "$KROOT/build-memo" | wc -l)" -ge 1 ]
	# the stamp is fresh now: nothing more for a day
	[ "$(find "$KROOT/build-mounts/gc-stamp" -mmin -5 | wc -l)" -eq 1 ]
}
