//! One search on many machines through PostgreSQL (issue 16), against a
//! real server: each test starts a private cluster in a temporary folder
//! (initdb + pg_ctl on a free loopback port, as the `postgres` user when
//! the tests run as root) and stops it when it ends, even on failure.
//! Without PostgreSQL installed the tests say `skipped: …`, unless
//! `HPSEARCH_REQUIRE_POSTGRES=1` (as `.ci/run` sets).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{system_tool, Sandbox};

/// The password of the clusters' `hp` role: no output or file may hold it.
const PASSWORD: &str = "Pw-7zq-Secret-91x";

/// The folder holding `initdb`, `pg_ctl` and `psql`: on `PATH`, or Debian's
/// `/usr/lib/postgresql/<version>/bin` (the newest).
fn pg_bin() -> Option<PathBuf> {
    let has = |d: &Path| {
        ["initdb", "pg_ctl", "psql"]
            .iter()
            .all(|p| d.join(p).is_file())
    };
    let on_path =
        std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).find(|d| has(d)));
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let d = e.path().join("bin");
            has(&d).then_some((v, d))
        })
        .collect();
    found.sort();
    let bin = on_path.or_else(|| found.pop().map(|(_, d)| d))?;
    // As root, the server must run as another user.
    if is_root()
        && !Command::new("id")
            .arg("postgres")
            .output()
            .ok()?
            .status
            .success()
    {
        return None;
    }
    Some(bin)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A private PostgreSQL cluster, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// More server options (`-c name=value`), e.g. for TLS.
    extra: String,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        Self::start_with(|_| String::new())
    }

    /// A cluster whose data folder `setup` may change before it starts;
    /// `setup` returns more server options.
    fn start_with(setup: impl FnOnce(&Cluster) -> String) -> Option<Cluster> {
        let bin = system_tool(
            pg_bin(),
            "HPSEARCH_REQUIRE_POSTGRES",
            "PostgreSQL's initdb, pg_ctl and psql (Debian: apt-get install postgresql)",
        )?;
        let dir = tempfile::tempdir().expect("temp dir");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, format!("{PASSWORD}\n")).expect("pwfile");
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let mut c = Cluster {
            dir,
            bin,
            port,
            extra: String::new(),
        };
        let out = c
            .tool("initdb")
            .arg("-D")
            .arg(c.data())
            .args(["-A", "scram-sha-256", "--auth-local=trust", "-U", "hp"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--no-sync", "-E", "UTF8"])
            .output()
            .expect("initdb");
        assert!(out.status.success(), "initdb: {out:?}");
        c.extra = setup(&c);
        c.pg_ctl(&["start", "-w"]);
        Some(c)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A program of the server's, as the `postgres` user when we are root.
    fn tool(&self, name: &str) -> Command {
        let prog = self.bin.join(name);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(prog);
            c
        } else {
            Command::new(prog)
        }
    }

    fn pg_ctl(&self, args: &[&str]) {
        let opts = format!(
            "-k {} -p {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60 {}",
            self.dir.path().display(),
            self.port,
            self.extra
        );
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-o", &opts, "-l"])
            .arg(self.dir.path().join("log"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl");
        assert!(out.status.success(), "pg_ctl {args:?}: {out:?}");
    }

    /// The URL of database `db`, with the password.
    fn url(&self, db: &str) -> String {
        format!("postgresql://hp:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// Run SQL statements (each on its own: CREATE DATABASE refuses a
    /// transaction) with psql as `hp` in database `db`, over the Unix
    /// socket (trusted locally).
    fn sql_in(&self, db: &str, statements: &str) {
        let mut c = Command::new(self.bin.join("psql"));
        c.arg("-h").arg(self.dir.path()).args([
            "-p",
            &self.port.to_string(),
            "-U",
            "hp",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
        ]);
        for s in statements.split(';').filter(|s| !s.trim().is_empty()) {
            c.args(["-c", s]);
        }
        let out = c.stdin(Stdio::null()).output().expect("psql");
        assert!(out.status.success(), "psql {statements}: {out:?}");
    }

    fn sql(&self, statements: &str) {
        self.sql_in("postgres", statements)
    }

    /// One query's result with psql as `hp` in database `db`: unaligned,
    /// tuples only, trimmed.
    fn query(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", "hp", "-d", db])
            .args(["-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
            .stdin(Stdio::null())
            .output()
            .expect("psql");
        assert!(out.status.success(), "psql {sql}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A new, empty database; returns its URL.
    fn database(&self, name: &str) -> String {
        self.sql(&format!("CREATE DATABASE {name}"));
        self.url(name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// Start `hpsearch` with `args` in the sandbox, the database in
/// `HPSEARCH_STORAGE` (so the URL is not on the command line).
fn spawn(sb: &Sandbox, url: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hpsearch"));
    c.args(args)
        .current_dir(sb.path())
        .env("HPSEARCH_STORAGE", url)
        .env("HPSEARCH_LEASE_SECONDS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().expect("start hpsearch")
}

/// Wait for a child, with a generous bound that only catches a hang.
fn finish(child: Child) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(300)) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("worker {pid} hung");
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(0), "{what}: {}", text(out));
    assert!(!text(out).contains(PASSWORD), "{what} printed the password");
}

/// No file under the sandbox holds the password.
fn no_password_in_files(sb: &Sandbox) {
    for (path, bytes) in sb.snapshot(".") {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASSWORD),
            "{} holds the password",
            path.display()
        );
    }
}

/// A plain one-machine run of `file` into `plain_<stem>`: its trials.csv.
fn plain(sb: &Sandbox, file: &str) -> Vec<u8> {
    let stem = file.trim_end_matches(".toml");
    let out = format!("plain_{stem}");
    sb.run(&["run", file, "-q", "-j", "2", "--out", &out])
        .expect_code(0);
    sb.read(&format!("{out}/trials.csv"))
}

/// `file` run by one worker (1 thread) in one database and by four (1, 2,
/// 1 and 2 threads) in another: every worker's trials.csv and a pull's
/// are the plain run's bytes.
fn one_and_four_workers(c: &Cluster, sb: &Sandbox, file: &str, db: &str) {
    let want = plain(sb, file);
    let stem = file.trim_end_matches(".toml");
    let url = c.database(&format!("{db}_one"));
    let w = finish(spawn(
        sb,
        &url,
        &["run", file, "-q", "-j", "1", "--out", &format!("{db}_one")],
        &[],
    ));
    ok(&w, "one worker");
    assert!(
        sb.read(&format!("{db}_one/trials.csv")) == want,
        "{stem}: one worker differs"
    );
    let url = c.database(&format!("{db}_four"));
    let workers: Vec<Child> = (0..4)
        .map(|k| {
            let threads = if k % 2 == 0 { "1" } else { "2" };
            spawn(
                sb,
                &url,
                &[
                    "run",
                    file,
                    "-q",
                    "-j",
                    threads,
                    "--out",
                    &format!("{db}_w{k}"),
                ],
                &[],
            )
        })
        .collect();
    for (k, w) in workers.into_iter().enumerate() {
        let out = finish(w);
        ok(&out, &format!("{stem}: worker {k}"));
        assert!(
            text(&out).contains("results:"),
            "{stem}: worker {k} printed no summary: {}",
            text(&out)
        );
        assert!(
            sb.read(&format!("{db}_w{k}/trials.csv")) == want,
            "{stem}: worker {k}'s trials.csv differs from one machine's"
        );
    }
    let out = finish(spawn(
        sb,
        &url,
        &["pull", file, "--out", &format!("{db}_pulled")],
        &[],
    ));
    ok(&out, "pull");
    assert!(
        sb.read(&format!("{db}_pulled/trials.csv")) == want,
        "{stem}: the pulled trials.csv differs from one machine's"
    );
    // The pulled folder is an ordinary one.
    sb.run(&["show", &format!("{db}_pulled")]).expect_code(0);
}

const BRANIN: &str = r#"
[search]
strategy = "STRATEGY"
trials = 40
seed = SEED
parallel = 4
[objective]
function = "branin"
[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"#;

/// A program objective: a value from the parameters and the seed, after
/// `PROG_SLEEP` seconds; given the argument `steps`, ten intermediate values first.
const PROG: &str = r#"
import json, os, random, sys, time
p = json.load(open(os.environ["HPSEARCH_PARAMS"]))
rng = random.Random(int(os.environ["HPSEARCH_SEED"]))
x = p["x"]
pause = float(os.environ.get("PROG_SLEEP", "0"))
value = (x - 0.3) ** 2 + 1e-3 * rng.random()
if os.environ.get("NONDET"):
    value += random.SystemRandom().random()
if "steps" in sys.argv:
    for t in range(10):
        print(json.dumps({"step": t, "value": value + 1.0 / (t + 1)}), flush=True)
        time.sleep(pause / 10)
else:
    time.sleep(pause)
print(json.dumps({"value": value}))
"#;

const COMMAND: &str = r#"
[search]
strategy = "STRATEGY"
trials = TRIALS
seed = 3
parallel = 4
[objective]
command = ["python3", "prog.py"]
direction = "minimize"
[space]
x = { type = "float", low = 0.0, high = 1.0 }
"#;

const PRUNED: &str = r#"
[search]
strategy = "random"
trials = 24
seed = 5
parallel = 3
[search.pruner]
kind = "median"
n_startup_trials = 3
n_warmup_steps = 1
[objective]
command = ["python3", "prog.py", "steps"]
direction = "minimize"
max_step = 9
[space]
x = { type = "float", low = 0.0, high = 1.0 }
"#;

fn branin(strategy: &str, seed: u64) -> String {
    BRANIN
        .replace("STRATEGY", strategy)
        .replace("SEED", &seed.to_string())
}

fn command(strategy: &str, trials: u64) -> String {
    COMMAND
        .replace("STRATEGY", strategy)
        .replace("TRIALS", &trials.to_string())
}

#[test]
fn four_workers_write_the_journal_one_machine_writes() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("random.toml", &branin("random", 1));
    sb.write("tpe.toml", &branin("tpe", 1));
    sb.write("gp.toml", &branin("gp", 1));
    sb.write("cmd.toml", &command("tpe", 16));
    one_and_four_workers(&c, &sb, "random.toml", "random");
    one_and_four_workers(&c, &sb, "tpe.toml", "tpe");
    one_and_four_workers(&c, &sb, "gp.toml", "gp");
    one_and_four_workers(&c, &sb, "cmd.toml", "cmd");
    no_password_in_files(&sb);
}

/// A model search (fold scores: each batch of results is committed in one
/// statement, every trial's folds sliced out of one array) on 1 and 4
/// workers: the journal is one machine's, fold columns included.
#[test]
fn four_workers_keep_every_trials_fold_scores() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write("knn.toml", &common::IRIS_KNN.replace("SEED", "5"));
    one_and_four_workers(&c, &sb, "knn.toml", "knn");
    let journal = String::from_utf8_lossy(&sb.read("knn_pulled/trials.csv")).into_owned();
    assert!(journal.contains(",fold_2,"), "no fold columns:\n{journal}");
}

/// An external objective run by its `command` (the program of COMMAND):
/// workers run it as they run a command, and the journal is one machine's.
const EXTERNAL: &str = r#"
[search]
strategy = "tpe"
trials = 16
seed = 3
parallel = 4
[objective]
external = "prog"
version = "1"
command = ["python3", "prog.py"]
[space]
x = { type = "float", low = 0.0, high = 1.0 }
"#;

#[test]
fn workers_run_an_external_search_by_its_command() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("ext.toml", EXTERNAL);
    one_and_four_workers(&c, &sb, "ext.toml", "ext");
    no_password_in_files(&sb);
}

#[test]
fn four_workers_with_a_pruner_write_the_journal_one_machine_writes() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("pruned.toml", PRUNED);
    one_and_four_workers(&c, &sb, "pruned.toml", "pruned");
    let journal = String::from_utf8_lossy(&sb.read("pruned_pulled/trials.csv")).into_owned();
    assert!(
        journal.contains(",pruned,"),
        "nothing was pruned:\n{journal}"
    );
    // tpe ranks a pruned trial by the step it reached: every worker must
    // learn that from the committed rows, as one machine does.
    sb.write(
        "pruned_tpe.toml",
        &PRUNED.replace("strategy = \"random\"", "strategy = \"tpe\""),
    );
    one_and_four_workers(&c, &sb, "pruned_tpe.toml", "pruned_tpe");
    let journal = String::from_utf8_lossy(&sb.read("pruned_tpe_pulled/trials.csv")).into_owned();
    assert!(
        journal.contains(",pruned,"),
        "nothing was pruned:\n{journal}"
    );
}

/// SIGKILL workers at ten instants while the others go on, starting a new
/// worker each time (in the killed one's folder, so it also resumes its
/// local journal): the journal is the one machine's.
#[test]
fn killed_workers_lose_nothing() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("kill.toml", &command("random", 48));
    let want = plain(&sb, "kill.toml");
    let url = c.database("kill");
    let env = [("PROG_SLEEP", "0.3")];
    let start = |k: usize| {
        spawn(
            &sb,
            &url,
            &[
                "run",
                "kill.toml",
                "-q",
                "-j",
                "2",
                "--out",
                &format!("w{k}"),
            ],
            &env,
        )
    };
    let mut workers: Vec<Child> = (0..3).map(start).collect();
    let mut live_kills = 0;
    // Fixed instants (no clock reaches a result; these only decide when
    // the kills land).
    for (n, pause_ms) in [250u64, 120, 300, 80, 200, 150, 260, 90, 180, 220]
        .into_iter()
        .enumerate()
    {
        std::thread::sleep(Duration::from_millis(pause_ms));
        let k = n % workers.len();
        if matches!(workers[k].try_wait(), Ok(None)) {
            live_kills += 1;
        }
        let _ = workers[k].kill();
        let _ = workers[k].wait();
        workers[k] = start(k);
    }
    // 48 trials of at least 0.3 s on six threads outlast the first kills
    // whatever the machine's speed.
    assert!(
        live_kills >= 3,
        "only {live_kills} kills hit a running worker"
    );
    for (k, w) in workers.into_iter().enumerate() {
        let out = finish(w);
        ok(&out, &format!("worker {k}"));
        assert!(
            sb.read(&format!("w{k}/trials.csv")) == want,
            "worker {k}'s trials.csv differs after the kills"
        );
    }
    let out = finish(spawn(
        &sb,
        &url,
        &["pull", "kill.toml", "--out", "pulled"],
        &[],
    ));
    ok(&out, "pull");
    assert!(
        sb.read("pulled/trials.csv") == want,
        "pulled journal differs"
    );
}

/// A worker of fast trials claims them in batches. SIGKILLed while it
/// holds several claims (checked in the database while it is stopped),
/// it loses nothing: another worker reruns the rest of its batch once the
/// lease expires, and the journals (the other worker's, the killed
/// worker's folder resumed, a pull) are the one machine's.
#[test]
fn a_worker_killed_mid_batch_loses_nothing() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write(
        "batch.toml",
        &branin("random", 2).replace("trials = 40", "trials = 6000"),
    );
    let want = plain(&sb, "batch.toml");
    let url = c.database("batch");
    let open_claims = "SELECT count(*) FROM hpsearch_trial WHERE NOT done AND worker IS NOT NULL";
    let mut a = spawn(
        &sb,
        &url,
        &["run", "batch.toml", "-q", "-j", "1", "--out", "a"],
        &[("HPSEARCH_LEASE_SECONDS", "2")],
    );
    let pid = a.id() as i32;
    let mut held = 0;
    let bound = std::time::Instant::now() + Duration::from_secs(120);
    while c.query("batch", "SELECT to_regclass('hpsearch_trial') IS NOT NULL") != "t" {
        assert!(
            std::time::Instant::now() < bound,
            "the worker never created the tables"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    while held < 2 {
        assert!(
            std::time::Instant::now() < bound,
            "the worker never held more than one claim"
        );
        assert!(
            matches!(a.try_wait(), Ok(None)),
            "the worker finished before it was caught holding a batch"
        );
        std::thread::sleep(Duration::from_millis(30));
        // SAFETY: kill has no memory preconditions.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        held = c
            .query("batch", open_claims)
            .parse::<u64>()
            .expect("a count");
        if held < 2 {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
    }
    // A claim takes at most 64 trials (MAX_BATCH).
    assert!(held <= 64, "the worker held {held} claims at once");
    let _ = a.kill();
    let _ = a.wait();
    let done_before: u64 = c
        .query("batch", "SELECT count(*) FROM hpsearch_trial WHERE done")
        .parse()
        .expect("a count");
    assert!(done_before < 6000, "nothing left to rerun");
    let b = finish(spawn(
        &sb,
        &url,
        &["run", "batch.toml", "-q", "-j", "2", "--out", "b"],
        &[],
    ));
    ok(&b, "the other worker");
    assert!(
        sb.read("b/trials.csv") == want,
        "the other worker's journal differs"
    );
    let rerun: u64 = c
        .query(
            "batch",
            "SELECT count(*) FROM hpsearch_trial WHERE claims >= 2 AND committed_by <> \
             (SELECT min(id) FROM hpsearch_worker)",
        )
        .parse()
        .expect("a count");
    assert!(
        rerun >= held,
        "{held} trials were held by the killed worker, {rerun} were claimed again"
    );
    let again = finish(spawn(
        &sb,
        &url,
        &["run", "batch.toml", "-q", "-j", "1", "--out", "a"],
        &[],
    ));
    ok(&again, "the killed worker's folder, resumed");
    assert!(
        sb.read("a/trials.csv") == want,
        "the resumed journal differs"
    );
    let pulled = finish(spawn(
        &sb,
        &url,
        &["pull", "batch.toml", "--out", "pulled"],
        &[],
    ));
    ok(&pulled, "pull");
    assert!(
        sb.read("pulled/trials.csv") == want,
        "pulled journal differs"
    );
}

/// A worker stopped (SIGSTOP) while it runs a trial loses its lease;
/// another worker runs and commits the trial; the first worker's late
/// result is dropped, and since its objective is not deterministic here
/// (`NONDET`), it says that its result differs. Both journals are the
/// committed ones.
#[test]
fn a_late_result_is_dropped_and_checked() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("late.toml", &command("random", 6));
    let want = plain(&sb, "late.toml");
    let url = c.database("late");
    let late = spawn(
        &sb,
        &url,
        &["run", "late.toml", "-q", "-j", "1", "--out", "late"],
        &[("PROG_SLEEP", "1"), ("NONDET", "1")],
    );
    let pid = late.id() as i32;
    let bound = std::time::Instant::now() + Duration::from_secs(60);
    while !sb.path().join("late/trials/0").exists() {
        assert!(std::time::Instant::now() < bound, "trial 0 never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    // Let the lease (1 s on the database's clock) run out.
    std::thread::sleep(Duration::from_millis(2500));
    let other = finish(spawn(
        &sb,
        &url,
        &["run", "late.toml", "-q", "-j", "2", "--out", "other"],
        &[],
    ));
    ok(&other, "the other worker");
    assert!(
        sb.read("other/trials.csv") == want,
        "the other worker's journal differs"
    );
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let out = finish(late);
    ok(&out, "the late worker");
    assert!(
        text(&out).contains("trial 0: this worker's result differs from the one already committed"),
        "{}",
        text(&out)
    );
    assert!(
        sb.read("late/trials.csv") == want,
        "the late worker's journal differs"
    );
}

/// A worker stopped (SIGSTOP) while its trial sleeps for ten minutes loses
/// its lease; another worker commits the whole budget. Once resumed, the
/// first worker stops its running program (SIGTERM to the group) instead
/// of waiting for it, and exits 0 with the committed journal.
#[test]
fn a_trial_past_the_budget_is_killed() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("slow.toml", &command("random", 4));
    let url = c.database("slow");
    let slow = spawn(
        &sb,
        &url,
        &["run", "slow.toml", "-q", "-j", "1", "--out", "slow"],
        &[("PROG_SLEEP", "600")],
    );
    let pid = slow.id() as i32;
    let trial = "slow/trials/0";
    let bound = std::time::Instant::now() + Duration::from_secs(60);
    let program = loop {
        if let Some(p) = holder_of(trial) {
            break p;
        }
        assert!(std::time::Instant::now() < bound, "trial 0 never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_millis(2500));
    let other = finish(spawn(
        &sb,
        &url,
        &["run", "slow.toml", "-q", "-j", "2", "--out", "other"],
        &[],
    ));
    ok(&other, "the other worker");
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    // Without the kill, this waits ten minutes and `finish` says it hung.
    let out = finish(slow);
    ok(&out, "the worker whose trial was not wanted");
    assert!(
        common::eventually_dead(&program.to_string()),
        "the program still runs"
    );
    assert!(sb.read("slow/trials.csv") == sb.read("other/trials.csv"));
}

/// The process whose environment says it works in a trial folder whose
/// path ends with `dir`.
fn holder_of(dir: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|&b| b == 0).any(|kv| {
                    kv.starts_with(b"HPSEARCH_TRIAL_DIR=") && kv.ends_with(dir.as_bytes())
                })
            })
        })
}

/// The server restarted mid-search: the workers say so, retry and finish
/// with nothing lost or duplicated.
#[test]
fn workers_ride_out_a_database_restart() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("restart.toml", &command("random", 40));
    let want = plain(&sb, "restart.toml");
    let url = c.database("restart");
    let env = [("PROG_SLEEP", "0.1")];
    let workers: Vec<Child> = (0..2)
        .map(|k| {
            spawn(
                &sb,
                &url,
                &[
                    "run",
                    "restart.toml",
                    "-q",
                    "-j",
                    "2",
                    "--out",
                    &format!("w{k}"),
                ],
                &env,
            )
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    c.pg_ctl(&["restart", "-m", "fast", "-w"]);
    let mut said = false;
    for (k, w) in workers.into_iter().enumerate() {
        let out = finish(w);
        ok(&out, &format!("worker {k}"));
        said |= text(&out).contains("retrying");
        assert!(
            sb.read(&format!("w{k}/trials.csv")) == want,
            "worker {k}'s trials.csv differs after the restart"
        );
    }
    assert!(said, "no worker said it lost the connection");
}

/// Two searches in one database stay apart; a worker whose data differs
/// from the database's search is refused (exit 2, both hashes named) and
/// writes nothing.
#[test]
fn searches_stay_apart_and_other_data_is_refused() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("a.toml", &branin("random", 1));
    sb.write("b.toml", &branin("random", 2));
    let (want_a, want_b) = (plain(&sb, "a.toml"), plain(&sb, "b.toml"));
    let url = c.database("apart");
    let workers: Vec<Child> = ["a", "b", "a", "b"]
        .iter()
        .enumerate()
        .map(|(k, s)| {
            spawn(
                &sb,
                &url,
                &[
                    "run",
                    &format!("{s}.toml"),
                    "-q",
                    "-j",
                    "1",
                    "--out",
                    &format!("{s}{k}"),
                ],
                &[],
            )
        })
        .collect();
    for w in workers {
        ok(&finish(w), "worker");
    }
    assert!(sb.read("a0/trials.csv") == want_a && sb.read("a2/trials.csv") == want_a);
    assert!(sb.read("b1/trials.csv") == want_b && sb.read("b3/trials.csv") == want_b);
    let status = finish(spawn(&sb, &url, &["status"], &[]));
    ok(&status, "status");
    let shown = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        shown.contains("a  root") && shown.contains("b  root") && shown.contains("40/40"),
        "{shown}"
    );
    let one = finish(spawn(&sb, &url, &["status", "a.toml"], &[]));
    ok(&one, "status a.toml");
    let shown = String::from_utf8_lossy(&one.stdout).into_owned();
    assert!(
        shown.contains("a  root") && !shown.contains("b  root"),
        "{shown}"
    );

    // A model search on one copy of the data, then a worker with other data.
    sb.data("iris.csv");
    let knn = common::IRIS_KNN.replace("SEED", "0");
    sb.write("m.toml", &knn);
    ok(
        &finish(spawn(
            &sb,
            &url,
            &["run", "m.toml", "-q", "--out", "m1"],
            &[],
        )),
        "model worker",
    );
    let other = Sandbox::new();
    other.data("iris.csv");
    let iris = String::from_utf8_lossy(&other.read("data/iris.csv")).into_owned();
    let cut: Vec<&str> = iris.lines().collect();
    other.write("data/iris.csv", &(cut[..cut.len() - 1].join("\n") + "\n"));
    other.write("m.toml", &knn);
    let out = finish(spawn(
        &other,
        &url,
        &["run", "m.toml", "-q", "--out", "m2"],
        &[],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    let theirs = String::from_utf8_lossy(&sb.read("m1/manifest.toml")).into_owned();
    let root = theirs
        .lines()
        .find_map(|l| l.strip_prefix("root_hash = \""))
        .map(|r| r.trim_end_matches('"').to_string())
        .expect("root hash");
    assert!(
        said.contains(&root),
        "the database's root hash is not named: {said}"
    );
    assert!(
        said.contains("m.toml") && said.matches("root hash").count() >= 2,
        "{said}"
    );
    assert!(
        !other.path().join("m2").exists(),
        "a refused worker wrote a folder"
    );
}

/// Two searches whose files share a stem: the second is refused under the
/// stem, and stored beside the first under its own `--name`; `pull` with
/// that name writes its journal; `--name` without storage is a usage error.
#[test]
fn two_searches_with_one_file_stem_share_a_database_by_name() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path().join("one")).expect("mkdir");
    std::fs::create_dir_all(sb.path().join("two")).expect("mkdir");
    sb.write("one/s.toml", &branin("random", 1));
    sb.write("two/s.toml", &branin("random", 2));
    let (want_one, want_two) = (plain(&sb, "one/s.toml"), plain(&sb, "two/s.toml"));
    // (`plain` ran them without a database, into plain_one/s and plain_two/s.)
    let url = c.database("named");
    let run = |file: &str, out: &str, name: Option<&str>| {
        let mut args = vec!["run", file, "-q", "-j", "1", "--out", out];
        if let Some(n) = name {
            args.extend(["--name", n]);
        }
        finish(spawn(&sb, &url, &args, &[]))
    };
    ok(&run("one/s.toml", "o1", None), "first search");
    let refused = run("two/s.toml", "t1", None);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("--name"), "{}", text(&refused));
    assert!(!sb.path().join("t1").exists());
    ok(
        &run("two/s.toml", "t2", Some("s-seed2")),
        "second search, named",
    );
    assert!(sb.read("o1/trials.csv") == want_one);
    assert!(sb.read("t2/trials.csv") == want_two);
    let pulled = finish(spawn(
        &sb,
        &url,
        &["pull", "two/s.toml", "--name", "s-seed2", "--out", "p2"],
        &[],
    ));
    ok(&pulled, "pull by name");
    assert!(sb.read("p2/trials.csv") == want_two);
    let status = finish(spawn(&sb, &url, &["status"], &[]));
    let shown = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        shown.contains("s  root") && shown.contains("s-seed2  root"),
        "{shown}"
    );
    let alone = sb.run(&["run", "one/s.toml", "--name", "x", "--out", "x"]);
    alone.expect_code(2);
    assert!(
        alone.stderr().contains("needs --storage"),
        "{}",
        alone.stderr()
    );
    assert!(!sb.path().join("x").exists());
}

