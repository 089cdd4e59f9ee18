#!/usr/bin/env bats
# kiln events: the store's event journal as the CLI and the API's /events
# (through the real docker client) show it.

bats_require_minimum_version 1.5.0
load helpers
load ../lib/api-helpers

bb() {
	kiln import "$(busybox_tar)" bb >/dev/null
}

teardown() {
	stop_service
	[ -n "${FOLLOW_PID:-}" ] && kill "$FOLLOW_PID" 2>/dev/null
	kiln rm -af >/dev/null 2>&1 || true
	remove_store
}

# Type Action name, one per line.
short() {
	kiln events --stream=false --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' "$@"
}

@test "events: run, rm, tag, untag, rename, pause produce their events in order" {
	bb
	kiln run --name c1 bb sh -c 'exit 3' || true
	kiln tag bb bbt
	kiln rmi bbt >/dev/null
	kiln run -d --name c2 bb sleep 100 >/dev/null
	kiln pause c2 && kiln unpause c2
	kiln rename c2 c3
	kiln stop -t 0 c3 >/dev/null
	kiln rm c1 c3 >/dev/null
	run short --filter type=container --filter type=image
	[ "$status" -eq 0 ]
	expected="image import localhost/bb:latest
container create c1
container start c1
container die c1
image tag localhost/bbt:latest
image untag localhost/bbt:latest
container create c2
container start c2
container pause c2
container unpause c2
container rename c3
container kill c3
container die c3
container stop c3
container destroy c1
container destroy c3"
	[ "$output" = "$expected" ]
	# exitCode on die; Docker's default line format
	run kiln events --stream=false --filter event=die --filter container=c1
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}(Z|[+-][0-9:]{5})\ container\ die\ [0-9a-f]{64}\ \(exitCode=3,\ image=localhost/bb:latest,\ name=c1\)$ ]]
	# the same through `kiln system events`, and as JSON in Docker's shape
	run kiln system events --until 0s --format json --filter event=destroy
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[0]}" | jq -e '.Type == "container" and .Action == "destroy" and .status == "destroy"
		and (.id | length) == 64 and .Actor.ID == .id and .from == "localhost/bb:latest"
		and .scope == "local" and (.timeNano / 1e9 | floor) == .time'
}

@test "events: since/until windows, filters, volumes, networks, bad input" {
	bb
	kiln volume create v1 >/dev/null
	sleep 1.1
	mid=$(date +%s)
	kiln network create n1 >/dev/null
	kiln network rm n1 >/dev/null
	kiln volume rm v1 >/dev/null
	# (the first network created also creates the default one, "kiln")
	run short --since "$mid"
	[ "$output" = "$(printf 'network create kiln\nnetwork create n1\nnetwork destroy n1\nvolume destroy <no value>')" ]
	run kiln events --since 1h --until "$mid" --format '{{.Type}} {{.Action}} {{.Actor.ID}}' --filter type=volume
	[ "$output" = "volume create v1" ]
	run kiln events --stream=false --filter volume=v1 --filter event=destroy --format '{{.Actor.ID}} {{.Actor.Attributes.driver}}'
	[ "$output" = "v1 local" ]
	run kiln events --stream=false --filter colour=red
	[ "$status" -eq 125 ]
	[[ "$output" == *'invalid filter "colour"'* ]]
	run kiln events --since yesterday-ish
	[ "$status" -eq 125 ]
	run kiln events --stream=false --format '{{.Nope}'
	[ "$status" -eq 125 ]
}

@test "events: follow mode prints what happens after it started, and stops on a signal" {
	bb
	kiln tag bb before
	out=$BATS_TEST_TMPDIR/follow.out
	# the binary itself in the background (a function would leave kiln
	# running after the subshell's death), without bats's fd 3
	"$KILN_BIN" --root "$KROOT" --runroot "$KRUN" events \
		--format '{{.Action}} {{.Actor.Attributes.name}}' > "$out" 2>&1 3>&- &
	FOLLOW_PID=$!
	sleep 0.5
	kiln tag bb after
	for _ in $(seq 50); do grep -q after "$out" && break; sleep 0.1; done
	[ "$(cat "$out")" = "tag localhost/after:latest" ]
	kill -TERM "$FOLLOW_PID"
	st=0
	wait "$FOLLOW_PID" || st=$?
	[ "$st" -eq 143 ]
	FOLLOW_PID=
	# --until in the future: follows, then ends by itself
	run timeout 10 "$KILN_BIN" --root "$KROOT" --runroot "$KRUN" events --since 1h --until "$(( $(date +%s) + 1 ))" --format '{{.Action}}'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = import ]
}

