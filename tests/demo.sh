#!/bin/sh
# make demo: the main job end to end with what exists today — make a busybox
# root filesystem, import it, list, inspect and run it.  (With the build
# engine: build Containerfile.example and run that.)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kiln-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
kiln() { "$top/kiln" --root "$work/root" --runroot "$work/run" "$@"; }

echo "+ making a busybox root filesystem"
"$top/tests/lib/busybox-rootfs.sh" "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
echo "+ kiln import busybox.tar busybox"
kiln import "$work/busybox.tar" busybox
echo "+ kiln tag busybox demo:1"
kiln tag busybox demo:1
echo "+ kiln images"
kiln images
echo "+ kiln inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{json .RepoTags}}' busybox"
kiln inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{json .RepoTags}}' busybox
echo "+ kiln run --rm busybox sh -c 'echo hello from a kiln container; uname -n'"
kiln run --rm --hostname demo busybox sh -c 'echo hello from a kiln container; uname -n'
echo "+ kiln rmi demo:1"
kiln rmi demo:1