/// Bad URL, unreachable host, wrong password, no rights, TLS: exit 2 with
/// one line naming the cause, no password in it, nothing written.
#[test]
fn bad_storage_exits_2_with_one_line_and_no_password() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    sb.write("s.toml", &branin("random", 1));
    c.sql(&format!(
        "CREATE ROLE noright LOGIN PASSWORD '{PASSWORD}'; CREATE DATABASE locked; \
         REVOKE ALL ON DATABASE locked FROM PUBLIC; GRANT CONNECT ON DATABASE locked TO noright"
    ));
    // A database written by a newer hpsearch (schema version 2).
    let newer = c.database("newer");
    c.sql_in(
        "newer",
        "CREATE TABLE hpsearch_schema (version integer NOT NULL); \
         INSERT INTO hpsearch_schema VALUES (2)",
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let cases = [
        (
            format!("mysql://hp:{PASSWORD}@127.0.0.1/x"),
            "not a PostgreSQL URL",
        ),
        (
            format!("postgresql://hp:{PASSWORD}@127.0.0.1:{closed}/postgres"),
            "connect",
        ),
        (
            format!(
                "postgresql://hp:wrong-{PASSWORD}@127.0.0.1:{}/postgres",
                c.port
            ),
            "password authentication failed",
        ),
        (
            format!(
                "postgresql://noright:{PASSWORD}@127.0.0.1:{}/locked",
                c.port
            ),
            "permission denied",
        ),
        (
            format!("{}?sslmode=require", c.url("postgres")),
            "server does not support TLS",
        ),
        (
            format!("{}?sslmode=sometimes", c.url("postgres")),
            "sslmode=sometimes is not a TLS mode",
        ),
        (newer, "written by a newer hpsearch (schema version 2"),
    ];
    for (url, cause) in cases {
        let out = finish(spawn(
            &sb,
            &url,
            &["run", "s.toml", "-q", "--out", "r"],
            &[],
        ));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{cause}: {}", text(&out));
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{cause}: not one line: {err}"
        );
        assert!(err.contains(cause), "{cause}: {err}");
        assert!(
            !text(&out).contains(PASSWORD),
            "{cause}: the password was printed: {err}"
        );
        assert!(
            !sb.path().join("r").exists(),
            "{cause}: a folder was written"
        );
    }
    no_password_in_files(&sb);
}

