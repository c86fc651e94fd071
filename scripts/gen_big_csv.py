#!/usr/bin/env python3
"""Write a large numeric CSV with a binary target, for memory benchmarks.

    scripts/gen_big_csv.py OUT.csv [ROWS] [FEATURES] [SEED]

Defaults: 2,000,000 rows x 12 features (about 200 MB). Feature cells are
uniform in [-1, 1) with 5 decimals; the target is 1 when a fixed linear
score plus noise is positive. The same arguments write the same bytes.
"""
import random
import sys


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    features = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    rng = random.Random(seed)
    weights = [rng.uniform(-1, 1) for _ in range(features)]
    with open(out, "w", newline="\n") as f:
        f.write(",".join(f"x{j}" for j in range(features)) + ",target\n")
        chunk = []
        for _ in range(rows):
            xs = [rng.random() * 2 - 1 for _ in range(features)]
            score = sum(w * x for w, x in zip(weights, xs)) + rng.gauss(0, 0.5)
            chunk.append(",".join(f"{x:.5f}" for x in xs) + (",1\n" if score > 0 else ",0\n"))
            if len(chunk) == 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))


if __name__ == "__main__":
    main()
