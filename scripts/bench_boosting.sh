#!/usr/bin/env bash
# One gradient boosting fit on a seeded 100,000 x 30 classification set
# (scikit-learn's make_classification, random_state=0), hpsearch against
# scikit-learn's HistGradientBoostingClassifier at the same thread count:
# default parameters (100 iterations, 31 leaves, 255 bins),
# early_stopping=False. Wall time, median of RUNS, and peak memory
# (/usr/bin/time -v, maximum resident set size).
#
# hpsearch's fit is timed as `hpsearch export` of a one-trial search: the
# whole process, so it includes reading the 100,000-row CSV, the refit on
# all rows and writing the artifact with its drift profile. scikit-learn's
# is the `fit` call alone (the CSV is read before the clock starts); its
# peak memory is the whole Python process.
#
# On a loaded machine OpenMP's busy waiting slows scikit-learn badly; set
# OMP_WAIT_POLICY=PASSIVE (it is passed through) to measure it fairly.
#
# Usage: scripts/bench_boosting.sh   (env: PYTHON, HPSEARCH, THREADS=2,
#        RUNS=3, TRIALS=0: a TRIALS-trial random search with 5-fold CV too)
#
# The search against RandomizedSearchCV on the same candidates and folds,
# side by side, is scripts/bench_boosting_search.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
HPSEARCH=${HPSEARCH:-target/release/hpsearch}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
TRIALS=${TRIALS:-0}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

"$PYTHON" scripts/bench_boosting.py gen "$W/cls.csv"
cat >"$W/one.toml" <<EOF
[search]
strategy = "grid"
[objective]
model = "gradient_boosting"
task = "classification"
[data]
path = "cls.csv"
[cv]
folds = 2
[space]
learning_rate = { type = "float", values = [0.1] }
EOF
"$HPSEARCH" run "$W/one.toml" --threads "$THREADS" --out "$W/one" -q

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

: >"$W/hp.times"
: >"$W/hp.mem"
for _ in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    RAYON_NUM_THREADS=$THREADS /usr/bin/time -v -o "$W/time.txt" \
        "$HPSEARCH" export "$W/one" --out "$W/model.json" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc >>"$W/hp.times"
    peak "$W/time.txt" >>"$W/hp.mem"
done
: >"$W/sk.times"
: >"$W/sk.mem"
for _ in $(seq "$RUNS"); do
    OMP_NUM_THREADS=$THREADS /usr/bin/time -v -o "$W/time.txt" \
        "$PYTHON" scripts/bench_boosting.py fit "$W/cls.csv" >>"$W/sk.times"
    peak "$W/time.txt" >>"$W/sk.mem"
done
echo "one fit, 100,000 x 30, $THREADS threads, median of $RUNS (all runs):"
printf '  hpsearch export       %6.2f s  (%s)  peak %s MB\n' \
    "$(median <"$W/hp.times")" "$(tr '\n' ' ' <"$W/hp.times")" \
    "$(($(median <"$W/hp.mem") / 1024))"
printf '  scikit-learn fit      %6.2f s  (%s)  peak %s MB\n' \
    "$(median <"$W/sk.times")" "$(tr '\n' ' ' <"$W/sk.times")" \
    "$(($(median <"$W/sk.mem") / 1024))"

if [ "$TRIALS" -gt 0 ]; then
    cat >"$W/search.toml" <<EOF
[search]
strategy = "random"
trials = $TRIALS
[objective]
model = "gradient_boosting"
task = "classification"
[data]
path = "cls.csv"
[cv]
folds = 5
[space]
learning_rate = { type = "float", low = 0.01, high = 0.5, log = true }
max_leaf_nodes = { type = "int", low = 8, high = 64, log = true }
min_samples_leaf = { type = "int", low = 5, high = 100, log = true }
l2_regularization = { type = "float", low = 0.0, high = 1.0 }
EOF
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$W/time.txt" \
        "$HPSEARCH" run "$W/search.toml" --threads "$THREADS" --out "$W/search" -q
    end=$(date +%s.%N)
    printf '  hpsearch %s-trial random search, 5 folds: %.1f s, peak %s MB\n' \
        "$TRIALS" "$(echo "$end - $start" | bc)" "$(($(peak "$W/time.txt") / 1024))"
fi
