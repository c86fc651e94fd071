"""Driver for bench_forest.sh: random-forest searches, hpsearch before and
after a change against scikit-learn, side by side in one run.

(1) Issue 22's workload (benches/forest/synth30_forest.toml): 30 random
    candidates of a 30-tree forest on 20,000 x 30 rows, 5-fold CV, hpsearch
    --threads 2 against scikit-learn's RandomizedSearchCV(n_jobs=2) on the
    very same candidates (read from hpsearch's trials.csv) and folds
    (folds.csv -> PredefinedSplit).
(2) bench_halving.sh's forest case (benches/halving/synth_forest_halving.toml):
    81 random candidates under successive halving on samples, against
    HalvingRandomSearchCV (n_jobs=1 and 2) over the same distributions.

Every arm runs once per round, the arms of a round one after the other, so
that each ratio compares runs made in the same machine state. The tables
give medians over the rounds (min-max) of the wall time and of the CPU time
(user + system: hpsearch's process; scikit-learn's process and its joblib
workers), the best CV accuracy and the load average before each round. On a
loaded machine the CPU time is the steadier measure of the work done."""
import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import bench_halving  # noqa: E402

SYNTH30 = os.path.join(ROOT, "target", "bench-data", "synth20k_30.csv")
ISSUE22 = "benches/forest/synth30_forest.toml"
HALVING = "benches/halving/synth_forest_halving.toml"


