#!/usr/bin/env bats
# kiln system service: the Docker Engine API driven by the real docker
# client, each action compared with what kiln's CLI shows for the same store.

load helpers
load ../lib/registry-helpers
load ../lib/api-helpers

setup() {
	registry_setup
	start_service
	import_bb busybox
}

teardown() {
	stop_service
	stop_leftover_containers
	umount_under "$BATS_TEST_TMPDIR"
	remove_store
}

@test "api: version, info, _ping (GET, HEAD, version prefixes), errors as Docker's" {
	run docker version --format '{{.Server.Version}} {{.Server.APIVersion}}'
	[ "$status" -eq 0 ]
	[ "$output" = "$(kiln version --format '{{.Client.Version}}') 1.47" ]
	run docker info --format '{{.Images}} {{.Driver}} {{.DockerRootDir}}'
	[ "$status" -eq 0 ]
	[ "$output" = "1 overlay $KROOT" ]
	[ "$(curl -s --unix-socket $SOCK http://d/_ping)" = OK ]
	[ "$(curl -s --unix-socket $SOCK http://d/v1.41/_ping)" = OK ]
	run curl -sI --unix-socket $SOCK http://d/_ping
	[[ "$output" == *"Api-Version: 1.47"* ]]
	run curl -s -w ' %{http_code}' --unix-socket $SOCK http://d/v1.47/nothing/here
	[ "$output" = '{"message":"page not found"}
 404' ]
	run curl -s -w ' %{http_code}' --unix-socket $SOCK http://d/images/nosuch/json
	[[ "$output" == *'"message":'*' 404' ]]
	# bad JSON is a 400 and creates nothing
	run curl -s -w ' %{http_code}' --unix-socket $SOCK -H 'Content-Type: application/json' \
		-d '{"Image":' http://d/containers/create
	[[ "$output" == *' 400' ]]
	[ -z "$(kiln ps -aq)" ]
	# a body past the limit is refused
	head -c 5000000 /dev/zero | tr '\0' ' ' > "$BATS_TEST_TMPDIR/big"
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket $SOCK \
		--data-binary @"$BATS_TEST_TMPDIR/big" http://d/containers/create
	[ "$output" = 413 ]
}

@test "api: images, tag, inspect, history, rmi as the CLI sees them" {
	run docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[ "$status" -eq 0 ]
	id=$(kiln images -q busybox)
	[ "$output" = "localhost/busybox:latest $id" ]
	docker tag busybox other:2
	run kiln images --format '{{.Repository}}:{{.Tag}}'
	[[ "$output" == *"other:2"* ]]
	[ "$(docker image inspect -f '{{.Id}}' other:2)" = "$(kiln image inspect -f '{{.Id}}' other:2)" ]
	run docker history -q busybox
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$id" ]
	run docker rmi other:2
	[ "$status" -eq 0 ]
	[[ "$output" == *"Untagged: other:2"* ]]
	run kiln images --format '{{.Repository}}:{{.Tag}}'
	[[ "$output" != *"other:2"* ]]
	run docker rmi nosuch:1
	[ "$status" -ne 0 ]
	[[ "$output" == *"No such image"* || "$output" == *"not known"* ]]
}

@test "api: push and pull with a local registry, save | load" {
	docker tag busybox $REG/api/bb:1
	run docker push $REG/api/bb:1
	[ "$status" -eq 0 ]
	curl -sf http://$REG/v2/api/bb/manifests/1 -H 'Accept: application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json' >/dev/null
	docker rmi $REG/api/bb:1
	run docker pull $REG/api/bb:1
	[ "$status" -eq 0 ]
	run kiln images --format '{{.Repository}}:{{.Tag}}'
	[[ "$output" == *"$REG/api/bb:1"* ]]
	docker save busybox > "$BATS_TEST_TMPDIR/bb.tar"
	docker rmi busybox
	[ -z "$(kiln images -q busybox 2>/dev/null)" ] || [ "$(kiln images -q busybox)" = "$(kiln images -q $REG/api/bb:1)" ]
	run docker load -i "$BATS_TEST_TMPDIR/bb.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Loaded image"* ]]
	kiln image exists busybox
}

@test "api: build a context with a Dockerfile (build args, labels, target)" {
	ctx=$BATS_TEST_TMPDIR/ctx
	mkdir -p "$ctx"
	printf 'FROM busybox AS one\nARG X=1\nRUN echo built-$X > /f\nCOPY file /file\nFROM one AS two\nRUN echo two > /g\n' > "$ctx/Dockerfile"
	echo content > "$ctx/file"
	run docker build -t built:1 --build-arg X=7 --label l=v --target one "$ctx"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Successfully built"* ]]
	[ "$(kiln run --rm built:1 cat /f /file)" = "built-7
content" ]
	[ "$(kiln image inspect -f '{{index .Config.Labels "l"}}' built:1)" = v ]
	run kiln run --rm built:1 cat /g
	[ "$status" -ne 0 ]
	# --network (the API's networkmode) reaches the RUN steps
	printf 'FROM busybox\nRUN echo $(ls /sys/class/net) > /nets\n' > "$ctx/Dockerfile"
	run docker build --network none -t nonet "$ctx"
	[ "$status" -eq 0 ]
	[ "$(kiln run --rm nonet cat /nets)" = lo ]
	# a failing build reports the error
	printf 'FROM busybox\nRUN exit 3\n' > "$ctx/Dockerfile"
	run docker build "$ctx"
	[ "$status" -ne 0 ]
}

@test "api: run --rm, exit codes, stdout and stderr apart" {
	run docker run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ]
	[[ "$output" == *out* && "$output" == *err* ]]
	[ "$(docker run --rm busybox echo hi 2>/dev/null)" = hi ]
	[ "$(docker run --rm busybox sh -c 'echo err >&2' 2>/dev/null)" = "" ]
	[ -z "$(kiln ps -aq)" ]
}

