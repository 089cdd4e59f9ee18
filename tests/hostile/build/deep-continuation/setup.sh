#!/bin/sh
# 200,000 continuation lines in one instruction, written at test time.
python3 -c "import sys; sys.stdout.write(\"FROM scratch\\nLABEL a=\" + \"b\\\\\\n\" * 200000 + \"c\\n\")" > Containerfile
