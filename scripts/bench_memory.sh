#!/usr/bin/env bash
# Peak memory (maximum resident set size, from /usr/bin/time -v) and wall
# time of check, run, export, predict and drift on a large generated CSV,
# against the data's size as an f64 matrix (8 * rows * features bytes).
#
#   scripts/bench_memory.sh                  # 2,000,000 rows x 12 features (~208 MB)
#   ROWS=8000000 FEATURES=2 scripts/bench_memory.sh   # narrow: many short rows
#   HPSEARCH=/path/to/hpsearch scripts/bench_memory.sh   # another build
#
# The search is a 2-trial logistic-regression grid (max_iter 20), 5 folds,
# --threads $THREADS (default "1 2"). Data and outputs live in $WORK
# (default: a temporary folder, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-2000000}
FEATURES=${FEATURES:-12}
THREADS=${THREADS:-1 2}
if [ -z "${HPSEARCH:-}" ]; then
  cargo build --release -q
  HPSEARCH=$PWD/target/release/hpsearch
fi
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
fi
[ -f "$WORK/big.csv" ] || python3 scripts/gen_big_csv.py "$WORK/big.csv" "$ROWS" "$FEATURES"
cat > "$WORK/big.toml" <<TOML
[search]
strategy = "grid"
seed = 0
[objective]
model = "logistic_regression"
metric = "accuracy"
params = { max_iter = 20 }
[data]
path = "big.csv"
target = "target"
scale = "standard"
[cv]
folds = 5
[space]
C = { type = "float", values = [0.1, 1.0] }
TOML
matrix_mb=$(awk -v n="$ROWS" -v p="$FEATURES" 'BEGIN {printf "%.1f", 8 * n * p / 1e6}')
file_mb=$(awk -v b="$(stat -c %s "$WORK/big.csv")" 'BEGIN {printf "%.1f", b / 1e6}')
echo "data: $ROWS rows x $FEATURES features, file $file_mb MB, f64 matrix $matrix_mb MB"
echo "free memory: $(free -m | awk '/^Mem:/ {print $7}') MB available; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %10s %10s %8s\n' command "peak MB" "x matrix" "wall s"
measure() {
  local label=$1
  shift
  local log="$WORK/time.log"
  (cd "$WORK" && /usr/bin/time -v "$@" > /dev/null 2> "$log") || { cat "$log"; exit 1; }
  local kb wall
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}')
  printf '%-28s %10.0f %10.2f %8.1f\n' "$label" "$(awk -v k="$kb" 'BEGIN {print k / 1000}')" \
    "$(awk -v k="$kb" -v m="$matrix_mb" 'BEGIN {print k / 1000 / m}')" "$wall"
}
measure "check" "$HPSEARCH" check big.toml
for t in $THREADS; do
  rm -rf "$WORK/out"
  measure "run --threads $t" "$HPSEARCH" run big.toml --threads "$t" --out out --quiet
done
echo "folds.csv: $(stat -c %s "$WORK/out/folds.csv") bytes"
measure "export" "$HPSEARCH" export out --out model.json
measure "predict --out" "$HPSEARCH" predict model.json big.csv --out preds.csv
measure "predict (stdout)" "$HPSEARCH" predict model.json big.csv
measure "predict --check-drift" "$HPSEARCH" predict model.json big.csv --check-drift --out preds2.csv
measure "drift" "$HPSEARCH" drift model.json big.csv
