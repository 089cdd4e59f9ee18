#!/usr/bin/env bats
# kiln system service, the endpoints beyond the basic flows of 100-api:
# logs stream selection, top, attach with stdin, resize, networks — each
# driven by the real docker client (or curl on the socket) and compared
# with what kiln's CLI shows for the same store.

bats_require_minimum_version 1.5.0
load helpers
load ../lib/api-helpers

setup() {
	api_setup_busybox
}

teardown() {
	api_teardown
}

# The body of a GET on the service.
api_get() {
	curl -sf --unix-socket "$SOCK" "http://d$1"
}

# Docker's multiplexed stream on stdin as "N:text" lines, N the stream.
demux() {
	python3 -c '
import sys, struct
d = sys.stdin.buffer.read()
out = {}
while len(d) >= 8:
    n = struct.unpack(">I", d[4:8])[0]
    out.setdefault(d[0], b"")
    out[d[0]] += d[8:8 + n]
    d = d[8 + n:]
for k in sorted(out):
    for line in out[k].decode().splitlines():
        print("%d:%s" % (k, line))
'
}

@test "api: logs honours stdout=/stderr=, tail, since/until, timestamps" {
	docker run -d --name l1 busybox sh -c 'echo out1; echo err1 >&2; echo out2'
	for _ in $(seq 50); do [ "$(kiln logs l1 2>&1 | wc -l)" -eq 3 ] && break; sleep 0.1; done
	# the CLI splits the streams the same way
	[ "$(docker logs l1 2>/dev/null)" = "$(kiln logs l1 2>/dev/null)" ]
	[ "$(docker logs l1 2>&1 >/dev/null)" = "$(kiln logs l1 2>&1 >/dev/null)" ]
	# one stream asked for: only its frames (1 = stdout, 2 = stderr)
	[ "$(api_get '/containers/l1/logs?stdout=1' | demux)" = "1:out1
1:out2" ]
	[ "$(api_get '/containers/l1/logs?stderr=1' | demux)" = "2:err1" ]
	[ "$(api_get '/containers/l1/logs?stderr=1&stdout=1' | demux)" = "1:out1
1:out2
2:err1" ]
	# neither is Docker's 400
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" 'http://d/containers/l1/logs'
	[ "$output" = 400 ]
	[ "$(docker logs --tail 1 l1 2>&1)" = "$(kiln logs --tail 1 l1 2>&1)" ]
	[ -z "$(docker logs --until 2020-01-01T00:00:00Z l1 2>&1)" ]
	[ "$(docker logs --since 2020-01-01T00:00:00Z l1 2>/dev/null)" = "out1
out2" ]
	run docker logs -t l1
	[[ "${lines[0]}" =~ ^20[0-9-]+T[0-9:.]+Z\ out1$ ]]
}

@test "api: top, as kiln top shows it; ps options through the container's ps" {
	docker run -d --name t1 busybox sh -c 'sleep 100 & exec sleep 200'
	for _ in $(seq 50); do [ "$(kiln top t1 pid | wc -l)" -eq 3 ] && break; sleep 0.1; done
	run docker top t1
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == USER*PID*PPID*%CPU*ELAPSED*TTY*TIME*COMMAND ]]
	[ "$(docker top t1 | awk 'NR > 1 {print $1, $2, $3, $NF}')" = "$(kiln top t1 | awk 'NR > 1 {print $1, $2, $3, $NF}')" ]
	[ "$(docker top t1 pid args | awk 'NR > 1 {print $1, $2, $3}')" = "1 sleep 200
2 sleep 100" ]
	run api_get "/containers/t1/top?ps_args=pid,comm"
	[ "$output" = '{"Titles":["PID","COMMAND"],"Processes":[["1","sleep"],["2","sleep"]]}' ]
	# not a descriptor: the container's own ps, split as Docker splits it
	run docker top t1 -o pid,args
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == PID*COMMAND ]]
	[[ "$output" == *"sleep 200"* ]]
	docker stop -t 0 t1 >/dev/null
	run docker top t1
	[ "$status" -ne 0 ]
	[[ "$output" == *"is not running"* ]]
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" 'http://d/containers/nosuch/top'
	[ "$output" = 404 ]
}

