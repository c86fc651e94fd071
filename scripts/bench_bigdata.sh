#!/usr/bin/env bash
# Issue 22's big-data workloads, hpsearch against scikit-learn's search CV
# side by side in one run (scripts/bench_bigdata.py says what runs and
# what is reported).
#
#   scripts/bench_bigdata.sh                          # all, 3 rounds
#   ROUNDS=1 scripts/bench_bigdata.sh --only logistic_1m enet_1m
#
# Needs Python 3 with pip (makes target/bench-venv) and about 1 GB of disk
# for the 1,000,000-row files. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sklearn, numpy, pandas; assert sklearn.__version__ == '1.9.1' and numpy.__version__ == '2.4.6' and pandas.__version__ == '3.1.1'" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q optuna==5.0.0 scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1 joblib==1.6.0 threadpoolctl==3.8.0 pandas==3.1.1
fi
cargo build --release -q
exec "$VENV/bin/python" scripts/bench_bigdata.py --hpsearch "$(realpath target/release/hpsearch)" \
  --rounds "${ROUNDS:-3}" --threads "${THREADS:-2}" "$@"
