"""Ablations behind issue 19 point 7 (tpe against Optuna 5 on the `ints`
space of scripts/bench_tpe_mixed.py), beside that script's table:

* `terms`: each term of the `ints` objective at the best trial, per
  optimizer (which parameter the regret comes from);
* `sobol-start`: Optuna's TPESampler started from hpsearch's first
  `n_startup` trials (its Sobol points, enqueued) instead of its own
  random ones, to tell the start-up apart from the rule; `random-start`:
  the same from hpsearch's `random` strategy's first 10 points;
* `repeats`: how many trials of a run repeat an earlier trial's four ints.

    python scripts/tpe_ints_ablation.py terms --seeds 100 [--parallel 1] [--optuna]
    python scripts/tpe_ints_ablation.py repeats --seeds 30 [--parallel 1] [--optuna]
    python scripts/tpe_ints_ablation.py sobol-start --seeds 100 --optuna-cache DIR
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile

import hpsearch

import bench_tpe_mixed as bench

NAMES = ["units", "layers", "epochs", "dropout", "warmup"]


def terms(p) -> list:
    return [
        (math.log10(p["units"]) - 2.0) ** 2,
        0.01 * (p["layers"] - 7) ** 2,
        0.002 * (p["epochs"] - 35) ** 2,
        0.5 * (p["dropout"] - 0.2) ** 2,
        0.0 if p["warmup"] == 100 else 0.05 * abs(p["warmup"] - 100) / 50,
    ]


def ours_study(seed: int, out: str, parallel, strategy="tpe", trials=100):
    space, _, f, _ = bench.PROBLEMS["ints"]
    return hpsearch.optimize(
        lambda t: f(t.params), space, strategy=strategy, trials=trials, seed=seed, threads=1,
        out=out, name="ints", parallel=parallel,
    )


def optuna_study(seed: int, start=None):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _, suggest, f, _ = bench.PROBLEMS["ints"]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    for p in start or []:
        study.enqueue_trial(p)
    study.optimize(lambda t: f(suggest(t)), n_trials=100)
    return study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["terms", "repeats", "sobol-start", "random-start"])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--parallel", type=int, default=None)
    ap.add_argument("--optuna", action="store_true", help="terms: Optuna's instead of ours")
    ap.add_argument("--optuna-cache", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.what == "terms":
            rows = []
            for s in range(args.seeds):
                if args.optuna:
                    rows.append(terms(optuna_study(s).best_params))
                else:
                    out = os.path.join(tmp, str(s))
                    rows.append(terms(ours_study(s, out, args.parallel).best_params))
            who = "Optuna" if args.optuna else f"hpsearch W = {args.parallel or 'default'}"
            print(f"{who}, {args.seeds} seeds: each term at the best trial")
            for j, n in enumerate(NAMES):
                col = [r[j] for r in rows]
                hit = sum(c < 1e-12 for c in col) / len(col)
                print(f"  {n}: median {statistics.median(col):.4f} mean "
                      f"{statistics.mean(col):.4f} at its optimum {hit:.2f}")
            return
        if args.what == "repeats":
            counts = []
            for s in range(args.seeds):
                if args.optuna:
                    trials = [t.params for t in optuna_study(s).trials]
                else:
                    out = os.path.join(tmp, str(s))
                    trials = [t.params for t in ours_study(s, out, args.parallel).trials]
                seen = set()
                n = 0
                for p in trials:
                    key = (p["units"], p["layers"], p["epochs"], p["warmup"])
                    n += key in seen
                    seen.add(key)
                counts.append(n)
            who = "Optuna" if args.optuna else f"hpsearch W = {args.parallel or 'default'}"
            print(f"{who}, {args.seeds} seeds: repeated int tuples a run, mean "
                  f"{statistics.mean(counts):.2f}, most {max(counts)}")
            return
        from scipy.stats import mannwhitneyu

        a = []
        for s in range(args.seeds):
            strategy = "tpe" if args.what == "sobol-start" else "random"
            st = ours_study(s, os.path.join(tmp, str(s)), 1, strategy, 10)
            start = [t.params for t in st.trials[:10]]
            a.append(optuna_study(s, start).best_value)
        b = bench.optuna_regrets("ints", args.seeds, 100, args.optuna_cache)
        print(f"Optuna from hpsearch's {args.what}: {bench.quartiles(a)}; Optuna: "
              f"{bench.quartiles(b)}; p {mannwhitneyu(a, b).pvalue:.3g}")


if __name__ == "__main__":
    main()
