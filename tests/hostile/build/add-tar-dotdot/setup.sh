#!/bin/sh
# Run in a copy of this directory; $1 is the sentinel directory.
python3 "$(dirname "$0")/../../gen-tar.py" dotdot-to-sentinel evil.tar "$1"
