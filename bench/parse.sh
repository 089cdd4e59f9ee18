#!/bin/bash
# Containerfile parser speed: a 5,000-line file must parse in under 5 ms.
# Compiles bench/parse_bench.c against out/libkiln.a (built if missing).
set -e
cd "$(dirname "$0")/.."
[ -f out/libkiln.a ] || make -s out/libkiln.a
mkdir -p out/bench
cc -O2 -std=gnu11 -D_GNU_SOURCE -I. -o out/bench/parse_bench bench/parse_bench.c out/libkiln.a \
	$(pkg-config --libs jansson libcrypto libarchive sqlite3 libzstd) -lpthread
out/bench/parse_bench
