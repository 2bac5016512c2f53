#!/usr/bin/env bash
# Smoke checks of gfplab-stress that need more than one exit status.
# usage: smoke.sh MODE GFPLAB_STRESS [SCENARIO_DIR]
#   repeat:        the same --ops and --seed twice draw the same operation streams: one worker
#                  (the same stream digest, op counts and outcomes of the drawn ops), and three
#                  workers (each worker's digest and count); one worker without kswapd on one
#                  virtual CPU gives the same report, every section but the timings
#   usage:         bad usage exits 2 with a message (scenario files: FILE:LINE and the key)
#   nofs-deadlock: exits 0 with the planted I9 counted as reported and no violation, as every
#                  scenario does when each planted mistake was reported
#   files:         every stress/scenarios/*.toml reads back to its built-in preset, and the
#                  command line overrides a file
#   pictures:      --timeline, --plot (SVG) and --trace-events write what they promise
#   stall:         a plugin that leaks every page (tests/workloads/hog.c, ARG) stalls every
#                  worker: exit 4 after --stall-timeout, with each worker's operation in the
#                  JSON report
#   rotate:        the default campaign is three runs, one per per-CPU mode (rseq, locked,
#                  virtual), in one report; --pcp-mode and a file's pcp_mode pin one mode
#   cli:           --version, --json - (the report on stdout, the summary on stderr), output
#                  paths checked before the campaign starts (exit 3), progress lines off a
#                  terminal, the kernel's size syntax
#   trace:         --trace FILE and --trace -: the tracepoints as trace_pipe lines in the
#                  kernel's shapes, written while the campaign runs; a path that cannot be
#                  created and a write that fails (/dev/full) exit 3
#   ledger:        the online ledger check (I2, stress/ledger.hpp) fires while the campaign
#                  runs: with GFPLAB_STRESS_LEDGER_PHANTOM as many pages as the System
#                  manages added to what the harness holds, the run exits 1 with the I2
#                  ledger report, and no checkpoint or final recount finds anything
# JSON is read with Debian's /usr/bin/python3 (a fresh Debian has it; no jq needed).
set -euo pipefail
mode=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
case $mode in
repeat)
    for threads in 1 3; do
        for i in 1 2; do
            "$bin" --ops 20000 --threads $threads --seed 7 --memory 64M --no-status \
                --json "$tmp/$threads-$i.json" >"$tmp/$threads-$i.out"
            # What the workers drew, not what the System answered (failures depend on kswapd's
            # timing): per worker its seed, op count and stream digest, and the op counts.
            $py - "$tmp/$threads-$i.json" >"$tmp/$threads-$i.stream" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for w in r["workers"]:
    print("worker seed", w["seed"], "ops", w["ops"], "digest", w["stream_digest"])
for k, v in r["ops"].items():
    print("op", k, v)
PY
        done
        [ -s "$tmp/$threads-1.stream" ] || { echo "no workers in the report"; exit 1; }
        if ! diff "$tmp/$threads-1.stream" "$tmp/$threads-2.stream"; then
            echo "$threads worker(s): the same seed drew different operations"
            exit 1
        fi
        echo "$threads worker(s), seed 7, twice:"
        cat "$tmp/$threads-1.stream"
    done
    # Without kswapd, on one virtual CPU, with epochs counted in operations, nothing but the
    # seed decides what the worker does, and nearly nothing else what the System answers: the
    # same seed gives the same report, outcomes, reclaim and vmstat included (only the
    # timings differ). "Nearly": --no-kswapd also stops kvfree_rcu's monitor thread, which
    # freed when its timer said and so changed a refill or a drain in about half the pairs
    # (it made this check fail in CI); what is left to timing is rare. So up to three pairs
    # of runs, on the kernel backend: a stream that is not reproducible differs in all three.
    exact_ok=0
    for attempt in 1 2 3; do
        for i in 1 2; do
            "$bin" --ops 20000 --threads 1 --seed 7 --memory 64M --no-status --no-kswapd \
                --checkpoint-ops 5000 --pcp-mode virtual --cpus 1 --buddy kernel \
                --json "$tmp/exact-$i.json" >/dev/null
        done
        if $py - "$tmp/exact-1.json" "$tmp/exact-2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
