#!/usr/bin/env bash
# hpsearch against scikit-learn's GridSearchCV on the same four grids, data
# and fold counts, run side by side on this machine; prints the time ratio
# hpsearch / scikit-learn for each grid and both best scores.
#
#   scripts/bench_sklearn.sh                 # 5 hpsearch runs per grid, 3 sklearn repeats
#   REPEATS=9 THREADS=2 scripts/bench_sklearn.sh
#   ANCHORS=/path/to/shared/anchors scripts/bench_sklearn.sh
#
# Needs Python 3 with pip (a venv is made in target/bench-venv) and the peer
# harness (default ../shared/anchors/sklearn_grid.py). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ANCHORS=${ANCHORS:-../shared/anchors}
VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sklearn, numpy; assert numpy.__version__ == '2.4.6'" 2>/dev/null; then
  python3 -m venv "$VENV"
  # The versions the peers were measured with (../shared/anchors/requirements.txt).
  "$VENV/bin/pip" install -q scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1 joblib==1.6.0 threadpoolctl==3.8.0
fi
cargo build --release -q
exec "$VENV/bin/python" scripts/bench_sklearn.py --anchors "$ANCHORS" \
  --repeats "${REPEATS:-5}" --sk-repeats "${SK_REPEATS:-3}" --threads "${THREADS:-2}" "$@"
