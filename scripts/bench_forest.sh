#!/usr/bin/env bash
# Random-forest searches, hpsearch before and after a change against
# scikit-learn, side by side in one run (scripts/bench_forest.py says what
# runs): issue 22's 30-candidate search on 20,000 x 30 rows against
# RandomizedSearchCV (same candidates and folds), and bench_halving.sh's
# forest case against HalvingRandomSearchCV.
#
#   BEFORE=/path/to/old/hpsearch scripts/bench_forest.sh          # 3 rounds
#   BEFORE=... ROUNDS=1 scripts/bench_forest.sh --only issue22
#
# BEFORE defaults to this build (then before = after). Needs Python 3 with
# pip (the venv of bench_halving.sh, target/bench-venv). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sklearn, numpy; assert sklearn.__version__ == '1.9.1' and numpy.__version__ == '2.4.6'" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q optuna==5.0.0 scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1 joblib==1.6.0 threadpoolctl==3.8.0
fi
[ -f target/bench-data/synth20k.csv ] || "$VENV/bin/python" scripts/gen_synth_classification.py target/bench-data/synth20k.csv
[ -f target/bench-data/synth20k_30.csv ] || "$VENV/bin/python" scripts/gen_synth_classification.py target/bench-data/synth20k_30.csv 30
if [ -z "${AFTER:-}" ]; then
  cargo build --release -q
  AFTER=target/release/hpsearch
fi
exec "$VENV/bin/python" scripts/bench_forest.py --before "$(realpath "${BEFORE:-$AFTER}")" --after "$(realpath "$AFTER")" \
  --rounds "${ROUNDS:-3}" --threads "${THREADS:-2}" "$@"
