#!/usr/bin/env bash
# One search on many machines (issue 16): throughput of hpsearch workers
# sharing a private PostgreSQL cluster, and the per-trial coordination
# time at the first and the last 1,000 trials (from the database's own
# commit times: it must stay flat as the search grows).
#
#   scripts/bench_storage.sh [TRIALS=20000] [WORKERS=4]
#
# Random search over branin (a trivial function objective), each worker
# with --threads 1. Needs PostgreSQL's initdb/pg_ctl/psql (Debian:
# apt-get install postgresql) and a release build. Runs the server as the
# `postgres` user when run as root. The side-by-side comparison with
# Optuna's RDBStorage, the ~50 ms objective on 1/2/4 workers and an idle
# worker's cost: scripts/bench_storage.py.
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-20000}
workers=${2:-4}
bin=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")
hp=$PWD/target/release/hpsearch
[ -x "$hp" ] || cargo build --release
tmp=$(mktemp -d)
chmod 777 "$tmp"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$bin/initdb" -D "$tmp/data" -A trust -U hp --no-sync >/dev/null
as_pg "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w \
    -o "-k $tmp -p $port -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
trap 'as_pg "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null; rm -rf "$tmp"' EXIT
cat >"$tmp/bench.toml" <<EOF
[search]
strategy = "random"
trials = $trials
[objective]
function = "branin"
[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
EOF
export HPSEARCH_STORAGE="postgresql://hp@127.0.0.1:$port/postgres"
start=$(date +%s.%N)
for w in $(seq 1 "$workers"); do
    "$hp" run "$tmp/bench.toml" -q -j 1 --out "$tmp/w$w" >/dev/null &
done
wait
end=$(date +%s.%N)
plain_same=$(HPSEARCH_STORAGE='' "$hp" run "$tmp/bench.toml" -q -j 2 --out "$tmp/one" >/dev/null &&
    cmp -s "$tmp/one/trials.csv" "$tmp/w1/trials.csv" && echo yes || echo NO)
python3 - "$start" "$end" "$trials" "$workers" "$plain_same" <<'EOF'
import sys
start, end, trials, workers, same = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
print(f"{trials} trials, {workers} workers: {end - start:.2f} s, {trials / (end - start):.0f} trials/s; "
      f"trials.csv identical to one machine's: {same}")
EOF
echo "coordination time per trial ($workers workers together), by block of 1,000 trials:"
"$bin/psql" -h "$tmp" -p "$port" -U hp -d postgres -At -F ' ' -c "
  SELECT 'trials ' || (idx / 1000) * 1000 || '..: ' ||
         round((extract(epoch FROM max(committed) - min(committed)) * 1000
                / greatest(count(*) - 1, 1))::numeric, 3) || ' ms'
  FROM hpsearch_trial GROUP BY idx / 1000 ORDER BY idx / 1000"
