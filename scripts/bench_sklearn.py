"""Driver for bench_sklearn.sh: runs the peer harness, then hpsearch on the
same grids, and prints one table of medians and ratios."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "hpsearch")

# harness case -> (hpsearch config, what it is)
CASES = {
    "a": ("configs/breast_cancer_logreg.toml", "LogisticRegression, breast_cancer, 20 C"),
    "b": ("configs/wine_tree.toml", "DecisionTree, wine, 10 depths x 4 splits"),
    "c": ("configs/diabetes_elastic_net.toml", "ElasticNet, diabetes, 20 alpha x 6 l1_ratio"),
    "d": ("configs/digits_svm.toml", "SVC rbf, digits, 8 C x 8 gamma"),
}


def run_hpsearch(config, threads, out):
    t0 = time.perf_counter()
    p = subprocess.run([BIN, "run", config, "--threads", str(threads), "--out", out, "--quiet"],
                       cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"hpsearch failed on {config}:\n{p.stderr}")
    best = None
    for line in p.stdout.splitlines():
        if line.startswith("best trial"):
            best = float(line.rsplit("=", 1)[1])
    return wall, best, p.stdout


def sklearn_on_our_folds(anchors_dir, key, folds_csv):
    """scikit-learn's best score on the very folds hpsearch used
    (folds.csv -> PredefinedSplit): separates solver differences from fold
    differences."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    sys.path.insert(0, anchors_dir)
    import sklearn_grid
    case = sklearn_grid.make_cases()[key]
    X, y = sklearn_grid.read_csv(case["data"])
    # One fold per data row (older folders: row,line,fold; the fold last).
    fold = np.loadtxt(folds_csv, delimiter=",", skiprows=1, dtype=int, ndmin=2)[:, -1]
    gs = GridSearchCV(clone(case["est"]), case["grid"], cv=PredefinedSplit(fold), n_jobs=2)
    gs.fit(X, y.astype(int) if case["classif"] else y)
    return float(gs.best_score_)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anchors", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sk-repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=list(CASES))
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="hpsearch-bench-")
    # The harness writes its CSVs to ../data beside itself: give it a copy.
    shutil.copytree(args.anchors, os.path.join(work, "anchors"))
    os.makedirs(os.path.join(work, "data"), exist_ok=True)
    sk_json = os.path.join(work, "sk.json")
    print(f"load average at start: {os.getloadavg()}", flush=True)
    print("running scikit-learn's GridSearchCV harness ...", flush=True)
    subprocess.run([sys.executable, "sklearn_grid.py", "--skip-optuna", "--repeats", str(args.sk_repeats),
                    "--only", *args.only, "--md", os.path.join(work, "sk.md"), "--json", sk_json],
                   cwd=os.path.join(work, "anchors"), check=True, stdout=subprocess.DEVNULL)
    sk = json.load(open(sk_json))["grid"]

    rows = []
    for key in args.only:
        config, title = CASES[key]
        walls, best = [], None
        for r in range(args.repeats):
            out = os.path.join(work, f"hp-{key}-{r}")
            wall, best, _ = run_hpsearch(config, args.threads, out)
            walls.append(wall)
        hp = statistics.median(walls)
        sk1 = statistics.median(x["wall"] for x in sk[key]["1"])
        sk2 = statistics.median(x["wall"] for x in sk[key]["2"])
        sk_best_time = min(sk1, sk2)
        sk_score = sk[key]["1"][0]["best_score"]
        sk_ours = sklearn_on_our_folds(os.path.join(work, "anchors"), key,
                                       os.path.join(work, f"hp-{key}-0", "folds.csv"))
        rows.append((key, title, hp, min(walls), max(walls), sk1, sk2, sk_best_time / hp, best, sk_score, sk_ours))
        print(f"({key}) done: hpsearch {hp:.3f}s", flush=True)

    print(f"\nload average at end: {os.getloadavg()}")
    print(f"hpsearch --threads {args.threads}: median of {args.repeats} runs (whole process, including data loading)")
    print(f"scikit-learn: median of {args.sk_repeats} GridSearchCV fits, n_jobs=1 and n_jobs=2\n")
    print("sklearn best: its own folds (StratifiedKFold/KFold(5, shuffle, random_state=0));"
          " sklearn on ours: the same grid on hpsearch's folds (folds.csv, PredefinedSplit)\n")
    print("| case | grid | hpsearch s (min-max) | sklearn nj=1 s | sklearn nj=2 s | speed-up vs sklearn's better | hpsearch best | sklearn best | diff | sklearn on our folds | diff |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key, title, hp, lo, hi, sk1, sk2, ratio, best, sks, sko in rows:
        diff = (best - sks) / abs(sks) * 100
        diff2 = (best - sko) / abs(sko) * 100
        print(f"| ({key}) | {title} | {hp:.3f} ({lo:.3f}-{hi:.3f}) | {sk1:.3f} | {sk2:.3f} | {ratio:.2f}x "
              f"| {best:.6f} | {sks:.6f} | {diff:+.2f}% | {sko:.6f} | {diff2:+.2f}% |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
