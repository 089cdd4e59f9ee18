#!/bin/sh
# Run in a copy of this directory; $1 is the sentinel directory.
echo f > f
