#!/bin/sh
# Run in a copy of this directory; $1 is the sentinel directory.
python3 "$(dirname "$0")/../../gen-tar.py" symlink-abs-parent evil.tar "$1"
