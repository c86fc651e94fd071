#!/usr/bin/env bash
# Successive halving on `samples` for built-in models, three arms side by
# side in one run: (a) hpsearch's successive_halving pruner on samples,
# (b) the same 81 random candidates without pruning, (c) scikit-learn's
# HalvingRandomSearchCV (n_jobs=1 and 2) over the same distributions, on
# digits with an RBF SVM and on a 20,000-row synthetic set (made by
# scripts/gen_synth_classification.py) with a random forest; prints wall
# time and best-score ratios.
#
#   scripts/bench_halving.sh                         # 3 rounds per arm
#   ROUNDS=1 scripts/bench_halving.sh --only digits_svm
#   HPSEARCH=/path/to/hpsearch scripts/bench_halving.sh
#
# An hpsearch without `[objective] resource` runs arms (b) and (c) only.
# Needs Python 3 with pip (a venv is made in target/bench-venv with the
# peers' pinned versions, ../shared/anchors/requirements.txt). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sklearn, optuna, numpy; assert sklearn.__version__ == '1.9.1' and numpy.__version__ == '2.4.6'" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q optuna==5.0.0 scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1 joblib==1.6.0 threadpoolctl==3.8.0
fi
if [ ! -f target/bench-data/synth20k.csv ]; then
  "$VENV/bin/python" scripts/gen_synth_classification.py target/bench-data/synth20k.csv
fi
if [ -z "${HPSEARCH:-}" ]; then
  cargo build --release -q
  HPSEARCH=target/release/hpsearch
fi
exec "$VENV/bin/python" scripts/bench_halving.py --bin "$(realpath "$HPSEARCH")" \
  --rounds "${ROUNDS:-3}" --threads "${THREADS:-2}" "$@"