/// The password from `~/.pgpass` (mode 0600), as libpq reads it; a file
/// others may read is ignored with a warning.
#[test]
fn the_password_comes_from_pgpass() {
    let Some(c) = Cluster::start() else { return };
    let sb = Sandbox::new();
    let home = sb.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let pgpass = home.join(".pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# hosts\nelsewhere:*:*:*:nope\n127.0.0.1:{}:*:hp:{PASSWORD}\n",
            c.port
        ),
    )
    .expect("pgpass");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let url = format!("postgresql://hp@127.0.0.1:{}/postgres", c.port);
    let home_s = home.to_string_lossy().into_owned();
    let env = [("HOME", home_s.as_str()), ("PGPASSWORD", "")];
    let out = finish(spawn(&sb, &url, &["status"], &env));
    ok(&out, "status with ~/.pgpass");
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = finish(spawn(&sb, &url, &["status"], &env));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("is ignored"), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD));
}

/// A CA and a server certificate for `localhost` signed by it, made with
/// the `openssl` program in `dir` (as the `postgres` user when root, so
/// the server may read its key): (CA file, server certificate, key).
fn certificates(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let mut c = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "openssl"]);
            c
        } else {
            Command::new("openssl")
        };
        let out = c
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let (ca, ca_key) = (format!("{name}-ca.crt"), format!("{name}-ca.key"));
    let (crt, key, csr) = (
        format!("{name}.crt"),
        format!("{name}.key"),
        format!("{name}.csr"),
    );
    let mut a = vec!["req", "-x509"];
    a.extend(ec);
    let subject = format!("/CN=hpsearch test CA {name}");
    a.extend([
        "-keyout", &ca_key, "-out", &ca, "-days", "2", "-subj", &subject,
    ]);
    openssl(&a);
    let mut a = vec!["req"];
    a.extend(ec);
    a.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
    openssl(&a);
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-out",
        &crt,
        "-days",
        "2",
        "-extfile",
        &ext,
    ]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join(&key), std::fs::Permissions::from_mode(0o600))
        .expect("chmod key");
    (dir.join(ca), dir.join(crt), dir.join(key))
}