def children_cpu():
    """CPU seconds of the children this process has waited for."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def own_cpu():
    """CPU seconds of this process and of its live children (joblib's
    workers), read from /proc."""
    t = os.times()
    total = t.user + t.system
    tick = os.sysconf("SC_CLK_TCK")
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def hpsearch(binary, config, threads, out):
    c0 = children_cpu()
    t0 = time.perf_counter()
    p = subprocess.run([binary, "run", config, "--threads", str(threads), "--out", out, "--quiet"],
                       cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu = children_cpu() - c0
    if p.returncode != 0:
        sys.exit(f"{binary} failed on {config}:\n{p.stderr}")
    best = next(float(line.rsplit("=", 1)[1]) for line in p.stdout.splitlines()
                if line.startswith("best trial"))
    return wall, best, cpu


def trials(out):
    """hpsearch's candidates: one dict of scikit-learn parameters a trial."""
    with open(os.path.join(out, "trials.csv"), newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    names = head[head.index("value") + 1:next(i for i, h in enumerate(head) if h.startswith("fold_"))]
    out = []
    for r in rows[1:]:
        cand = dict(zip(names, r[head.index("value") + 1:]))
        mf = cand["max_features"]
        out.append({"max_depth": int(cand["max_depth"]), "min_samples_leaf": int(cand["min_samples_leaf"]),
                    "max_features": mf if mf in ("sqrt", "log2") else float(mf)})
    return out


def sklearn_random(candidates, folds_csv, n_jobs):
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import PredefinedSplit, RandomizedSearchCV

    class Given(RandomizedSearchCV):
        """RandomizedSearchCV evaluating the candidates it is given, in order."""

        def _run_search(self, evaluate_candidates):
            evaluate_candidates(candidates)

    X, y = bench_halving.read_csv(SYNTH30)
    fold = np.loadtxt(folds_csv, delimiter=",", skiprows=1, dtype=int, ndmin=2)[:, -1]
    search = Given(RandomForestClassifier(n_estimators=30, random_state=0), {}, n_iter=len(candidates),
                   cv=PredefinedSplit(fold), scoring="accuracy", refit=False, n_jobs=n_jobs)
    c0 = own_cpu()
    t0 = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - t0, float(search.best_score_), own_cpu() - c0


def med(xs):
    return statistics.median(xs), min(xs), max(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="hpsearch binary before the change")
    ap.add_argument("--after", required=True, help="hpsearch binary after the change")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--halving-jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--only", nargs="+", default=["issue22", "halving"], choices=["issue22", "halving"])
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="hpsearch-forest-bench-")
    bins = {"before": args.before, "after": args.after}
    print(f"before: {args.before}\nafter: {args.after}\nwork: {work}", flush=True)
    res = {}  # (case, arm) -> [(wall, best)]
    loads = []
    for r in range(args.rounds):
        loads.append(os.getloadavg())
        print(f"round {r}: load average {loads[-1]}", flush=True)
        if "issue22" in args.only:
            outs = {}
            for name, b in bins.items():
                outs[name] = os.path.join(work, f"i22-{name}-{r}")
                res.setdefault(("issue22", name), []).append(hpsearch(b, ISSUE22, args.threads, outs[name]))
            same = trials(outs["before"]) == trials(outs["after"])
            with open(os.path.join(outs["before"], "trials.csv"), "rb") as a, \
                    open(os.path.join(outs["after"], "trials.csv"), "rb") as b:
                identical = a.read() == b.read()
            res.setdefault(("issue22", "identical"), []).append(identical)
            res.setdefault(("issue22", "sklearn"), []).append(
                sklearn_random(trials(outs["after"]), os.path.join(outs["after"], "folds.csv"), 2))
            print("  issue22: " + ", ".join(f"{k} {v[-1][0]:.2f}s (cpu {v[-1][2]:.2f}s) best {v[-1][1]:.6f}"
                                             for (c, k), v in res.items() if c == "issue22" and k != "identical")
                  + f"; same candidates {same}; trials.csv identical before/after {identical}", flush=True)
        if "halving" in args.only:
            outs = {}
            for name, b in bins.items():
                outs[name] = os.path.join(work, f"halving-{name}-{r}")
                res.setdefault(("halving", name), []).append(hpsearch(b, HALVING, args.threads, outs[name]))
            with open(os.path.join(outs["before"], "trials.csv"), "rb") as a, \
                    open(os.path.join(outs["after"], "trials.csv"), "rb") as b:
                res.setdefault(("halving", "identical"), []).append(a.read() == b.read())
            for nj in args.halving_jobs:
                c0 = own_cpu()
                w, best, _, _ = bench_halving.sklearn_search("synth_forest", 740, "random", nj)
                res.setdefault(("halving", f"sklearn n_jobs={nj}"), []).append((w, best, own_cpu() - c0))
            print("  halving: " + ", ".join(f"{k} {v[-1][0]:.2f}s (cpu {v[-1][2]:.2f}s) best {v[-1][1]:.6f}"
                                             for (c, k), v in res.items() if c == "halving" and k != "identical")
                  + f"; trials.csv identical before/after {res[('halving', 'identical')][-1]}", flush=True)
    print(f"\nload average at end: {os.getloadavg()}; before each round: "
          + ", ".join(f"{l[0]:.1f}" for l in loads))
    print(f"hpsearch --threads {args.threads}; medians of {args.rounds} rounds (min-max); best = best mean CV accuracy\n")
    print("| workload | arm | wall s | CPU s | best CV accuracy |")
    print("|---|---|---|---|---|")
    for (case, arm), v in res.items():
        if arm == "identical":
            continue
        m, lo, hi = med([x[0] for x in v])
        cm, clo, chi = med([x[2] for x in v])
        print(f"| {case} | {arm} | {m:.2f} ({lo:.2f}-{hi:.2f}) | {cm:.2f} ({clo:.2f}-{chi:.2f}) | {v[0][1]:.6f} |")
    print()
    for case in args.only:
        for i, what in ((0, "wall"), (2, "CPU")):
            before = med([x[i] for x in res[(case, "before")]])[0]
            after = med([x[i] for x in res[(case, "after")]])[0]
            sk = min(med([x[i] for x in v])[0] for (c, k), v in res.items()
                     if c == case and k.startswith("sklearn"))
            print(f"{case} {what}: before/after {before / after:.2f}x; scikit-learn (better n_jobs) / before "
                  f"{sk / before:.2f}x, / after {sk / after:.2f}x")
        print(f"{case}: trials.csv identical before/after in every round: {all(res[(case, 'identical')])}")


if __name__ == "__main__":
    main()
