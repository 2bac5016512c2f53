#!/bin/sh
# expect_crash.sh FUZZER INVARIANT RUNS SEED_DIR...
# Fuzzes a copy of the seeds (the checked-in corpus is never written) for at most RUNS runs
# with a fixed seed, and passes only if the fuzzer stops on a failure naming INVARIANT
# ("I4", ...). Prints how many runs it took, which is the figure the planted-bug tests report.
# A search ends after 600 s, and an input that runs for over 60 s is a hang: both fail with
# what the fuzzer said, well inside the test's own timeout.
# With RUNS "replay" the arguments are files to run once each (a regression input must fail).
set -u
fuzzer=$1 inv=$2 runs=$3
shift 3
if [ "$runs" = replay ]; then
    for f in "$@"; do
        out=$("$fuzzer" -timeout=60 "$f" 2>&1) && { echo "FAIL: $f ran clean"; exit 1; }
        echo "$out" | grep -q "I${inv#I}: " || { echo "FAIL: $f did not fail on $inv"; exit 1; }
        echo "$f: $(echo "$out" | grep -m1 -E "^fuzz_[a-z]+: ")"
    done
    exit 0
fi
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
for d in "$@"; do
    cp "$d"/* "$work/corpus/"
done
"$fuzzer" -runs="$runs" -max_total_time=600 -timeout=60 -seed=1 -max_len=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
status=$?
units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
if [ "$status" -eq 0 ]; then
    echo "FAIL: no failure in $runs runs or 600 s (executed ${units:-?})"
    exit 1
fi
if ! grep -q "I${inv#I}: " "$work/log"; then
    echo "FAIL: the fuzzer stopped (status $status), but not on $inv:"
    grep -m3 -E "^fuzz_|ERROR|stalls for" "$work/log"
    exit 1
fi
echo "caught $inv after ${units:-?} runs"
grep -m1 -E "^fuzz_[a-z]+: " "$work/log"
# SAVE_CRASH=PATH keeps the reproducer (how fuzz/regressions/ was filled).
if [ -n "${SAVE_CRASH:-}" ]; then
    cp "$(ls "$work"/crash-* | head -1)" "$SAVE_CRASH"
fi
exit 0
