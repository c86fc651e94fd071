"""Driver for bench_prune_programs.sh: hpsearch's pruners against Optuna 5's
on the multi-fidelity Hartmann 6-D program (benches/programs/mf_hartmann.py),
seeds 0..N-1, then the two reproducibility checks; prints markdown tables.

Per pruner and side, over the seeds: the steps each run consumed (sum over
its trials of the last step each reached), the final regret (the best
complete trial's f(x, 1) minus -3.32237), quartiles of both, and
Mann-Whitney U p-values between the sides (two-sided)."""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benches", "programs"))
import mf_hartmann  # noqa: E402

PRUNERS = ["median", "successive_halving", "hyperband"]
PROGRAM = os.path.join(ROOT, "benches", "programs", "mf_hartmann.py")
T = mf_hartmann.STEPS


def search_file(pruner, seed, trials, work):
    """The search file benches/prune/mf_hartmann_<pruner>.toml with its
    seed, trial count and program path rewritten; returns its path."""
    with open(os.path.join(ROOT, "benches", "prune", f"mf_hartmann_{pruner}.toml")) as fh:
        text = fh.read()
    for old, new in [("seed = 0\n", f"seed = {seed}\n"), ("trials = 100\n", f"trials = {trials}\n"),
                     ("../programs/mf_hartmann.py", PROGRAM)]:
        if old not in text:
            sys.exit(f"benches/prune/mf_hartmann_{pruner}.toml: expected {old.strip()!r} in it")
        text = text.replace(old, new)
    path = os.path.join(work, f"{pruner}-{seed}.toml")
    with open(path, "w") as fh:
        fh.write(text)
    return path


def hpsearch_run(binary, pruner, seed, trials, threads, work, tag=""):
    cfg = search_file(pruner, seed, trials, work)
    out = os.path.join(work, f"hp-{pruner}-{seed}{tag}")
    t0 = time.perf_counter()
    p = subprocess.run([binary, "run", cfg, "--out", out, "--threads", str(threads), "--quiet"],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"hpsearch failed on {cfg}:\n{p.stderr}")
    steps = 0
    best = None
    states = {}
    with open(os.path.join(out, "trials.csv"), newline="") as fh:
        for row in csv.DictReader(fh):
            curve = json.loads(row["steps"]) if row["steps"] else []
            steps += curve[-1][0] if curve else 0
            states[row["status"]] = states.get(row["status"], 0) + 1
            if row["status"] == "ok":
                v = float(row["value"])
                best = v if best is None else min(best, v)
    return {"steps": steps, "regret": regret(best), "wall": wall, "states": states,
            "journal": os.path.join(out, "trials.csv")}


def regret(best):
    return float("nan") if best is None else best - mf_hartmann.F_MIN


def optuna_pruner(optuna, pruner):
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0, interval_steps=1)
    if pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3,
                                                      min_early_stopping_rate=0, bootstrap_count=0)
    return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=T, reduction_factor=3,
                                          bootstrap_count=0)


def optuna_run(pruner, seed, trials, n_jobs, step_sleep=0.0):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        x = [trial.suggest_float(f"x{j}", 0.0, 1.0) for j in range(1, 7)]
        for t in range(1, T + 1):
            if step_sleep:
                time.sleep(step_sleep)
            trial.report(mf_hartmann.f(x, t / T), t)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return mf_hartmann.f(x, 1.0)

    # A fixed study name: HyperbandPruner puts trials in brackets by a hash
    # of the study name and trial number, so the default random name would
    # change the brackets from run to run.
    study = optuna.create_study(direction="minimize", study_name=f"mf-hartmann-{pruner}-{seed}",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna_pruner(optuna, pruner))
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=trials, n_jobs=n_jobs)
    wall = time.perf_counter() - t0
    done = study.get_trials(deepcopy=False)
    steps = sum(t.last_step or 0 for t in done)
    states = {}
    for t in done:
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    ok = [t.value for t in done if t.state == optuna.trial.TrialState.COMPLETE]
    return {"steps": steps, "regret": regret(min(ok) if ok else None), "wall": wall, "states": states,
            "trials": [(t.number, t.state.name, tuple(sorted(t.params.items()))) for t in done]}


def quartiles(xs):
    xs = [x for x in xs if x == x]
    if len(xs) < 2:
        return (xs[0],) * 3 if xs else (float("nan"),) * 3
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[1], q[2]


