#!/usr/bin/env bash
# hpsearch's pruners (median, successive_halving, hyperband) against Optuna
# 5's (MedianPruner, SuccessiveHalvingPruner, HyperbandPruner) with TPE on
# the multi-fidelity Hartmann 6-D program (benches/programs/mf_hartmann.py),
# the same budget, seeds 0..19, side by side in one run; then the same
# search twice each way (hpsearch --threads 2, Optuna n_jobs=2).
#
#   scripts/bench_prune_programs.sh                   # 20 seeds, 100 trials
#   SEEDS=2 scripts/bench_prune_programs.sh           # a quick look
#   HPSEARCH=/path/to/hpsearch scripts/bench_prune_programs.sh
#   scripts/bench_prune_programs.sh --pruners median  # extra arguments go to the driver
#
# Needs Python 3 with pip (a venv is made in target/bench-venv with the
# peers' pinned versions, ../shared/anchors/requirements.txt). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sklearn, optuna, numpy; assert optuna.__version__ == '5.0.0' and numpy.__version__ == '2.4.6'" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q optuna==5.0.0 scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1 joblib==1.6.0 threadpoolctl==3.8.0
fi
if [ -z "${HPSEARCH:-}" ]; then
  cargo build --release -q
  HPSEARCH=target/release/hpsearch
fi
exec "$VENV/bin/python" scripts/bench_prune_programs.py --bin "$(realpath "$HPSEARCH")" \
  --seeds "${SEEDS:-20}" --trials "${TRIALS:-100}" --threads "${THREADS:-2}" "$@"
