#!/bin/bash
# kiln pull vs podman pull (a ~300 MB 4-layer image and a 50,000-file image
# served by a local docker-registry), cold as ../shared/testing.md says
# (sync + drop_caches before each timed run, kiln and podman alternating),
# and kiln push vs podman push to a fresh repository.  Ratios printed.
# Each timed pull goes into a store directory never used before, and no
# store is deleted until the last timing: on ext4 without a journal (and
# with discard) creating files right after a big delete is slow, which made
# pulls into a just-emptied store take 8 to 13 s now and then.
set -euo pipefail
cd "$(dirname "$0")/.."
KILN=$PWD/kiln
W=$(mktemp -d /tmp/kiln-bench-pp.XXXXXX)
trap 'for d in $W/reg $W/push-*; do [ -d "$d" ] && tests/lib/registry.sh stop "$d"; done; for d in $W/proot $W/stores/p-*/root; do umount $d/overlay 2>/dev/null || true; done; rm -rf $W' EXIT
RUNS=${RUNS:-3}
export CONTAINERS_REGISTRIES_CONF=$W/none.conf
printf '' > $W/none.conf
tests/lib/registry.sh start $W/reg
REG=127.0.0.1:$(cat $W/reg/port)
P="podman --root $W/proot --runroot $W/prun --storage-driver overlay"
# A fresh store for each pull: kstore/pstore NAME set K/KP to kiln/podman
# on $W/stores/k-NAME and p-NAME.
kstore() { K="$KILN --root $W/stores/k-$1/root --runroot $W/stores/k-$1/run"; }
pstore() { KP="podman --root $W/stores/p-$1/root --runroot $W/stores/p-$1/run --storage-driver overlay"; }

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

for img in big many; do
	kt=() pt=()
	for i in $(seq $RUNS); do
		kstore $img$i; pstore $img$i
		# Store set-up (directories, DB, podman's overlay checks) untimed.
		$K images -q >/dev/null; $KP images -q >/dev/null
		cold; t0=$(now); $K pull -q --tls-verify=false $REG/bench/$img:v1 >/dev/null; t1=$(now)
		kt+=($(echo "$t1 - $t0" | bc))
		cold; t0=$(now); $KP pull -q --tls-verify=false $REG/bench/$img:v1 >/dev/null; t1=$(now)
		pt+=($(echo "$t1 - $t0" | bc))
	done
	echo "pull $img runs: kiln ${kt[*]}; podman ${pt[*]}"
	km=$(printf '%s\n' "${kt[@]}" | median); pm=$(printf '%s\n' "${pt[@]}" | median)
	printf 'pull %-5s kiln %6.2f s  podman %6.2f s  ratio %.2fx\n' $img $km $pm $(echo "$pm / $km" | bc -l)
done
# Peak memory of one cold kiln pull; that store is the push's source.
kstore rss; cold
/usr/bin/time -f 'kiln pull big: peak RSS %M KiB' $K pull -q --tls-verify=false $REG/bench/big:v1 >/dev/null

# Pushes go to a registry of their own, empty each time: on the source
# registry every blob would just be cross-repository mounted.
# The sources are the images as pulled: kiln's from the RSS run, podman's
# from its last timed pull.
kt=() pt=()
pstore big$RUNS
for i in $(seq $RUNS); do
	for tool in k p; do
		tests/lib/registry.sh start $W/push-$tool$i
		DST=127.0.0.1:$(cat $W/push-$tool$i/port)/fresh/big:v1
		if [ $tool = k ]; then
			t0=$(now); $K push -q --tls-verify=false $REG/bench/big:v1 $DST; t1=$(now)
			kt+=($(echo "$t1 - $t0" | bc))
		else
			t0=$(now); $KP push -q --tls-verify=false $REG/bench/big:v1 $DST; t1=$(now)
			pt+=($(echo "$t1 - $t0" | bc))
		fi
		tests/lib/registry.sh stop $W/push-$tool$i
	done
done
km=$(printf '%s\n' "${kt[@]}" | median); pm=$(printf '%s\n' "${pt[@]}" | median)
printf 'push big   kiln %6.2f s  podman %6.2f s  ratio %.2fx\n' $km $pm $(echo "$pm / $km" | bc -l)
