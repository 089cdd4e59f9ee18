#!/bin/bash
# Starts docker-registry (CNCF distribution) on 127.0.0.1 and a free port.
#   registry.sh start DIR [--tls CERT KEY] [--htpasswd FILE] [--token REALM CERT]
#                         [--allow-urls] (foreign layers' http(s) URLs accepted)
#                         [--clientca CA CERT KEY] (client certificates signed by CA
#                         required; CERT/KEY is one for the readiness check)
# writes DIR/config.yml, DIR/port, DIR/pid and waits for GET /v2/ to answer
# (200, or 401 with auth).  registry.sh stop DIR stops it.
set -e

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cmd=$1 dir=$2
shift 2
case $cmd in
start)
	mkdir -p "$dir/data"
	port=$(free_port)
	tls="" auth="" validation="" scheme=http ccert=()
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) tls="  tls:
    certificate: $2
    key: $3"; scheme=https; shift 3 ;;
		--htpasswd) auth="auth:
  htpasswd:
    realm: kiln-test
    path: $2"; shift 2 ;;
		--token) auth="auth:
  token:
    realm: $2
    service: kiln-test-registry
    issuer: kiln-test-issuer
    rootcertbundle: $3"; shift 3 ;;
		--allow-urls) validation="validation:
  manifests:
    urls:
      allow:
        - ^https?://"; shift ;;
		--clientca) tls="$tls
    clientcas:
      - $2"; ccert=(--cert "$3" --key "$4"); shift 4 ;;
		*) echo "registry.sh: unknown option $1" >&2; exit 2 ;;
		esac
	done
	cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$tls
$auth
$validation
YML
	docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
	echo $! > "$dir/pid"
	echo "$port" > "$dir/port"
	for _ in $(seq 100); do
		code=$(curl -sk "${ccert[@]}" -o /dev/null -w '%{http_code}' "$scheme://127.0.0.1:$port/v2/" || true)
		if [ "$code" = 200 ] || [ "$code" = 401 ]; then exit 0; fi
		sleep 0.1
	done
	echo "registry did not start:" >&2; cat "$dir/log" >&2
	exit 1
	;;
stop)
	if [ -f "$dir/pid" ]; then
		kill "$(cat "$dir/pid")" 2>/dev/null || true
		wait "$(cat "$dir/pid")" 2>/dev/null || true
		rm -f "$dir/pid"
	fi
	;;
esac
