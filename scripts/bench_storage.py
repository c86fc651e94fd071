#!/usr/bin/env python3
"""One search on many machines (issue 16), measured side by side with
Optuna's RDBStorage on the same private PostgreSQL cluster.

    python3 scripts/bench_storage.py [--trials 20000] [--optuna-trials N]
                                     [--rounds 3] [--python VENV_PYTHON]

What it prints (medians over the rounds, with the load average each round
started at):

1. Random search over branin (a trivial function objective), 4 worker
   processes of 1 thread each, TRIALS trials: trials per second for
   hpsearch and for Optuna (RandomSampler, RDBStorage, 4 processes of
   study.optimize), and for both the coordination time per trial at the
   first and the last 1,000 trials (from the database's own commit times:
   the wall time of a block of 1,000 consecutive trials divided by 999).
2. The same search with a ~50 ms objective (a command `sleep 0.05`), 200
   trials, on 1, 2 and 4 worker processes: seconds and speed-up.
3. What one idle worker costs the database: transactions per second
   (pg_stat_database.xact_commit) over 10 s, with and without it.

Needs PostgreSQL's initdb/pg_ctl/psql (Debian: apt-get install
postgresql), a release build, and for Optuna a Python with optuna and
psycopg2 (e.g. python3 -m venv v && v/bin/pip install optuna==5.0.0
psycopg2-binary; pass --python v/bin/python). Runs the server as the
`postgres` user when run as root. Every process it starts, it waits for.
"""

import argparse
import glob
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HP = os.path.join(ROOT, "target", "release", "hpsearch")

OPTUNA_WORKER = r"""
import math, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def branin(t):
    x0 = t.suggest_float("x0", -5.0, 10.0)
    x1 = t.suggest_float("x1", 0.0, 15.0)
    b, c = 5.1 / (4 * math.pi ** 2), 5 / math.pi
    return (x1 - b * x0 ** 2 + c * x0 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x0) + 10
study = optuna.load_study(study_name=name, storage=url, sampler=optuna.samplers.RandomSampler())
study.optimize(branin, n_trials=n)
"""


def pg_bin():
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not cands:
        sys.exit("PostgreSQL's initdb is not installed (apt-get install postgresql)")
    return os.path.dirname(cands[-1])


def as_pg(args):
    return (["runuser", "-u", "postgres", "--"] + args) if os.geteuid() == 0 else args


