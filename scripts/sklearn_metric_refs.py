#!/usr/bin/env python3
"""Reference values for hpsearch's metrics, from scikit-learn.

Builds fixed truths and scores from the shipped data (every 10th row of
breast_cancer, every 6th of wine, every 15th of diabetes; the scores are
simple deterministic functions of one or three features, with ties) and
prints them, with scikit-learn's value of each metric, as the Rust literals
that `src/data/metrics.rs`'s test `matches_scikit_learn_on_shipped_data`
holds. Run with scikit-learn 1.9.1:

    python3 -m venv /tmp/sk && /tmp/sk/bin/pip install scikit-learn==1.9.1
    /tmp/sk/bin/python scripts/sklearn_metric_refs.py
"""
import csv
import math
import os

import sklearn
from sklearn import metrics as m

HERE = os.path.dirname(os.path.abspath(__file__))


def rows(name):
    with open(os.path.join(HERE, "..", "data", name)) as f:
        return list(csv.DictReader(f))


def lit(xs):
    return "[" + ", ".join(repr(x) for x in xs) + "]"


print(f"// scikit-learn {sklearn.__version__}")

# Binary: breast_cancer, every 10th row; the score of class 1 is a logistic
# of `mean radius`, rounded to one decimal (ties).
bc = rows("breast_cancer.csv")[::10]
y = [int(float(r["target"])) for r in bc]
p1 = [round(1.0 / (1.0 + math.exp((float(r["mean radius"]) - 14.0) / 2.0)), 1) for r in bc]
pred = [1 if p >= 0.5 else 0 for p in p1]
print(f"let yb: [usize; {len(y)}] = {lit(y)};")
print(f"let p1: [f64; {len(y)}] = {lit(p1)};")
print(f"let predb: [usize; {len(y)}] = {lit(pred)};")
for name, v in [
    ("roc_auc", m.roc_auc_score(y, p1)),
    ("average_precision", m.average_precision_score(y, p1)),
    ("brier_score", m.brier_score_loss(y, p1)),
    ("precision", m.precision_score(y, pred)),
    ("recall", m.recall_score(y, pred)),
    ("f1_weighted_binary", m.f1_score(y, pred, average="weighted")),
]:
    print(f"// {name}\n{v!r}")

# Multiclass: wine, every 6th row; probabilities a softmax of three
# features; the prediction their argmax.
wi = rows("wine.csv")[::6]
yw = [int(float(r["target"])) for r in wi]
proba = []
for r in wi:
    z = [float(r["alcohol"]) - 13.0, float(r["flavanoids"]) - 2.0, float(r["color_intensity"]) / 3.0 - 1.5]
    e = [math.exp(v) for v in z]
    s = sum(e)
    proba.append([v / s for v in e])
predw = [max(range(3), key=lambda c: p[c]) for p in proba]
print(f"let yw: [usize; {len(yw)}] = {lit(yw)};")
print(f"let pw: [[f64; 3]; {len(yw)}] = [{', '.join(lit(p) for p in proba)}];")
print(f"let predw: [usize; {len(yw)}] = {lit(predw)};")
for name, v in [
    ("roc_auc_ovr", m.roc_auc_score(yw, proba, multi_class="ovr", average="macro")),
    ("roc_auc_ovr_weighted", m.roc_auc_score(yw, proba, multi_class="ovr", average="weighted")),
    ("precision_macro", m.precision_score(yw, predw, average="macro", zero_division=0)),
    ("recall_macro", m.recall_score(yw, predw, average="macro", zero_division=0)),
    ("f1_weighted", m.f1_score(yw, predw, average="weighted", zero_division=0)),
]:
    print(f"// {name}\n{v!r}")

# Regression: diabetes, every 15th row; the prediction a line in `bmi`,
# rounded to one decimal.
di = rows("diabetes.csv")[::15]
yr = [float(r["target"]) for r in di]
pr = [round(152.0 + 900.0 * float(r["bmi"]), 1) for r in di]
print(f"let yr: [f64; {len(yr)}] = {lit(yr)};")
print(f"let pr: [f64; {len(yr)}] = {lit(pr)};")
for name, v in [
    ("mape", m.mean_absolute_percentage_error(yr, pr)),
    ("median_absolute_error", m.median_absolute_error(yr, pr)),
    ("explained_variance", m.explained_variance_score(yr, pr)),
]:
    print(f"// {name}\n{v!r}")
