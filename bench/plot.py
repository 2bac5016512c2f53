#!/usr/bin/python3
"""Plots of a bench/run summary with gnuplot, as PNG and SVG.

usage: plot.py SUMMARY.json OUTDIR

  throughput-<workload>: blocks/s (all threads) against threads, one line per backend
                         (gfplab-kernel and gfplab-lockfree are two)
  mix:                   allocations/s and reclaim events/s against threads (mix-<backend>,
                         one plot per page-frame backend, when the suite ran on more than one)
  latency:               p50, p99, p99.9 and max per benchmark (log scale), and per backend
  accounting:            ns per event against virtual CPUs, per-CPU deltas vs a shared atomic
Exit status 0 also when gnuplot is missing (the tables are the results; plots are a view),
with a message saying so."""
import json
import os
import shutil
import subprocess
import sys


# Every plot's key sits below the frame, outside the data, in as many columns as fit: with
# five backends or four latency curves a key inside covers the lines it names.
# (bench/testdata/check-plots reads the SVGs and fails when a key entry lands in the frame.)
KEY = "set key outside below center horizontal samplen 2"


def terminals():
    """(png terminal, svg available) as this gnuplot has them."""
    out = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    names = {line.split()[0] for line in text.splitlines() if line.strip()}
    png = "pngcairo" if "pngcairo" in names else ("png" if "png" in names else None)
    return png, "svg" in names


def datablock(name, rows):
    return [f"${name} << EOD"] + [" ".join(str(x) for x in r) for r in rows] + ["EOD"]


def render(script, outdir, stem, png, svg):
    """Runs one plot script once per output format."""
    made = []
    formats = ([(f"set terminal {png} size 900,560 noenhanced", "png")] if png else []) + \
        ([("set terminal svg size 900,560 dynamic noenhanced", "svg")] if svg else [])
    for term, ext in formats:
        path = os.path.join(outdir, f"{stem}.{ext}")
        full = "\n".join([term, f"set output '{path}'"] + script + ["unset output"]) + "\n"
        r = subprocess.run(["gnuplot"], input=full, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(f"plot.py: gnuplot failed on {stem}.{ext}:\n{r.stderr}")
            continue
        made.append(path)
    return made


def throughput_plots(summary):
    rates = summary.get("rates", {})
    workloads = {}
    for backend, table in rates.items():
        for key, rate in table.items():
            w, t = key.split("/threads:")
            workloads.setdefault(w, {}).setdefault(backend, []).append((int(t), rate))
    for w, by_backend in sorted(workloads.items()):
        if all(len(v) < 2 for v in by_backend.values()):
            continue  # one thread only (order 9/10): the tables say it better
        script = ["set title '" + w + ": aggregate blocks per second'",
                  "set xlabel 'threads'", "set ylabel 'million blocks/s (log)'",
                  "set logscale xy 2", KEY, "set grid"]
        plots = []
        for i, (backend, pts) in enumerate(sorted(by_backend.items())):
            script += datablock(f"d{i}", sorted((t, r / 1e6) for t, r in pts))
            plots.append(f"$d{i} using 1:2 with linespoints lw 2 title '{backend}'")
        script.append("plot " + ", ".join(plots))
        yield f"throughput-{w}", script


def mix_plots(rows):
    """One mix plot, or one per page-frame backend when the rows name more than one."""
    backends = sorted({r["backend"] for r in rows if "backend" in r})
    if len(backends) < 2:
        yield "mix", mix_plot(rows)
        return
    for b in backends:
        yield f"mix-{b}", mix_plot([r for r in rows if r.get("backend") == b], b)


def mix_plot(rows, backend=None):
    rows = sorted(rows, key=lambda r: r["threads"])
    cols = ["allocs_per_second", "kswapd_rounds_per_second", "direct_reclaim_per_second",
            "shrinker_calls_per_second", "failures_per_second"]
    data = [[r["threads"]] + [max(r.get(c) or 0, 1e-3) for c in cols] for r in rows]
    on = f", {backend} backend" if backend else ""
    script = [f"set title 'GFP mix under reclaim (64 MiB, below the low watermark{on})'",
              "set xlabel 'threads'", "set ylabel 'events per second (log)'",
              "set logscale x 2", "set logscale y", KEY, "set grid"]
    script += datablock("m", data)
    titles = ["allocations", "kswapd rounds", "direct reclaims", "shrinker calls", "failures"]
    script.append("plot " + ", ".join(f"$m using 1:{i + 2} with linespoints lw 2 title '{t}'"
                                      for i, t in enumerate(titles)))
    return script


def latency_plot(rows):
    fields = ["p50_ns", "p99_ns", "p99.9_ns", "max_ns"]
    script = ["set title 'order-0 allocation latency (gfplab only)'",
              "set ylabel 'ns (log)'", "set logscale y", KEY, "set grid",
              "set xtics ('p50' 0, 'p99' 1, 'p99.9' 2, 'max' 3)", "set xrange [-0.3:3.3]"]
    plots = []
    for i, r in enumerate(rows):
        script += datablock(f"l{i}", [(j, max(r.get(f) or 0, 1)) for j, f in enumerate(fields)])
        title = f"{r['backend']} {r['benchmark']}" if "backend" in r else r["benchmark"]
        plots.append(f"$l{i} using 1:2 with linespoints lw 2 title '{title}'")
    script.append("plot " + ", ".join(plots))
    return script


def accounting_plot(rows):
    model = [r for r in rows if "BM_vmstat_percpu_delta/threads:1_ns" in r]
    cols = ["BM_vmstat_percpu_delta/threads:1_ns", "BM_vmstat_shared_atomic/threads:1_ns",
            "BM_vmstat_percpu_delta/threads:2_ns", "BM_vmstat_shared_atomic/threads:2_ns"]
    titles = ["per-CPU delta, 1 thread", "shared atomic, 1 thread",
              "per-CPU delta, 2 threads", "shared atomic, 2 threads"]
    script = ["set title 'NR_FREE_PAGES upkeep: ns per watermark check + update'",
              "set xlabel 'virtual CPUs'", "set ylabel 'ns per event'", "set logscale x 2",
              KEY, "set grid", "set datafile missing '-'"]
    script += datablock("a", [[r["vcpus"]] + ["-" if r.get(c) is None else r[c] for c in cols]
                              for r in sorted(model, key=lambda r: r["vcpus"])])
    script.append("plot " + ", ".join(f"$a using 1:{i + 2} with linespoints lw 2 title '{t}'"
                                      for i, t in enumerate(titles)))
    return script


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        summary = json.load(f)
    outdir = sys.argv[2]
    if not shutil.which("gnuplot"):
        print("plot.py: gnuplot is not installed (Debian: apt-get install gnuplot-nox): "
              "no plots; the tables and JSON are complete without them", file=sys.stderr)
        return
    png, svg = terminals()
    if not png and not svg:
        print("plot.py: this gnuplot has neither a png nor an svg terminal: no plots",
              file=sys.stderr)
        return
    os.makedirs(outdir, exist_ok=True)
    jobs = list(throughput_plots(summary))
    suites = summary.get("suites", {})
    if suites.get("mix"):
        jobs += list(mix_plots(suites["mix"]))
    if suites.get("latency"):
        jobs.append(("latency", latency_plot(suites["latency"])))
    if suites.get("accounting"):
        jobs.append(("accounting", accounting_plot(suites["accounting"])))
    made = []
    for stem, script in jobs:
        made += render(script, outdir, stem, png, svg)
    print(f"plot.py: {len(made)} plot file(s) in {outdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