# The reference oracle skips a floor check when another thread may allocate meanwhile: how
# many it checked depends on that thread's timing.
timing = {"seconds", "latency", "checkpoints", "log", "reference_oracle"}
for r in (a, b):
    for p in r["pcp_phases"]:
        del p["seconds"]
diff = [k for k in a if k not in timing and a[k] != b.get(k)]
if diff:
    sys.exit("one worker, no kswapd, seed 7 twice: the reports differ in " + ", ".join(diff))
print("one worker, no kswapd, seed 7, twice: the same report (%d sections compared)"
      % len([k for k in a if k not in timing]))
PY
        then
            exact_ok=1
            break
        fi
    done
    [ "$exact_ok" = 1 ] || { echo "three pairs of runs differed"; exit 1; }
    # A different seed draws a different stream.
    "$bin" --ops 20000 --threads 1 --seed 8 --memory 64M --no-status --json "$tmp/8.json" >/dev/null
    if grep -q "$(grep -o '"stream_digest": "[0-9a-f]*"' "$tmp/1-1.json")" "$tmp/8.json"; then
        echo "seeds 7 and 8 drew the same stream"
        exit 1
    fi
    ;;
usage)
    check() {
        local want=$1 rc=0
        shift
        "$bin" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
        if [ "$rc" != 2 ] || ! grep -q -- "$want" "$tmp/err"; then
            echo "gfplab-stress $*: exit $rc (want 2 and a message with '$want')"
            cat "$tmp/err"
            exit 1
        fi
        echo "gfplab-stress $*: $(head -1 "$tmp/err")"
    }
    check "unknown scenario" --scenario no-such-thing --duration 1
    check "threads" --threads 0
    check "not a size" --memory 10X
    check "not a size" --memory 64MB
    check "at least 32M" --memory 30M
    check "bogus-option" --bogus-option
    check "never end" --duration 0
    check "unknown op 'bogus'" --weights alloc=4,bogus=1
    check "order '11'" --orders 0=600,11=3
    check "every order weight is 0" --orders 3=0
    check "invalid-share" --invalid-share 1.5
    check "nodes" --nodes 9
    check "one of rotate, automatic" --pcp-mode sometimes
    check "not a size" --memcg-limit 3Q
    check "unknown sysctl 'bogus'" --sysctl vm.bogus=1
    check "0 (auto-tuned) or at least 8" --sysctl percpu_pagelist_high_fraction=4
    check "multiple of 4M per node" --nodes 3 --memory 64M
    check ".svg or .png" --plot out.gif
    printf 'base = "pressure"\nphase_ops = 100\nbogus_key = 3\n' >"$tmp/a.toml"
    check "a.toml:3: unknown key 'bogus_key'" --scenario-file "$tmp/a.toml"
    printf 'hold_share = "half"\n' >"$tmp/b.toml"
    check "b.toml:1: key 'hold_share': expected a number" --scenario-file "$tmp/b.toml"
    printf '\n[weights.fill]\nalloc = 3\nfree = -1\n' >"$tmp/c.toml"
    check "c.toml:4: key 'weights.fill.free'" --scenario-file "$tmp/c.toml"
    printf 'base = "no-such"\n' >"$tmp/d.toml"
    check "d.toml:1: key 'base'" --scenario-file "$tmp/d.toml"
    check "no-such.toml" --scenario-file "$tmp/no-such.toml"
    ;;
nofs-deadlock)
    rc=0
    "$bin" --scenario nofs-deadlock --threads 2 --duration 2 --memory 64M --seed 3 --no-status \
        --json "$tmp/r.json" >"$tmp/out" || rc=$?
    tail -3 "$tmp/out"
    [ "$rc" = 0 ] || { echo "nofs-deadlock: exit $rc, want 0"; cat "$tmp/out"; exit 1; }
    grep -q "the planted reclaim recursion, as reported first:" "$tmp/out" ||
        { echo "the summary does not show the planted I9"; exit 1; }
    $py - "$tmp/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r["violations"] or r["violation_count"] or not r["ok"]:
    sys.exit("want no violation: the planted I9 is expected")
