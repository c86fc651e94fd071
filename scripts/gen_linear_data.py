#!/usr/bin/env python3
"""Write a numeric CSV for the linear-model path benchmarks (issue 22).

    scripts/gen_linear_data.py OUT.csv KIND [ROWS] [FEATURES] [SEED]

KIND is `regression` (target = a fixed linear score of the features plus
Gaussian noise, for elastic_net / ridge / lasso) or `binary` (target 1 when
that score plus logistic noise is positive, for logistic_regression).
Defaults: 100,000 rows x 50 features. Features are Gaussian, some of them
correlated (each feature adds 0.5 times the previous one), written with 6
decimals. The same arguments write the same bytes.
"""
import math
import random
import sys


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("regression", "binary"):
        sys.exit("usage: gen_linear_data.py OUT.csv regression|binary [ROWS] [FEATURES] [SEED]")
    out, kind = sys.argv[1], sys.argv[2]
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    features = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    rng = random.Random(seed)
    # A sparse truth: a third of the weights are zero.
    weights = [0.0 if j % 3 == 2 else rng.gauss(0, 1) for j in range(features)]
    with open(out, "w", newline="\n") as f:
        f.write(",".join(f"x{j}" for j in range(features)) + ",target\n")
        chunk = []
        for _ in range(rows):
            xs = []
            prev = 0.0
            for _ in range(features):
                prev = rng.gauss(0, 1) + 0.5 * prev
                xs.append(prev)
            score = sum(w * x for w, x in zip(weights, xs))
            if kind == "regression":
                target = f"{score + rng.gauss(0, 2.0):.6f}"
            else:
                u = min(max(rng.random(), 1e-12), 1 - 1e-12)
                target = "1" if score + math.log(u / (1 - u)) > 0 else "0"
            chunk.append(",".join(f"{x:.6f}" for x in xs) + "," + target + "\n")
            if len(chunk) == 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))


if __name__ == "__main__":
    main()
