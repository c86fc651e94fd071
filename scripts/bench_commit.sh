#!/usr/bin/env bash
# The cost of committing trials durably in a sequential search: 1,000 TPE
# trials on Hartmann-6 with `parallel = 1` (each proposal needs the previous
# trial's result), on a quiet disk and while another process keeps the same
# disk busy writing and syncing 512 MiB at a time. Prints the median and the
# range of RUNS wall times (seconds) for each binary, the binaries taking
# turns within a round so they see the same load.
#
#   scripts/bench_commit.sh                         # this checkout's release build
#   scripts/bench_commit.sh old/hpsearch target/release/hpsearch
#   RUNS=7 TRIALS=1000 WORK=/some/disk scripts/bench_commit.sh ...
#
# WORK (default: a new folder under $TMPDIR) is where the results folders
# and the busy writer's file go: put it on the disk to measure. Not part of
# CI.
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
TRIALS=${TRIALS:-1000}
if [ $# -eq 0 ]; then
  cargo build --release -q || exit 1
  set -- target/release/hpsearch
fi
BINS=()
for b in "$@"; do BINS+=("$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"); done
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
cat > "$WORK/h6.toml" <<T
[search]
strategy = "tpe"
trials = $TRIALS
seed = 0
parallel = 1

[objective]
function = "hartmann6"

[space]
x0 = { type = "float", low = 0.0, high = 1.0 }
x1 = { type = "float", low = 0.0, high = 1.0 }
x2 = { type = "float", low = 0.0, high = 1.0 }
x3 = { type = "float", low = 0.0, high = 1.0 }
x4 = { type = "float", low = 0.0, high = 1.0 }
x5 = { type = "float", low = 0.0, high = 1.0 }
T

# One timed run of binary $1 (index $2) into a fresh folder; prints seconds.
one() {
  rm -rf "$WORK/out$2"
  local t0 t1
  t0=$(date +%s.%N)
  "$1" run "$WORK/h6.toml" --out "$WORK/out$2" -q -j 1 > /dev/null || { echo "run failed: $1" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

# Median, min and max of the numbers on stdin.
stats() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "median %.3f s (%.3f-%.3f, %d runs)", m, a[1], a[NR], NR}'; }

measure() {
  local label=$1 i k
  for k in "${!BINS[@]}"; do : > "$WORK/times$k"; done
  for i in $(seq "$RUNS"); do
    for k in "${!BINS[@]}"; do one "${BINS[$k]}" "$k" >> "$WORK/times$k"; done
  done
  for k in "${!BINS[@]}"; do
    echo "$label ${BINS[$k]}: $(stats < "$WORK/times$k")"
  done
  # Every binary wrote the same journal.
  for k in "${!BINS[@]}"; do cmp -s "$WORK/out0/trials.csv" "$WORK/out$k/trials.csv" || echo "trials.csv differs: ${BINS[$k]}"; done
}

measure quiet
( while true; do dd if=/dev/zero of="$WORK/busy" bs=1M count=512 oflag=direct conv=fdatasync status=none; done ) &
BUSY=$!
sleep 2
measure busy
# The writer loop first (so no new dd starts), then the dd it ran.
DD=$(pgrep -P "$BUSY")
kill "$BUSY"; wait "$BUSY" 2>/dev/null
[ -n "$DD" ] && kill $DD 2>/dev/null
rm -f "$WORK/busy"
