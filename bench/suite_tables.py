"""The tables of the suites other than fastpath and remote for summarize.py: for the
gfplab-only Google Benchmark suites (mix, latency, accounting, gfp) medians over repetitions
of every counter, by benchmark name; for instructions, bench/instructions' own table.
Standard library only."""
import json
import statistics

import instr_table

# Counters Google Benchmark writes beside the user's: not worth a median of their own.
_SKIP = {"name", "run_name", "run_type", "family_index", "per_family_instance_index",
         "repetitions", "repetition_index", "threads", "iterations", "time_unit",
         "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "label"}


def medians(path):
    """{run_name: {field: median}} from one Google Benchmark JSON file; the median
    aggregate where there is one, else the median of the runs."""
    with open(path) as f:
        data = json.load(f)
    agg, runs = {}, {}
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            continue
        name = b["run_name"]
        fields = {k: v for k, v in b.items() if k not in _SKIP and isinstance(v, (int, float))}
        fields["threads"] = int(b.get("threads", 1))
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                agg[name] = fields
        else:
            runs.setdefault(name, []).append(fields)
    for name, rs in runs.items():
        if name not in agg:
            agg[name] = {k: statistics.median(r[k] for r in rs if k in r) for k in rs[0]}
    return agg


def _si(v, unit=""):
    if v is None:
        return "-"
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.2f}{suffix}{unit}"
    return f"{v:.3g}{unit}" if v else f"0{unit}"


