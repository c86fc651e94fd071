"""Driver for bench_halving.sh: three arms on each input, side by side.

(a) hpsearch: 81 candidates under successive_halving on `samples`
    (benches/halving/*_halving.toml);
(b) hpsearch: 81 candidates without pruning (benches/halving/*.toml);
(c) scikit-learn's HalvingRandomSearchCV(n_candidates=81, factor=3,
    resource="n_samples") over the same distributions (random cases) or
    HalvingGridSearchCV over the same grid (grid cases), n_jobs=1 and 2.

Each arm runs `rounds` times; the tables give the median wall time (whole
process for hpsearch, the fit for scikit-learn) and the best CV score.

The resources: hpsearch counts the training rows of each fold, scikit-learn
the rows handed to its 5-fold CV (4/5 of them train each fit), so
scikit-learn's min_resources is the one whose rungs train on about as many
rows as hpsearch's (digits: 66 -> 52.8, 158, 475, 1426 rows per fit against
hpsearch's 54, 162, 486, 1437; synthetic: 740 -> 592, 1776, 5328, 15984
against 593, 1779, 5337, 16000), and its max_resources is every row."""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYNTH = os.path.join(ROOT, "target", "bench-data", "synth20k.csv")

# case -> (title, hpsearch file without pruning, with pruning, scikit-learn
# min_resources, "random" (HalvingRandomSearchCV) or "grid" (HalvingGridSearchCV)).
# The random cases draw different candidates in (a) and (b), as a trial's
# seed comes from the root hash, which the resource and pruner keys change;
# the grid cases evaluate the very same 81 candidates in (a), (b) and (c).
CASES = {
    "digits_svm": ("RBF SVM, digits (1797 rows), random", "benches/halving/digits_svm.toml",
                   "benches/halving/digits_svm_halving.toml", 66, "random"),
    "synth_forest": ("random forest (30 trees), synthetic (20000 rows), random", "benches/halving/synth_forest.toml",
                     "benches/halving/synth_forest_halving.toml", 740, "random"),
    "digits_svm_grid": ("RBF SVM, digits (1797 rows), 9 x 9 grid", "benches/halving/digits_svm_grid.toml",
                        "benches/halving/digits_svm_grid_halving.toml", 66, "grid"),
    "synth_forest_grid": ("random forest (30 trees), synthetic (20000 rows), grid of 81",
                          "benches/halving/synth_forest_grid.toml",
                          "benches/halving/synth_forest_grid_halving.toml", 740, "grid"),
}


def hpsearch(binary, config, threads, out):
    t0 = time.perf_counter()
    p = subprocess.run([binary, "run", config, "--threads", str(threads), "--out", out, "--quiet"],
                       cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"hpsearch failed on {config}:\n{p.stderr}")
    best = None
    counts = ""
    for line in p.stdout.splitlines():
        if line.startswith("best trial"):
            best = float(line.rsplit("=", 1)[1])
        if " trials (" in line:
            counts = line.split("), ")[0] + ")"
    return wall, best, counts


