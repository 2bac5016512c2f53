#!/usr/bin/python3
"""Merge the Google Benchmark JSON files of gfplab-bench and peer-bench-*, print the
ratios docs/design.md sets targets for as markdown, and write one combined JSON file.

usage: summarize.py --json OUT [--markdown OUT.md] [--suite-file NAME=FILE ...] FILE...
  FILE: the page suites' files (gfplab-bench and peer-bench-*, one per binary);
  --suite-file: the gfplab-only suites (mix, latency, accounting, gfp) and the instructions
  suite (bench/instructions --json), tables of their own.

Standard library only: Debian's python3 is all bench/run may assume.
"""
import argparse
import datetime
import json
import os
import statistics
import sys

import suite_tables

PEERS = ["glibc", "tbbmalloc", "jemalloc", "mimalloc", "tcmalloc"]
THREADED = ["BM_pair_order0", "BM_pair_order3", "BM_hold512_order0", "BM_remote_free",
            # the slab suite: kmalloc/kfree and a 64-byte kmem_cache (peers: malloc/free)
            "BM_kmalloc_pair_8", "BM_kmalloc_pair_64", "BM_kmalloc_pair_192",
            "BM_kmalloc_pair_1024", "BM_kmalloc_pair_8192", "BM_cache_pair_64",
            "BM_kmalloc_hold512_64",
            # kfree_rcu() of a fresh 64-byte object (peers: liburcu's call_rcu() + free())
            "BM_kfree_rcu_64",
            # vmalloc/vfree of 4 KiB..4 MiB written once per page (peers: malloc/free)
            "BM_vmalloc_4k", "BM_vmalloc_64k", "BM_vmalloc_1024k", "BM_vmalloc_4096k"]
SINGLE = ["BM_pair_order9", "BM_pair_order10"]
THREADS = [1, 2, 4, 8, 16]

# docs/design.md, Performance: gfplab's time per block as a multiple of the fastest peer's.
# (threads, bound); threads None: every thread count.
RATIO_TARGETS = {
    "BM_pair_order0": (1, 0.8),  # "order-0 allocate+free pair, one thread"
    "BM_pair_order3": (None, 0.8),
    "BM_hold512_order0": (None, 1.0),
    "BM_remote_free": (None, 1.0),
    "BM_kmalloc_pair_64": (1, 1.0),  # kmalloc-64 pair, one thread, vs the fastest malloc(64)
}
# aggregate(a threads) / aggregate(b) >= bound; None: shown, no target (the design stops at 8)
SCALING_TARGETS = [(2, 1, 1.8), (8, 2, 0.9), (16, 2, None)]
ABSOLUTE_NS = 40.0  # order 9 and 10 pairs, one thread


