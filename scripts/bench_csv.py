#!/usr/bin/env python3
"""Loading a big numeric CSV: `hpsearch check` against pandas.read_csv,
side by side, on the same file.

    python3 scripts/bench_csv.py [--rows 100000] [--features 50] [--runs 5]
                                 [--hpsearch PATH] [--baseline PATH]
                                 [--python PATH]

The file is written by scripts/gen_big_csv.py (seed 0, floats in Python's
repr form, as pandas' to_csv writes them: 100,000 x 50 is about 99 MB) into
target/bench-data/. `hpsearch check` on a search over it reads, checks and
hashes the whole file (and the search file), so its wall time and peak
memory are those of the loader plus the process. It is timed with
RAYON_NUM_THREADS=1 and with the machine's cores; pandas.read_csv is timed
inside its process (the import of pandas is left out), its peak memory is
the process's (pandas itself included) and, beside it, the growth of the
peak during read_csv. Runs alternate (hpsearch, pandas, hpsearch, ...), so
both see the same load (--baseline: another hpsearch binary, e.g. an
older build, timed the same way in the same rounds); medians of --runs runs are printed, with the load
average before and after. --python must have pandas (a venv:
`python3 -m venv target/pyenv && target/pyenv/bin/pip install pandas`).
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PANDAS = r"""
import resource, sys, time
import pandas
r0 = resource.getrusage(resource.RUSAGE_SELF)
t = time.perf_counter()
df = pandas.read_csv(sys.argv[1])
wall = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
print(wall, cpu, r1.ru_maxrss, r1.ru_maxrss - r0.ru_maxrss, df.shape[0], df.shape[1])
"""


def timed(cmd, env=None):
    """Wall seconds, CPU seconds (user + system) and peak RSS (KB) of one
    run of cmd, and its standard output."""
    # A fresh process per run: RUSAGE_CHILDREN's max is over all children,
    # so /usr/bin/time reports each run's own.
    out = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + cmd, env=env, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}{out.stderr}")
    wall, user, system, kb = out.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(kb), out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hpsearch", default=os.path.join(ROOT, "target/release/hpsearch"))
    ap.add_argument("--baseline", help="another hpsearch binary to time beside it")
    ap.add_argument("--python", default=os.path.join(ROOT, "target/pyenv/bin/python"))
    a = ap.parse_args()
    data_dir = os.path.join(ROOT, "target/bench-data")
    os.makedirs(data_dir, exist_ok=True)
    csv = os.path.join(data_dir, f"big_{a.rows}x{a.features}.csv")
    if not os.path.exists(csv):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gen_big_csv.py"), csv,
                        str(a.rows), str(a.features), "0", "repr"], check=True)
    search = os.path.join(data_dir, f"big_{a.rows}x{a.features}.toml")
    with open(search, "w") as f:
        f.write(f"""[search]
strategy = "grid"
seed = 0
[objective]
model = "logistic_regression"
metric = "accuracy"
[data]
path = "{os.path.basename(csv)}"
target = "target"
[space]
C = {{ type = "float", values = [0.1, 1.0] }}
""")
    size = os.path.getsize(csv)
    matrix = 8 * a.rows * a.features
    cores = os.cpu_count()
    print(f"file: {csv}: {a.rows} rows x {a.features} features + target, {size / 1e6:.1f} MB; "
          f"f64 matrix {matrix / 1e6:.1f} MB; {cores} cores")
    load_before = os.getloadavg()
    results = {}
    binaries = [(a.hpsearch, "hpsearch check")]
    if a.baseline:
        binaries.append((a.baseline, "baseline check"))
    runs = [(exe, threads, f"{name}, {threads} thread{'s' if threads > 1 else ''}")
            for exe, name in binaries for threads in (1, cores)]
    labels = [r[2] for r in runs] + ["pandas.read_csv"]
    for _ in range(a.runs):
        for exe, threads, label in runs:
            env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
            wall, cpu, kb, out = timed([exe, "check", search], env)
            if f"rows:      {a.rows}, features: {a.features}" not in out:
                sys.exit(f"unexpected check output:\n{out}")
            results.setdefault(label, []).append((wall, cpu, kb, None))
        _, _, _, out = timed([a.python, "-c", PANDAS, csv])
        read, cpu, peak, grew, rows, cols = out.split()
        if (int(rows), int(cols)) != (a.rows, a.features + 1):
            sys.exit(f"pandas read {rows} x {cols}")
        results.setdefault(labels[-1], []).append((float(read), float(cpu), int(peak), int(grew)))
    load_after = os.getloadavg()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {' '.join(f'{x:.2f}' for x in load_after)}")
    print(f"medians of {a.runs} runs (wall and CPU: hpsearch's whole process, pandas' "
          f"read_csv call)")
    print(f"{'':34} {'wall s':>8} {'CPU s':>7} {'peak MB':>9} {'x matrix':>9}  all wall s")
    for label in labels:
        rows = results[label]
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        peak = statistics.median(r[2] for r in rows) * 1024 / 1e6
        walls = " ".join(f"{r[0]:.2f}" for r in rows)
        print(f"{label:34} {wall:8.2f} {cpu:7.2f} {peak:9.1f} {peak * 1e6 / matrix:9.2f}  {walls}")
        if rows[0][3] is not None:
            grew = statistics.median(r[3] for r in rows) * 1024 / 1e6
            print(f"{'  (peak growth in read_csv)':34} {'':8} {'':7} {grew:9.1f} "
                  f"{grew * 1e6 / matrix:9.2f}")


if __name__ == "__main__":
    main()
