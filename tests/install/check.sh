#!/usr/bin/env bash
# Installs the build into a scratch root and builds two programs outside the tree against it
# with nothing but `pkg-config --cflags --libs gfplab`: one C (the kernel face), one C++;
# each linked against the shared library and, with --static, the static one.
# usage: check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
# shellcheck source=scratch_root.sh
. "$src/tests/install/scratch_root.sh"
scratch_root "$build" gfplab

cc=${CC:-cc}
cxx=${CXX:-c++}
cflags=$(pkg-config --cflags gfplab)
shared_libs=$(pkg-config --libs gfplab)
# Static: the archive itself plus everything Libs.private promises it needs.
static_libs="$libdir/libgfplab.a $(pkg-config --static --libs gfplab | sed 's/-lgfplab\b//')"
for kind in shared static; do
  libs=$shared_libs
  [ "$kind" = static ] && libs=$static_libs
  # shellcheck disable=SC2086
  $cc -std=c11 -Wall -Wextra -Werror $cflags -o "$root/c-$kind" "$src/tests/install/consumer.c" $libs
  # shellcheck disable=SC2086
  $cxx -std=c++20 -Wall -Wextra -Werror $cflags -o "$root/cxx-$kind" "$src/tests/install/consumer.cpp" $libs
  LD_LIBRARY_PATH=$libdir "$root/c-$kind"
  LD_LIBRARY_PATH=$libdir "$root/cxx-$kind"
done
echo "install check: ok"