@test "events: docker events through the API service, with filters and --format" {
	bb
	kiln network create warmup >/dev/null # the default network's event, out of the window
	start_service
	sleep 1
	since=$(date +%s)
	docker run --rm --name d1 bb true
	docker tag bb dtag
	kiln rmi dtag >/dev/null
	until=$(( $(date +%s) + 1 ))
	run docker events --since "$since" --until "$until" --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
	[ "$status" -eq 0 ]
	expected="container create d1
container start d1
container die d1
container destroy d1
image tag dtag:latest
image untag dtag:latest"
	[ "$output" = "$expected" ]
	run docker events --since "$since" --until "$until" --filter event=die --filter type=container
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *" container die "*"(exitCode=0, image=localhost/bb:latest, name=d1)" ]]
	# the raw endpoint: filters as Docker encodes them, a bad one is a 400
	run curl -s --unix-socket "$SOCK" -G "http://d/v1.41/events" --data-urlencode "since=$since" \
		--data-urlencode "until=$until" --data-urlencode 'filters={"event":{"tag":true}}'
	[ "$(echo "$output" | jq -r .Action)" = tag ]
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -G http://d/events \
		--data-urlencode 'filters={"colour":["red"]}'
	[ "$output" = 400 ]
	# following: an event after it started arrives; the client going away
	# ends its worker
	out=$BATS_TEST_TMPDIR/docker-follow.out
	docker events --filter type=image --format '{{.Action}}' > "$out" &
	FOLLOW_PID=$!
	sleep 0.7
	kiln tag bb later
	for _ in $(seq 50); do grep -q tag "$out" && break; sleep 0.1; done
	[ "$(cat "$out")" = tag ]
	kill "$FOLLOW_PID"
	wait "$FOLLOW_PID" 2>/dev/null || true
	FOLLOW_PID=
	for _ in $(seq 50); do [ "$(service_children)" -eq 0 ] && break; sleep 0.1; done
	[ "$(service_children)" -eq 0 ]
}

@test "events: restart (kiln restart, a restart policy), health_status changes, full names in the journal and Docker's in /events" {
	bb
	since=$(date +%s)
	kiln run -d --name r1 --restart on-failure:1 bb sh -c 'sleep 0.2; exit 1' >/dev/null
	kiln run -d --name h1 --health-cmd true --health-interval 1s bb sleep 60 >/dev/null
	for _ in $(seq 60); do [ "$(kiln inspect -f '{{.State.Health.Status}}' h1)" = healthy ] &&
		[ "$(kiln inspect -f '{{.RestartCount}} {{.State.Status}}' r1)" = "1 exited" ] && break; sleep 0.1; done
	kiln restart -t 0 h1 >/dev/null
	printf 'FROM bb\nLABEL built=1\n' > "$BATS_TEST_TMPDIR/Containerfile"
	kiln build -q -t built:1 -f "$BATS_TEST_TMPDIR/Containerfile" "$BATS_TEST_TMPDIR" >/dev/null
	until=$(( $(date +%s) + 1 ))
	run short --since "$since" --until "$until" --filter event=restart --filter event=health_status --filter event=build
	[ "$status" -eq 0 ]
	# the policy's restart of r1 (Podman's event), h1 healthy, kiln restart h1 (Docker's)
	[[ "$output" == *"container restart r1"*"container restart h1"* ]]
	[[ "$output" == *"container health_status: healthy h1"* ]]
	[[ "$output" == *"image build localhost/built:1"* ]]
	# in order: the restart after the die, before the start
	run kiln events --stream=false --since "$since" --until "$until" --filter container=r1 --format '{{.Action}}'
	[[ "$(echo $output)" == *"die restart start die"* ]]
	start_service
	run docker events --since "$since" --until "$until" --filter event=restart --filter event=health_status --filter event=build \
		--format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
	[[ "$output" == *"container restart r1"* && "$output" == *"container health_status: healthy h1"* ]]
	[[ "$output" == *"image build localhost/built:1"* ]]
	# Docker's familiar names: a tag of a docker.io name loses docker.io/library/
	since=$(date +%s)
	kiln tag bb docker.io/library/fam:2
	until=$(( $(date +%s) + 1 ))
	[ "$(short --since "$since" --until "$until" --filter event=tag)" = "image tag docker.io/library/fam:2" ]
	[ "$(docker events --since "$since" --until "$until" --filter event=tag --format '{{.Actor.Attributes.name}}')" = "fam:2" ]
}