@test "api: run -d, logs -f, ps, inspect, stop, rm" {
	docker run -d --name d1 busybox sh -c 'i=0; while true; do echo line$i; i=$((i+1)); sleep 0.1; done'
	run timeout 5 sh -c 'docker logs -f d1 | head -3'
	[ "${lines[0]}" = line0 ]
	[ "${lines[2]}" = line2 ]
	run docker ps --format '{{.Names}} {{.State}}'
	[ "$output" = "d1 running" ]
	[ "$(kiln ps --format '{{.Names}}')" = d1 ]
	[ "$(docker inspect -f '{{.Id}}' d1)" = "$(kiln inspect -f '{{.Id}}' d1)" ]
	docker stop -t 1 d1
	run kiln ps -a --format '{{.Names}} {{.Status}}'
	[[ "$output" == "d1 Exited"* ]]
	run docker ps -a --format '{{.Names}} {{.Status}}'
	[[ "$output" == "d1 Exited"* ]]
	docker rm d1
	[ -z "$(kiln ps -aq)" ]
}

@test "api: exec, exec -i, exec -it under a pty" {
	docker run -d --name e1 busybox sleep 60
	run docker exec e1 sh -c 'echo in-exec; exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = in-exec ]
	[ "$(echo piped | docker exec -i e1 cat)" = piped ]
	run script -qc "docker exec -it e1 sh -c 'tty; echo tty-ok'" /dev/null </dev/null
	[[ "$output" == *"/dev/pts/"* ]]
	[[ "$output" == *tty-ok* ]]
	docker rm -f e1
}

@test "api: cp both ways, diff" {
	docker run -d --name c1 busybox sleep 60
	echo hostdata > "$BATS_TEST_TMPDIR/h.txt"
	docker cp "$BATS_TEST_TMPDIR/h.txt" c1:/tmp/
	[ "$(kiln exec c1 cat /tmp/h.txt)" = hostdata ]
	docker cp c1:/etc/passwd "$BATS_TEST_TMPDIR/p.txt"
	[ "$(head -1 "$BATS_TEST_TMPDIR/p.txt")" = "$(kiln exec c1 head -1 /etc/passwd)" ]
	mkdir "$BATS_TEST_TMPDIR/out"
	docker cp c1:/etc "$BATS_TEST_TMPDIR/out/"
	[ -f "$BATS_TEST_TMPDIR/out/etc/group" ]
	run docker diff c1
	[[ "$output" == *"A /tmp/h.txt"* ]]
	docker rm -f c1
}

@test "api: volumes, networks, system df" {
	docker volume create v1
	[ "$(kiln volume ls --format '{{.Name}}')" = v1 ]
	[ "$(docker volume inspect -f '{{.Mountpoint}}' v1)" = "$(kiln volume inspect -f '{{.Mountpoint}}' v1)" ]
	docker run --rm -v v1:/data busybox sh -c 'echo x > /data/f'
	run docker system df --format '{{.Type}} {{.TotalCount}}'
	[[ "$output" == *"Images 1"* && "$output" == *"Local Volumes 1"* ]]
	docker volume rm v1
	[ -z "$(kiln volume ls -q)" ]
	docker volume create v2
	docker volume prune -af
	[ -z "$(kiln volume ls -q)" ]
	run docker network ls --format '{{.Name}}'
	[[ "$output" == *host* && "$output" == *none* ]]
}

@test "api: the python3-docker SDK (pull, build, run, logs, exec, remove)" {
	python3 -c 'import docker' 2>/dev/null || skip "python3-docker is not installed (make deps)"
	kiln push --tls-verify=false busybox $REG/sdk/bb:1 >/dev/null
	mkdir -p "$BATS_TEST_TMPDIR/ctx"
	printf 'FROM %s\nRUN echo sdk > /s\n' "$REG/sdk/bb:1" > "$BATS_TEST_TMPDIR/ctx/Dockerfile"
	run python3 - "$SOCK" "$REG" "$BATS_TEST_TMPDIR/ctx" <<'PY'
import sys, docker
sock, reg, ctx = sys.argv[1:]
c = docker.DockerClient(base_url="unix://" + sock)
assert c.ping()
img = c.images.pull(reg + "/sdk/bb", tag="1")
print("pulled", img.id[:19])
built, _ = c.images.build(path=ctx, tag="sdk:1")
print("built", built.id[:19])
print("run", c.containers.run("sdk:1", ["cat", "/s"], remove=True).decode().strip())
ct = c.containers.run("sdk:1", ["sh", "-c", "echo started; sleep 30"], detach=True)
import time
for _ in range(50):
    if b"started" in ct.logs(): break
    time.sleep(0.1)
print("logs", ct.logs().decode().strip())
code, out = ct.exec_run(["sh", "-c", "echo ex; exit 2"])
print("exec", code, out.decode().strip())
ct.remove(force=True)
print("left", len(c.containers.list(all=True)))
PY
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"run sdk"* ]]
	[[ "$output" == *"logs started"* ]]
	[[ "$output" == *"exec 2 ex"* ]]
	[[ "$output" == *"left 0"* ]]
}
