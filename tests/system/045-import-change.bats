#!/usr/bin/env bats
# import --change with the Containerfile rules; build --dump-ast.

load helpers

@test "import --change sets the config as Docker does" {
	run kiln import \
		-c 'CMD ["sh","-c","echo hi"]' -c 'ENV A=1 B="two words"' -c 'ENV C=$A' \
		-c 'EXPOSE 80 53/udp 8000-8001' -c 'WORKDIR /app' -c 'WORKDIR sub' \
		-c 'LABEL x=y "with space"=z' -c 'USER nobody' -c 'VOLUME ["/data", "/logs"]' \
		-c 'STOPSIGNAL SIGINT' -c 'ONBUILD RUN echo child' "$(busybox_tar)" chg
	[ "$status" -eq 0 ]
	run kiln inspect -f '{{json .Config.Cmd}}|{{json .Config.Env}}|{{.Config.WorkingDir}}|{{.Config.User}}|{{.Config.StopSignal}}' chg
	[ "$output" = '["sh","-c","echo hi"]|["A=1","B=two words","C=1"]|/app/sub|nobody|SIGINT' ]
	run kiln inspect -f '{{json .Config.ExposedPorts}}|{{json .Config.Volumes}}|{{json .Config.Labels}}|{{json .Config.OnBuild}}' chg
	# Maps print with sorted keys, as Go's json.Marshal (and docker inspect) do.
	[ "$output" = '{"53/udp":{},"80/tcp":{},"8000/tcp":{},"8001/tcp":{}}|{"/data":{},"/logs":{}}|{"with space":"z","x":"y"}|["RUN echo child"]' ]
}

@test "import --change: shell form, ENTRYPOINT and CMD order" {
	kiln import -c 'CMD echo hi' "$(busybox_tar)" a >/dev/null
	run kiln inspect -f '{{json .Config.Cmd}}' a
	[ "$output" = '["/bin/sh","-c","echo hi"]' ]
	kiln import -c 'CMD ["x"]' -c 'ENTRYPOINT ["/bin/env"]' "$(busybox_tar)" b >/dev/null
	run kiln inspect -f '{{json .Config.Cmd}} {{json .Config.Entrypoint}}' b
	[ "$output" = '["x"] ["/bin/env"]' ]
}

@test "import --change refuses what it must, before reading the input" {
	run kiln import -c 'RUN echo hi' /nonexistent.tar x
	[ "$status" -eq 125 ]
	[ "$output" = "Error: RUN echo hi is not a valid change command" ]
	run kiln import -c 'FROBNICATE' "$(busybox_tar)" x
	[ "$status" -eq 125 ]
	[[ "$output" == *"unknown instruction"* ]]
	run kiln import -c 'EXPOSE 99999' "$(busybox_tar)" x
	[ "$status" -eq 125 ]
	[ -z "$(kiln images -q)" ]
}

@test "build --dump-ast prints the parse tree" {
	cat > "$BATS_TEST_TMPDIR/Containerfile" <<'CF'
# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM golang:1 AS build
ENV A=1 B="two words"
RUN echo hi && \
    echo there
CMD ["a", "b"]
CF
	run kiln build --dump-ast "$BATS_TEST_TMPDIR/Containerfile"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '(from ["--platform=$BUILDPLATFORM"] "golang:1" "AS" "build")' ]
	[ "${lines[1]}" = '(env "A" "1" "=" "B" "\"two words\"" "=")' ]
	[ "${lines[2]}" = '(run "echo hi &&     echo there")' ]
	[ "${lines[3]}" = '(cmd "a" "b")' ]
	printf 'FROM x\nRUN <<EOF\n' > "$BATS_TEST_TMPDIR/bad"
	run kiln build --dump-ast "$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 125 ]
	[[ "$output" == *"bad:2:"* ]] || [[ "$output" == *"bad:"* ]]
}
