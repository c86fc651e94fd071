#!/usr/bin/env python3
"""A 20-trial gradient boosting search, hpsearch against scikit-learn's
RandomizedSearchCV over HistGradientBoostingClassifier, side by side in one
run, on the same candidates and the same folds.

hpsearch runs a random search (`model = "gradient_boosting"`, 5-fold CV,
`--threads THREADS`) over learning_rate, max_leaf_nodes, min_samples_leaf
and l2_regularization, max_iter fixed (30 by default: digits has ten
classes, so 300 trees a fit, and the three rounds take about ten minutes
on a loaded 2-core machine). Its trials.csv gives the candidates and its
folds.csv the fold of each row; RandomizedSearchCV then evaluates exactly
those candidates (each parameter's "distribution" hands out the recorded
values in trial order, so ParameterSampler draws candidate i at iteration
i) on exactly those folds (PredefinedSplit), with n_jobs=THREADS,
refit=False, HistGradientBoostingClassifier(early_stopping=False,
random_state=0). Both sides are timed as wall time of the whole search:
hpsearch as its process, scikit-learn as the `fit` call (the CSV is read
before the clock starts). OMP_WAIT_POLICY=PASSIVE unless set (busy-waiting
OpenMP threads slow scikit-learn badly on a shared machine).

Each round runs both; the report gives each round, the medians, the wall
time ratio (scikit-learn / hpsearch), the best mean CV accuracy on each
side, and the load average before and after.

Usage: python3 scripts/bench_boosting_search.py [--hpsearch PATH]
       [--data data/digits.csv] [--trials 20] [--rounds 3] [--threads 2]
       [--max-iter 30] [--sklearn-jobs N]
(needs scikit-learn 1.9.1, numpy and pandas)
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.model_selection import PredefinedSplit, RandomizedSearchCV  # noqa: E402

SPACE = {
    "learning_rate": '{ type = "float", low = 0.01, high = 0.5, log = true }',
    "max_leaf_nodes": '{ type = "int", low = 8, high = 64, log = true }',
    "min_samples_leaf": '{ type = "int", low = 5, high = 100, log = true }',
    "l2_regularization": '{ type = "float", low = 0.0, high = 1.0 }',
}


class Recorded:
    """A "distribution" whose i-th draw is the i-th recorded value."""

    def __init__(self, values):
        self.values = list(values)
        self.i = 0

    def rvs(self, random_state=None):
        v = self.values[self.i % len(self.values)]
        self.i += 1
        return v


def write_search(path, csv, trials, max_iter):
    space = "\n".join(f"{k} = {v}" for k, v in SPACE.items())
    path.write_text(
        f"""[search]
strategy = "random"
trials = {trials}
seed = 0
[objective]
model = "gradient_boosting"
metric = "accuracy"
task = "classification"
[objective.params]
max_iter = {max_iter}
[data]
path = "{Path(csv).resolve()}"
target = "target"
[cv]
folds = 5
[space]
{space}
"""
    )


def run_hpsearch(exe, toml, out, threads):
    start = time.perf_counter()
    subprocess.run(
        [exe, "run", str(toml), "--threads", str(threads), "--out", str(out), "-q"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    trials = pd.read_csv(out / "trials.csv")
    return wall, trials


def run_sklearn(x, y, folds, trials, threads, max_iter):
    dists = {}
    for k in SPACE:
        col = trials[k].tolist()
        if k in ("max_leaf_nodes", "min_samples_leaf"):
            col = [int(v) for v in col]
        else:
            col = [float(v) for v in col]
        dists[k] = Recorded(col)
    search = RandomizedSearchCV(
        HistGradientBoostingClassifier(
            max_iter=max_iter, early_stopping=False, random_state=0
        ),
        dists,
        n_iter=len(trials),
        scoring="accuracy",
        cv=PredefinedSplit(folds),
        n_jobs=threads,
        refit=False,
        random_state=0,
    )
    start = time.perf_counter()
    search.fit(x, y)
    wall = time.perf_counter() - start
    res = search.cv_results_
    # The candidates scikit-learn evaluated are hpsearch's, in order.
    for k in SPACE:
        assert list(res[f"param_{k}"]) == list(dists[k].values), k
    return wall, float(np.max(res["mean_test_score"])), res["mean_test_score"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hpsearch", default="target/release/hpsearch")
    ap.add_argument("--data", default="data/digits.csv")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-iter", type=int, default=30)
    ap.add_argument("--sklearn-jobs", type=int, default=None,
                    help="RandomizedSearchCV's n_jobs (default: THREADS)")
    a = ap.parse_args()
    jobs = a.sklearn_jobs or a.threads
    exe = os.path.abspath(a.hpsearch)
    df = pd.read_csv(a.data)
    y = df["target"].to_numpy()
    x = df.drop(columns=["target"]).to_numpy(dtype=float)
    load_before = os.getloadavg()
    print(
        f"scikit-learn {sklearn.__version__}; {Path(a.data).name} "
        f"({x.shape[0]} x {x.shape[1]}, {len(np.unique(y))} classes); "
        f"{a.trials} trials, 5 folds, max_iter={a.max_iter}; "
        f"hpsearch --threads {a.threads}, RandomizedSearchCV n_jobs={jobs}; "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}"
    )
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    hp_walls, sk_walls, hp_best, sk_best = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        toml = work / "search.toml"
        write_search(toml, a.data, a.trials, a.max_iter)
        for r in range(a.rounds):
            out = work / f"out{r}"
            hw, trials = run_hpsearch(exe, toml, out, a.threads)
            folds = pd.read_csv(out / "folds.csv")["fold"].to_numpy()
            ok = trials[trials["status"] == "ok"]
            if len(ok) != a.trials:
                sys.exit(f"hpsearch: {len(ok)} of {a.trials} trials ok")
            sw, best, scores = run_sklearn(x, y, folds, ok, jobs, a.max_iter)
            hb = float(ok["value"].max())
            same = int(np.sum(np.isclose(ok["value"].to_numpy(), scores, rtol=0, atol=1e-12)))
            print(
                f"round {r + 1}: hpsearch {hw:7.1f} s (best {hb:.4f})   "
                f"scikit-learn {sw:7.1f} s (best {best:.4f})   "
                f"ratio {sw / hw:5.2f}   equal trial scores {same}/{a.trials}"
            )
            hp_walls.append(hw)
            sk_walls.append(sw)
            hp_best.append(hb)
            sk_best.append(best)
    load_after = os.getloadavg()
    hm, sm = statistics.median(hp_walls), statistics.median(sk_walls)
    print(
        f"median of {a.rounds}: hpsearch {hm:.1f} s, scikit-learn {sm:.1f} s, "
        f"ratio (scikit-learn / hpsearch) {sm / hm:.2f}; best CV accuracy "
        f"hpsearch {statistics.median(hp_best):.4f}, scikit-learn {statistics.median(sk_best):.4f}"
    )
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
