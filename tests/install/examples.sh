#!/usr/bin/env bash
# The workload plugins of examples/ (docs/plugins.md) built outside the tree against the
# installed headers with `pkg-config gfplab-kernel`, under the installed gfplab-stress:
#   - toyfs and toydrv, alone and together beside the built-in mix, run clean (exit 0);
#   - toyfs-buggy with each of its switches is caught within a bounded number of operations
#     (exit 1), with the invariant and the source line marked "BUG <switch>" in toyfs.c;
#   - plugins that cannot be used (missing, not a plugin, another ABI version, init fails)
#     get a clear message and exit 2;
#   - a plugin that leaks (tests/workloads/leaky.c) fails with the line that allocated.
# usage: examples.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1
src=$2
# shellcheck source=scratch_root.sh
. "$src/tests/install/scratch_root.sh"
scratch_root "$build" gfplab-kernel
stress=$(installed gfplab-stress) || exit 1
cc=${CC:-cc}
failed=0

# plugin NAME SOURCE [CFLAGS...]: builds $root/NAME.so as a user would.
plugin() {
  local name=$1 file=$2
  shift 2
  # shellcheck disable=SC2046
  $cc -std=gnu11 -Wall -Wextra -Werror -shared -fPIC -o "$root/$name.so" "$file" "$@" \
    $(pkg-config --cflags --libs gfplab-kernel) ||
    { echo "FAIL $name: does not build against the installed headers"; failed=1; }
}

# run WANT-STATUS LABEL ARGS...: gfplab-stress with ARGS must exit WANT-STATUS; its output
# and JSON report are left in $out and $root/report.json.
run() {
  local want=$1 label=$2 status
  shift 2
  rm -f "$root/report.json"
  out=$(LD_LIBRARY_PATH=$libdir "$stress" --no-status --memory 32M --threads 2 --seed 1 \
    --json "$root/report.json" "$@" 2>&1)
  status=$?
  if [ "$status" -ne "$want" ]; then
    echo "FAIL $label: exit $status, want $want"
    tail -n 25 <<<"$out"
    failed=1
    return 1
  fi
  echo "ok   $label (exit $status)"
}

plugin toyfs "$src/examples/toyfs/toyfs.c"
plugin toyfs-buggy "$src/examples/toyfs/toyfs.c" -DTOYFS_BUGGY
plugin toydrv "$src/examples/toydrv/toydrv.c"
for t in bad_abi not_a_plugin init_fails leaky; do
  plugin "$t" "$src/tests/workloads/$t.c"
done

run 0 "toyfs alone" --workload "$root/toyfs.so" --only-workloads --ops 20000
run 0 "toydrv alone" --workload "$root/toydrv.so" --only-workloads --ops 20000
run 0 "toyfs and toydrv beside the built-in mix" \
  --workload "$root/toyfs.so" --workload "$root/toydrv.so" --ops 20000
# Every operation ran and was counted in the report.
python3 - "$root/report.json" <<'PY' || failed=1
import json, sys
r = json.load(open(sys.argv[1]))
names = [w["name"] for w in r["workloads"]]
assert names == ["toyfs", "toydrv"], names
for w in r["workloads"]:
    for op, s in w["ops"].items():
        assert s["weight"] == 0 or s["calls"] > 0, (w["name"], op, s)
assert r["ops"]["workload"] > 0
PY

# Each switch: the invariant that must catch it, and the line it must name.
for case in nofs:I9 scope:I8 spinlock:I21; do
  bug=${case%%:*}
  inv=${case##*:}
  line=$(grep -n "BUG $bug \*/" "$src/examples/toyfs/toyfs.c" | head -n1 | cut -d: -f1)
  [ -n "$line" ] || { echo "FAIL: no line marked BUG $bug in toyfs.c"; failed=1; continue; }
  run 1 "toyfs-buggy bug=$bug caught" --workload "$root/toyfs-buggy.so,bug=$bug" \
    --only-workloads --ops 20000 || continue
  python3 - "$root/report.json" "$inv" "toyfs.c:$line" <<'PY' || failed=1
import json, sys
r = json.load(open(sys.argv[1]))
inv, site = sys.argv[2], sys.argv[3]
# The marked line is the planted bug's: a report naming it is the catch, whichever thread
# closed the cycle (a toyfs-buggy operation, kswapd, or a worker reclaiming for the
# harness's own allocation, charged to no operation).
hits = [v for v in r["violations"] if v["id"] == inv and site in v["message"]]
if not hits:
    print(f"FAIL: no {inv} naming {site}; got:")
    for v in r["violations"][:5]:
        print("  ", v["id"], v["workload"], v["message"][:300])
    sys.exit(1)
print(f"     {inv} at {site} in {hits[0]['workload'] or hits[0]['thread']} ({len(hits)} report(s))")
PY
done

# What a plugin leaves after exit() fails the run, with the line that allocated it.
line=$(grep -n "LEAK \*/" "$src/tests/workloads/leaky.c" | cut -d: -f1)
run 1 "a leak after exit()" --workload "$root/leaky.so" --only-workloads --ops 4000 &&
  python3 - "$root/report.json" "$line" <<'PY' || failed=1
import json, sys
r = json.load(open(sys.argv[1]))
leaks = r["workload_leaks"]
assert leaks and all(l["file"].endswith("leaky.c") and l["line"] == int(sys.argv[2]) for l in leaks), leaks[:3]
assert not r["violations"], r["violations"][:3]
print(f"     {len(leaks)} leak(s) at leaky.c:{sys.argv[2]}")
PY

run 2 "a missing plugin" --workload "$root/nonexistent.so" --ops 10 &&
  { grep -q "cannot load workload" <<<"$out" || { echo "FAIL: no 'cannot load' message"; failed=1; }; }
run 2 "not a plugin" --workload "$root/not_a_plugin.so" --ops 10 &&
  { grep -q "is not a workload plugin" <<<"$out" || { echo "FAIL: no 'not a workload plugin' message"; failed=1; }; }
run 2 "another ABI version" --workload "$root/bad_abi.so" --ops 10 &&
  { grep -q "workload ABI version" <<<"$out" || { echo "FAIL: no ABI version message"; failed=1; }; }
run 2 "init fails" --workload "$root/init_fails.so" --ops 10 &&
  { grep -q "init returned -19" <<<"$out" || { echo "FAIL: no init error message"; failed=1; }; }
run 2 "an unknown switch" --workload "$root/toyfs-buggy.so,bug=nosuch" --ops 10

exit $failed
