#!/usr/bin/env python3
"""Write a large numeric CSV with a binary target, for memory benchmarks.

    scripts/gen_big_csv.py OUT.csv [ROWS] [FEATURES] [SEED] [DIGITS]

Defaults: 2,000,000 rows x 12 features (about 200 MB). Feature cells are
uniform in [-1, 1) with DIGITS decimals (default 5), or in shortest
round-trip form (Python's repr, about 19 characters, as pandas' to_csv
writes them) when DIGITS is `repr`; the target is 1 when a fixed linear
score plus noise is positive. The same arguments write the same bytes.
"""
import random
import sys


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    features = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    digits = sys.argv[5] if len(sys.argv) > 5 else "5"
    cell = repr if digits == "repr" else f"{{:.{int(digits)}f}}".format
    rng = random.Random(seed)
    weights = [rng.uniform(-1, 1) for _ in range(features)]
    with open(out, "w", newline="\n") as f:
        f.write(",".join(f"x{j}" for j in range(features)) + ",target\n")
        chunk = []
        for _ in range(rows):
            xs = [rng.random() * 2 - 1 for _ in range(features)]
            score = sum(w * x for w, x in zip(weights, xs)) + rng.gauss(0, 0.5)
            chunk.append(",".join(cell(x) for x in xs) + (",1\n" if score > 0 else ",0\n"))
            if len(chunk) == 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))


if __name__ == "__main__":
    main()
