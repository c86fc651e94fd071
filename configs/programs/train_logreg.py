"""A small training program for `hpsearch run configs/python_logreg.toml`.

Pure Python (no numpy), so it runs anywhere Python 3 does. It trains a
logistic regression by stochastic gradient descent on
data/breast_cancer.csv and prints one JSON line with its validation
log loss (and accuracy). Everything random is seeded from HPSEARCH_SEED, so the same
trial gives the same bits every time: what `hpsearch replay` checks.

What makes a script hpsearch-ready is the part marked "hpsearch":
read the parameters (here from the JSON file; `--name=value` arguments
and HPSEARCH_PARAM_<NAME> variables carry the same values), seed from
HPSEARCH_SEED, print one JSON object with a "value" key last.
"""

import csv
import json
import math
import os
import random

# --- hpsearch: parameters and seed ------------------------------------
with open(os.environ["HPSEARCH_PARAMS"]) as f:
    params = json.load(f)
seed = int(os.environ["HPSEARCH_SEED"])
lr = params["lr"]
l2 = params["l2"]
epochs = params["epochs"]
# ------------------------------------------------------------------------

with open(os.path.join("..", "data", "breast_cancer.csv")) as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
target = header.index("target")
X = [[float(v) for i, v in enumerate(r) if i != target] for r in rows]
y = [int(float(r[target])) for r in rows]

# A fixed split (the same for every trial, so trials compare fairly) ...
order = list(range(len(X)))
random.Random(0).shuffle(order)
cut = len(order) * 4 // 5
train, valid = order[:cut], order[cut:]

# ... standardised with the training rows' statistics only.
d = len(X[0])
mean = [sum(X[i][j] for i in train) / len(train) for j in range(d)]
std = [
    math.sqrt(sum((X[i][j] - mean[j]) ** 2 for i in train) / len(train)) or 1.0
    for j in range(d)
]
Z = [[(x[j] - mean[j]) / std[j] for j in range(d)] for x in X]

# Training randomness (initial weights, visiting order) comes from the seed.
rng = random.Random(seed)
w = [rng.gauss(0.0, 0.01) for _ in range(d)]
b = 0.0


def prob(z):
    s = b + sum(wj * zj for wj, zj in zip(w, z))
    return 1.0 / (1.0 + math.exp(-s)) if s >= 0 else math.exp(s) / (1.0 + math.exp(s))


for epoch in range(epochs):
    rng.shuffle(train)
    for i in train:
        g = prob(Z[i]) - y[i]
        for j in range(d):
            w[j] -= lr * (g * Z[i][j] + l2 * w[j])
        b -= lr * g

correct = 0
log_loss = 0.0
for i in valid:
    p = min(max(prob(Z[i]), 1e-15), 1 - 1e-15)
    correct += (p >= 0.5) == (y[i] == 1)
    log_loss -= math.log(p) if y[i] == 1 else math.log(1 - p)

# --- hpsearch: the result, as the last JSON line ------------------------
print(json.dumps({
    "value": log_loss / len(valid),
    "val_accuracy": correct / len(valid),
    "weight_norm": math.sqrt(sum(v * v for v in w)),
}))
