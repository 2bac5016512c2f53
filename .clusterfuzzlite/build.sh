#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# ClusterFuzzLite's build script, where its documentation puts it: the work is OSS-Fuzz's
# (fuzz/oss-fuzz/build.sh), so that both build the same targets the same way.
exec bash "$SRC/gfplab/fuzz/oss-fuzz/build.sh"
