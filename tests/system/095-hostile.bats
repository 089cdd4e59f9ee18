#!/usr/bin/env bats
# Hostile input: every case of tests/hostile/CASES goes through the real
# kiln binary (import, load, pull from tests/hostile/registry.py, build, or a
# command reading a broken config file).  Each must end with the exit code
# and the stderr text the case gives, and must leave the world outside the
# store as it was: a sentinel directory beside the store keeps its exact
# listing, modes, times and content, its secret is never copied into the
# store, nothing appears beside the store, no half-done work stays in the
# store's tmp/, and the store stays consistent (rows and directories agree,
# `kiln images` works).  Each case starts from an empty store.  One test per
# kind; a test reports every failing case, not just the first.

load helpers

HOSTILE=$BATS_TEST_DIRNAME/../hostile
SECRET=kiln-sentinel-secret-9f3a

setup_file() {
	local pf=$BATS_FILE_TMPDIR/registry.port
	python3 "$HOSTILE/registry.py" "$HOSTILE" "$pf" 3>&- &
	echo $! > "$BATS_FILE_TMPDIR/registry.pid"
	for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.1; done
	[ -s "$pf" ] || { echo "the hostile registry did not start"; return 1; }
}

teardown_file() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/registry.pid" 2>/dev/null) && kill "$pid" 2>/dev/null || true
}

# The sentinel and a picture of it (and of the store's neighbourhood).
make_sentinel() {
	SENT=$BATS_TEST_TMPDIR/sentinel
	WORK=$BATS_TEST_TMPDIR/work
	mkdir -p "$SENT/sub" "$WORK"
	echo "$SECRET" > "$SENT/keep"
	echo "$SECRET" > "$SENT/sub/deeper"
	chmod 0640 "$SENT/keep"
	touch -d '2001-02-03 04:05:06' "$SENT/keep" "$SENT/sub/deeper" "$SENT/sub" "$SENT"
	rm -f /tmp/kiln-hostile-dest
}

world() {
	(cd "$SENT" && find . -printf '%p %y %m %U:%G %s %T@ %n %l\n' | sort && cat keep sub/deeper)
	ls -a "$BATS_TEST_TMPDIR"
	ls -a /tmp/kiln-hostile-dest 2>/dev/null || true
}

# Runs one case; sets out (stderr and stdout) and rc.
run_case() {
	local kind=$1 name=$2 port ctx f
	port=$(cat "$BATS_FILE_TMPDIR/registry.port")
	case $kind in
	tar)
		f=$WORK/$name.tar
		python3 "$HOSTILE/gen-tar.py" "$name" "$f" "$SENT" || return 1
		out=$(timeout 120 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" import "$f" "hostile:$name" 2>&1)
		rc=$? ;;
	load)
		f=$WORK/$name.tar
		python3 "$HOSTILE/gen-archive.py" "$name" "$f" "$SENT" || return 1
		out=$(timeout 120 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" load -i "$f" 2>&1)
		rc=$? ;;
	manifest | config | index | registry)
		out=$(timeout 120 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" pull --tls-verify=false \
			"127.0.0.1:$port/$kind/$name" 2>&1)
		rc=$? ;;
	build)
		ctx=$WORK/ctx-$name
		mkdir -p "$ctx"
		cp -r "$HOSTILE/build/$name/." "$ctx/"
		rm -f "$ctx/setup.sh"
		if [ -x "$HOSTILE/build/$name/setup.sh" ]; then
			(cd "$ctx" && "$HOSTILE/build/$name/setup.sh" "$SENT") || return 1
		fi
		out=$(cd "$WORK" && timeout 120 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" build \
			-t "hostile:$name" "$ctx" 2>&1)
		rc=$? ;;
	conf)
		f=$WORK/$name
		sed "s/@REGISTRY@/127.0.0.1:$port/g" "$HOSTILE/conf/$name" > "$f"
		case $name in
		*.registries.conf)
			out=$(CONTAINERS_REGISTRIES_CONF=$f timeout 120 "$KILN_BIN" --root "$KROOT" \
				--runroot "$KRUN" pull --tls-verify=false hostileshortname 2>&1) ;;
		*.policy.json)
			out=$(timeout 120 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" pull --tls-verify=false \
				--signature-policy "$f" "127.0.0.1:$port/good/image" 2>&1) ;;
		*.auth.json)
			out=$(timeout 120 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" pull --tls-verify=false \
				--authfile "$f" "127.0.0.1:$port/auth/image" 2>&1) ;;
		*.storage.conf)
			out=$(timeout 120 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" --storage-conf "$f" \
				images 2>&1) ;;
		*) echo "unknown config file type: $name"; return 1 ;;
		esac
		rc=$? ;;
	*) echo "unknown kind $kind"; return 1 ;;
	esac
	return 0
}