class Cluster:
    def __init__(self, tmp):
        self.bin = pg_bin()
        self.tmp = tmp
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        subprocess.run(as_pg([f"{self.bin}/initdb", "-D", f"{tmp}/data", "-A", "trust",
                              "-U", "hp", "--no-sync"]), check=True, stdout=subprocess.DEVNULL)
        opts = (f"-k {tmp} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=100")
        subprocess.run(as_pg([f"{self.bin}/pg_ctl", "-D", f"{tmp}/data", "-l", f"{tmp}/log",
                              "-w", "-o", opts, "start"]), check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run(as_pg([f"{self.bin}/pg_ctl", "-D", f"{self.tmp}/data", "-m",
                              "immediate", "stop"]), stdout=subprocess.DEVNULL)

    def sql(self, db, q):
        out = subprocess.run([f"{self.bin}/psql", "-h", self.tmp, "-p", str(self.port), "-U",
                              "hp", "-d", db, "-At", "-F", " ", "-c", q],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def database(self, name):
        self.sql("postgres", f"CREATE DATABASE {name}")
        return name

    def url(self, db, scheme="postgresql"):
        return f"{scheme}://hp@127.0.0.1:{self.port}/{db}"


def per_trial_ms(cluster, db, table, idx, stamp, trials):
    """Coordination time per trial (ms) at the first and last block of
    1,000 trials (of a quarter of the trials, for fewer than 4,000)."""
    size = min(1000, trials // 4)
    def block(lo):
        q = (f"SELECT extract(epoch FROM max({stamp}) - min({stamp})) * 1000 / "
             f"greatest(count(*) - 1, 1) FROM {table} WHERE {idx} >= {lo} AND {idx} < {lo + size}")
        return float(cluster.sql(db, q))
    return block(0), block(trials - size)


def search_file(path, trials, objective):
    with open(path, "w") as f:
        f.write(f"""[search]
strategy = "random"
trials = {trials}
seed = 1
[objective]
{objective}
[space]
x0 = {{ type = "float", low = -5.0, high = 10.0 }}
x1 = {{ type = "float", low = 0.0, high = 15.0 }}
""")


def hp_workers(cluster, db, toml, workers, out):
    env = dict(os.environ, HPSEARCH_STORAGE=cluster.url(db))
    start = time.monotonic()
    procs = [subprocess.Popen([HP, "run", toml, "-q", "-j", "1", "--out", f"{out}{w}"],
                              env=env, stdout=subprocess.DEVNULL) for w in range(workers)]
    codes = [p.wait() for p in procs]
    took = time.monotonic() - start
    if any(codes):
        sys.exit(f"an hpsearch worker failed: {codes}")
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20000)
    ap.add_argument("--optuna-trials", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python", default=None, help="a Python with optuna and psycopg2")
    ap.add_argument("--optuna-rounds", type=int, default=None)
    ap.add_argument("--slow-trials", type=int, default=200)
    a = ap.parse_args()
    if not os.access(HP, os.X_OK):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o777)
    cluster = Cluster(tmp)
    rows = {}
    try:
        fast = f"{tmp}/fast.toml"
        search_file(fast, a.trials, 'function = "branin"')
        slow = f"{tmp}/slow.toml"
        search_file(slow, a.slow_trials,
                    r'''command = ["sh", "-c", "sleep 0.05; printf '{\"value\": %s}\\n' \"$HPSEARCH_PARAM_X0\""]'''
                    '\n'
                    'args = false\ndirection = "minimize"')
        subprocess.run([HP, "run", fast, "-q", "-j", "2", "--out", f"{tmp}/one"], check=True,
                       stdout=subprocess.DEVNULL)
        for r in range(a.rounds):
            load = os.getloadavg()[0]
            db = cluster.database(f"hp{r}")
            took = hp_workers(cluster, db, fast, 4, f"{tmp}/hp{r}_")
            same = all(open(f"{tmp}/hp{r}_{w}/trials.csv", "rb").read()
                       == open(f"{tmp}/one/trials.csv", "rb").read() for w in range(4))
            first, last = per_trial_ms(cluster, db, "hpsearch_trial", "idx", "committed",
                                       a.trials)
            rows.setdefault("hp", []).append((a.trials / took, first, last, load, same))
            print(f"round {r + 1} (load {load:.1f}): hpsearch {a.trials} trials, 4 workers: "
                  f"{took:.1f} s, {a.trials / took:.0f} trials/s; per trial {first:.3f} ms "
                  f"(first 1,000), {last:.3f} ms (last 1,000); trials.csv as one machine's: "
                  f"{same}", flush=True)
            if a.python and r < (a.optuna_rounds or a.rounds):
                n = a.optuna_trials or a.trials
                load = os.getloadavg()[0]
                db = cluster.database(f"op{r}")
                url = cluster.url(db, "postgresql+psycopg2")
                subprocess.run([a.python, "-c",
                                "import optuna,sys; optuna.create_study(study_name='b', "
                                "storage=sys.argv[1])", url], check=True)
                start = time.monotonic()
                procs = [subprocess.Popen([a.python, "-c", OPTUNA_WORKER, url, "b",
                                           str(n // 4 + (w < n % 4))]) for w in range(4)]
                codes = [p.wait() for p in procs]
                took = time.monotonic() - start
                if any(codes):
                    sys.exit(f"an Optuna worker failed: {codes}")
                first, last = per_trial_ms(cluster, db, "trials", "number", "datetime_complete",
                                           n)
                rows.setdefault("optuna", []).append((n / took, first, last, load, True))
                print(f"round {r + 1} (load {load:.1f}): Optuna {n} trials, 4 workers: "
                      f"{took:.1f} s, {n / took:.0f} trials/s; per trial {first:.3f} ms "
                      f"(first {min(1000, n // 4)}), {last:.3f} ms (last {min(1000, n // 4)})", flush=True)
            for w in (1, 2, 4):
                load = os.getloadavg()[0]
                db = cluster.database(f"slow{r}_{w}")
                took = hp_workers(cluster, db, slow, w, f"{tmp}/slow{r}_{w}_")
                rows.setdefault(f"slow{w}", []).append((took, load))
                print(f"round {r + 1} (load {load:.1f}): ~50 ms objective, {a.slow_trials} "
                      f"trials, {w} worker(s): {took:.2f} s", flush=True)
            rows.setdefault("idle", []).append(idle_cost(cluster, r, tmp))
        print("\nmedians over", a.rounds, "rounds:")
        for k in ("hp", "optuna"):
            if k in rows:
                rate, first, last = (statistics.median(x[i] for x in rows[k]) for i in range(3))
                loads = ", ".join(f"{x[3]:.1f}" for x in rows[k])
                print(f"{k}: {rate:.0f} trials/s, per trial {first:.3f} ms first block, "
                      f"{last:.3f} ms last block (ratio {last / first:.2f}); loads {loads}")
        if "hp" in rows and "optuna" in rows:
            ratio = statistics.median(x[0] for x in rows["hp"]) / statistics.median(
                x[0] for x in rows["optuna"])
            print(f"throughput hpsearch / Optuna: {ratio:.1f}x")
        one = statistics.median(x[0] for x in rows["slow1"])
        for w in (1, 2, 4):
            t = statistics.median(x[0] for x in rows[f"slow{w}"])
            print(f"~50 ms objective, {w} worker(s): {t:.2f} s, speed-up {one / t:.2f}")
        alone, both = (statistics.median(x[i] for x in rows["idle"]) for i in range(2))
        print(f"idle worker: {both - alone:.2f} transactions/s "
              f"(database {alone:.2f}/s without it, {both:.2f}/s with it)")
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def idle_cost(cluster, r, tmp):
    """Transactions per second on the database over 10 s, without and with
    one idle worker: a worker holds the only trial (a 40 s command), a
    second worker has nothing to claim and waits."""
    db = cluster.database(f"idle{r}")
    toml = f"{tmp}/idle.toml"
    with open(toml, "w") as f:
        f.write("""[search]
strategy = "random"
trials = 1
[objective]
command = ["sh", "-c", "sleep 30; echo '{\\"value\\": 1}'"]
args = false
direction = "minimize"
[space]
x = { type = "float", low = 0.0, high = 1.0 }
""")
    env = dict(os.environ, HPSEARCH_STORAGE=cluster.url(db))

    def rate():
        q = f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{db}'"
        a = int(cluster.sql("postgres", q))
        time.sleep(10)
        b = int(cluster.sql("postgres", q))
        return (b - a) / 10

    busy = subprocess.Popen([HP, "run", toml, "-q", "--out", f"{tmp}/idle{r}_a"], env=env,
                            stdout=subprocess.DEVNULL)
    time.sleep(3)
    alone = rate()
    idle = subprocess.Popen([HP, "run", toml, "-q", "--out", f"{tmp}/idle{r}_b"], env=env,
                            stdout=subprocess.DEVNULL)
    time.sleep(3)
    both = rate()
    for p in (busy, idle):
        p.wait()
    print(f"round {r + 1}: database transactions/s over 10 s: {alone:.2f} with the busy "
          f"worker alone, {both:.2f} with an idle worker beside it", flush=True)
    return alone, both


if __name__ == "__main__":
    main()
