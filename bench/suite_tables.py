"""The tables of the suites other than fastpath and remote for summarize.py: for the
gfplab-only Google Benchmark suites (mix, latency, accounting, gfp) medians over repetitions
of every counter, by benchmark name; for instructions, bench/instructions' own table.
mix and latency may come as one file per page-frame backend (bench/run --buddy): their
tables then get a backend column, named from each file's context ("buddy").
Standard library only."""
import json
import statistics

import instr_table

# Counters Google Benchmark writes beside the user's: not worth a median of their own.
_SKIP = {"name", "run_name", "run_type", "family_index", "per_family_instance_index",
         "repetitions", "repetition_index", "threads", "iterations", "time_unit",
         "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "label"}


def backend(path):
    """The page-frame backend a gfplab suite's file ran on (its context's "buddy"), or None
    for a file from before the option."""
    with open(path) as f:
        return json.load(f).get("context", {}).get("buddy")


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


def _backend_cells(runs):
    """A backend column when the suite ran on a named backend (or more than one)."""
    return any(b is not None for b, _ in runs) or len(runs) > 1


def _mix(runs, p):
    shown = _backend_cells(runs)
    p("GFP mix under reclaim (gfplab-mix-bench; 64 MiB machine kept below the low watermark): "
      "allocations per second over wall-clock time, and what reclaim did per second meanwhile.")
    p("")
    p(("| backend " if shown else "") + "| threads | allocs/s | kswapd rounds/s | "
      "direct reclaim/s | shrinker calls/s | failures/s | OOM calls/s |")
    p(("| --- " if shown else "") + "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    fields = ["allocs_per_second", "kswapd_rounds_per_second", "direct_reclaim_per_second",
              "shrinker_calls_per_second", "failures_per_second", "oom_per_second"]
    for b, m in runs:
        for name, f in sorted(m.items(), key=lambda kv: kv[1]["threads"]):
            row = {"benchmark": name, "threads": f["threads"],
                   "allocs_per_second": f.get("items_per_second_wall"),
                   "kswapd_rounds_per_second": f.get("kswapd_rounds_per_second"),
                   "direct_reclaim_per_second": f.get("direct_reclaim_per_second"),
                   "shrinker_calls_per_second": f.get("shrinker_calls_per_second"),
                   "failures_per_second": f.get("failures_per_second"),
                   "oom_per_second": f.get("oom_per_second")}
            if b is not None:
                row["backend"] = b
            rows.append(row)
            p((f"| {b or '-'} " if shown else "") + f"| {row['threads']} | "
              + " | ".join(_si(row[k]) for k in fields) + " |")
    return rows


LATENCY_FIELDS = ["p50_ns", "p99_ns", "p99.9_ns", "max_ns"]
# Issue 18: the lock-free backend's GFP_ATOMIC p99.9 under pressure at most 2 us.
LATENCY_TARGET = ("lockfree", "BM_latency_atomic/pressure:1", "p99.9_ns", 2000.0)


def _latency(runs, p):
    shown = _backend_cells(runs)
    p("Allocation latency (gfplab-latency-bench, order 0, ns; gfplab only: the peers have no "
      "GFP_ATOMIC, watermarks or reclaim). pressure:1 = a second thread holds free memory at "
      "the min watermark and kswapd runs; pressure:0 = the same machine left alone.")
    p("")
    p(("| backend " if shown else "") + "| benchmark | p50 | p99 | p99.9 | max | failures |")
    p(("| --- " if shown else "") + "| --- | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    verdicts = []
    for b, m in runs:
        for name, f in sorted(m.items()):
            short = name.split("/real_time")[0]
            row = {"benchmark": short} | {k: f.get(k) for k in LATENCY_FIELDS} | \
                {"failures": f.get("failures")}
            if b is not None:
                row["backend"] = b
            rows.append(row)
            p((f"| {b or '-'} " if shown else "") + f"| {short} | "
              + " | ".join(_si(row[k]) for k in LATENCY_FIELDS)
              + f" | {_si(row['failures'])} |")
            tb, tname, tfield, bound = LATENCY_TARGET
            if b == tb and short == tname and row.get(tfield) is not None:
                ok = row[tfield] <= bound
                row["target_max_ns"] = bound
                row["met"] = ok
                verdicts.append(f"{tb} {tname} p99.9 {_si(row[tfield])} ns, target <= "
                                f"{_si(bound)} ns (issue 18): {'met' if ok else '**not met**'}")
    for v in verdicts:
        p("")
        p(v)
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


# Suites whose renderer takes one file per page-frame backend, [(backend, medians)].
PER_BACKEND = {"mix", "latency"}


def render(suite_files):
    """Markdown lines and {suite: rows} for the suites given as {name: [path, ...]} (a
    single path is taken as a list of one). mix and latency render every file, one per
    backend; the other suites their first."""
    out, suites = [], {}
    files = {k: [v] if isinstance(v, str) else list(v) for k, v in suite_files.items()}
    for name in RENDER:
        if name not in files:
            continue
        if name in PER_BACKEND:
            runs = [(backend(f), medians(f)) for f in files[name]]
            runs = [(b, m) for b, m in runs if m]
            if not runs:
                continue
            out.append("")
            suites[name] = RENDER[name](runs, out.append)
            continue
        m = medians(files[name][0])
        if not m:
            continue
        out.append("")
        suites[name] = RENDER[name](m, out.append)
    for name, fn in RENDER_FILE.items():
        if name not in files:
            continue
        lines = []
        rows = fn(files[name][0], lines.append)
        if rows is None:
            continue
        out.append("")
        out.extend(lines)
        suites[name] = rows
    return out, suites
