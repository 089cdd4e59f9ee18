#!/usr/bin/env bats
# Concurrent kiln processes and SIGKILLs never leave the store inconsistent.

load helpers


@test "two imports of the same tar at once" {
	tar=$(busybox_tar)
	for round in 1 2 3; do
		kiln import "$tar" "a$round" > "$BATS_TEST_TMPDIR/a.out" 2>&1 &
		p1=$!
		kiln import "$tar" "b$round" > "$BATS_TEST_TMPDIR/b.out" 2>&1 &
		p2=$!
		wait $p1 || { cat "$BATS_TEST_TMPDIR/a.out"; false; }
		wait $p2 || { cat "$BATS_TEST_TMPDIR/b.out"; false; }
	done
	[ "$(kiln images -q | wc -l)" -eq 6 ]
	[ "$(ls "$KROOT/layers" | wc -l)" -eq 1 ]
	for n in a1 b1 a2 b2 a3 b3; do
		kiln inspect --format '{{.Id}}' "$n" >/dev/null
	done
	assert_store_consistent
	[ -z "$(ls "$KROOT/tmp")" ]
}

@test "an import racing an rmi of an image sharing its layer" {
	tar=$(busybox_tar)
	for round in 1 2 3 4 5; do
		kiln import "$tar" "old$round" >/dev/null
		kiln import "$tar" "new$round" > "$BATS_TEST_TMPDIR/i.out" 2>&1 &
		p1=$!
		kiln rmi "old$round" > "$BATS_TEST_TMPDIR/r.out" 2>&1 &
		p2=$!
		wait $p1 || { cat "$BATS_TEST_TMPDIR/i.out"; false; }
		wait $p2 || { cat "$BATS_TEST_TMPDIR/r.out"; false; }
		# The new image must be whole: its layer is on disk.
		layer=$(kiln inspect --format '{{.GraphDriver.Data.UpperDir}}' "new$round")
		[ -x "$layer/bin/busybox" ]
		assert_store_consistent
		kiln rmi "new$round" >/dev/null
	done
	[ -z "$(ls "$KROOT/layers")" ]
}

@test "SIGKILL during an import leaves the image whole or absent" {
	killed_whole_or_absent killed import "$(many_files_tar)" killed
	# The next command that writes clears what the killed ones left in tmp/.
	kiln import "$(busybox_tar)" after >/dev/null
	[ -z "$(ls "$KROOT/tmp")" ]
	assert_store_consistent
}
