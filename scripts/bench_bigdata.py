#!/usr/bin/env python3
"""Issue 22's workloads on big data, hpsearch against scikit-learn's search
CV, side by side in one run (run it through scripts/bench_bigdata.sh).

Workloads (each a search with 5-fold CV; scikit-learn evaluates exactly the
candidates hpsearch's trials.csv records, on exactly its folds, read from
folds.csv into a PredefinedSplit, with refit=False):

  forest      30 random candidates of a 30-tree random forest on 20,000 x 30
              rows (benches/forest/synth30_forest.toml) against
              RandomizedSearchCV(RandomForestClassifier(n_estimators=30));
  logistic    a 20-point grid of C (log-spaced, 1e-3 .. 1e3) of an
              L2 logistic regression (max_iter 1000, tol 1e-6) on
              standardised features, ROWS x 50, binary, against
              GridSearchCV over Pipeline(StandardScaler(),
              LogisticRegression(max_iter=1000, tol=1e-6)). Why tol 1e-6
              on both sides: at the default 1e-4 the two L-BFGS stop at
              different points short of the optimum, and the best
              accuracies differed by 3 rows in 100,000 (0.934890 against
              0.934860); at 1e-6 both reach it (0.93482 on both);
  enet        a 20-point grid of alpha (log-spaced, 1e-4 .. 10) of an
              elastic net (l1_ratio 0.5) on standardised features, ROWS x 50,
              regression, r2, against Pipeline(StandardScaler(),
              ElasticNet(l1_ratio=0.5)) at scikit-learn's defaults.

  logistic_path
              the logistic grid with `[objective] warm_start = "path"`
              (each C warm-started from the one below it on the fold),
              against the same GridSearchCV (which starts each from zero;
              when the cold workload runs in the same round, its
              scikit-learn measurements are reported for both).

ROWS is 100,000, and 1,000,000 for the `*_1m` workloads. The data are made
by `make_data` below (numpy's PCG64 seeded with 0: the same arguments give
the same bytes) into target/bench-data/, once.

Each round runs every arm of every workload one after the other: hpsearch
with --threads THREADS, then scikit-learn with n_jobs 1 and THREADS (each
in its own process, so its memory is its own). Reported per arm, as medians
over the rounds (min-max):
  - wall: hpsearch's whole process (loading, checking and hashing the CSV
    included); scikit-learn's `fit` call alone (the CSV is read before the
    clock starts);
  - CPU: user + system of hpsearch's process; of scikit-learn's process
    and its joblib workers during `fit`;
  - peak memory: hpsearch's maximum resident set (getrusage); for
    scikit-learn the largest sum of the resident sets of its process and
    all its descendants, sampled every 20 ms over the whole process (pages
    a worker maps from the parent count in each);
  - the best mean CV score on each side (they must agree: same candidates,
    same folds).

Usage: scripts/bench_bigdata.sh [--rounds 3] [--threads 2] [--jobs 1 2]
           [--only forest logistic enet logistic_1m enet_1m]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "target", "bench-data")
WORKLOADS = ["forest", "logistic", "logistic_path", "enet", "logistic_1m", "logistic_path_1m", "enet_1m"]

LINEAR = {
    "logistic": dict(
        model="logistic_regression", metric="accuracy", task="binary",
        params="{ max_iter = 1000, tol = 1e-6 }", space='C = { type = "float", low = 1e-3, high = 1e3, log = true, steps = 20 }',
    ),
    "enet": dict(
        model="elastic_net", metric="r2", task="regression",
        params="{ l1_ratio = 0.5 }", space='alpha = { type = "float", low = 1e-4, high = 10.0, log = true, steps = 20 }',
    ),
}


def make_data(path, rows, features, task, seed=0):
    """Features uniform in [-1, 1) with 5 decimals; the target a fixed
    linear score plus Gaussian noise (sd 0.5): its sign (binary) or itself
    (regression)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, features)
    tmp = path + ".part"
    with open(tmp, "w", newline="\n") as f:
        f.write(",".join(f"x{j}" for j in range(features)) + ",target\n")
        for start in range(0, rows, 50_000):
            n = min(50_000, rows - start)
            x = np.round(rng.uniform(-1, 1, (n, features)), 5)
            score = x @ w + rng.normal(0, 0.5, n)
            y = (score > 0).astype(int) if task == "binary" else np.round(score, 5)
            fmt = ["%.5f"] * features + (["%d"] if task == "binary" else ["%.5f"])
            np.savetxt(f, np.column_stack([x, y]), fmt=fmt, delimiter=",")
    os.replace(tmp, path)


