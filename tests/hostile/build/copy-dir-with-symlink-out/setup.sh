#!/bin/sh
# Run in a copy of this directory; $1 is the sentinel directory.
mkdir d && echo ok > d/ok && ln -s "$1" d/link && ln -s "$1/keep" d/filelink
