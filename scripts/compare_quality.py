#!/usr/bin/env python3
"""Median simple regret of hpsearch beside a peer's, with a test of the gap.

Reads runs in the columns of ../shared/anchors/quality.csv
(function,method,budget,seed,best,regret,wall_s): hpsearch's from
`cargo bench --bench strategies -- quality --csv ours.csv`, the peer's from
the anchors' quality.py (`--out theirs.csv`). For each function it prints
both medians with their quartiles and seed counts, the ratio of medians,
and the two-sided Mann-Whitney U p-value: a ratio above 1 with a large p
is seed noise, not a worse method.

    scripts/compare_quality.py OURS.csv:hpsearch_tpe_w1 THEIRS.csv:tpe [--budget 100]

Needs numpy and scipy (target/optuna-venv has both).
"""
import argparse
import csv
from collections import defaultdict

import numpy as np
from scipy.stats import mannwhitneyu

ORDER = ["branin", "hartmann6", "rosenbrock4", "ackley5", "levy10", "stybtang8", "mixed5"]


def load(spec, budget):
    path, method = spec.rsplit(":", 1)
    by = defaultdict(dict)
    for r in csv.DictReader(open(path)):
        if r["method"] == method and int(r["budget"]) == budget:
            by[r["function"]][int(r["seed"])] = float(r["regret"])
    return {f: np.array([v[s] for s in sorted(v)]) for f, v in by.items()}


def cell(x):
    q1, m, q3 = np.percentile(x, [25, 50, 75])
    return f"{m:.4g} [{q1:.3g}, {q3:.3g}] (n={len(x)})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("--budget", type=int, default=100)
    a = ap.parse_args()
    ours, theirs = load(a.ours, a.budget), load(a.theirs, a.budget)
    print(f"Budget {a.budget}: {a.ours} against {a.theirs}\n")
    print("| function | hpsearch | peer | ratio of medians | Mann-Whitney p |")
    print("|---|---|---|---|---|")
    for f in [f for f in ORDER if f in ours and f in theirs]:
        x, y = ours[f], theirs[f]
        p = mannwhitneyu(x, y, alternative="two-sided").pvalue
        ratio = np.median(x) / np.median(y) if np.median(y) > 0 else float("nan")
        print(f"| {f} | {cell(x)} | {cell(y)} | {ratio:.2f} | {p:.3f} |")


if __name__ == "__main__":
    main()
