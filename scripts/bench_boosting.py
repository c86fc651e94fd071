#!/usr/bin/env python3
"""Helper of scripts/bench_boosting.sh.

  bench_boosting.py gen OUT.csv   write make_classification(n_samples=100000,
                                  n_features=30, n_informative=15,
                                  random_state=0) with a `target` column
  bench_boosting.py fit IN.csv    fit HistGradientBoostingClassifier
                                  (defaults, early_stopping=False) and print
                                  the seconds the fit took
"""
import sys
import time

import numpy as np


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "gen":
        from sklearn.datasets import make_classification

        x, y = make_classification(
            n_samples=100_000, n_features=30, n_informative=15, random_state=0
        )
        header = ",".join([f"x{i}" for i in range(30)] + ["target"])
        np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header,
                   comments="", fmt="%.17g")
    elif cmd == "fit":
        from sklearn.ensemble import HistGradientBoostingClassifier

        data = np.loadtxt(path, delimiter=",", skiprows=1)
        x, y = data[:, :-1], data[:, -1]
        model = HistGradientBoostingClassifier(early_stopping=False, random_state=0)
        start = time.perf_counter()
        model.fit(x, y)
        print(f"{time.perf_counter() - start:.3f}")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