def _mix(m, p):
    p("GFP mix under reclaim (gfplab-mix-bench; 64 MiB machine kept below the low watermark): "
      "allocations per second over wall-clock time, and what reclaim did per second meanwhile.")
    p("")
    p("| threads | allocs/s | kswapd rounds/s | direct reclaim/s | shrinker calls/s | "
      "failures/s | OOM calls/s |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for name, f in sorted(m.items(), key=lambda kv: kv[1]["threads"]):
        row = {"benchmark": name, "threads": f["threads"],
               "allocs_per_second": f.get("items_per_second_wall"),
               "kswapd_rounds_per_second": f.get("kswapd_rounds_per_second"),
               "direct_reclaim_per_second": f.get("direct_reclaim_per_second"),
               "shrinker_calls_per_second": f.get("shrinker_calls_per_second"),
               "failures_per_second": f.get("failures_per_second"),
               "oom_per_second": f.get("oom_per_second")}
        rows.append(row)
        p(f"| {row['threads']} | " + " | ".join(_si(row[k]) for k in list(row)[2:]) + " |")
    return rows


LATENCY_FIELDS = ["p50_ns", "p99_ns", "p99.9_ns", "max_ns"]


def _latency(m, p):
    p("Allocation latency (gfplab-latency-bench, order 0, ns; gfplab only: the peers have no "
      "GFP_ATOMIC, watermarks or reclaim). pressure:1 = a second thread holds free memory at "
      "the min watermark and kswapd runs; pressure:0 = the same machine left alone.")
    p("")
    p("| benchmark | p50 | p99 | p99.9 | max | failures |")
    p("| --- | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for name, f in sorted(m.items()):
        short = name.split("/real_time")[0]
        row = {"benchmark": short} | {k: f.get(k) for k in LATENCY_FIELDS} | \
            {"failures": f.get("failures")}
        rows.append(row)
        p(f"| {short} | " + " | ".join(_si(row[k]) for k in LATENCY_FIELDS)
          + f" | {_si(row['failures'])} |")
    return rows


def _accounting(m, p):
    def pick(prefix, threads):
        out = {}
        for name, f in m.items():
            if name.startswith(prefix + "/") and f["threads"] == threads:
                out[int(name.split("vcpus:")[1].split("/")[0])] = f
        return out
    cols = [("BM_vmstat_percpu_delta", 1), ("BM_vmstat_shared_atomic", 1),
            ("BM_vmstat_percpu_delta", 2), ("BM_vmstat_shared_atomic", 2)]
    data = {c: pick(*c) for c in cols}
    vcpus = sorted({v for d in data.values() for v in d})
    p("Free-page accounting, model (gfplab-accounting-bench): ns per event (a watermark check "
      "and a +-1 update) for the per-CPU delta scheme and for one shared atomic, at 1 and 2 "
      "real threads; the threshold, the drift it allows and the shared-counter writes per "
      "event are the per-CPU scheme's.")
    p("")
    p("| vcpus | delta 1t ns | atomic 1t ns | delta 2t ns | atomic 2t ns | threshold | "
      "drift bound (pages) | shared writes/event |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []

    def ns(f):
        return 1e9 / f["items_per_second"] if f and f.get("items_per_second") else None
    for v in vcpus:
        d1 = data[cols[0]].get(v)
        row = {"vcpus": v} | {f"{c[0]}/threads:{c[1]}_ns": ns(data[c].get(v)) for c in cols}
        row |= {"stat_threshold": d1.get("stat_threshold") if d1 else None,
                "drift_bound_pages": d1.get("drift_bound_pages") if d1 else None,
                "shared_writes_per_event": d1.get("shared_writes_per_event") if d1 else None}
        rows.append(row)
        cell = lambda x: "-" if x is None else f"{x:.2f}"
        p(f"| {v} | " + " | ".join(cell(ns(data[c].get(v))) for c in cols)
          + f" | {_si(row['stat_threshold'])} | {_si(row['drift_bound_pages'])} | "
          + f"{cell(row['shared_writes_per_event'])} |")
    p("")
    sys1, sys2 = pick("BM_accounting_system", 1), pick("BM_accounting_system", 2)
    p("Free-page accounting, the library's path (BM_accounting_system: rounds of 512 order-0 "
      "allocations and frees, each on the next virtual CPU): pages per second.")
    p("")
    p("| vcpus | 1 thread | 2 threads | stat_threshold | drift bound (pages) |")
    p("| ---: | ---: | ---: | ---: | ---: |")
    for v in sorted(set(sys1) | set(sys2)):
        a, b = sys1.get(v), sys2.get(v)
        ref = a or b
        rows.append({"vcpus": v, "system_threads1": a and a.get("items_per_second"),
                     "system_threads2": b and b.get("items_per_second"),
                     "stat_threshold": ref.get("stat_threshold")})
        p(f"| {v} | {_si(a and a.get('items_per_second'))} | "
          f"{_si(b and b.get('items_per_second'))} | {_si(ref.get('stat_threshold'))} | "
          f"{_si(ref.get('drift_bound_pages'))} |")
    return rows


def _gfp(m, p):
    p("GFP vocabulary (gfp_bench): ns per call.")
    p("")
    p("| benchmark | ns |")
    p("| --- | ---: |")
    rows = []
    for name, f in sorted(m.items()):
        rows.append({"benchmark": name, "ns": f.get("real_time")})
        p(f"| {name} | {f.get('real_time', 0):.2f} |")
    return rows


def _instructions(path, p):
    """bench/instructions --json FILE: one result per binary and workload, no repetitions."""
    with open(path) as f:
        data = json.load(f)
    if not data.get("results"):
        return None
    for line in instr_table.markdown(data):
        p(line)
    return instr_table.rows(data)


RENDER = {"mix": _mix, "latency": _latency, "accounting": _accounting, "gfp": _gfp}
# Suites whose file is not Google Benchmark's: the renderer reads it itself.
RENDER_FILE = {"instructions": _instructions}


def render(suite_files):
    """Markdown lines and {suite: rows} for the suites given as {name: path}."""
    out, suites = [], {}
    for name in RENDER:
        if name not in suite_files:
            continue
        m = medians(suite_files[name])
        if not m:
            continue
        out.append("")
        suites[name] = RENDER[name](m, out.append)
    for name, fn in RENDER_FILE.items():
        if name not in suite_files:
            continue
        lines = []
        rows = fn(suite_files[name], lines.append)
        if rows is None:
            continue
        out.append("")
        out.extend(lines)
        suites[name] = rows
    return out, suites