def candidates(trials_csv):
    """(trial, parameters...) of every row: the candidates a search evaluated."""
    import csv
    with open(trials_csv, newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    end = next(i for i, h in enumerate(head) if h.startswith("fold_"))
    keep = [0] + list(range(head.index("value") + 1, end))
    return [tuple(r[i] for i in keep) for r in rows[1:]]


def accepts(binary, config):
    p = subprocess.run([binary, "check", config], cwd=ROOT, capture_output=True, text=True)
    return p.returncode == 0, p.stderr.strip().splitlines()[:3]


def read_csv(path):
    import numpy as np
    with open(path) as fh:
        header = fh.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    t = header.index("target")
    return np.delete(data, t, axis=1), data[:, t].astype(int)


def sklearn_search(case, min_resources, kind, n_jobs):
    import numpy as np
    from scipy.stats import loguniform, randint
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV, HalvingRandomSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    if case.startswith("digits_svm"):
        X, y = read_csv(os.path.join(ROOT, "data", "digits.csv"))
        est = make_pipeline(StandardScaler(), SVC(kernel="rbf"))
        dist = {"svc__C": loguniform(1e-2, 1e3), "svc__gamma": loguniform(1e-5, 1e-1)}
        grid = {"svc__C": np.logspace(-2, 3, 9), "svc__gamma": np.logspace(-5, -1, 9)}
    else:
        X, y = read_csv(SYNTH)
        est = RandomForestClassifier(n_estimators=30, random_state=0)
        dist = {"max_depth": randint(2, 13), "max_features": ["sqrt", "log2", 0.5],
                "min_samples_leaf": randint(1, 9)}
        grid = {"max_depth": list(range(2, 11)), "max_features": ["sqrt", "log2", 0.5],
                "min_samples_leaf": [1, 4, 7]}
    common = dict(factor=3, resource="n_samples", min_resources=min_resources, max_resources=len(y), cv=5,
                  scoring="accuracy", refit=False, random_state=0, n_jobs=n_jobs)
    if kind == "grid":
        search = HalvingGridSearchCV(est, grid, **common)
    else:
        search = HalvingRandomSearchCV(est, dist, n_candidates=81, **common)
    t0 = time.perf_counter()
    search.fit(X, y)
    wall = time.perf_counter() - t0
    return wall, float(search.best_score_), list(search.n_candidates_), list(search.n_resources_)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=["digits_svm", "synth_forest"], choices=list(CASES))
    args = ap.parse_args()

    import tempfile
    work = tempfile.mkdtemp(prefix="hpsearch-halving-bench-")
    print(f"hpsearch: {args.bin}")
    print(f"load average at start: {os.getloadavg()}", flush=True)
    rows = []
    for case in args.only:
        title, plain, halving, sk_min, kind = CASES[case]
        ok_a, why = accepts(args.bin, halving)
        if not ok_a:
            print(f"{case}: arm (a) skipped, this hpsearch refuses {halving}: {' / '.join(why)}", flush=True)
        arms = {"a": [], "b": [], "c1": [], "c2": []}
        info = {}
        for r in range(args.rounds):
            if ok_a:
                w, best, counts = hpsearch(args.bin, halving, args.threads, os.path.join(work, f"{case}-a-{r}"))
                arms["a"].append((w, best))
                info["a"] = counts
            w, best, counts = hpsearch(args.bin, plain, args.threads, os.path.join(work, f"{case}-b-{r}"))
            arms["b"].append((w, best))
            info["b"] = counts
            for nj in (1, 2):
                w, best, cands, res = sklearn_search(case, sk_min, kind, nj)
                arms[f"c{nj}"].append((w, best))
                info["c"] = f"candidates {cands} at n_samples {res}"
            if ok_a and r == 0:
                same = candidates(os.path.join(work, f"{case}-a-0", "trials.csv")) == \
                    candidates(os.path.join(work, f"{case}-b-0", "trials.csv"))
                info["same"] = same
                print(f"{case}: arms (a) and (b) evaluated the same 81 candidates: {same}", flush=True)
            print(f"{case} round {r}: " + ", ".join(f"{k} {v[-1][0]:.2f}s best {v[-1][1]:.6f}"
                                                   for k, v in arms.items() if v), flush=True)
        rows.append((case, title, arms, info))

    print(f"\nload average at end: {os.getloadavg()}")
    print(f"hpsearch --threads {args.threads}; medians of {args.rounds} rounds (min-max); "
          "best = best mean CV accuracy (scikit-learn: best_score_, at its last rung).\n")
    print("| input | arm | wall s | best CV accuracy | what ran |")
    print("|---|---|---|---|---|")
    names = {"a": "(a) hpsearch, successive_halving on samples", "b": "(b) hpsearch, no pruning",
             "c1": "(c) scikit-learn's halving search n_jobs=1", "c2": "(c) scikit-learn's halving search n_jobs=2"}
    for case, title, arms, info in rows:
        for k in ("a", "b", "c1", "c2"):
            if not arms[k]:
                print(f"| {title} | {names[k]} | not run | | this hpsearch has no `resource` key |")
                continue
            ws = [w for w, _ in arms[k]]
            what = info.get(k[0], "")
            print(f"| {title} | {names[k]} | {statistics.median(ws):.2f} ({min(ws):.2f}-{max(ws):.2f}) "
                  f"| {arms[k][0][1]:.6f} | {what} |")
    for case, title, arms, info in rows:
        if "same" in info:
            print(f"\n{title}: (a) and (b) evaluated the same 81 candidates (trial, parameters): {info['same']}")
    print("\nGoals: (b)/(a) wall >= 3 with the best score within 0.5 %; (c at its better n_jobs)/(a) wall >= 5.\n")
    print("| input | (b)/(a) wall | best (a) - (b) | (c)/(a) wall | (c)/(b) wall |")
    print("|---|---|---|---|---|")
    for case, title, arms, info in rows:
        b = statistics.median(w for w, _ in arms["b"])
        c = min(statistics.median(w for w, _ in arms["c1"]), statistics.median(w for w, _ in arms["c2"]))
        if arms["a"]:
            a = statistics.median(w for w, _ in arms["a"])
            gap = (arms["a"][0][1] - arms["b"][0][1]) / arms["b"][0][1] * 100
            print(f"| {title} | {b / a:.2f}x | {gap:+.2f} % | {c / a:.2f}x | {c / b:.2f}x |")
        else:
            print(f"| {title} | not run | not run | not run | {c / b:.2f}x |")


if __name__ == "__main__":
    main()
