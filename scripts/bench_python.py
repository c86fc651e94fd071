"""The Python package against Optuna, side by side in one run (issue 18,
point 5).

1. `hpsearch.optimize` over Hartmann6 written in Python, 1,000 trials, tpe,
   against Optuna's TPESampler (its defaults) on the same function: total
   wall time of the call, per seed, alternating which runs first; the ratio
   of the medians. Best values are printed too (a sanity check, not a
   quality claim).
2. The per-trial overhead of calling a trivial Python objective (`return
   0.0`) from 1, 2 and 4 threads, with the random strategy (no model): wall
   time / trials.

Needs the package (see python/README.md) and optuna in the same interpreter:
    pip install optuna==5.0.0
    python scripts/bench_python.py [--seeds 3] [--trials 1000]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time

import hpsearch

# Hartmann6 (Surjanovic & Bingham), pure Python: both libraries call this.
A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]
ALPHA = [1.0, 1.2, 3.0, 3.2]
NAMES = [f"x{i}" for i in range(6)]


def hartmann6(x):
    return -sum(
        ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6)))
        for i in range(4)
    )


def run_hpsearch(seed: int, trials: int, out: str) -> "tuple[float, float]":
    space = {n: hpsearch.Float(0.0, 1.0) for n in NAMES}

    def objective(trial):
        p = trial.params
        return hartmann6([p[n] for n in NAMES])

    began = time.perf_counter()
    study = hpsearch.optimize(
        objective, space, strategy="tpe", trials=trials, seed=seed, threads=1, out=out,
        name="hartmann6",
    )
    return time.perf_counter() - began, study.best_value


def run_optuna(seed: int, trials: int) -> "tuple[float, float]":
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        return hartmann6([trial.suggest_float(n, 0.0, 1.0) for n in NAMES])

    began = time.perf_counter()
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return time.perf_counter() - began, study.best_value


def overhead(threads: int, trials: int, out: str) -> float:
    space = {n: hpsearch.Float(0.0, 1.0) for n in NAMES}
    began = time.perf_counter()
    hpsearch.optimize(
        lambda t: 0.0, space, strategy="random", trials=trials, seed=0, threads=threads,
        out=out, name="trivial",
    )
    return (time.perf_counter() - began) / trials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--overhead-trials", type=int, default=5000)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    hp, op, hp_best, op_best = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            order = ("hp", "op") if seed % 2 == 0 else ("op", "hp")
            for who in order:
                if who == "hp":
                    t, b = run_hpsearch(seed, args.trials, os.path.join(tmp, f"h{seed}"))
                    hp.append(t)
                    hp_best.append(b)
                else:
                    t, b = run_optuna(seed, args.trials)
                    op.append(t)
                    op_best.append(b)
            print(f"seed {seed}: hpsearch {hp[-1]:.2f} s (best {hp_best[-1]:.4f}), "
                  f"optuna {op[-1]:.2f} s (best {op_best[-1]:.4f})", flush=True)
        mh, mo = statistics.median(hp), statistics.median(op)
        print()
        print(f"| {args.trials} trials, tpe, Hartmann6 in Python | median s | per seed s |")
        print("|---|---|---|")
        print(f"| hpsearch.optimize (threads=1) | {mh:.2f} | {', '.join(f'{x:.2f}' for x in hp)} |")
        print(f"| optuna TPESampler | {mo:.2f} | {', '.join(f'{x:.2f}' for x in op)} |")
        print(f"| ratio optuna / hpsearch | {mo / mh:.1f}x | |")
        print(f"median best value: hpsearch {statistics.median(hp_best):.4f}, "
              f"optuna {statistics.median(op_best):.4f} (minimum -3.3224)")
        print()
        print(f"| threads | per-trial overhead, trivial objective, random, {args.overhead_trials} trials (median of 3) |")
        print("|---|---|")
        for threads in (1, 2, 4):
            runs = [
                overhead(threads, args.overhead_trials, os.path.join(tmp, f"o{threads}-{r}"))
                for r in range(3)
            ]
            print(f"| {threads} | {statistics.median(runs) * 1e6:.1f} µs |", flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
