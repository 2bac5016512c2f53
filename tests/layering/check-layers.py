#!/usr/bin/env python3
"""Fails when a library source file includes a header of a layer above its own.

The layers, lowest first, are those of docs/design.md ("The layers"); each file of lib/ gets
the rank of the longest path prefix below that names it. An include is resolved relative to
the including file ("...") or to lib/include (<gfplab/...>); system and third-party headers
are not ranked. The harnesses (stress/, fuzz/, bench/, tools/) must use the public API only:
they may not include anything under lib/src.

usage: check-layers.py SOURCE_DIR
"""
import os
import re
import sys

LAYERS = [
    # rank, name, path prefixes (relative to the source tree)
    (0, "sync and RCU", [
        "lib/include/gfplab/sync/", "lib/src/compiler.hpp", "lib/include/gfplab/rcu.hpp",
        "lib/include/gfplab/linux/rcu_head.h", "lib/src/rcu/"]),
    (1, "vocabulary", [
        "lib/include/gfplab/gfp.hpp", "lib/include/gfplab/gfp_layout.hpp",
        "lib/include/gfplab/report.hpp", "lib/include/gfplab/linux/compiler.h",
        "lib/include/gfplab/linux/gfp_types.h", "lib/include/gfplab/linux/gfp.h",
        "lib/include/gfplab/linux/mmzone.h", "lib/include/gfplab/linux/sched.h",
        "lib/include/gfplab/linux/rcupdate.h", "lib/src/rcu/kernel_face.cpp",
        # The kernel include root's runtime-free part: types, errors, strings, lists.
        "lib/include/gfplab/linux/types.h", "lib/include/gfplab/linux/errno.h",
        "lib/include/gfplab/linux/err.h", "lib/include/gfplab/linux/string.h",
        "lib/include/gfplab/linux/list.h", "lib/include/gfplab/linux/container_of.h",
        "lib/include/gfplab/linux/minmax.h", "lib/include/gfplab/linux/init.h",
        "lib/include/gfplab/linux/lockdep_map.h", "lib/include/gfplab/linux/alloc_site.h",
        "lib/include/gfplab/linux/array_size.h",
        "lib/src/gfp/"]),
    (2, "task context", [
        "lib/include/gfplab/scope.hpp", "lib/include/gfplab/lockdep.hpp",
        "lib/include/gfplab/lockdep_assert.hpp", "lib/include/gfplab/linux/sched/mm.h",
        "lib/src/scope/", "lib/src/check/lockdep.cpp", "lib/src/check/held_count.hpp"]),
    (3, "memory map and arithmetic", [
        "lib/include/gfplab/page.hpp", "lib/include/gfplab/zone.hpp",
        "lib/include/gfplab/vmstat_delta.hpp", "lib/include/gfplab/watermark.hpp",
        "lib/include/gfplab/alloc_flags.hpp", "lib/include/gfplab/pcp_sizing.hpp",
        "lib/include/gfplab/fault_inject.hpp", "lib/include/gfplab/memcontrol.hpp",
        "lib/include/gfplab/trace.hpp", "lib/src/trace/",
        "lib/src/internal.hpp", "lib/src/vmstat/watermark.cpp", "lib/src/vmstat/threshold.cpp",
        "lib/src/pcp/sizing.cpp",
        "lib/src/page_alloc/alloc_flags.cpp", "lib/src/page_alloc/fault_inject.cpp",
        "lib/src/page_alloc/fail_nth.hpp"]),
    (4, "buddy and page-frame backends", ["lib/src/buddy/", "lib/src/frames/"]),
    (5, "per-CPU lists", ["lib/src/pcp/"]),
    (6, "page allocator", [
        "lib/include/gfplab/system.hpp", "lib/src/page_alloc/", "lib/src/check/report.hpp",
        "lib/src/check/report.cpp"]),
    (7, "slab", [
        "lib/include/gfplab/slab.hpp", "lib/include/gfplab/linux/slab.h", "lib/src/slab/",
        "lib/include/gfplab/mempool.hpp", "lib/include/gfplab/linux/mempool.h",
        "lib/src/mempool/", "lib/include/gfplab/vmalloc.hpp", "lib/include/gfplab/linux/vmalloc.h",
        "lib/src/vmalloc/"]),
    (8, "reclaim", [
        "lib/include/gfplab/shrinker.hpp", "lib/include/gfplab/page_cache.hpp",
        "lib/include/gfplab/caches.hpp", "lib/include/gfplab/linux/shrinker.h",
        "lib/include/gfplab/kvfree_rcu.hpp",
        "lib/src/reclaim/"]),
    (9, "checking", ["lib/src/check/"]),
    (10, "machine", [
        "lib/include/gfplab/vmstat.hpp", "lib/include/gfplab/linux/mm.h", "lib/src/mm/",
        # The rest of the kernel include root (locks, printk, modules, lists...): headers
        # whose functions the kernel faces in lib/src/mm/ implement.
        "lib/include/gfplab/linux/", "lib/include/gfplab/kernel_log.hpp",
        "lib/include/gfplab/alloc_sites.hpp", "lib/include/gfplab/workload.h",
        "lib/include/gfplab/memparse.hpp", "lib/include/gfplab/version.hpp",
        "lib/src/vmstat/snapshot.cpp"]),
]

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def rank_of(path):
    best = None
    for rank, name, prefixes in LAYERS:
        for p in prefixes:
            if path == p or (p.endswith("/") and path.startswith(p)):
                if best is None or len(p) > best[2]:
                    best = (rank, name, len(p))
    return best


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    errors = []
    unranked = []
    checked = 0
    for top in ("lib/include", "lib/src"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".hpp", ".cpp", ".h")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                own = rank_of(rel)
                if own is None:
                    unranked.append(rel)
                    continue
                checked += 1
                for n, line in enumerate(open(os.path.join(root, rel), encoding="utf-8"), 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    if m.group(1) == '"':
                        target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(2)))
                    elif m.group(2).startswith("gfplab/"):
                        target = os.path.join("lib/include", m.group(2))
                    else:
                        continue
                    theirs = rank_of(target)
                    if theirs is None:
                        if target.startswith("lib/"):
                            unranked.append(target)
                        continue
                    if theirs[0] > own[0]:
                        errors.append(f"{rel}:{n}: layer {own[0]} ({own[1]}) includes {target}, "
                                      f"layer {theirs[0]} ({theirs[1]})")
    errors += check_oracle(root)
    for top in ("stress", "fuzz", "bench", "tools", "oracle"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".hpp", ".cpp", ".h", ".c")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                for n, line in enumerate(open(os.path.join(root, rel), encoding="utf-8"), 1):
                    m = INCLUDE.match(line)
                    if m and "lib/src" in m.group(2):
                        errors.append(f"{rel}:{n}: a harness includes the library's private "
                                      f"{m.group(2)}; use the public API")
    for u in sorted(set(unranked)):
        errors.append(f"{u}: in no layer: add it to LAYERS in tests/layering/check-layers.py "
                      "and to docs/design.md")
    for e in errors:
        print(e)
    print(f"check-layers: {checked} library files, {len(errors)} problem(s)")
    return 1 if errors else 0


