#!/usr/bin/env bash
# The engine alone: random search over a trivial function (branin) for
# 100,000 trials, journal durable (fsync'd in batches). Prints trials per
# second, median of RUNS runs, for each thread count.
#
#   scripts/bench_engine.sh            # RUNS=5, THREADS="1 2"
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
RUNS=${RUNS:-5}
TRIALS=${TRIALS:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s/^trials = .*/trials = $TRIALS/" configs/branin_random.toml > "$work/engine.toml"
for t in ${THREADS:-1 2}; do
  times=()
  for r in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    target/release/hpsearch run "$work/engine.toml" --threads "$t" --out "$work/out-$t-$r" --quiet > /dev/null
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  rate=$(awk -v n="$TRIALS" -v m="$median" 'BEGIN {print n / m}')
  printf 'threads %s: %d trials in %.3f s (median of %d) = %.0f trials/s\n' "$t" "$TRIALS" "$median" "$RUNS" "$rate"
done
