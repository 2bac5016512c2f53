#!/usr/bin/env bash
# The fuzz build's side of docs/plugins.md: the fuzzing kit installed into a scratch root,
# the example plugins built into libFuzzer targets with the installed gfplab-build-fuzzer,
# toyfs and toydrv fuzzed clean for CLEAN_RUNS runs, and each toyfs-buggy switch caught within
# BUG_RUNS runs with its invariant and the line marked "BUG <switch>" in toyfs.c. Every run
# starts from the driver's generic seeds (GFPLAB_FUZZ_SEEDS), as docs/plugins.md suggests.
# usage: hunt.sh BUILD_DIR SOURCE_DIR CLEAN_RUNS BUG_RUNS
set -uo pipefail
build=$1
src=$2
clean_runs=$3
bug_runs=$4
# shellcheck source=../../tests/install/scratch_root.sh
. "$src/tests/install/scratch_root.sh"
scratch_root "$build" gfplab-fuzz
builder=$(installed gfplab-build-fuzzer) || exit 1
failed=0
cd "$root" || exit 1

"$builder" -o toyfs-fuzzer "$src/examples/toyfs/toyfs.c" -- -Wall -Wextra -Werror || exit 1
"$builder" -o toyfs-buggy-fuzzer "$src/examples/toyfs/toyfs.c" -- -DTOYFS_BUGGY -Wall -Werror ||
  exit 1
"$builder" -o toydrv-fuzzer "$src/examples/toydrv/toydrv.c" -- -Wall -Wextra -Werror || exit 1

for clean in toyfs toydrv; do
  if ! out=$(GFPLAB_FUZZ_SEEDS="corpus-$clean" ./$clean-fuzzer -runs="$clean_runs" -seed=1 \
      -max_len=400 -timeout=60 "corpus-$clean" 2>&1); then
    echo "FAIL $clean: the clean plugin crashed"
    grep -E "gfplab-fuzz-plugin|ERROR" <<<"$out" | head -n 20
    failed=1
  else
    echo "ok   $clean: $clean_runs runs clean"
  fi
done

for case in nofs:I9 scope:I8 spinlock:I21; do
  bug=${case%%:*}
  inv=${case##*:}
  line=$(grep -n "BUG $bug \*/" "$src/examples/toyfs/toyfs.c" | head -n1 | cut -d: -f1)
  out=$(GFPLAB_FUZZ_SEEDS="corpus-$bug" GFPLAB_WORKLOAD_ARGS="bug=$bug" ./toyfs-buggy-fuzzer \
    -runs="$bug_runs" -seed=1 -max_len=400 -timeout=60 "corpus-$bug" 2>&1)
  status=$?
  found=$(grep "gfplab-fuzz-plugin: .*$inv .*toyfs.c:$line" <<<"$out" | head -n1)
  if [ "$status" -eq 0 ] || [ -z "$found" ]; then
    echo "FAIL toyfs-buggy bug=$bug: exit $status, no $inv naming toyfs.c:$line in $bug_runs runs"
    grep -E "gfplab-fuzz-plugin|ERROR|Done" <<<"$out" | head -n 10
    failed=1
  else
    at=$(grep -oE '^#[0-9]+' <<<"$out" | tail -n1)
    echo "ok   toyfs-buggy bug=$bug (at ${at:-a seed}): ${found:0:200}"
  fi
done
exit $failed
