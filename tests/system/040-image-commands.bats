#!/usr/bin/env bats
# history, image prune, system df, image tree, images filters and sorting.

load helpers

# A second tar, different from busybox_tar, made quickly.
small_tar() {
	local d=$BATS_TEST_TMPDIR/small
	mkdir -p "$d/etc" && echo "$1" > "$d/etc/marker"
	tar -C "$d" -cf "$BATS_TEST_TMPDIR/small-$1.tar" .
	echo "$BATS_TEST_TMPDIR/small-$1.tar"
}

@test "history shows the import, newest first, with sizes" {
	kiln import -m "first import" "$(busybox_tar)" bb >/dev/null
	run kiln history bb
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]]
	id=$(kiln images -q bb)
	[[ "${lines[1]}" =~ ^$id\ .*[0-9.]+[kM]B\ +first\ import$ ]]
	run kiln history -q bb
	[ "$output" = "$id" ]
	run kiln history --format '{{.ID}}|{{.Comment}}' --no-trunc bb
	[[ "$output" =~ ^sha256:[0-9a-f]{64}\|first\ import$ ]]
	run kiln history --human=false --format '{{.Size}}' bb
	[ "$output" = "$(stat -c %s "$(busybox_tar)")" ]
	run kiln history nothere
	[ "$status" -eq 125 ]
}

@test "image prune removes dangling images, -a removes all, garbage goes too" {
	tar=$(busybox_tar)
	kiln import "$tar" keep >/dev/null
	dangling=$(kiln import "$tar")
	kiln import "$(small_tar one)" other >/dev/null
	run kiln image prune -f
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Deleted Images:" ]
	[ "${lines[1]}" = "deleted: $dangling" ]
	[[ "${lines[-1]}" =~ ^Total\ reclaimed\ space:\ [0-9.]+k?B$ ]]
	# The shared busybox layer stays: "keep" uses it.
	[ -x "$(kiln inspect --format '{{.GraphDriver.Data.UpperDir}}' keep)/bin/busybox" ]
	[ "$(kiln images -q | wc -l)" -eq 2 ]
	# Without -f it asks; "n" keeps everything.
	run bash -c "echo n | '$KILN_BIN' --root '$KROOT' --runroot '$KRUN' image prune -a"
	[ "$(kiln images -q | wc -l)" -eq 2 ]
	# Garbage left by a crash: an orphan layer directory and an orphan blob.
	mkdir -p "$KROOT/layers/$(printf 'f%.0s' {1..64})/diff"
	echo junk > "$KROOT/blobs/sha256/$(printf 'e%.0s' {1..64})"
	run kiln image prune -a -f
	[ "$status" -eq 0 ]
	[[ "$output" == *"untagged: localhost/keep:latest"* ]]
	[ -z "$(kiln images -q)" ]
	[ -z "$(ls "$KROOT/layers")" ]
	[ -z "$(ls "$KROOT/blobs/sha256")" ]
	assert_store_consistent
}

@test "image prune --filter label and until" {
	kiln import "$(busybox_tar)" a >/dev/null
	run kiln image prune -a -f --filter until=1000
	[ "$(kiln images -q | wc -l)" -eq 1 ]
	run kiln image prune -a -f --filter until=2999999999
	[ -z "$(kiln images -q)" ]
	run kiln image prune -f --filter bogus=1
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid filter 'bogus'"* ]]
}

@test "system df: figures add up and match du within 5%" {
	tar=$(busybox_tar)
	kiln import "$tar" a >/dev/null
	kiln import "$tar" b >/dev/null    # shares the layer: counted once
	kiln import "$(small_tar two)" c >/dev/null
	run kiln system df
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^TYPE\ +TOTAL\ +ACTIVE\ +SIZE\ +RECLAIMABLE$ ]]
	[[ "${lines[1]}" =~ ^Images\ +3\ +0\ +[0-9.]+[kM]B\ +[0-9.]+[kM]B\ \(100%\)$ ]]
	size=$(kiln system df --format '{{.SizeBytes}}' | head -1)
	disk=$(du -sB1 "$KROOT/layers" "$KROOT/blobs" | awk '{s+=$1} END {print s}')
	python3 -c "import sys; s,d=$size,$disk; sys.exit(0 if abs(s-d) <= 0.05*d else 1)" ||
		{ echo "df $size vs du $disk"; false; }
	run kiln system df -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"Images space usage:"* ]]
	# a and b share their layer: SHARED SIZE is non-zero for them.
	line=$(echo "$output" | grep '^localhost/a ')
	[[ "$line" =~ \ ([0-9.]+[kM]B)\ +([0-9.]+[kM]B)\ +([0-9.]+k?B)\ +0$ ]]
	[ "${BASH_REMATCH[2]}" != "0B" ]
}

@test "image tree shows which images share which layers" {
	tar=$(busybox_tar)
	kiln import "$tar" a >/dev/null
	kiln import "$tar" b >/dev/null
	kiln import "$(small_tar three)" c >/dev/null
	run kiln image tree
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Layers" ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" == *"Top Layer of: ["*"localhost/a:latest"*"localhost/b:latest"* ]] ||
	[[ "$output" == *"localhost/b:latest"*"localhost/a:latest"* ]]
	run kiln image tree c
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^Image\ ID:\ [0-9a-f]{12}$ ]]
	[ "${lines[1]}" = "Tags:     [localhost/c:latest]" ]
	[ "${lines[3]}" = "Image Layers" ]
	[[ "${lines[4]}" =~ ^└──\ ID:\ [0-9a-f]{12}\ Size:\ .*Top\ Layer\ of:\ \[localhost/c:latest\]$ ]]
}

@test "images --filter and --sort" {
	kiln import "$(small_tar a)" web:1 >/dev/null
	sleep 1
	kiln import "$(small_tar b)" db:2 >/dev/null
	sleep 1
	kiln import "$(small_tar c)" >/dev/null
	run kiln images --format '{{.Repository}}' --filter dangling=true
	[ "$output" = "<none>" ]
	run kiln images --format '{{.Repository}}' --filter dangling=false
	[ "${#lines[@]}" -eq 2 ]
	run kiln images --format '{{.Repository}}' --filter reference='localhost/w*'
	[ "$output" = "localhost/web" ]
	run kiln images --format '{{.Repository}}' --filter since=web:1 --filter dangling=false
	[ "$output" = "localhost/db" ]
	run kiln images --format '{{.Repository}}' --filter before=db:2
	[ "$output" = "localhost/web" ]
	run kiln images --format '{{.Repository}}' --sort repository --filter dangling=false
	[ "${lines[0]}" = "localhost/db" ]
	[ "${lines[1]}" = "localhost/web" ]
	run kiln images --filter label=x=y -q
	[ -z "$output" ]
	run kiln images --filter nope=1
	[ "$status" -eq 125 ]
	run kiln images --sort weight
	[ "$status" -eq 125 ]
}
