"""hpsearch's tpe against Optuna 5's TPESampler on mixed spaces of our own
design (issue 19, point 7): floats, log floats, ints and categoricals whose
level moves the optimum. Simple regret at a budget, over many seeds; the
medians, quartiles and a two-sided Mann-Whitney U test.

Both run in one process through the Python package, on the same functions
(pure Python), each with its defaults: `hpsearch.optimize(strategy="tpe")`
and `optuna.create_study(sampler=TPESampler(seed=s))`. Those defaults run
differently: hpsearch in its window `parallel = 4` (each proposal blind to
the 3 newest trials), Optuna's `optimize` strictly sequentially; compare
like with like with `--parallel 1` or `--optuna-window 4`
(docs/strategies.md, "TPE on integer-heavy spaces").

    pip install optuna==5.0.0 scipy   # beside the hpsearch package
    python scripts/bench_tpe_mixed.py --seeds 100 --budget 100 [--only mixed4]

`--parallel 1` runs hpsearch strictly sequentially, as Optuna's
`study.optimize` runs (the package's default window is 4: each proposal
sees the results up to 4 trials back). `--tpe 'n_local = 0'` sets `[search.tpe]` keys for hpsearch (an ablation);
`--optuna-cache DIR` keeps Optuna's regrets per space, seed and budget in
`DIR/optuna_<space>_<budget>.csv` (they never change for a seed), so a rerun
after a change to hpsearch runs only hpsearch; `--csv FILE` writes
hpsearch's regrets per seed. `--optuna-window 4` runs Optuna through ask
and tell the way hpsearch's window runs trials: trial i is asked when trials
0 ..= i - 4 are told and the 3 before it still run.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile

import hpsearch

# Each problem: (space for hpsearch, Optuna suggest function, f(params), f*).


def _mixed4(p):
    # Four levels, each with its own centre and floor: the best level (d)
    # has the global minimum 0 at x = (1.5, -2), lr = 1e-3, n = 12.
    centre = {"a": (-3.0, 3.0), "b": (3.0, 3.0), "c": (-3.0, -3.0), "d": (1.5, -2.0)}
    floor = {"a": 0.6, "b": 0.3, "c": 0.9, "d": 0.0}
    cx, cy = centre[p["level"]]
    return (
        0.1 * ((p["x0"] - cx) ** 2 + (p["x1"] - cy) ** 2)
        + 0.2 * (math.log10(p["lr"]) + 3.0) ** 2
        + 0.05 * abs(p["n"] - 12)
        + floor[p["level"]]
    )


def _cats(p):
    # Three categoricals that interact with a float: branin's shape scaled,
    # shifted per (optimizer, activation) pair; batch size a mild penalty.
    shift = {"sgd": 0.0, "adam": 2.0, "rmsprop": -2.0, "adagrad": 4.0, "lbfgs": -4.0}[p["opt"]]
    act = {"relu": 0.0, "tanh": 0.4, "gelu": 0.15, "elu": 0.25}[p["act"]]
    batch = {"32": 0.2, "64": 0.0, "128": 0.1}[p["batch"]]
    x = p["x"] - shift
    return 0.05 * (x**2) + 0.5 * (1 - math.cos(2 * x)) + act + batch + 0.1 * (p["y"] - 1.0) ** 2


def _cond(p):
    # An SVM-like space: the kernel decides which children exist, two
    # levels deep (poly's degree has a coef0 only above 2). The best is an
    # rbf kernel with gamma 1e-2; poly and linear have higher floors.
    c = 0.3 * (math.log10(p["C"]) - 1.0) ** 2
    if p["kernel"] == "rbf":
        return c + 0.4 * (math.log10(p["gamma"]) + 2.0) ** 2
    if p["kernel"] == "poly":
        extra = 0.2 * (p["coef0"] - 0.5) ** 2 if p["degree"] > 2 else 0.15
        return c + 0.1 + 0.05 * abs(p["degree"] - 3) + extra
    return c + 0.35


def _cond_suggest(t):
    p = {
        "C": t.suggest_float("C", 1e-2, 1e3, log=True),
        "kernel": t.suggest_categorical("kernel", ["linear", "rbf", "poly"]),
    }
    if p["kernel"] == "rbf":
        p["gamma"] = t.suggest_float("gamma", 1e-5, 1.0, log=True)
    if p["kernel"] == "poly":
        p["degree"] = t.suggest_int("degree", 2, 5)
        if p["degree"] > 2:
            p["coef0"] = t.suggest_float("coef0", 0.0, 1.0)
    return p


def _ints(p):
    # Integer-heavy: a log-scaled int, two plain ints and a step int.
    return (
        (math.log10(p["units"]) - 2.0) ** 2
        + 0.01 * (p["layers"] - 7) ** 2
        + 0.002 * (p["epochs"] - 35) ** 2
        + 0.5 * (p["dropout"] - 0.2) ** 2
        + (0.0 if p["warmup"] == 100 else 0.05 * abs(p["warmup"] - 100) / 50)
    )


PROBLEMS = {
    "mixed4": (
        {
            "x0": hpsearch.Float(-5, 5),
            "x1": hpsearch.Float(-5, 5),
            "lr": hpsearch.Float(1e-5, 1.0, log=True),
            "n": hpsearch.Int(1, 20),
            "level": ["a", "b", "c", "d"],
        },
        lambda t: {
            "x0": t.suggest_float("x0", -5, 5),
            "x1": t.suggest_float("x1", -5, 5),
            "lr": t.suggest_float("lr", 1e-5, 1.0, log=True),
            "n": t.suggest_int("n", 1, 20),
            "level": t.suggest_categorical("level", ["a", "b", "c", "d"]),
        },
        _mixed4,
        0.0,
    ),
    "cats": (
        {
            "opt": ["sgd", "adam", "rmsprop", "adagrad", "lbfgs"],
            "act": ["relu", "tanh", "gelu", "elu"],
            "batch": ["32", "64", "128"],
            "x": hpsearch.Float(-8, 8),
            "y": hpsearch.Float(-3, 3),
        },
        lambda t: {
            "opt": t.suggest_categorical("opt", ["sgd", "adam", "rmsprop", "adagrad", "lbfgs"]),
            "act": t.suggest_categorical("act", ["relu", "tanh", "gelu", "elu"]),
            "batch": t.suggest_categorical("batch", ["32", "64", "128"]),
            "x": t.suggest_float("x", -8, 8),
            "y": t.suggest_float("y", -3, 3),
        },
        _cats,
        0.0,
    ),
    "cond": (
        {
            "C": hpsearch.Float(1e-2, 1e3, log=True),
            "kernel": ["linear", "rbf", "poly"],
            "gamma": hpsearch.Float(1e-5, 1.0, log=True, when={"kernel": "rbf"}),
            "degree": hpsearch.Int(2, 5, when={"kernel": "poly"}),
            "coef0": hpsearch.Float(0.0, 1.0, when={"degree": [3, 4, 5]}),
        },
        _cond_suggest,
        _cond,
        0.0,
    ),
    "ints": (
        {
            "units": hpsearch.Int(1, 1000, log=True),
            "layers": hpsearch.Int(1, 20),
            "epochs": hpsearch.Int(5, 100),
            "warmup": hpsearch.Int(0, 500, step=50),
            "dropout": hpsearch.Float(0.0, 0.8),
        },
        lambda t: {
            "units": t.suggest_int("units", 1, 1000, log=True),
            "layers": t.suggest_int("layers", 1, 20),
            "epochs": t.suggest_int("epochs", 5, 100),
            "warmup": t.suggest_int("warmup", 0, 500, step=50),
            "dropout": t.suggest_float("dropout", 0.0, 0.8),
        },
        _ints,
        0.0,
    ),
}


def ours(name: str, seed: int, budget: int, out: str, tpe: str = "", parallel=None) -> float:
    space, _, f, fstar = PROBLEMS[name]
    if not tpe:
        study = hpsearch.optimize(
            lambda t: f(t.params), space, strategy="tpe", trials=budget, seed=seed, threads=1,
            out=out, name=name, parallel=parallel,
        )
        return study.best_value - fstar
    # With [search.tpe] settings: the same search as a search file's text.
    from hpsearch import _native
    from hpsearch import _param

    doc = {
        "search": {"strategy": "tpe", "trials": budget, "seed": seed, "parallel": parallel},
        "objective": {"external": name, "version": "1", "direction": "minimize"},
        "space": {k: _param(k, v) for k, v in space.items()},
    }
    text = _native.toml_from_dict(doc) + "\n[search.tpe]\n" + tpe.replace(",", "\n") + "\n"
    study = hpsearch.optimize(lambda t: f(t.params), text, threads=1, out=out)
    return study.best_value - fstar


def theirs(name: str, seed: int, budget: int, window: int = 1) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _, suggest, f, fstar = PROBLEMS[name]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    if window == 1:
        study.optimize(lambda t: f(suggest(t)), n_trials=budget)
        return study.best_value - fstar
    # hpsearch's window W with ask and tell: trial i is asked once trials
    # 0 ..= i - W are told, while the W - 1 before it are still running
    # (TPESampler's constant liar, on by default, sees them).
    running = []
    for _ in range(budget):
        while len(running) > window - 1:
            t, v = running.pop(0)
            study.tell(t, v)
        t = study.ask()
        running.append((t, f(suggest(t))))
    for t, v in running:
        study.tell(t, v)
    return study.best_value - fstar


def optuna_regrets(name: str, seeds: int, budget: int, cache, window: int = 1) -> list:
    """Optuna's regrets for seeds 0..seeds, from `cache` where it has them."""
    if cache is None:
        return [theirs(name, s, budget, window) for s in range(seeds)]
    os.makedirs(cache, exist_ok=True)
    tail = "" if window == 1 else f"_w{window}"
    path = os.path.join(cache, f"optuna_{name}_{budget}{tail}.csv")
    have = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh.read().splitlines()[1:]:
                s, r = line.split(",")
                have[int(s)] = float(r)
    for s in range(seeds):
        if s not in have:
            have[s] = theirs(name, s, budget, window)
            new = not os.path.exists(path)
            with open(path, "a", encoding="utf-8") as fh:
                if new:
                    fh.write("seed,regret\n")
                fh.write(f"{s},{have[s]!r}\n")
    return [have[s] for s in range(seeds)]