def load(paths):
    """{backend: {(workload, threads): median items/s}} and the gfplab run's context."""
    rates, context = {}, {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        ctx = data.get("context", {})
        backend = ctx.get("backend") or os.path.basename(path).rsplit(".", 1)[0]
        if backend == "gfplab" or not context:
            context = ctx
        medians, samples = {}, {}
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                continue
            # The wall-clock rate when the binary reports it (page_bench.cpp says why).
            rate = b.get("items_per_second_wall", b.get("items_per_second"))
            if rate is None:
                continue
            key = (b["run_name"].split("/")[0], int(b.get("threads", 1)))
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    medians[key] = rate
            else:
                samples.setdefault(key, []).append(rate)
        # One repetition has no aggregates: its median is its only sample.
        for key, values in samples.items():
            medians.setdefault(key, statistics.median(values))
        rates[backend] = medians
    return rates, context


def fmt_rate(r):
    if r is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if r >= scale:
            return f"{r / scale:.2f}{unit}"
    return f"{r:.0f}"


def verdict(ok):
    return "-" if ok is None else ("yes" if ok else "**no**")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", required=True, help="combined JSON to write")
    ap.add_argument("--repetitions", type=int, default=None)
    ap.add_argument("--markdown", help="also write the tables to this file")
    ap.add_argument("--suite-file", action="append", default=[], metavar="NAME=FILE",
                    help="results of a gfplab-only suite (mix, latency, accounting, gfp) "
                         "or of the instructions suite")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()

    suite_files = dict(x.split("=", 1) for x in args.suite_file)
    if not args.files:
        tables, suites = suite_tables.render(suite_files)
        finish(args, tables, {"context": {}, "suites": suites})
        return
    rates, context = load(args.files)
    if "gfplab" not in rates:
        sys.exit("summarize.py: no gfplab-bench results among the files")
    peers = [p for p in PEERS if p in rates]
    g = rates["gfplab"]

    def rate(backend, workload, threads):
        return rates.get(backend, {}).get((workload, threads))

    out = []
    p = out.append
    p(f"Machine: {context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
      f"run {context.get('date', '?')}; peers: {', '.join(peers) or 'none'}"
      + (f"; missing: {', '.join(x for x in PEERS if x not in peers)}"
         if len(peers) < len(PEERS) else "")
      + ({None: "", 1: "; one repetition"}.get(args.repetitions,
                                                f"; median of {args.repetitions} repetitions")))
    p("")
    p("Throughput: blocks per second, all threads together, over wall-clock time. "
      "**ratio = gfplab's time per block / the fastest peer's = fastest peer's rate / "
      "gfplab's rate: below 1 gfplab is faster; the target is an upper bound** "
      "(\"<= 0.8 x fastest peer\" means ratio <= 0.8).")
    p("")
    p("| workload | threads | gfplab | " + " | ".join(peers)
      + " | fastest peer | ratio | target | met |")
    p("| --- | ---: | ---: | " + " | ".join("---:" for _ in peers) + " | --- | ---: | ---: | --- |")
    ratio_rows = []
    for w in THREADED:
        for t in THREADS:
            gr = rate("gfplab", w, t)
            prs = {x: rate(x, w, t) for x in peers}
            present = {x: r for x, r in prs.items() if r}
            fastest = max(present, key=present.get) if present else None
            ratio = present[fastest] / gr if fastest and gr else None
            if gr is None and not present:
                continue  # a suite that did not run
            tt, bound = RATIO_TARGETS.get(w, (None, None))
            applies = bound is not None and (tt is None or tt == t)
            ok = (ratio <= bound) if (applies and ratio is not None) else None
            ratio_rows.append({"workload": w, "threads": t, "gfplab": gr, "peers": prs,
                               "fastest_peer": fastest, "ratio": ratio,
                               "target_max": bound if applies else None, "met": ok})
            p(f"| {w} | {t} | {fmt_rate(gr)} | "
              + " | ".join(fmt_rate(prs[x]) for x in peers)
              + f" | {fastest or '-'} | {'-' if ratio is None else f'{ratio:.2f}'} | "
              + (f"<= {bound}" if applies else "-") + f" | {verdict(ok)} |")
    p("")
    p("Scaling: aggregate rate at a threads / at b threads (2 cores: 2 vs 1 should nearly "
      "double, 8 vs 2 oversubscribes and should hold). Targets are gfplab's; peers for "
      "comparison.")
    p("")
    p("| workload | a/b | target | gfplab | met | " + " | ".join(peers) + " |")
    p("| --- | --- | ---: | ---: | --- | " + " | ".join("---:" for _ in peers) + " |")
    scaling_rows = []
    for w in THREADED:
        for a, b, bound in SCALING_TARGETS:
            def sc(backend):
                ra, rb = rate(backend, w, a), rate(backend, w, b)
                return ra / rb if ra and rb else None
            gs = sc("gfplab")
            ok = None if gs is None or bound is None else gs >= bound
            ps = {x: sc(x) for x in peers}
            if gs is None and not any(ps.values()):
                continue  # a suite that did not run
            scaling_rows.append({"workload": w, "threads": [a, b], "gfplab": gs,
                                 "target_min": bound, "met": ok, "peers": ps})
            cell = lambda v: "-" if v is None else f"{v:.2f}"
            p(f"| {w} | {a}/{b} | {'-' if bound is None else f'>= {bound}'} | {cell(gs)} | "
              f"{verdict(ok)} | "
              + " | ".join(cell(ps[x]) for x in peers) + " |")
    p("")
    p(f"Straight from the buddy, one thread: ns per allocate+free pair (target <= "
      f"{ABSOLUTE_NS:.0f} ns, absolute).")
    p("")
    p("| workload | gfplab ns | met | " + " | ".join(f"{x} ns" for x in peers) + " |")
    p("| --- | ---: | --- | " + " | ".join("---:" for _ in peers) + " |")
    absolute_rows = []
    for w in SINGLE:
        ns = lambda r: 1e9 / r if r else None
        gn = ns(rate("gfplab", w, 1))
        ok = None if gn is None else gn <= ABSOLUTE_NS
        pn = {x: ns(rate(x, w, 1)) for x in peers}
        absolute_rows.append({"workload": w, "gfplab_ns": gn, "target_max_ns": ABSOLUTE_NS,
                              "met": ok, "peers_ns": pn})
        cell = lambda v: "-" if v is None else f"{v:.0f}"
        p(f"| {w} | {cell(gn)} | {verdict(ok)} | " + " | ".join(cell(pn[x]) for x in peers)
          + " |")
    tables, suites = suite_tables.render(suite_files)
    summary = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "repetitions": args.repetitions,
        "context": context,
        "backends": ["gfplab"] + peers,
        "missing_peers": [x for x in PEERS if x not in peers],
        "rate": "median items per second, all threads, over wall-clock time",
        "ratio": "fastest peer's rate / gfplab's rate (gfplab's time relative to the "
                 "fastest peer's; lower is better)",
        "rates": {b: {f"{w}/threads:{t}": r for (w, t), r in sorted(m.items())}
                  for b, m in rates.items()},
        "ratios": ratio_rows,
        "scaling": scaling_rows,
        "absolute": absolute_rows,
        "raw": [os.path.abspath(f) for f in args.files],
    }
    finish(args, out + tables, summary | {"suites": suites})


def finish(args, lines, summary):
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    summary.setdefault("generated", datetime.datetime.now(datetime.timezone.utc)
                       .isoformat(timespec="seconds"))
    summary.setdefault("repetitions", args.repetitions)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