@test "api: attach feeds stdin (run -i, docker attach), detach keys, the end of stdin" {
	run timeout 20 sh -c "echo hello | docker run -i --rm busybox sh -c 'cat; echo done'"
	[ "$status" -eq 0 ]
	[ "$output" = "hello
done" ]
	# a running container started with -i: attach, send two lines, close
	docker run -d -i --name a1 busybox sh -c 'while read l; do echo got:$l; done; echo eof'
	run timeout 20 sh -c "printf 'one\ntwo\n' | docker attach a1"
	[ "$status" -eq 0 ]
	[ "$output" = "got:one
got:two
eof" ]
	[[ "$(kiln ps -a --format '{{.Names}} {{.Status}}')" == "a1 Exited (0)"* ]]
	# without -i the container has no stdin: what is sent is dropped
	docker run -d --name a2 busybox sh -c 'sleep 1; cat; echo closed'
	run timeout 20 sh -c "echo ignored | docker attach a2"
	[ "$output" = closed ]
	# logs=1 without stream=1: the log so far, then the end
	docker run -d --name a4 busybox sh -c 'echo l1; echo l2; sleep 100'
	for _ in $(seq 50); do [ "$(kiln logs a4 | wc -l)" -eq 2 ] && break; sleep 0.1; done
	run timeout 10 sh -c "curl -s --unix-socket $SOCK -XPOST 'http://d/containers/a4/attach?logs=1&stdout=1' -H 'Upgrade: tcp' -H 'Connection: Upgrade' --output - | od -An -c"
	[ "$status" -eq 0 ]
	[[ "$(echo $output)" == *"l 1 \n"*"l 2 \n"* ]]
	# a tty: the detach keys end the attachment, not the container
	docker run -d -it --name a3 busybox sh
	run timeout 20 script -qc "docker attach a3" /dev/null < <(sleep 0.5; printf 'echo hi-$((40+2))\n'; sleep 0.5; printf '\020\021')
	[[ "$output" == *hi-42* ]]
	[ "$(kiln inspect -f '{{.State.Status}}' a3)" = running ]
	run timeout 20 script -qc "docker attach --detach-keys ctrl-x a3" /dev/null < <(sleep 0.5; printf 'echo x-$((1+1))\n'; sleep 0.5; printf '\030')
	[[ "$output" == *x-2* ]]
	[ "$(kiln inspect -f '{{.State.Status}}' a3)" = running ]
}

@test "api: resize sets the tty's window size (container and docker run -it)" {
	docker run -d -t --name r1 busybox sleep 100
	run curl -s -XPOST -w '%{http_code}' --unix-socket "$SOCK" 'http://d/containers/r1/resize?h=33&w=111'
	[ "$output" = 200 ]
	[ "$(kiln exec r1 sh -c 'stty size </proc/1/fd/0')" = "33 111" ]
	run curl -s -o /dev/null -XPOST -w '%{http_code}' --unix-socket "$SOCK" 'http://d/containers/r1/resize?h=-1&w=x'
	[ "$output" = 400 ]
	docker run -d --name r2 busybox sleep 100
	run curl -s -o /dev/null -XPOST -w '%{http_code}' --unix-socket "$SOCK" 'http://d/containers/r2/resize?h=10&w=10'
	[ "$output" = 200 ]
	docker create --name r3 -t busybox true
	run curl -s -o /dev/null -XPOST -w '%{http_code}' --unix-socket "$SOCK" 'http://d/containers/r3/resize?h=10&w=10'
	[ "$output" = 409 ]
	# docker run -it sizes the container's tty as its terminal
	run timeout 20 script -qc "stty cols 123 rows 45; docker run -it --rm busybox sh -c 'sleep 0.5; stty size'" /dev/null </dev/null
	[[ "$output" == *"45 123"* ]]
}

@test "api: exec with a tty: docker exec -it gets the terminal's size, /exec/{id}/resize changes it" {
	docker run -d --name x1 busybox sleep 100
	run timeout 20 script -qc "stty cols 101 rows 37; docker exec -it x1 sh -c 'stty size; tty'" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"37 101"* ]]
	[[ "$output" == *"/dev/pts/"* ]]
	# an interactive shell reads what the terminal sends, exit code back
	run timeout 20 script -qec "docker exec -it x1 sh" /dev/null < <(sleep 1; printf 'echo in-$((6*7))\n'; sleep 0.5; printf 'exit 3\n'; sleep 2)
	[ "$status" -eq 3 ]
	[[ "$output" == *in-42* ]]
	# the raw protocol: ConsoleSize first, a resize while it runs
	run timeout 30 python3 - "$SOCK" x1 <<'PY'
import sys, socket, json, time, http.client

sock_path, ctr = sys.argv[1:3]

class UConn(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("d")
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock_path)

def call(method, path, body=None):
    c = UConn()
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    return r.status, data

st, data = call("POST", "/containers/%s/exec" % ctr,
                {"Cmd": ["sh", "-c", "stty size; sleep 1; stty size"], "Tty": True,
                 "AttachStdout": True, "AttachStderr": True})
eid = json.loads(data)["Id"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
body = json.dumps({"Detach": False, "Tty": True, "ConsoleSize": [24, 80]}).encode()
s.sendall(b"POST /exec/%s/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
          b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (eid.encode(), len(body)) + body)
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, rest = buf.split(b"\r\n\r\n", 1)
print(head.split(b"\r\n")[0].decode())
time.sleep(0.5)
print("resize", call("POST", "/exec/%s/resize?h=50&w=132" % eid)[0])
out = rest
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
print(out.decode().replace("\r", ""))
print("bad", call("POST", "/exec/%s/resize?h=x&w=1" % eid)[0])
print("missing", call("POST", "/exec/%s/resize?h=1&w=1" % ("0" * 64))[0])
st, data = call("GET", "/exec/%s/json" % eid)
print("exit", json.loads(data)["ExitCode"])
PY
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP/1.1 101 Switching Protocols" ]
	[ "${lines[1]}" = "resize 201" ]
	[ "${lines[2]}" = "24 80" ]
	[ "${lines[3]}" = "50 132" ]
	[[ "$output" == *"bad 400"* && "$output" == *"missing 404"* && "$output" == *"exit 0"* ]]
}

@test "api: networks: docker network create/ls/inspect/connect/disconnect/rm/prune as kiln network sees them" {
	docker network create n1 >/dev/null
	id2=$(docker network create --subnet 10.99.0.0/24 --label a=b n2)
	[ "$id2" = "$(kiln network inspect -f '{{.Id}}' n2)" ]
	run docker network create n1
	[ "$status" -ne 0 ]
	[[ "$output" == *"already"* ]]
	# the same networks, plus Docker's host and none
	[ "$(docker network ls --format '{{.Name}}' | grep -v -x -e host -e none)" = "$(kiln network ls --format '{{.Name}}')" ]
	run docker network ls --format '{{.Name}} {{.Driver}}'
	[[ "$output" == *"host host"* && "$output" == *"none none"* && "$output" == *"n2 bridge"* ]]
	[ "$(docker network ls --filter type=custom --format '{{.Name}}')" = "n1
n2" ]
	[ "$(docker network ls -q --no-trunc --filter name=n2)" = "$id2" ]
	[ "$(docker network ls -q --filter label=a=b --filter type=custom)" = "${id2:0:12}" ]
	[ "$(docker network ls --filter type=builtin --format "{{.Name}}")" = "host
kiln
none" ]
	run docker network inspect n2 -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Labels.a}}'
	[ "$output" = "n2 10.99.0.0/24 b" ]
	[ "$(docker network inspect -f '{{.Name}} {{.Driver}}' host)" = "host host" ]
	run docker network inspect nosuch
	[ "$status" -ne 0 ]
	# connect and disconnect change what kiln inspect shows
	docker create --name nc busybox true >/dev/null
	docker network connect --alias web n1 nc
	run kiln inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' nc
	[[ "$output" == *n1* ]]
	# the container list says so too (filters in either of Docker's encodings)
	[[ "$(docker ps -a --filter name=nc --format '{{.Networks}}')" == *n1* ]]
	run api_get '/containers/json?all=1&filters=%7B%22name%22%3A%5B%22nc%22%5D%7D'
	[ "$(echo "$output" | jq -r '.[].Names[0]')" = /nc ]
	[ "$(echo "$output" | jq -r '.[0].HostConfig.NetworkMode')" = "$(kiln inspect -f '{{.HostConfig.NetworkMode}}' nc)" ]
	run docker network rm n1
	[ "$status" -ne 0 ]
	[[ "$output" == *"active endpoints"* ]]
	docker network disconnect n1 nc
	run kiln inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' nc
	[[ "$output" != *n1* ]]
	run docker network rm host
	[ "$status" -ne 0 ]
	[[ "$output" == *"pre-defined"* ]]
	docker network rm n1
	run kiln network ls --format '{{.Name}}'
	[[ "$output" != *n1* && "$output" == *n2* ]]
	run docker network prune -f
	[[ "$output" == *n2* ]]
	run kiln network ls --format '{{.Name}}'
	[[ "$output" != *n2* ]]
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -XPOST -H 'Content-Type: application/json' -d '{"Name":""}' http://d/networks/create
	[ "$output" = 400 ]
}

@test "api: create passes RestartPolicy and Healthcheck on (docker run --restart, --health-*)" {
	docker run -d --name p1 --restart on-failure:2 busybox sh -c 'sleep 0.2; exit 1' >/dev/null
	[ "$(kiln inspect -f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' p1)" = on-failure:2 ]
	for _ in $(seq 100); do [ "$(kiln inspect -f '{{.RestartCount}} {{.State.Status}}' p1)" = "2 exited" ] && break; sleep 0.1; done
	[ "$(docker inspect -f '{{.RestartCount}} {{.State.Status}}' p1)" = "2 exited" ]
	docker run -d --name p2 --health-cmd 'test -e /etc/passwd' --health-interval 1s --health-retries 2 busybox sleep 60 >/dev/null
	[ "$(kiln inspect -f '{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}' p2)" = '["CMD-SHELL","test -e /etc/passwd"] 1000000000 2' ]
	for _ in $(seq 60); do [ "$(docker inspect -f '{{.State.Health.Status}}' p2)" = healthy ] && break; sleep 0.1; done
	[ "$(docker inspect -f '{{.State.Health.Status}}' p2)" = healthy ]
	docker run -d --name p3 --no-healthcheck busybox sleep 60 >/dev/null
	run kiln inspect -f '{{json .Config}}' p3
	[[ "$output" != *Healthcheck* ]]
}

@test "api: the python3-docker SDK: logs by stream, top, networks, resize" {
	python3 -c 'import docker' 2>/dev/null || skip "python3-docker is not installed (make deps)"
	run timeout 60 python3 - "$SOCK" <<'PY'
import sys, time, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
ct = c.containers.run("busybox", ["sh", "-c", "echo o; echo e >&2; exec sleep 30"], detach=True, name="sdk1")
for _ in range(50):
    if b"e" in ct.logs(): break
    time.sleep(0.1)
print("stdout", ct.logs(stdout=True, stderr=False).decode().strip())
print("stderr", ct.logs(stdout=False, stderr=True).decode().strip())
top = ct.top()
print("top", top["Titles"][1], [p[-1] for p in top["Processes"]])
n = c.networks.create("sdknet", labels={"x": "y"})
print("net", n.name, n.attrs["Labels"])
n.connect(ct)
print("nets", sorted(x.name for x in c.networks.list()))
print("ctr", sorted(c.containers.get("sdk1").attrs["NetworkSettings"]["Networks"]))
n.disconnect(ct)
n.remove()
print("after", sorted(x.name for x in c.networks.list(filters={"type": "custom"})))
ct2 = c.containers.run("busybox", ["sleep", "30"], detach=True, tty=True, name="sdk2")
ct2.resize(20, 70)
print("size", ct2.exec_run(["sh", "-c", "stty size </proc/1/fd/0"]).output.decode().strip())
ct.remove(force=True)
ct2.remove(force=True)
# run(remove=True) asks for the logs after the start: a container that has
# ended and been removed by then still gives its whole output
bad = [i for i in range(10) if c.containers.run("busybox", ["echo", "n%d" % i], remove=True) != b"n%d\n" % i]
print("rm-runs bad", bad)
PY
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stdout o"* && "$output" == *"stderr e"* ]]
	[[ "$output" == *"top PID ['sleep 30']"* ]]
	[[ "$output" == *"net sdknet {'x': 'y'}"* ]]
	[[ "$output" == *"nets ['host', 'kiln', 'none', 'sdknet']"* ]]
	[[ "$output" == *"ctr ["*"'sdknet'"* ]]
	[[ "$output" == *"after []"* ]]
	[[ "$output" == *"size 20 70"* ]]
	[[ "$output" == *"rm-runs bad []"* ]]
}

@test "api: concurrent requests leave the service no descriptor and no child once it is quiet" {
	docker run --rm busybox true
	# the service closes the store handles it keeps after a quiet second
	sleep 2.5
	before=$(service_fds)
	for round in 1 2; do
		pids=()
		for i in $(seq 5); do docker run --rm busybox echo x >/dev/null & pids+=($!); done
		for i in $(seq 30); do api_get /containers/json >/dev/null & pids+=($!); done
		wait "${pids[@]}"
	done
	for _ in $(seq 50); do [ "$(service_fds)" -le "$before" ] && break; sleep 0.1; done
	echo "before $before after $(service_fds)"
	ls -l /proc/"$SVC_PID"/fd | tail -n +2 | awk '{print $NF}' | sed 's/:\[.*//' | sort | uniq -c
	[ "$(service_fds)" -le "$before" ]
	[ "$(service_children)" -eq 0 ]
}
