#!/usr/bin/env bash
# Every C and C++ file in the tree follows .clang-format.
# usage: check-format.sh CLANG_FORMAT SOURCE_DIR
set -euo pipefail
cd "$2"
files=$(git ls-files '*.c' '*.h' '*.cpp' '*.hpp' 2>/dev/null || find lib tests tools fuzz bench stress -name '*.[ch]' -o -name '*.[ch]pp')
# shellcheck disable=SC2086
"$1" --dry-run --Werror $files
echo "clang-format: $(echo "$files" | wc -w) files follow .clang-format"
