#!/usr/bin/env bats
# Every command and subcommand answers --help with its usage and exit 0,
# without taking "--help" for an argument (a container, a list, a pod).

load helpers
bats_require_minimum_version 1.5.0

@test "every command and subcommand prints its usage for --help" {
	local failed=() c s
	for c in $("$KILN_BIN" --help | awk '/^  [a-z]/{print $1}'); do
		"$KILN_BIN" "$c" --help > /dev/null 2>&1 || failed+=("$c")
		for s in $("$KILN_BIN" "$c" --help 2>/dev/null |
			   awk '/^Available Commands|^Commands/{f=1;next} f&&/^  [a-z]/{print $1}'); do
			"$KILN_BIN" "$c" "$s" --help > /dev/null 2>&1 || failed+=("$c $s")
		done
	done
	[ ${#failed[@]} -eq 0 ] || { printf 'no usage: %s\n' "${failed[@]}"; false; }
}

@test "every command group lists its commands when given none, and names an unknown one" {
	local failed=() c
	for c in $("$KILN_BIN" --help | awk '/^  [a-z]/{print $1}'); do
		"$KILN_BIN" "$c" --help 2>/dev/null | grep -q '^Commands:' || continue
		run -125 "$KILN_BIN" "$c"
		[[ "$output" == *"Usage: kiln $c COMMAND"* &&
		   "$output" == *"Error: missing command 'kiln $c COMMAND'"* ]] || failed+=("$c: $output")
		run -125 "$KILN_BIN" "$c" no-such-command
		[[ "$output" == *"unrecognized command \`kiln $c no-such-command\`"* ]] ||
			failed+=("$c no-such-command: $output")
	done
	[ ${#failed[@]} -eq 0 ] || { printf '%s\n' "${failed[@]}"; false; }
}
