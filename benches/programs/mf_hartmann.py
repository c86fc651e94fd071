"""Multi-fidelity Hartmann 6-D, a program for hpsearch's pruners.

The function is the one of Kandasamy, Dasarathy, Schneider and Poczos,
"Multi-fidelity Bayesian Optimisation with Continuous Approximations"
(BOCA), ICML 2017, synthetic experiments: the Hartmann 6-D function
(Dixon & Szego 1978, coefficients as in Surjanovic & Bingham's Virtual
Library of Simulation Experiments)

    f(x, z) = - sum_{i=1..4} alpha_i(z) exp(- sum_{j=1..6} A_ij (x_j - P_ij)^2)

with the weights lowered at a low fidelity,

    alpha(z) = alpha - 0.1 (1 - z),   alpha = (1.0, 1.2, 3.0, 3.2),

and here one fidelity z in (0, 1] shared by the four weights (BOCA's
p = 1 case). At z = 1 it is the usual Hartmann 6-D, minimum -3.32237 at
x* = (0.20169, 0.15001, 0.47687, 0.27533, 0.31165, 0.65730), over
x in [0, 1]^6.

As a program: reads x1..x6 from the JSON file named by HPSEARCH_PARAMS
(hpsearch's typed parameters; see README "Your own training program"),
prints {"step": t, "value": f(x, t/T)} for t = 1..T (T = 27 by default,
MF_HARTMANN_STEPS overrides it), flushing each line so a pruner can stop
it, then the final {"value": f(x, 1)}. Deterministic: no noise, no seed.

scripts/bench_prune_programs.py imports f and STEPS from here, so
Optuna's side evaluates the very same function in-process.
"""
import json
import math
import os
import sys

ALPHA = (1.0, 1.2, 3.0, 3.2)
A = (
    (10.0, 3.0, 17.0, 3.5, 1.7, 8.0),
    (0.05, 10.0, 17.0, 0.1, 8.0, 14.0),
    (3.0, 3.5, 1.7, 10.0, 17.0, 8.0),
    (17.0, 8.0, 0.05, 10.0, 0.1, 14.0),
)
P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)
F_MIN = -3.32237
STEPS = int(os.environ.get("MF_HARTMANN_STEPS", "27"))


def f(x, z):
    """Hartmann 6-D at point x (six floats in [0, 1]) and fidelity z."""
    total = 0.0
    for i in range(4):
        s = 0.0
        for j in range(6):
            d = x[j] - P[i][j]
            s += A[i][j] * d * d
        total += (ALPHA[i] - 0.1 * (1.0 - z)) * math.exp(-s)
    return -total


def main():
    path = os.environ.get("HPSEARCH_PARAMS")
    if not path:
        sys.exit("mf_hartmann.py: HPSEARCH_PARAMS is not set (run it from hpsearch)")
    with open(path) as fh:
        params = json.load(fh)
    try:
        x = [float(params[f"x{j}"]) for j in range(1, 7)]
    except KeyError as e:
        sys.exit(f"mf_hartmann.py: parameter {e} missing: the search space needs x1..x6")
    for t in range(1, STEPS + 1):
        print(json.dumps({"step": t, "value": f(x, t / STEPS)}), flush=True)
    print(json.dumps({"value": f(x, 1.0)}))


if __name__ == "__main__":
    main()
