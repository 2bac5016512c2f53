#!/usr/bin/env bash
# Smoke checks of gfplab-stress that need more than one exit status.
# usage: smoke.sh repeat|usage GFPLAB_STRESS
#   repeat: the same --ops and --seed twice on one worker draw the same operations
#   usage:  bad usage exits 2 with a message
set -euo pipefail
mode=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $mode in
repeat)
    for i in 1 2; do
        "$bin" --ops 20000 --threads 1 --seed 7 --memory 64M --no-status --json "$tmp/$i.json" >"$tmp/$i.out"
        # The JSON is printed with a two-space indent: the "ops" object is the lines between
        # its key and its closing brace.
        sed -n '/^  "ops": {/,/^  }/p' "$tmp/$i.json" >"$tmp/$i.ops"
    done
    [ -s "$tmp/1.ops" ] || { echo "no ops in the report"; cat "$tmp/1.json"; exit 1; }
    if ! diff "$tmp/1.ops" "$tmp/2.ops"; then
        echo "the same seed drew different operations"
        exit 1
    fi
    cat "$tmp/1.ops"
    ;;
usage)
    check() {
        local rc=0
        "$bin" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
        if [ "$rc" != 2 ] || [ ! -s "$tmp/err" ]; then
            echo "gfplab-stress $*: exit $rc (want 2 and a message)"
            cat "$tmp/err"
            exit 1
        fi
        echo "gfplab-stress $*: $(head -1 "$tmp/err")"
    }
    check --scenario no-such-thing --duration 1
    check --threads 0
    check --memory 10X
    check --memory 30M
    check --bogus-option
    check --duration 0
    ;;
*)
    echo "usage: $0 repeat|usage GFPLAB_STRESS" >&2
    exit 2
    ;;
esac