def pvalue(a, b):
    from scipy.stats import mannwhitneyu
    a = [x for x in a if x == x]
    b = [x for x in b if x == x]
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def fmt_q(xs, spec):
    lo, mid, hi = quartiles(xs)
    return f"{mid:{spec}} ({lo:{spec}}-{hi:{spec}})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pruners", nargs="+", default=PRUNERS, choices=PRUNERS)
    ap.add_argument("--step-sleep", type=float, default=0.002,
                    help="seconds Optuna's objective sleeps per step in the n_jobs=2 runs (a program's work)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="hpsearch-prune-bench-")
    print(f"load average at start: {os.getloadavg()}", flush=True)
    res = {}
    for pruner in args.pruners:
        for seed in range(args.seeds):
            res[("hp", pruner, seed)] = hpsearch_run(args.bin, pruner, seed, args.trials, args.threads, work)
            res[("op", pruner, seed)] = optuna_run(pruner, seed, args.trials, 1)
            h, o = res[("hp", pruner, seed)], res[("op", pruner, seed)]
            print(f"{pruner} seed {seed}: hpsearch steps {h['steps']} regret {h['regret']:.4f} "
                  f"{h['wall']:.1f}s | optuna steps {o['steps']} regret {o['regret']:.4f} {o['wall']:.1f}s",
                  flush=True)

    # Reproducibility: the same search twice with 2 threads / n_jobs=2.
    repro = {}
    for pruner in args.pruners:
        a = res[("hp", pruner, 0)]
        b = hpsearch_run(args.bin, pruner, 0, args.trials, args.threads, work, tag="-again")
        with open(a["journal"], "rb") as fa, open(b["journal"], "rb") as fb:
            same = fa.read() == fb.read()
        o1 = optuna_run(pruner, 0, args.trials, 2, args.step_sleep)
        o2 = optuna_run(pruner, 0, args.trials, 2, args.step_sleep)
        by1 = {n: (s, p) for n, s, p in o1["trials"]}
        ident = sum(1 for n, s, p in o2["trials"] if by1.get(n) == (s, p))
        repro[pruner] = (same, ident, len(o2["trials"]), o1["steps"], o2["steps"], o1["regret"], o2["regret"])
        print(f"{pruner}: hpsearch twice identical={same}; optuna n_jobs=2 twice: {ident} identical trials",
              flush=True)

    print(f"\nload average at end: {os.getloadavg()}")
    print(f"mf_hartmann, {T} steps, {args.trials} trials, tpe, seeds 0..{args.seeds - 1}; hpsearch "
          f"--threads {args.threads} (window parallel = 2), Optuna TPESampler(seed) n_jobs=1.")
    print("Cells: median (first quartile-third quartile) over the seeds; p: two-sided Mann-Whitney U.\n")
    print("| pruner | side | steps per run | regret | pruned per run | wall s per run (hpsearch: a process per trial) |")
    print("|---|---|---|---|---|---|")
    summary = []
    for pruner in args.pruners:
        for side, name in [("hp", "hpsearch"), ("op", "Optuna 5")]:
            rs = [res[(side, pruner, s)] for s in range(args.seeds)]
            pruned = [r["states"].get("pruned", 0) for r in rs]
            print(f"| {pruner} | {name} | {fmt_q([r['steps'] for r in rs], '.0f')} "
                  f"| {fmt_q([r['regret'] for r in rs], '.4f')} | {fmt_q(pruned, '.0f')} "
                  f"| {fmt_q([r['wall'] for r in rs], '.1f')} |")
        hs = [res[("hp", pruner, s)] for s in range(args.seeds)]
        os_ = [res[("op", pruner, s)] for s in range(args.seeds)]
        summary.append((pruner, sum(r["steps"] for r in hs), sum(r["steps"] for r in os_),
                        statistics.median(r["regret"] for r in hs), statistics.median(r["regret"] for r in os_),
                        pvalue([r["regret"] for r in hs], [r["regret"] for r in os_]),
                        pvalue([r["steps"] for r in hs], [r["steps"] for r in os_])))
    print("\nGoal: regret no worse (hpsearch's median <= Optuna's, or p >= 0.05) at no more steps (total).\n")
    print("| pruner | total steps hpsearch / Optuna | median regret hpsearch / Optuna | p (regret) | p (steps) "
          "| regret no worse | steps no more |")
    print("|---|---|---|---|---|---|---|")
    for pruner, sh, so, rh, ro, pr, ps in summary:
        r_ok = "yes" if rh <= ro or pr >= 0.05 else "no"
        s_ok = "yes" if sh <= so else "no"
        print(f"| {pruner} | {sh} / {so} ({sh / so:.2f}) | {rh:.4f} / {ro:.4f} | {pr:.3g} | {ps:.3g} "
              f"| {r_ok} | {s_ok} |")
    print(f"\nThe same search twice (seed 0): hpsearch --threads {args.threads}, cmp of trials.csv; "
          f"Optuna n_jobs=2 (objective sleeps {args.step_sleep}s a step), trials with the same number, "
          "parameters and state in both runs.\n")
    print("| pruner | hpsearch trials.csv | Optuna identical trials | Optuna steps run 1 / run 2 | Optuna regret run 1 / run 2 |")
    print("|---|---|---|---|---|")
    for pruner in args.pruners:
        same, ident, n, s1, s2, r1, r2 = repro[pruner]
        print(f"| {pruner} | {'identical' if same else 'DIFFERENT'} | {ident} / {n} | {s1} / {s2} | {r1:.4f} / {r2:.4f} |")


if __name__ == "__main__":
    main()