def workload(name):
    """(search file, data file, sklearn spec) of a workload; makes the data
    and the search file if missing."""
    os.makedirs(DATA, exist_ok=True)
    if name == "forest":
        data = os.path.join(DATA, "synth20k_30.csv")
        if not os.path.exists(data):
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_synth_classification.py"), data, "30"],
                           check=True)
        return os.path.join(ROOT, "benches", "forest", "synth30_forest.toml"), data, {"kind": "forest"}
    base = name.split("_")[0]
    rows = 1_000_000 if name.endswith("_1m") else 100_000
    spec = LINEAR[base]
    warm = 'warm_start = "path"\n' if "_path" in name else ""
    data = os.path.join(DATA, f"linear{rows // 1000}k_{spec['task']}.csv")
    if not os.path.exists(data):
        print(f"making {data} ...", flush=True)
        make_data(data, rows, 50, spec["task"])
    toml = os.path.join(DATA, f"{name}.toml")
    with open(toml, "w") as f:
        f.write(f"""# Written by scripts/bench_bigdata.py (issue 22's {name} workload).
[search]
strategy = "grid"
seed = 0

[objective]
model = "{spec['model']}"
metric = "{spec['metric']}"
params = {spec['params']}
{warm}
[data]
path = "{os.path.basename(data)}"
target = "target"
scale = "standard"

[cv]
folds = 5

[space]
{spec['space']}
""")
    return toml, data, {"kind": base}


