#!/usr/bin/env bash
# Checks for a quiet many-core machine (the lent 16-core device machine in
# session 3; see docs/strategies.md and docs/benchmarks.md):
#   1. proposal cost, Optuna's harness then ours, in the same minutes;
#   2. the thread-count determinism tests at 1, 2, 8 and 16 threads;
#   3. parallel speed-up of a real model search (digits SVM grid) at 1-16
#      threads, each trials.csv compared with the 1-thread one;
#   4. journals of six shipped searches, to compare with another machine's;
#   5. Optuna's quality runs in parallel workers (QUALITY=1).
# Everything it measures goes to $OUT (default target/quiet).
#
#   scripts/bench_quiet.sh                      # builds with cargo here
#   BIN=dir scripts/bench_quiet.sh              # a machine without cargo: dir holds
#                                               # hpsearch, strategies (bench) and determinism (test)
#   OLD=old/strategies scripts/bench_quiet.sh   # also time another build's gp, same minutes
#
# Needs Python 3 with optuna 5.0.0, scipy and torch (GPSampler), and the
# peers' harness (ANCHORS, default ../shared/anchors). The determinism test
# binary has this checkout's absolute path compiled in: run it from the
# same path (or a link to it). Not part of CI.
set -u
cd "$(dirname "$0")/.."
ANCHORS=${ANCHORS:-../shared/anchors}
OUT=${OUT:-target/quiet}
PY=${PY:-python3}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -z "${BIN:-}" ]; then
  cargo build --release -q && cargo bench -q --bench strategies --no-run && cargo test -q --release --test determinism --no-run || exit 1
  BIN=$(mktemp -d)
  cp target/release/hpsearch "$BIN/"
  cp "$(ls -t target/release/deps/strategies-* | grep -v '\.d$' | head -1)" "$BIN/strategies"
  cp "$(ls -t target/release/deps/determinism-* | grep -v '\.d$' | head -1)" "$BIN/determinism"
fi
mkdir -p target/release && [ -x target/release/hpsearch ] || cp "$BIN/hpsearch" target/release/hpsearch
nproc; uptime

echo "== 1. proposal cost: Optuna, then hpsearch"
(cd "$ANCHORS" && OMP_NUM_THREADS=1 $PY overhead.py --methods tpe_default gp --repeats 1 --gp-repeats 2 \
  --md /tmp/overhead.md --csv "$OUT/optuna_overhead.csv" 2>&1 | grep -E "rep=|Error")
"$BIN/strategies" overhead --strategies tpe,gp --repeats 3 | tee "$OUT/hpsearch_overhead.txt"
if [ -n "${OLD:-}" ]; then
  # OLD=path of another build's bench binary: it runs between two more
  # runs of this one, so both builds are timed in the same minutes.
  "$OLD" overhead --strategies gp --repeats 3 | tee "$OUT/old_overhead.txt"
  "$BIN/strategies" overhead --strategies gp --repeats 3 | tee "$OUT/hpsearch_overhead_again.txt"
fi

echo "== 2. determinism at 1, 2, 8, 16 threads"
HPSEARCH_TEST_THREADS=1,2,8,16 "$BIN/determinism" --test-threads 4 2>&1 | grep -E "^test |test result"

echo "== 3. speed-up: digits SVM grid (64 trials x 5 folds)"
: > "$OUT/speedup.txt"
for t in 1 2 4 8 16; do
  /usr/bin/time -f "threads=$t wall=%e s cpu=%U+%S s maxrss=%M KB" \
    "$BIN/hpsearch" run configs/digits_svm.toml --threads $t --out /tmp/quiet_sv$t -q > /dev/null 2>> "$OUT/speedup.txt"
  if cmp -s /tmp/quiet_sv1/trials.csv /tmp/quiet_sv$t/trials.csv; then echo "threads=$t: trials.csv identical to threads=1"
  else echo "threads=$t: trials.csv DIFFERS"; fi >> "$OUT/speedup.txt"
done
cat "$OUT/speedup.txt"

echo "== 4. journals for a cross-machine comparison ($OUT/xmachine.tar)"
X=$(mktemp -d)
for c in digits_svm diabetes_elastic_net_tpe breast_cancer_svm_gp hartmann6_sobol breast_cancer_forest python_logreg; do
  "$BIN/hpsearch" run configs/$c.toml --out "$X/$c" -q > /dev/null 2>&1; echo "$c rc=$?"
done
(cd "$X" && tar cf "$OUT/xmachine.tar" */trials.csv */manifest.toml)

if [ "${QUALITY:-0}" = 1 ]; then
  NW=${NW:-$(nproc)}
  echo "== 5. Optuna quality: $NW workers, tpe ${TPE_SEEDS:-300} seeds, gp ${GP_SEEDS:-45} seeds"
  for w in $(seq 0 $((NW - 1))); do
    (cd "$ANCHORS" && OMP_NUM_THREADS=1 timeout "${QUALITY_LIMIT:-240}" $PY quality.py --methods tpe gp \
      --method-seeds tpe=${TPE_SEEDS:-300} gp=${GP_SEEDS:-45} --seeds ${TPE_SEEDS:-300} \
      --worker $w --n-workers $NW --out /tmp/quiet_q$w.csv > /tmp/quiet_q$w.log 2>&1) &
  done
  wait
  cat /tmp/quiet_q*.csv | awk 'NR == 1 || !/^function/' > "$OUT/optuna_quality.csv"
  wc -l "$OUT/optuna_quality.csv"
fi