def quartiles(xs):
    q = statistics.quantiles(xs, n=4)
    return f"{statistics.median(xs):.4f} [{q[0]:.4f}, {q[2]:.4f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--only", nargs="*", default=list(PROBLEMS))
    ap.add_argument("--parallel", type=int, default=None,
                    help="hpsearch's window W (default: the package's, 4; Optuna is sequential)")
    ap.add_argument("--optuna-window", type=int, default=1,
                    help="run Optuna with ask/tell in hpsearch's window W (default 1: optimize)")
    ap.add_argument("--tpe", default="", help="[search.tpe] keys for hpsearch, comma-separated")
    ap.add_argument("--optuna-cache", default=None, help="folder for Optuna's regrets")
    ap.add_argument("--csv", default=None, help="write hpsearch's regrets per space and seed")
    args = ap.parse_args()
    from scipy.stats import mannwhitneyu

    print(f"{args.seeds} seeds, {args.budget} trials, W = {args.parallel or 'default'}"
          f"{', tpe: ' + args.tpe if args.tpe else ''}; load {os.getloadavg()}")
    print("| space | hpsearch tpe median [q1, q3] | Optuna TPESampler median [q1, q3] | ratio | p (MWU) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only:
            a = [
                ours(name, s, args.budget, os.path.join(tmp, f"{name}-{s}"), args.tpe, args.parallel)
                for s in range(args.seeds)
            ]
            b = optuna_regrets(name, args.seeds, args.budget, args.optuna_cache, args.optuna_window)
            if args.csv:
                new = not os.path.exists(args.csv)
                with open(args.csv, "a", encoding="utf-8") as fh:
                    if new:
                        fh.write("space,seed,regret\n")
                    fh.writelines(f"{name},{s},{r!r}\n" for s, r in enumerate(a))
            ratio = statistics.median(a) / max(statistics.median(b), 1e-12)
            p = mannwhitneyu(a, b, alternative="two-sided").pvalue
            print(f"| {name} | {quartiles(a)} | {quartiles(b)} | {ratio:.2f} | {p:.3g} |", flush=True)


if __name__ == "__main__":
    main()
