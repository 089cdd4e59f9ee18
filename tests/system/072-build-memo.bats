#!/usr/bin/env bats
# kiln build: COPY source digests memoised by (dev, inode, size, mtime,
# ctime, mode) — the cache key stays content-based.

load helpers
bats_require_minimum_version 1.5.0

memo_setup() {
	build_setup
	mkdir "$CTX/src"
	printf 'FROM busybox\nCOPY src /src\n' > "$CTX/Containerfile"
}

@test "build memo: an unchanged tree hits through the memo; same-size edits with the old mtime still miss" {
	memo_setup
	echo aaaa > "$CTX/src/a"
	echo bbbb > "$CTX/src/b"
	touch -d '2020-01-01 00:00:00' "$CTX/src/a" "$CTX/src/b"
	sleep 0.1  # ctimes older than the build's clock: the memo may record them
	run kiln build -t m1 "$CTX"
	[ "$status" -eq 0 ]
	[ -n "$(ls "$KROOT"/build-memo/)" ]
	run kiln build -t m1 "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"--> Using cache"* ]]
	# Same size, same mtime, different content: the ctime changed, so the
	# file is read again and the step misses.
	echo cccc > "$CTX/src/a"
	touch -d '2020-01-01 00:00:00' "$CTX/src/a"
	run kiln build -t m2 "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" != *"STEP 2/2: COPY src /src"*"--> Using cache"* ]]
	run kiln run --rm m2 cat /src/a
	[ "$output" = "cccc" ]
	# Touched only (content as before the last build): a hit.
	sleep 0.1
	touch "$CTX/src/a" "$CTX/src/b"
	run kiln build -t m3 "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"STEP 2/2: COPY src /src"*"--> Using cache"* ]]
	# Mode change: a miss.
	chmod 0600 "$CTX/src/b"
	run kiln build -t m4 "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" != *"STEP 2/2: COPY src /src"*"--> Using cache"* ]]
}

@test "build memo: a bad memo file is ignored" {
	memo_setup
	echo x > "$CTX/src/x"
	sleep 0.1
	run kiln build -t b1 "$CTX"
	[ "$status" -eq 0 ]
	for f in "$KROOT"/build-memo/* ; do [ -f "$f" ] && printf 'garbage' > "$f"; done
	run kiln build -t b1 "$CTX"
	[ "$status" -eq 0 ]
	[[ "$output" == *"--> Using cache"* ]]
}
