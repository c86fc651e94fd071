#!/usr/bin/env bash
# `hpsearch report` at scale: a random search of Hartmann-6 (6 float
# parameters) with TRIALS trials, which hpsearch runs in seconds, then the
# report on its folder, timed (wall seconds and peak memory, from
# /usr/bin/time when there is one). Each report is written twice and the
# two files compared byte for byte.
#
#   scripts/bench_report.sh                     # TRIALS="20000 100000"
#   TRIALS=100000 LIMIT=600 scripts/bench_report.sh
#   HPSEARCH=/path/to/other/hpsearch scripts/bench_report.sh   # another build
#   WORK=/tmp/reports scripts/bench_report.sh   # keep the folders and reports
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HPSEARCH:-}" ]; then
  cargo build --release -q
  HPSEARCH=target/release/hpsearch
fi
LIMIT=${LIMIT:-3600}
if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
  work=$WORK
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
timer=()
if [ -x /usr/bin/time ]; then
  timer=(/usr/bin/time -f '%e s wall, %M KiB peak')
fi
for n in ${TRIALS:-20000 100000}; do
  dir="$work/hartmann6-$n"
  if [ ! -f "$dir/manifest.toml" ]; then
    sed "s/^trials = .*/trials = $n/" configs/hartmann6_random.toml > "$work/hartmann6-$n.toml"
    "$HPSEARCH" run "$work/hartmann6-$n.toml" --out "$dir" --quiet > /dev/null
  fi
  for k in 1 2; do
    printf '%d trials, report %d: ' "$n" "$k"
    start=$(date +%s.%N)
    if timeout "$LIMIT" "${timer[@]}" "$HPSEARCH" report "$dir" --out "$work/report-$n-$k.html" 2> "$work/err-$n"; then
      end=$(date +%s.%N)
      printf '%.2f s (%s), %d bytes\n' "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" \
        "$(tail -n 1 "$work/err-$n")" "$(stat -c %s "$work/report-$n-$k.html")"
    else
      echo "did not finish within $LIMIT s"
      continue 2
    fi
  done
  if cmp -s "$work/report-$n-1.html" "$work/report-$n-2.html"; then
    echo "$n trials: the two reports are byte-identical"
  else
    echo "$n trials: the two reports DIFFER"
    exit 1
  fi
done