# Runs every case of one kind; fails listing each case that went wrong.
run_kind() {
	local want=$1 kind name code msg before after failed=() n=0 problem
	make_sentinel
	before=$(world)
	while read -r kind name code msg; do
		[ "$kind" = "$want" ] || continue
		n=$((n + 1))
		msg=${msg//TMPSENTINEL/$SENT}
		# A fresh store for each case: what a case meets does not depend
		# on what the cases before it left (a stored layer is not fetched).
		remove_store
		mkdir -p "$KROOT" "$KRUN"
		problem=
		if ! run_case "$kind" "$name"; then
			problem="could not be set up"
		elif [ "$rc" != "$code" ]; then
			problem="exit $rc, expected $code"
		elif [ "$msg" != "-" ] && [[ "$out" != *"$msg"* ]]; then
			problem="stderr lacks \"$msg\""
		fi
		after=$(world)
		[ "$after" = "$before" ] || problem+=" the sentinel or the store's neighbourhood changed:
$(diff <(echo "$before") <(echo "$after"))"
		grep -rqF "$SECRET" "$KROOT" 2>/dev/null && problem+=" the sentinel's secret was copied into the store"
		[ -z "$(ls -A "$KROOT/tmp" 2>/dev/null)" ] || problem+=" work left in the store's tmp/: $(ls -A "$KROOT/tmp")"
		if [ -f "$KROOT/kiln.db" ]; then
			assert_store_consistent >/dev/null || problem+=" the store is inconsistent"
			"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" images >/dev/null 2>&1 ||
				problem+=" kiln images fails afterwards"
		fi
		if [ -n "$problem" ]; then
			failed+=("$kind $name: $problem
    output: $(printf '%s' "$out" | tail -c 400)")
			# Later cases compare against the state as it is now.
			before=$after
		fi
	done < "$HOSTILE/CASES"
	echo "# $want: $n cases, ${#failed[@]} failed" >&3
	[ "$n" -gt 0 ] || { echo "no $want cases"; return 1; }
	if [ ${#failed[@]} -gt 0 ]; then
		printf '%s\n' "${failed[@]}"
		return 1
	fi
}

@test "hostile layer tars are refused or confined to the layer (kiln import)" {
	run_kind tar
}

@test "accepted odd layers land as Docker would have them" {
	make_sentinel
	local n d
	for n in symlink-then-file setuid-file sparse-huge xattr-overlay-redirect; do
		python3 "$HOSTILE/gen-tar.py" "$n" "$WORK/$n.tar" "$SENT"
		kiln import "$WORK/$n.tar" "odd:$n"
	done
	for d in "$KROOT"/layers/*/diff; do
		# the regular file replaced the planted symlink, not its target
		[ -e "$d/keep" ] && { [ -f "$d/keep" ] && [ ! -L "$d/keep" ]; [ "$(cat "$d/keep")" = replaced ]; }
		[ -e "$d/suid" ] && [ "$(stat -c %a "$d/suid")" = 6755 ]
		# 1 TiB apparent, a few KiB on disk
		[ -e "$d/big" ] && { [ "$(stat -c %s "$d/big")" = 1099511627776 ]; [ "$(du -k "$d/big" | cut -f1)" -lt 1024 ]; }
		# no overlay xattr from the layer reached the layer directory
		[ -e "$d/x" ] && [ -z "$(python3 -c 'import os,sys; print(os.listxattr(sys.argv[1]))' "$d/x" | tr -d '[]')" ]
		true
	done
	[ "$(cat "$SENT/keep")" = "$SECRET" ]
}

@test "hostile image archives are refused or confined (kiln load)" {
	run_kind load
}

@test "hostile manifests are refused (kiln pull)" {
	run_kind manifest
}

@test "hostile image configs are refused (kiln pull)" {
	run_kind config
}

@test "hostile manifest lists are refused (kiln pull)" {
	run_kind index
}

@test "a misbehaving registry is survived with a clear error (kiln pull)" {
	run_kind registry
}

@test "hostile Containerfiles and build contexts are refused or confined (kiln build)" {
	run_kind build
}

@test "broken registries.conf, policy.json, auth.json and storage.conf are refused" {
	run_kind conf
}

@test "the corpus has at least 60 cases" {
	local n
	n=$(grep -cv '^\(#\|$\)' "$HOSTILE/CASES")
	echo "# hostile cases: $n" >&3
	[ "$n" -ge 60 ]
}
