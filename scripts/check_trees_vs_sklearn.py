#!/usr/bin/env python3
"""Reference numbers for hpsearch's own decision tree and random forest.

Fits scikit-learn's trees and forests on one fixed split of the shipped data
(rows whose 0-based index is a multiple of 5 are the test set, the others
train) and prints test accuracy (classification) or R^2 (regression). The
Rust tests in src/objective/models/{tree,forest}.rs use the same split and
assert that hpsearch's numbers stay within a margin of these; docs/trees.md
records both.

scikit-learn's trees draw a random feature order even with
max_features=None, which decides ties, so every number is given over
random_state 0..9 as mean [min, max].

Usage: python3 scripts/check_trees_vs_sklearn.py [DATA_DIR]   (default: data)
"""
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

SEEDS = range(10)


def load(data_dir, name):
    path = Path(data_dir) / f"{name}.csv"
    arr = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = arr[:, :-1], arr[:, -1]
    test = np.arange(len(y)) % 5 == 0
    return x[~test], y[~test], x[test], y[test]


def summary(make, score, data):
    xtr, ytr, xte, yte = data
    vals = []
    for s in SEEDS:
        m = make(s).fit(xtr, ytr)
        vals.append(score(yte, m.predict(xte)))
    vals = np.array(vals)
    return f"{vals.mean():.4f} [{vals.min():.4f}, {vals.max():.4f}]"


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else "data"
    print(f"scikit-learn {sklearn.__version__}; test = rows with index % 5 == 0")
    for name in ["wine", "breast_cancer"]:
        data = load(data_dir, name)
        for depth in [3, None]:
            r = summary(
                lambda s: DecisionTreeClassifier(max_depth=depth, random_state=s),
                accuracy_score,
                data,
            )
            print(f"{name:14s} DecisionTreeClassifier(max_depth={depth}) accuracy {r}")
        r = summary(
            lambda s: RandomForestClassifier(n_estimators=100, random_state=s),
            accuracy_score,
            data,
        )
        print(f"{name:14s} RandomForestClassifier(n_estimators=100) accuracy {r}")
    data = load(data_dir, "diabetes")
    for depth in [3, 5]:
        r = summary(
            lambda s: DecisionTreeRegressor(max_depth=depth, random_state=s), r2_score, data
        )
        print(f"diabetes       DecisionTreeRegressor(max_depth={depth}) R2 {r}")
    r = summary(
        lambda s: RandomForestRegressor(n_estimators=100, random_state=s), r2_score, data
    )
    print(f"diabetes       RandomForestRegressor(n_estimators=100) R2 {r}")

    # Speed reference: the wine grid of the brief, 10 depths x 4 splits x 5 folds.
    arr = np.loadtxt(Path(data_dir) / "wine.csv", delimiter=",", skiprows=1)
    x, y = arr[:, :-1], arr[:, -1]
    folds = np.arange(len(y)) % 5
    t0 = time.perf_counter()
    for depth in range(1, 11):
        for mss in [2, 4, 8, 16]:
            for k in range(5):
                tr = folds != k
                DecisionTreeClassifier(
                    max_depth=depth, min_samples_split=mss, random_state=0
                ).fit(x[tr], y[tr])
    print(f"wine grid, 200 DecisionTreeClassifier fits: {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