# The reference oracle (oracle/) states the rules it checks on its own: of the library it
# may include only the vocabulary's bit values and the System's public accessors, and it may
# not call what computes with them (a shared table or formula would hide the very bugs it
# is there to find; docs/oracle.md, "The reference oracle").
ORACLE_INCLUDES = {"gfplab/linux/gfp_types.h", "gfplab/linux/mmzone.h", "gfplab/linux/sched.h",
                   "gfplab/system.hpp", "gfplab/kvfree_rcu.hpp"}
ORACLE_BANNED = re.compile(
    r"\b(gfp_zone|gfp_zone_checked|gfp_migratetype|gfp_to_alloc_flags|gfp_pfmemalloc_\w+|"
    r"current_gfp_context|gfp_context_for|wmark_pages|min_wmark_pages|low_wmark_pages|"
    r"_watermark|drift_bound\(\)|normal_stat_threshold|pcp_batch|pcp_high|zone_batchsize|"
    r"calculate_\w+|setup_per_zone_\w+|ALLOC_\w+|zone_watermark_\w+)\b")


def check_oracle(root):
    errors = []
    base = os.path.join(root, "oracle")
    for f in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        if not f.endswith((".hpp", ".cpp")):
            continue
        rel = os.path.join("oracle", f)
        for n, line in enumerate(open(os.path.join(root, rel), encoding="utf-8"), 1):
            m = INCLUDE.match(line)
            if m and m.group(2).startswith("gfplab/") and m.group(2) not in ORACLE_INCLUDES:
                errors.append(f"{rel}:{n}: the reference oracle includes {m.group(2)}; it may "
                              f"use only {', '.join(sorted(ORACLE_INCLUDES))}")
            code = line.split("//", 1)[0]
            b = ORACLE_BANNED.search(code)
            if b:
                errors.append(f"{rel}:{n}: the reference oracle uses the library's "
                              f"{b.group(1)}: compute it from the rules instead")
    return errors


if __name__ == "__main__":
    sys.exit(main())