/// TLS (`sslmode` as libpq reads it) against a server that takes TCP
/// connections over TLS only (`hostssl` in pg_hba.conf): `require` and
/// the default `prefer` work, a search runs over it; `verify-full` with
/// the right root works and with another host name or another root fails
/// with exit 2 naming the cause; `verify-ca` does not check the name.
#[test]
fn tls_as_libpq_reads_sslmode() {
    if system_tool(
        which("openssl"),
        "HPSEARCH_REQUIRE_POSTGRES",
        "the openssl program (Debian: apt-get install openssl)",
    )
    .is_none()
    {
        return;
    }
    let mut roots = None;
    let Some(c) = Cluster::start_with(|c| {
        let (ca, crt, key) = certificates(c.dir.path(), "server");
        let (other_ca, _, _) = certificates(c.dir.path(), "other");
        std::fs::write(
            c.data().join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("pg_hba.conf");
        roots = Some((ca, other_ca));
        format!(
            "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            crt.display(),
            key.display()
        )
    }) else {
        return;
    };
    let Some((ca, other_ca)) = roots else { return };
    let sb = Sandbox::new();
    let home = sb.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let home_s = home.to_string_lossy().into_owned();
    let env = [("HOME", home_s.as_str())];
    let at = |host: &str, query: &str| {
        format!(
            "postgresql://hp:{PASSWORD}@{host}:{}/postgres?{query}",
            c.port
        )
    };
    let ca_s = ca.to_string_lossy();
    let other_s = other_ca.to_string_lossy();
    for url in [
        at("127.0.0.1", "sslmode=require"),
        at("127.0.0.1", "application_name=x"),
        at(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={ca_s}"),
        ),
        at(
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={ca_s}"),
        ),
    ] {
        let out = finish(spawn(&sb, &url, &["status"], &env));
        ok(&out, &url.replace(PASSWORD, "***"));
    }
    sb.write("s.toml", &branin("random", 3));
    let want = plain(&sb, "s.toml");
    let out = finish(spawn(
        &sb,
        &at(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={ca_s}"),
        ),
        &["run", "s.toml", "-q", "--out", "tls"],
        &env,
    ));
    ok(&out, "a search over TLS");
    assert_eq!(sb.read("tls/trials.csv"), want);
    for (url, cause) in [
        (at("127.0.0.1", "sslmode=disable"), "no encryption"),
        (
            at(
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={ca_s}"),
            ),
            "not valid for name",
        ),
        (
            at(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={other_s}"),
            ),
            "UnknownIssuer",
        ),
        (
            at(
                "localhost",
                "sslmode=verify-full&sslrootcert=/nonexistent/root.crt",
            ),
            "sslrootcert /nonexistent/root.crt",
        ),
    ] {
        let out = finish(spawn(
            &sb,
            &url,
            &["run", "s.toml", "-q", "--out", "r"],
            &env,
        ));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{cause}: {}", text(&out));
        assert_eq!(err.trim_end().lines().count(), 1, "{cause}: {err}");
        assert!(err.contains(cause), "{cause}: {err}");
        assert!(!text(&out).contains(PASSWORD), "{cause}: {err}");
        assert!(
            !sb.path().join("r").exists(),
            "{cause}: a folder was written"
        );
    }
    // libpq: `require` with a root file checks the chain (as verify-ca).
    let out = finish(spawn(
        &sb,
        &at(
            "127.0.0.1",
            &format!("sslmode=require&sslrootcert={other_s}"),
        ),
        &["status"],
        &env,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("UnknownIssuer"), "{}", text(&out));
    no_password_in_files(&sb);
}

/// `name` on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}
