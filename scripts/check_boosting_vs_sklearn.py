#!/usr/bin/env python3
"""hpsearch's gradient_boosting against scikit-learn's HistGradientBoosting,
cross-validated on the same folds.

For each shipped dataset, runs a one-trial hpsearch search (model =
"gradient_boosting", default parameters, 5 folds), reads the fold each row
was held out in from the search's `folds.csv`, fits scikit-learn's
HistGradientBoostingClassifier / Regressor with the same parameters
(early_stopping=False: hpsearch has no early stopping) on exactly those
folds, and prints both mean scores and their relative difference.

auto_mpg has missing values and a text column: both sides impute the
median of the training fold and one-hot encode `origin`.

diabetes and auto_mpg also run with loss = "absolute_error" (scored by
mean absolute error, "mae"), the other rows with the task's default loss.
auto_mpg runs a third time with impute = "none": hpsearch passes the
missing cells to the model as NaN, and scikit-learn gets them as NaN too
(no imputer), both learning the missing values' direction at each split.

With --synthetic, also a seeded 100,000 x 30 classification and regression
set (make_classification / make_regression, random_state=0).

Usage: python3 scripts/check_boosting_vs_sklearn.py [--hpsearch PATH]
       [--data DIR] [--synthetic] [--max-iter N]
(needs scikit-learn 1.9.1, numpy and pandas)
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

# (file, target, task, extra [data] lines, loss or None for the default)
SHIPPED = [
    ("breast_cancer.csv", "target", "classification", "", None),
    ("wine.csv", "target", "classification", "", None),
    ("digits.csv", "target", "classification", "", None),
    ("diabetes.csv", "target", "regression", "", None),
    ("auto_mpg.csv", "mpg", "regression", 'impute = "median"\n', None),
    ("diabetes.csv", "target", "regression", "", "absolute_error"),
    ("auto_mpg.csv", "mpg", "regression", 'impute = "median"\n', "absolute_error"),
    ("auto_mpg.csv", "mpg", "regression", 'impute = "none"\n', None),
    ("auto_mpg.csv", "mpg", "regression", 'impute = "none"\n', "absolute_error"),
]


def metric_of(task, loss):
    if task == "classification":
        return "accuracy"
    return "mae" if loss == "absolute_error" else "r2"


def hpsearch_cv(exe, work, csv, target, task, extra, max_iter, loss):
    metric = metric_of(task, loss)
    name = Path(csv).stem + (f"-{loss}" if loss else "") + ("-nan" if "none" in extra else "")
    loss_line = f'loss = "{loss}"\n' if loss else ""
    toml = work / f"{name}.toml"
    toml.write_text(
        f"""[search]
strategy = "grid"
[objective]
model = "gradient_boosting"
metric = "{metric}"
task = "{task}"
[objective.params]
max_iter = {max_iter}
{loss_line}[data]
path = "{Path(csv).resolve()}"
target = "{target}"
{extra}[cv]
folds = 5
[space]
learning_rate = {{ type = "float", values = [0.1] }}
"""
    )
    out = work / f"{name}-out"
    subprocess.run([exe, "run", str(toml), "--out", str(out), "-q"], check=True)
    trials = pd.read_csv(out / "trials.csv")
    folds = pd.read_csv(out / "folds.csv")["fold"].to_numpy()
    return float(trials["value"].iloc[0]), folds


def sklearn_cv(csv, target, task, folds, max_iter, loss, native_missing=False):
    df = pd.read_csv(csv, keep_default_na=True)
    y = df[target].to_numpy()
    x = df.drop(columns=[target])
    text = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    numeric = [c for c in x.columns if c not in text]
    params = dict(max_iter=max_iter, early_stopping=False, random_state=0)
    if loss:
        params["loss"] = loss
    scores = []
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        if task == "classification":
            model = HistGradientBoostingClassifier(**params)
        else:
            model = HistGradientBoostingRegressor(**params)
        if text or x[numeric].isna().any().any():
            pre = ColumnTransformer(
                [
                    (
                        "num",
                        "passthrough" if native_missing else SimpleImputer(strategy="median"),
                        numeric,
                    ),
                    ("txt", OneHotEncoder(handle_unknown="ignore"), text),
                ]
            )
            model = make_pipeline(pre, model)
            model.fit(x[train], y[train])
            pred = model.predict(x[test])
        else:
            model.fit(x.to_numpy()[train], y[train])
            pred = model.predict(x.to_numpy()[test])
        if task == "classification":
            scores.append(accuracy_score(y[test], pred))
        elif loss == "absolute_error":
            scores.append(mean_absolute_error(y[test], pred))
        else:
            scores.append(r2_score(y[test], pred))
    return float(np.mean(scores))


def synthetic(work):
    from sklearn.datasets import make_classification, make_regression

    x, y = make_classification(
        n_samples=100_000, n_features=30, n_informative=15, random_state=0
    )
    cols = [f"x{i}" for i in range(30)]
    cls = work / "synth_classification.csv"
    pd.DataFrame(x, columns=cols).assign(target=y).to_csv(cls, index=False)
    x, y = make_regression(
        n_samples=100_000, n_features=30, n_informative=15, noise=10.0, random_state=0
    )
    reg = work / "synth_regression.csv"
    pd.DataFrame(x, columns=cols).assign(target=y).to_csv(reg, index=False)
    return [
        (str(cls), "target", "classification", "", None),
        (str(reg), "target", "regression", "", None),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hpsearch", default="target/release/hpsearch")
    ap.add_argument("--data", default="data")
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--max-iter", type=int, default=100)
    a = ap.parse_args()
    exe = os.path.abspath(a.hpsearch)
    print(
        f"scikit-learn {sklearn.__version__}; 5 folds from hpsearch's folds.csv; "
        f"max_iter={a.max_iter}, other parameters default; early_stopping=False"
    )
    print(
        f"{'data':22s} {'loss':19s} {'metric':9s} {'hpsearch':>9s} {'sklearn':>9s} {'rel diff':>9s}"
    )
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sets = [(str(Path(a.data) / f), t, k, e, l) for f, t, k, e, l in SHIPPED]
        if a.synthetic:
            sets += synthetic(work)
        for csv, target, task, extra, loss in sets:
            ours, folds = hpsearch_cv(exe, work, csv, target, task, extra, a.max_iter, loss)
            native = 'impute = "none"' in extra
            theirs = sklearn_cv(csv, target, task, folds, a.max_iter, loss, native)
            rel = abs(ours - theirs) / abs(theirs)
            worst = max(worst, rel)
            metric = metric_of(task, loss)
            shown = (loss or "default") + (" NaN" if native else "")
            print(
                f"{Path(csv).stem:22s} {shown:19s} {metric:9s} {ours:9.4f} {theirs:9.4f} {rel:9.2%}"
            )
    print(f"largest relative difference: {worst:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
