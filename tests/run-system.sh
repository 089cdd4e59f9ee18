#!/bin/bash
# Runs the bats system tests (TAP) and ends with "system: N passed, N failed,
# N skipped", the plain summary line CI reads.
out=$(mktemp)
bats --tap "$@" | tee "$out"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$out" | tr -d ' ')
skipped=$(grep -c '^ok .* # skip' "$out" | tr -d ' ')
failed=$(grep -c '^not ok ' "$out" | tr -d ' ')
rm -f "$out"
echo "system: $((passed - skipped)) passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