if r["planted"]["i9_reported"] < 1 or r["planted"]["wrong_caller"] < 1:
    sys.exit("the wrong caller's I9 was not counted")
PY
    # The old name still works.
    rc=0
    "$bin" --scenario wrong-caller --ops 2000 --threads 1 --memory 64M --seed 3 --no-status \
        >"$tmp/out" || rc=$?
    [ "$rc" = 0 ] || { echo "wrong-caller: exit $rc, want 0"; exit 1; }
    ;;
files)
    dir=$3
    n=0
    for f in "$dir"/*.toml; do
        name=$(basename "$f" .toml)
        "$bin" --scenario "$name" --print-scenario >"$tmp/preset"
        "$bin" --scenario-file "$f" --print-scenario >"$tmp/file"
        if ! diff "$tmp/preset" "$tmp/file"; then
            echo "$f differs from the built-in preset $name"
            exit 1
        fi
        n=$((n + 1))
    done
    [ "$n" -ge 6 ] || { echo "only $n scenario files in $dir"; exit 1; }
    echo "$n scenario files match their presets"
    # The command line overrides the file (the last of a repeated option wins); the file
    # overrides the preset it names.
    printf 'base = "numa"\nthreads = 3\nphase_ops = 123\n' >"$tmp/o.toml"
    "$bin" --scenario-file "$tmp/o.toml" --threads 2 --threads 5 --nodes 4 --weights drain=9 \
        --print-scenario >"$tmp/p"
    for want in 'threads = 5' 'nodes = 4' 'phase_ops = 123' 'thisnode_share = 0.15' 'drain = 9'; do
        grep -qx -- "$want.*" "$tmp/p" || { echo "want '$want' in:"; cat "$tmp/p"; exit 1; }
    done
    # And a file runs.
    "$bin" --scenario-file "$dir/scopes.toml" --ops 4000 --threads 2 --memory 64M --seed 1 \
        --no-status >"$tmp/out"
    tail -1 "$tmp/out"
    ;;
trace)
    "$bin" --ops 3000 --threads 2 --memory 32M --seed 3 --no-status --trace "$tmp/t.txt" >"$tmp/out"
    grep -qE "^trace: $tmp/t.txt \([0-9]+ lines\)$" "$tmp/out" ||
        { echo "no trace line in the summary"; tail -3 "$tmp/out"; exit 1; }
    lines=$(sed -nE "s|^trace: .* \(([0-9]+) lines\)$|\1|p" "$tmp/out")
    $py - "$tmp/t.txt" "$lines" <<'PY'
import re, sys
ctx = r" *\S.{0,15}-\d+ +\[\d{3}\] [.d]\.\.[.1]\. +\d+\.\d{6}: "
page = r"page=[0-9a-f]{16} pfn=0x[0-9a-f]+ order=\d+"
gfp = r"(none|0x[0-9a-f]+|[A-Z_][A-Z0-9_]*(\|[A-Z_][A-Z0-9_]*)*(\|0x[0-9a-f]+)?)"
shapes = {
    "mm_page_alloc": page + r" migratetype=\d gfp_flags=" + gfp,
    "mm_page_free": page,
    "mm_page_pcpu_drain": page + r" migratetype=\d",
    "mm_page_alloc_zone_locked": page + r" migratetype=\d percpu_refill=[01]",
    "mm_vmscan_direct_reclaim_begin": r"order=\d+ gfp_flags=" + gfp,
    "mm_vmscan_direct_reclaim_end": r"nr_reclaimed=\d+",
    "mm_vmscan_kswapd_wake": r"nid=\d+ order=\d+",
    "mm_vmscan_kswapd_sleep": r"nid=\d+",
    "mm_shrink_slab_start": r"\S+ [0-9a-f]{16}: nid: \d+ objects to shrink -?\d+ gfp_flags " + gfp
        + r" cache items -?\d+ delta -?\d+ total_scan -?\d+ priority \d+",
    "mm_shrink_slab_end": r"\S+ [0-9a-f]{16}: nid: \d+ unused scan count -?\d+ new scan count "
        r"-?\d+ total_scan -?\d+ last shrinker return val -?\d+",
    "mark_victim": r"pid=\d+ comm=\S+ total-vm=\d+kB .*",
}
text = open(sys.argv[1]).read().splitlines()
assert len(text) == int(sys.argv[2]), (len(text), sys.argv[2])
seen = {}
for line in text:
    m = re.match(ctx + r"(\w+): (.*)$", line)
    assert m and m.group(1) in shapes, line
    assert re.fullmatch(shapes[m.group(1)], m.group(2)), line
    seen[m.group(1)] = seen.get(m.group(1), 0) + 1
for need in ("mm_page_alloc", "mm_page_free", "mm_page_alloc_zone_locked"):
    assert seen.get(need), "no " + need + " line: " + repr(seen)
print(len(text), "trace_pipe lines:", seen)
PY
    # On standard output, the summary then on standard error.
    "$bin" --ops 500 --threads 1 --memory 32M --seed 3 --trace - >"$tmp/o.txt" 2>"$tmp/e.txt"
    grep -q "^OK: no violation" "$tmp/e.txt" || { echo "no summary on stderr"; exit 1; }
    grep -q ': mm_page_alloc: page=' "$tmp/o.txt" || { echo "no trace on stdout"; exit 1; }
    if grep -v ': mm_[a-z_]*: \|: mark_victim: ' "$tmp/o.txt" | grep -q .; then
        echo "stdout holds more than the trace:"; grep -v ': mm_' "$tmp/o.txt" | head -3; exit 1
    fi
    # A path that cannot be created: exit 3 before the campaign; a full disk: exit 3 at the end.
    rc=0
    "$bin" --ops 2000 --memory 32M --trace "$tmp/no/such/dir/t.txt" >"$tmp/out" 2>&1 || rc=$?
    { [ "$rc" = 3 ] && ! grep -q "operations" "$tmp/out"; } ||
        { echo "--trace into a missing directory: exit $rc, want 3 first"; cat "$tmp/out"; exit 1; }
    if [ -w /dev/full ]; then
        rc=0
        "$bin" --ops 2000 --memory 32M --trace /dev/full >"$tmp/out" 2>&1 || rc=$?
        [ "$rc" = 3 ] || { echo "--trace /dev/full: exit $rc, want 3"; tail -3 "$tmp/out"; exit 1; }
        grep -q "cannot write /dev/full" "$tmp/out" || { echo "no reason given"; exit 1; }
    fi
    echo "--trace: file, -, and both kinds of I/O error"
    ;;
pictures)
    "$bin" --scenario pressure --threads 2 --duration 2 --memory 64M --seed 4 --no-status \
        --timeline "$tmp/t.csv" --plot "$tmp/t.svg" --trace-events "$tmp/t.json" \
        --slow-alloc-us 50 >"$tmp/out"
    tail -3 "$tmp/out"
    head -1 "$tmp/t.csv" | grep -q '^seconds,n0_DMA_free,n0_DMA_min,n0_DMA_low,n0_DMA_high,' ||
        { echo "bad CSV header"; head -2 "$tmp/t.csv"; exit 1; }
    rows=$(($(wc -l <"$tmp/t.csv") - 1))
    [ "$rows" -ge 4 ] || { echo "only $rows timeline rows in 2 s"; exit 1; }
    grep -q '<svg' "$tmp/t.svg" || { echo "no SVG"; exit 1; }
    # Readable: every zone's panel has every series, one legend names them once for all
    # panels, and the page axis is logarithmic (the watermarks are a sliver of the zone).
    zones=$(head -1 "$tmp/t.csv" | tr , '\n' | grep -c '_free$')
    for series in free min low high 'direct reclaim' 'kswapd rounds' 'OOM kills'; do
        n=$(grep -c "<title>$series</title>" "$tmp/t.svg" || true)
        [ "$n" -eq "$zones" ] || { echo "series '$series' in $n panels of $zones"; exit 1; }
        n=$(grep -c ">$series</tspan>" "$tmp/t.svg" || true)
        [ "$n" -eq 1 ] || { echo "legend entry '$series' drawn $n times (want one legend)"; exit 1; }
    done
    grep -q '>free pages (log scale)</tspan>' "$tmp/t.svg" || { echo "no log page axis"; exit 1; }
    $py - "$tmp/t.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ev = r["traceEvents"]
cats = {e.get("cat") for e in ev}
print(len(ev), "trace events; categories", sorted(c for c in cats if c))
assert r["metadata"]["event_cap"] > 0 and "events_dropped" in r["metadata"]
for c in ("checkpoint", "reclaim"):
    assert c in cats, "no " + c + " events"
assert any(e["ph"] == "C" for e in ev), "no counters"
for e in ev:
    assert e["ph"] in "XiCM" and "ts" in e or e["ph"] == "M", e
PY
    ;;
panic)
    # A plugin that leaks every page: its GFP_NOFS allocations never OOM-kill and loop, and
    # the first GFP_KERNEL allocation (the harness's, or the stall watchdog's) kills every
    # victim and still finds memory short: 6.12 panics there. Exit 5 with what each worker did.
    rc=0
    "$bin" --workload "$3" --only-workloads --duration 120 --memory 32M --threads 2 --seed 1 \
        --stall-timeout 3 --no-status --json "$tmp/stall.json" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" = 5 ] || { echo "a leak to the end of memory: exit $rc, want 5"; tail "$tmp/out" "$tmp/err"; exit 1; }
    grep -q "PANIC: out of memory with nothing left to kill" "$tmp/err" || { echo "no panic report"; exit 1; }
    $py - "$tmp/stall.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["panicked"] and not r["stalled"] and not r["ok"], r
assert r["reclaim"]["oom_panics"] >= 1 and r["reclaim"]["oom_kills"] >= 1, r["reclaim"]
assert len(r["workers"]) == 2 and all("doing" in w and "scopes" in w for w in r["workers"])
# Each names its operation. Which one that is when memory runs out is timing: mostly the
# plugin's hog/leak, but a worker may be in the harness's own allocation (--only-workloads
# keeps alloc and free in the mix) when another's kills the last victim.
assert all(w["doing"] for w in r["workers"]), r["workers"]
print("panicked after", r["reclaim"]["oom_kills"], "kills:", [w["doing"] for w in r["workers"]])
PY
    ;;
buddy)
    # --buddy chooses the page-frame backend; the summary and the JSON name the one in use,
    # whatever GFPLAB_BUDDY says (the lockfree test setup sets it).
    for b in kernel lockfree; do
        "$bin" --ops 4000 --threads 2 --memory 32M --seed 1 --buddy "$b" --json - \
            >"$tmp/out" 2>"$tmp/err"
        grep -q ", $b buddy$" "$tmp/err" || { echo "--buddy $b: not in the summary"; exit 1; }
        $py - "$tmp/out" "$b" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["config"]["buddy"] == sys.argv[2], r["config"].get("buddy")
assert not r["violations"], r["violations"]
PY
    done
    rc=0
    "$bin" --ops 10 --buddy slab >"$tmp/out" 2>&1 || rc=$?
    [ "$rc" = 2 ] && grep -q "one of automatic, kernel, lockfree" "$tmp/out" ||
        { echo "--buddy slab: exit $rc"; cat "$tmp/out"; exit 1; }
    ;;
cli)
    "$bin" --version | grep -qE '^gfplab-stress [0-9]+\.[0-9]+\.[0-9]+ \(git [^)]+\)$' ||
        { echo "--version: $("$bin" --version)"; exit 1; }
    # The report alone on stdout, parseable; the summary on stderr.
    "$bin" --ops 2000 --threads 2 --memory 0x2000000 --seed 1 --json - >"$tmp/out" 2>"$tmp/err"
    $py - "$tmp/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["format_version"] >= 2 and r["gfplab_version"] and r["git_revision"], r.keys()
assert r["config"]["memory_bytes"] == 32 << 20
PY
    grep -q "^OK: no violation" "$tmp/err" || { echo "no summary on stderr"; exit 1; }
    # --vmstat -: the kernel's shapes on stdout, /proc/buddyinfo's lines last (one column per
    # order, 0..10).
    "$bin" --ops 1000 --threads 1 --memory 32M --seed 1 --vmstat - >"$tmp/vm.txt" 2>/dev/null
    grep -qE '^Node 0, zone +Normal( +[0-9]+){11} $' "$tmp/vm.txt" ||
        { echo "no buddyinfo line for Normal"; tail -4 "$tmp/vm.txt"; exit 1; }
    grep -q "^  pages free" "$tmp/vm.txt" || { echo "no zoneinfo block"; exit 1; }
    for section in vmstat zoneinfo slabinfo buddyinfo; do
        grep -qx "# /proc/$section" "$tmp/vm.txt" || { echo "no /proc/$section section"; exit 1; }
    done
    grep -qE '^pgalloc_normal [1-9][0-9]*$' "$tmp/vm.txt" || { echo "no pgalloc_normal"; exit 1; }
    # An output that cannot be written: exit 3 before any operation ran.
    for opt in --json --trace-events --plot --vmstat; do
        rc=0
        "$bin" --ops 2000 --memory 32M "$opt" "$tmp/no/such/dir/out.svg" >"$tmp/out" 2>"$tmp/err" ||
            rc=$?
        if [ "$rc" != 3 ] || grep -q "operations" "$tmp/out"; then
            echo "$opt into a missing directory: exit $rc (want 3, before the campaign)"
            cat "$tmp/out" "$tmp/err"
            exit 1
        fi
    done
    rc=0
    "$bin" --ops 10 --json - --trace-events - >/dev/null 2>&1 || rc=$?
    [ "$rc" = 3 ] || { echo "two outputs on stdout: exit $rc, want 3"; exit 1; }
    # Off a terminal: progress lines, unless --no-status.
    "$bin" --duration 2.5 --threads 2 --memory 32M --progress 1 >"$tmp/out"
    n=$(grep -c '^progress: ' "$tmp/out" || true)
    [ "$n" -ge 1 ] || { echo "no progress lines"; cat "$tmp/out"; exit 1; }
    "$bin" --duration 1.5 --threads 2 --memory 32M --progress 1 --no-status >"$tmp/out"
    ! grep -q '^progress: ' "$tmp/out" || { echo "progress lines with --no-status"; exit 1; }
    # vm sysctls reach the machine: min_free_kbytes is split over the zones by their size, and
    # watermark_scale_factor sets the gap to low (6.12 __setup_per_zone_wmarks()).
    "$bin" --ops 100 --threads 1 --memory 64M --seed 1 --json - \
        --sysctl vm.min_free_kbytes=8192,vm.watermark_scale_factor=1000 2>/dev/null >"$tmp/vm.json"
    $py - "$tmp/vm.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
# Every zone is in the snapshot, empty ones too (an empty ZONE_MOVABLE keeps its clamped min).
zones = [z for z in r["vmstat"]["zones"] if z["populated"]]
assert sum(z["min"] for z in zones) == 8192 // 4, zones
for z in zones:
    assert z["low"] - z["min"] == max(z["min"] // 4, z["managed"] * 1000 // 10000), z
assert r["config"]["vm"]["min_free_kbytes"] == "8192"
PY
    printf '[vm]\nwatermark_scale_factor = 5000\n' >"$tmp/vm.toml"
    rc=0
    "$bin" --scenario-file "$tmp/vm.toml" --ops 10 >/dev/null 2>"$tmp/err" || rc=$?
    [ "$rc" = 2 ] && grep -q "vm.toml:2: key 'vm.watermark_scale_factor': .*1 .. 3000" "$tmp/err" ||
        { echo "a [vm] value out of range: exit $rc"; cat "$tmp/err"; exit 1; }
    echo "cli: ok ($n progress lines in 2.5 s)"
    ;;
rotate)
    # The default rotates the per-CPU mode: three runs, rseq, locked, virtual, each on its
    # own System with a third of the time, in one report; --pcp-mode (or a file's pcp_mode)
    # pins one mode; --ops is split the same way.
    "$bin" --duration 3 --threads 2 --memory 64M --seed 5 --no-status --json "$tmp/r.json" \
        --trace-events "$tmp/t.json" >"$tmp/out"
    tail -2 "$tmp/out"
    grep -q "^gfplab-stress: scenario default, seed 5: 3 runs, one per per-CPU mode" "$tmp/out" ||
        { echo "no rotation line in the summary"; exit 1; }
    [ "$(grep -c '^  this run: ok$' "$tmp/out")" = 3 ] || { echo "want 3 runs ok"; exit 1; }
    "$bin" --ops 6001 --threads 2 --memory 64M --seed 5 --no-status --json "$tmp/o.json" >/dev/null
    "$bin" --duration 1 --threads 2 --memory 64M --seed 5 --no-status --pcp-mode locked \
        --json "$tmp/l.json" >/dev/null
    printf 'pcp_mode = "virtual"\ncpus = 3\n' >"$tmp/v.toml"
    "$bin" --scenario-file "$tmp/v.toml" --duration 1 --threads 2 --memory 64M --seed 5 \
        --no-status --json "$tmp/v.json" >/dev/null
    $py - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
r = json.load(open(d + "/r.json"))
ph = r["pcp_phases"]
assert [p["pcp_mode"] for p in ph] == ["rseq", "locked", "virtual"], ph
assert r["config"]["pcp_mode"] == "rotate" and r["ok"] and r["format_version"] >= 3, r["config"]
assert all(p["seconds"] > 0.5 and p["ops"] > 0 and p["ok"] for p in ph), ph
assert ph[0]["seed"] == 5 and len({p["seed"] for p in ph}) == 3, ph
assert ph[1]["ran"] == "locked" and ph[2]["ran"] == "virtual", ph
assert ph[0]["ran"] in ("rseq", "locked (no rseq here)"), ph
assert r["total_ops"] == sum(p["ops"] for p in ph) == sum(w["ops"] for w in r["workers"])
assert r["checkpoints"]["count"] >= 3, r["checkpoints"]
print("rotation:", ", ".join("%s %.1f s %d ops" % (p["ran"], p["seconds"], p["ops"]) for p in ph))
t = json.load(open(d + "/t.json"))
pids = {e["pid"] for e in t["traceEvents"]}
assert pids == {1, 2, 3}, pids
o = json.load(open(d + "/o.json"))
assert [p["ops"] for p in o["pcp_phases"]] == [2001, 2000, 2000], o["pcp_phases"]
assert o["total_ops"] == 6001
l = json.load(open(d + "/l.json"))
assert [(p["pcp_mode"], p["ran"]) for p in l["pcp_phases"]] == [("locked", "locked")], l["pcp_phases"]
assert l["config"]["pcp_mode"] == "locked"
v = json.load(open(d + "/v.json"))
assert [(p["pcp_mode"], p["cpus"]) for p in v["pcp_phases"]] == [("virtual", 3)], v["pcp_phases"]
PY
    ;;
ledger)
    rc=0
    GFPLAB_STRESS_LEDGER_PHANTOM=16384 "$bin" --scenario default --threads 2 --duration 1 \
        --memory 64M --seed 1 --no-status >"$tmp/out" 2>&1 || rc=$?
    if [ "$rc" != 1 ] || ! grep -q "I2 free pages and the harness's ledger disagree" "$tmp/out"; then
        echo "an unbalanced ledger: exit $rc (want 1 and the I2 ledger report)"
        cat "$tmp/out"
        exit 1
    fi
    if grep "gfplab: I" "$tmp/out" | grep -qv "ledger disagree"; then
        echo "an unbalanced ledger: other violations than the ledger's"
        cat "$tmp/out"
        exit 1
    fi
    grep -m1 "ledger disagree" "$tmp/out"
    ;;
*)
    echo "usage: $0 repeat|usage|nofs-deadlock|files|pictures|cli|stall|rotate|ledger|trace GFPLAB_STRESS [ARG]" >&2
    exit 2
    ;;
esac
