#!/usr/bin/env bash
# Proposal cost of hpsearch's tpe (and random) beside Optuna's TPESampler,
# run back to back on this machine (issue 4, point 7): Optuna's own harness
# (../shared/anchors/overhead.py, run from a temporary copy so the anchors
# are not overwritten), then `cargo bench --bench strategies -- overhead`.
#
#   scripts/bench_overhead.sh                       # tpe + random, 1 Optuna repeat, 3 ours
#   METHODS=gp STRATEGIES=gp scripts/bench_overhead.sh   # Optuna's GPSampler beside our gp
#   ROUNDS=5 scripts/bench_overhead.sh              # both, alternating, five times
#
# The machine is shared and its load changes by the minute: compare the
# two within a round, and look at several rounds.
#
# GPSampler needs torch: with METHODS naming gp, torch (PyPI's default wheel,
# ~3 GB with its CUDA libraries; only the CPU is used) and greenlet (without
# it GPSampler falls back to a slower sequential L-BFGS-B) are installed
# into the venv first if missing.
#
# Needs Python 3 with pip (a venv is made in target/optuna-venv). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ANCHORS=${ANCHORS:-../shared/anchors}
VENV=target/optuna-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import optuna, hyperopt" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q optuna==5.0.0 hyperopt==0.3.0 numpy==2.4.6 scipy==1.17.1
fi
case " ${METHODS:-} " in
  *" gp "*)
    if ! "$VENV/bin/python" -c "import torch, greenlet" 2>/dev/null; then
      "$VENV/bin/pip" install -q torch==2.15.0 greenlet==3.5.6
    fi
    ;;
esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp -r "$ANCHORS"/. "$TMP"/
cargo bench -q --bench strategies --no-run
for round in $(seq "${ROUNDS:-1}"); do
  echo "== round $round: Optuna (${METHODS:-tpe_default random}), wall and CPU ms per suggestion by trial window"
  (cd "$TMP" && "$OLDPWD/$VENV/bin/python" overhead.py --repeats "${OPTUNA_REPEATS:-1}" \
    --methods ${METHODS:-tpe_default random} 2>&1 | grep -E "rep=" || true)
  echo "== round $round: hpsearch"
  cargo bench -q --bench strategies -- overhead --strategies "${STRATEGIES:-tpe,random}" --repeats "${REPEATS:-3}"
done