def tree_rss(pid):
    """Resident bytes of `pid` and all its descendants."""
    children = {}
    rss = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(p))
        rss[int(p)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def run_measured(cmd, env=None):
    """Run `cmd`; its wall time, rusage and the peak of its process tree's
    resident memory (sampled), and its stdout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(p.pid))
            done.wait(0.02)

    t = threading.Thread(target=sample)
    t.start()
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    done.set()
    t.join()
    if p.returncode != 0:
        sys.exit(f"{cmd} failed:\n{err}")
    return wall, peak[0], out


def candidates(out, kind):
    """hpsearch's candidates as scikit-learn parameters, in trial order."""
    with open(os.path.join(out, "trials.csv"), newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    first = head.index("value") + 1
    last = next(i for i, h in enumerate(head) if h.startswith("fold_"))
    names = head[first:last]
    cands = []
    for r in rows[1:]:
        c = dict(zip(names, r[first:last]))
        if kind == "forest":
            mf = c["max_features"]
            cands.append({"max_depth": int(c["max_depth"]), "min_samples_leaf": int(c["min_samples_leaf"]),
                          "max_features": mf if mf in ("sqrt", "log2") else float(mf)})
        elif kind == "logistic":
            cands.append({"model__C": float(c["C"])})
        else:
            cands.append({"model__alpha": float(c["alpha"])})
    return cands


SKLEARN_WORKER = r"""
import json, os, sys, time
spec = json.loads(sys.argv[1])
import numpy as np, pandas as pd
from sklearn.model_selection import PredefinedSplit, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

def cpu():
    t = os.times(); total = t.user + t.system
    tick = os.sysconf("SC_CLK_TCK"); me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if f[1] == me:
            total += (int(f[11]) + int(f[12])) / tick
    return total

df = pd.read_csv(spec["data"])
y = df.pop("target").to_numpy()
X = df.to_numpy(dtype=np.float64)
del df
fold = np.loadtxt(spec["folds"], delimiter=",", skiprows=1, dtype=int, ndmin=2)[:, -1]
kind = spec["kind"]
if kind == "forest":
    from sklearn.ensemble import RandomForestClassifier
    est, scoring = RandomForestClassifier(n_estimators=30, random_state=0), "accuracy"
elif kind == "logistic":
    from sklearn.linear_model import LogisticRegression
    est, scoring = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=1000, tol=1e-6))]), "accuracy"
else:
    from sklearn.linear_model import ElasticNet
    est, scoring = Pipeline([("scale", StandardScaler()), ("model", ElasticNet(l1_ratio=0.5))]), "r2"
cands = spec["candidates"]

class Given(RandomizedSearchCV):
    def _run_search(self, evaluate_candidates):
        evaluate_candidates(cands)

search = Given(est, {}, n_iter=len(cands), cv=PredefinedSplit(fold), scoring=scoring, refit=False,
               n_jobs=spec["n_jobs"])
c0 = cpu(); t0 = time.perf_counter()
search.fit(X, y)
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": cpu() - c0, "best": float(search.best_score_)}))
"""


def sklearn(kind, data, folds, cands, n_jobs):
    spec = json.dumps({"kind": kind, "data": data, "folds": folds, "candidates": cands, "n_jobs": n_jobs})
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _, peak, out = run_measured([sys.executable, "-c", SKLEARN_WORKER, spec], env=env)
    r = json.loads(out.strip().splitlines()[-1])
    return r["wall"], r["cpu"], peak, r["best"]


def hpsearch_measured(binary, toml, threads, out):
    """wall, CPU, peak bytes and best of an hpsearch run, measured by
    wait4 (exact for one process)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "run", toml, "--threads", str(threads), "--out", out, "--quiet"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Read the pipes on threads so the child never blocks on them, and
    # reap it with wait4 for its own rusage.
    bufs = {}

    def drain(name, pipe):
        bufs[name] = pipe.read()

    ts = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", p.stdout), ("err", p.stderr))]
    for t in ts:
        t.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    for t in ts:
        t.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{binary} failed on {toml}:\n{bufs['err'].decode()}")
    stdout = bufs["out"].decode()
    best = next(float(line.rsplit("=", 1)[1]) for line in stdout.splitlines() if line.startswith("best trial"))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, best


def med(xs):
    return statistics.median(xs), min(xs), max(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hpsearch", default=os.path.join(ROOT, "target", "release", "hpsearch"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    ap.add_argument("--jobs", type=int, nargs="+", default=None,
                    help="scikit-learn's n_jobs arms (default: 1 and THREADS; 0: hpsearch alone)")
    ap.add_argument("--make-data", action="store_true", help="only make the data files")
    args = ap.parse_args()
    specs = {w: workload(w) for w in args.only}
    if args.make_data:
        return
    work = tempfile.mkdtemp(prefix="hpsearch-bigdata-")
    print(f"hpsearch: {args.hpsearch}\nwork: {work}", flush=True)
    jobs = [j for j in (args.jobs or sorted({1, args.threads})) if j > 0]
    arms = ["hpsearch"] + [f"sklearn n_jobs={nj}" for nj in jobs]
    res = {}  # (workload, arm) -> [(wall, cpu, peak, best)]
    loads = []
    for r in range(args.rounds):
        loads.append(os.getloadavg()[0])
        print(f"round {r}: load average {loads[-1]:.1f}", flush=True)
        for w in args.only:
            toml, data, sk = specs[w]
            out = os.path.join(work, f"{w}-{r}")
            res.setdefault((w, arms[0]), []).append(hpsearch_measured(args.hpsearch, toml, args.threads, out))
            cands = candidates(out, sk["kind"])
            folds = os.path.join(out, "folds.csv")
            # The path workload's scikit-learn search is the cold one's
            # (the same candidates, folds and estimator): measured once a
            # round when both run, and reported under both.
            cold = w.replace("_path", "")
            for nj, arm in zip(jobs, arms[1:]):
                if cold != w and cold in args.only and len(res.get((cold, arm), [])) == r + 1:
                    res.setdefault((w, arm), []).append(res[(cold, arm)][r])
                    continue
                res.setdefault((w, arm), []).append(sklearn(sk["kind"], data, folds, cands, nj))
            print(f"  {w}: " + "; ".join(
                f"{a} {res[(w, a)][-1][0]:.2f}s cpu {res[(w, a)][-1][1]:.2f}s peak {res[(w, a)][-1][2] / 2**20:.0f}MB "
                f"best {res[(w, a)][-1][3]:.6f}" for a in arms), flush=True)
    print(f"\nload average before each round: {', '.join(f'{x:.1f}' for x in loads)}; "
          f"at the end {os.getloadavg()[0]:.1f}")
    print(f"hpsearch --threads {args.threads}; medians of {args.rounds} rounds (min-max)\n")
    print("| workload | arm | wall s | CPU s | peak MB | best CV score |")
    print("|---|---|---|---|---|---|")
    for (w, arm), v in res.items():
        wm, wl, wh = med([x[0] for x in v])
        cm, cl, ch = med([x[1] for x in v])
        pm = statistics.median([x[2] for x in v]) / 2**20
        print(f"| {w} | {arm} | {wm:.2f} ({wl:.2f}-{wh:.2f}) | {cm:.2f} ({cl:.2f}-{ch:.2f}) | {pm:.0f} | {v[0][3]:.6f} |")
    print("\n| workload | scikit-learn's better n_jobs / hpsearch, wall (goal >= 3) | CPU | peak memory, hpsearch / scikit-learn | best scores equal |")
    print("|---|---|---|---|---|")
    for w in args.only if len(arms) > 1 else []:
        hp = res[(w, arms[0])]
        hw = statistics.median([x[0] for x in hp])
        better = min(arms[1:], key=lambda a: statistics.median([x[0] for x in res[(w, a)]]))
        sk = res[(w, better)]
        sw = statistics.median([x[0] for x in sk])
        ratio_cpu = statistics.median([x[1] for x in sk]) / statistics.median([x[1] for x in hp])
        mem = statistics.median([x[2] for x in hp]) / statistics.median([x[2] for x in sk])
        same = all(abs(a[3] - b[3]) <= 1e-9 * max(1.0, abs(b[3])) for a, b in zip(hp, sk))
        print(f"| {w} | {sw / hw:.2f}x ({better}) | {ratio_cpu:.2f}x | {mem:.2f} | {same} ({hp[0][3]:.6f} vs {sk[0][3]:.6f}) |")


if __name__ == "__main__":
    main()
