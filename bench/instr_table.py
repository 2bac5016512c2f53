"""The instructions suite's table (bench/instructions, and bench/run's summary through
suite_tables.py): instructions per operation for every binary and workload, as markdown.
Standard library only."""

# (binary, column heading), in the table's order; peers only where they were built.
BINARIES = [
    ("instr-gfplab", "gfplab (C++ API)"),
    ("instr-gfplab-kernel", "gfplab (kernel face, shared)"),
    ("instr-gfplab-kernel-static", "gfplab (kernel face, static)"),
    ("instr-glibc", "glibc"),
    ("instr-tbbmalloc", "tbbmalloc"),
    ("instr-jemalloc", "jemalloc"),
    ("instr-mimalloc", "mimalloc"),
    ("instr-tcmalloc", "tcmalloc"),
]

# (workload, what one operation is)
WORKLOADS = [
    ("pair0", "order-0 allocate+free pair"),
    ("pair3", "order-3 allocate+free pair"),
    ("hold512", "page of 512 order-0 held, then freed"),
    ("pair9", "order-9 allocate+free pair"),
    ("remote", "order-0 block allocated on one thread, freed on another"),
    ("kmalloc64", "kmalloc(64)+kfree pair (peers: malloc/free)"),
    ("cache64", "64-byte kmem_cache alloc+free pair (peers: malloc/free)"),
    ("pair0_ftrace", "order-0 pair, tracepoints on (trace_pipe text to /dev/null; gfplab only)"),
]

# Workloads only gfplab's binaries run (the peers have nothing like them).
GFPLAB_ONLY = {"pair0_ftrace"}

# gfplab's targets (instructions per operation, upper bounds), judged on the kernel face as
# programs link it (the shared library). None: no target.
TARGET_BINARY = "instr-gfplab-kernel"
TARGETS = {"pair0": 100, "pair3": 150, "hold512": 150, "pair9": None, "remote": None,
           "kmalloc64": None, "cache64": None, "pair0_ftrace": None}


def cell(v):
    if v is None:
        return "-"
    return f"{v:,.1f}"


def rows(data):
    """[{workload, unit, per_op: {binary: value}, target, met}] from a results JSON."""
    results = data.get("results", {})
    out = []
    for w, what in WORKLOADS:
        per_op = {b: results[b][w]["per_op"] for b, _ in BINARIES
                  if w in results.get(b, {})}
        if not per_op:
            continue
        target = TARGETS.get(w)
        got = per_op.get(TARGET_BINARY)
        met = None if target is None or got is None else got <= target
        out.append({"workload": w, "operation": what, "per_op": per_op,
                    "target_max": target, "met": met})
    return out


def markdown(data):
    """The table and the lines around it, as a list of lines."""
    results = data.get("results", {})
    cols = [(b, h) for b, h in BINARIES if b in results]
    lines = []
    p = lines.append
    modes = sorted({r.get("pcp") for b, ws in results.items() if b.startswith("instr-gfplab")
                    for r in ws.values() if r.get("pcp") not in (None, "-")})
    lto = " with LTO" if data.get("b_lto") else ""
    p(f"Instructions per operation (callgrind, `Ir` inside `instr_measured_loop` only: the "
      f"measured iterations and everything they call, warm-up and setup excluded); "
      f"{data.get('compiler', '?')}, buildtype {data.get('buildtype', '?')}{lto}, "
      f"{data.get('valgrind', '?')}, git {data.get('git', '?')}. gfplab: 1 GiB, ZONE_DMA32 "
      f"below 256 MiB, 2 CPUs; per-CPU lists in "
      f"{' and '.join(modes) or '?'} mode"
      + (" (valgrind has no rseq)" if modes == ["locked"] else "")
      + f". Target: gfplab's upper bound, judged on the kernel face (shared library).")
    p("")
    p("| workload (per) | " + " | ".join(h for _, h in cols) + " | target | met |")
    p("| --- | " + " | ".join("---:" for _ in cols) + " | ---: | --- |")
    for r in rows(data):
        unit = next((results[b][r["workload"]].get("unit") for b, _ in cols
                     if r["workload"] in results[b]), "?")
        t, met = r["target_max"], r["met"]
        p(f"| {r['workload']} ({unit}) | "
          + " | ".join(cell(r["per_op"].get(b)) for b, _ in cols)
          + f" | {'-' if t is None else f'<= {t}'} | "
          + ("-" if met is None else ("yes" if met else "**no**")) + " |")
    missing = [h for b, h in BINARIES if b not in results]
    if missing:
        p("")
        p("Not built or not run: " + ", ".join(missing) + ".")
    return lines
