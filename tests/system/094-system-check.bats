#!/usr/bin/env bats
# kiln system check [--quick] [--repair] and kiln system reset [-f].

load helpers

@test "system check: clean, damaged, repaired; --quick skips re-hashing" {
	run kiln system check
	[ "$status" -eq 0 ]
	[ "$output" = "No problems found" ]
	kiln import -q "$(busybox_tar)" bb >/dev/null
	kiln import -q "$(many_files_tar)" many >/dev/null
	kiln create --name c bb true >/dev/null
	run kiln system check --quick
	[ "$status" -eq 0 ]

	# Damage: bb's layer blob corrupted, an orphan layer directory.
	bb_layer=$(kiln inspect --format '{{.GraphDriver.Data.UpperDir}}' bb)
	bb_layer=$(basename "$(dirname "$bb_layer")")
	blob=$(sqlite3 "$KROOT/kiln.db" "SELECT compressed_digest FROM layers WHERE id='$bb_layer'")
	echo garbage >> "$KROOT/blobs/sha256/${blob#sha256:}"
	mkdir -p "$KROOT/layers/0123abcd/diff"

	run kiln system check --quick
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "layer directory layers/0123abcd: no layer record (orphan)" ]
	[[ "$output" == *"Error: the store has 1 problem: run \`kiln system check --repair\` to fix them"* ]]

	run kiln system check
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"layer $bb_layer: blob $blob is corrupt"* ]]
	[[ "$output" == *"image "*": its layer $bb_layer is damaged"* ]]
	[[ "$output" == *"container "*" (c): its image "*" is damaged"* ]]
	[[ "$output" == *"4 problems found, 0 repaired"* ]]

	run kiln system check --repair
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"(repaired)"* ]]
	[[ "$output" == *"4 problems found, 4 repaired"* ]]
	# The damaged image and its container are gone, the sound one stays.
	! kiln image exists bb
	! kiln container inspect c >/dev/null 2>&1
	[ -f "$(kiln inspect --format '{{.GraphDriver.Data.UpperDir}}' many)/d39/f499" ]
	[ ! -e "$KROOT/layers/0123abcd" ]
	run kiln system check
	[ "$status" -eq 0 ]
	[ "$output" = "No problems found" ]
}

@test "system check --repair rebuilds a lost layer directory from its blob" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	dir=$(kiln inspect --format '{{.GraphDriver.Data.UpperDir}}' bb)
	rm -rf "$(dirname "$dir")"
	run kiln system check
	[ "$status" -eq 1 ]
	[[ "$output" == *"its directory is missing (its blob can rebuild it)"* ]]
	run kiln system check --repair
	[ "$status" -eq 0 ]
	[[ "$output" == *"rebuilt from its blob (repaired)"* ]]
	kiln run --rm bb true
	run kiln system check
	[ "$output" = "No problems found" ]
}

@test "system reset: asks first, -f wipes everything, running containers included" {
	kiln import -q "$(busybox_tar)" bb >/dev/null
	kiln run -d --name long bb sleep 300 >/dev/null
	pid=$(kiln inspect --format '{{.State.Pid}}' long)
	[ "$pid" -gt 0 ]
	# a user-defined network in use and a pod: their bridge goes too
	kiln network create kt-reset >/dev/null
	kiln run -d --network kt-reset bb sleep 300 >/dev/null
	kiln pod create --name kt-reset-pod >/dev/null
	kiln run -d --pod kt-reset-pod bb sleep 300 >/dev/null
	br=$(kiln network inspect --format '{{index .Options "com.docker.network.bridge.name"}}' kt-reset)
	[ -n "$br" ] && ip link show "$br" >/dev/null
	run kiln system reset <<< "n"
	[ "$status" -eq 0 ]
	[[ "$output" == *"WARNING! This will remove:"* ]]
	kiln image exists bb
	run kiln system reset -f
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$KROOT")" ]
	[ -z "$(ls -A "$KRUN")" ]
	! kill -0 "$pid" 2>/dev/null
	! ip link show "$br" >/dev/null 2>&1
	run kiln images -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run kiln system check
	[ "$output" = "No problems found" ]
}
