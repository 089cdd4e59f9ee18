#!/bin/bash
# kiln pull vs podman pull (a ~300 MB 4-layer image and a 50,000-file image
# served by a local docker-registry), cold as ../shared/testing.md says
# (sync + drop_caches before each timed run, kiln and podman alternating),
# and kiln push vs podman push to a fresh repository.  Ratios printed.
set -euo pipefail
cd "$(dirname "$0")/.."
KILN=$PWD/kiln
W=$(mktemp -d /tmp/kiln-bench-pp.XXXXXX)
trap 'for d in $W/reg $W/push-*; do [ -d "$d" ] && tests/lib/registry.sh stop "$d"; done; umount $W/proot/overlay 2>/dev/null || true; rm -rf $W' EXIT
RUNS=${RUNS:-3}
export CONTAINERS_REGISTRIES_CONF=$W/none.conf
printf '' > $W/none.conf
tests/lib/registry.sh start $W/reg
REG=127.0.0.1:$(cat $W/reg/port)
P="podman --root $W/proot --runroot $W/prun --storage-driver overlay"
K="$KILN --root $W/kroot --runroot $W/krun"

cold() { sync; echo 3 > /proc/sys/vm/drop_caches; cat $W/reg/data -r >/dev/null 2>&1 || find $W/reg/data -type f -exec cat {} + >/dev/null; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The images: 4 layers of 75 MB (half random, half compressible), and one
# layer of 50,000 small files.
python3 - $W/src <<'PY'
import os, sys, random
root = sys.argv[1]
for l in range(4):
    d = f"{root}/big{l}"; os.makedirs(d)
    for i in range(15):
        with open(f"{d}/f{i}", "wb") as f:
            f.write(os.urandom(2_500_000) + bytes(2_500_000))
d = f"{root}/many"; os.makedirs(d)
for i in range(50_000):
    if i % 1000 == 0: os.makedirs(f"{d}/d{i//1000}", exist_ok=True)
    with open(f"{d}/d{i//1000}/f{i}", "wb") as f: f.write(os.urandom(random.randint(100, 3000)))
PY
for l in 0 1 2 3; do tar -C $W/src/big$l -cf $W/big$l.tar .; done
tar -C $W/src/many -cf $W/many.tar .
cat > $W/Containerfile.big <<CF
FROM scratch
ADD big0.tar /l0
ADD big1.tar /l1
ADD big2.tar /l2
ADD big3.tar /l3
CF
buildah_ok=1
$P build -q -f $W/Containerfile.big -t $REG/bench/big:v1 $W >/dev/null 2>&1 || buildah_ok=0
if [ $buildah_ok = 0 ]; then echo "podman build failed: cannot make the 4-layer image"; exit 1; fi
printf 'FROM scratch\nADD many.tar /\n' > $W/Containerfile.many
$P build -q -f $W/Containerfile.many -t $REG/bench/many:v1 $W >/dev/null
$P push -q --tls-verify=false $REG/bench/big:v1
$P push -q --tls-verify=false $REG/bench/many:v1
$P rmi -a -f >/dev/null

for img in big many; do
	kt=() pt=() left=()
	for i in $(seq $RUNS); do
		rm -rf $W/kroot $W/krun; $P rmi -a -f >/dev/null 2>&1 || true
		left+=($(ls $W/proot/overlay 2>/dev/null | grep -vc '^l$' || true))
		cold; t0=$(now); $K pull -q --tls-verify=false $REG/bench/$img:v1 >/dev/null; t1=$(now)
		kt+=($(echo "$t1 - $t0" | bc))
		cold; t0=$(now); $P pull -q --tls-verify=false $REG/bench/$img:v1 >/dev/null; t1=$(now)
		pt+=($(echo "$t1 - $t0" | bc))
	done
	echo "pull $img runs: kiln ${kt[*]}; podman ${pt[*]}; podman layers left before each run: ${left[*]}"
	km=$(printf '%s\n' "${kt[@]}" | median); pm=$(printf '%s\n' "${pt[@]}" | median)
	printf 'pull %-5s kiln %6.2f s  podman %6.2f s  ratio %.2fx\n' $img $km $pm $(echo "$pm / $km" | bc -l)
done
# Peak memory of one cold kiln pull.
rm -rf $W/kroot $W/krun; cold
/usr/bin/time -f 'kiln pull big: peak RSS %M KiB' $K pull -q --tls-verify=false $REG/bench/big:v1 >/dev/null

# Pushes go to a registry of their own, empty each time: on the source
# registry every blob would just be cross-repository mounted.
kt=() pt=()
$P pull -q --tls-verify=false $REG/bench/big:v1 >/dev/null
for i in $(seq $RUNS); do
	for tool in k p; do
		tests/lib/registry.sh start $W/push-$tool$i
		DST=127.0.0.1:$(cat $W/push-$tool$i/port)/fresh/big:v1
		if [ $tool = k ]; then
			t0=$(now); $K push -q --tls-verify=false $REG/bench/big:v1 $DST; t1=$(now)
			kt+=($(echo "$t1 - $t0" | bc))
		else
			t0=$(now); $P push -q --tls-verify=false $REG/bench/big:v1 $DST; t1=$(now)
			pt+=($(echo "$t1 - $t0" | bc))
		fi
		tests/lib/registry.sh stop $W/push-$tool$i
		rm -rf $W/push-$tool$i
	done
done
km=$(printf '%s\n' "${kt[@]}" | median); pm=$(printf '%s\n' "${pt[@]}" | median)
printf 'push big   kiln %6.2f s  podman %6.2f s  ratio %.2fx\n' $km $pm $(echo "$pm / $km" | bc -l)
