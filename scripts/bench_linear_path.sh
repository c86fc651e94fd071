#!/usr/bin/env bash
# Linear models sharing work across a grid's candidates (issue 22 point 3):
# each arm run side by side on the same data, ROUNDS rounds, wall / user
# CPU / peak RSS from /usr/bin/time -v.
#
#   elastic_net  20-point alpha grid on 100,000 x 50 (regression), 5 folds:
#                HPSEARCH_SHARED_BYTES=0 (every fit makes its Gram matrix,
#                as before the sharing) against the default (once a fold).
#   logistic     20-point log-spaced C grid on 100,000 x 50 (binary), 5
#                folds: warm_start = "none" (cold) against "path".
#
#   scripts/bench_linear_path.sh [elastic_net|logistic|all]
#   ROUNDS=3 THREADS=2 ROWS=100000 scripts/bench_linear_path.sh all
#
# Data: scripts/gen_linear_data.py (seeded) into target/bench-data/.
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-all}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
ROWS=${ROWS:-100000}
DATA=$(realpath -m target/bench-data)
mkdir -p "$DATA"
for kind in regression binary; do
  f="$DATA/linear_${kind}_${ROWS}.csv"
  [ -f "$f" ] || python3 scripts/gen_linear_data.py "$f" "$kind" "$ROWS" 50 0
done
if [ -z "${HPSEARCH:-}" ]; then
  cargo build --release -q
  HPSEARCH=target/release/hpsearch
fi
HPSEARCH=$(realpath "$HPSEARCH")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/en.toml" <<TOML
[search]
strategy = "grid"
seed = 0

[objective]
model = "elastic_net"
metric = "r2"

[objective.params]
l1_ratio = 0.5

[data]
path = "$DATA/linear_regression_${ROWS}.csv"
target = "target"
scale = "standard"

[cv]
folds = 5

[space]
alpha = { type = "float", low = 1e-4, high = 1.0, log = true, steps = 20 }
TOML

for warm in none path; do
cat > "$WORK/lr_$warm.toml" <<TOML
[search]
strategy = "grid"
seed = 0

[objective]
model = "logistic_regression"
metric = "accuracy"
warm_start = "$warm"

[data]
path = "$DATA/linear_binary_${ROWS}.csv"
target = "target"
scale = "standard"

[cv]
folds = 5

[space]
C = { type = "float", low = 1e-4, high = 100.0, log = true, steps = 20 }
TOML
done

# arm NAME FILE [ENV...]: one timed run into a fresh folder.
arm() {
  local name=$1 file=$2
  shift 2
  rm -rf "$WORK/out"
  env "$@" /usr/bin/time -v "$HPSEARCH" run "$file" --out "$WORK/out" -q -j "$THREADS" \
    2> "$WORK/time.txt" > /dev/null
  local wall user peak best
  wall=$(grep 'Elapsed (wall' "$WORK/time.txt" | awk '{print $NF}')
  user=$(grep 'User time' "$WORK/time.txt" | awk '{print $NF}')
  peak=$(grep 'Maximum resident' "$WORK/time.txt" | awk '{print $NF}')
  best=$(awk -F, 'NR > 1 && $3 == "ok" { if (b == "" || $4 > b) b = $4 } END { print b }' "$WORK/out/trials.csv")
  printf '%-22s wall %8s  user %7s s  peak %7d MiB  best %s\n' "$name" "$wall" "$user" $((peak / 1024)) "$best"
  cp "$WORK/out/trials.csv" "$WORK/$name.csv"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round ($ROWS rows, $THREADS threads)"
  if [ "$WHICH" = all ] || [ "$WHICH" = elastic_net ]; then
    arm en_unshared "$WORK/en.toml" HPSEARCH_SHARED_BYTES=0
    arm en_shared "$WORK/en.toml"
    if cmp -s "$WORK/en_unshared.csv" "$WORK/en_shared.csv"; then
      echo "  elastic_net: trials.csv identical"
    else
      echo "  elastic_net: trials.csv DIFFERS"
    fi
  fi
  if [ "$WHICH" = all ] || [ "$WHICH" = logistic ]; then
    arm lr_cold "$WORK/lr_none.toml"
    arm lr_path "$WORK/lr_path.toml"
  fi
done
