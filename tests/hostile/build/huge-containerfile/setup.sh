#!/bin/sh
# A Containerfile of 40 MiB (one comment line repeated), written at test time.
python3 -c "import sys; sys.stdout.write(\"FROM scratch\\n\" + (\"# \" + \"x\" * 1000 + \"\\n\") * 40000)" > Containerfile
