//! Crash safety on the real binary: SIGKILL at several points, resume
//! (with other thread counts), and the journal ends byte-identical to a run
//! that was never interrupted. Damage is named; two writers are refused.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Sandbox;

fn func_search(trials: u64) -> String {
    format!(
        r#"
[search]
strategy = "random"
trials = {trials}
seed = 3

[objective]
function = "mixed"

[space]
x1 = {{ type = "float", low = -5.0, high = 5.0 }}
x2 = {{ type = "float", low = -5.0, high = 5.0 }}
lr = {{ type = "float", low = 1e-5, high = 1e-1, log = true }}
n = {{ type = "int", low = 1, high = 32 }}
act = {{ type = "categorical", choices = ["relu", "tanh", "sigmoid"] }}
"#
    )
}

const FOREST: &str = r#"
[search]
strategy = "random"
trials = 60
seed = 9

[objective]
model = "random_forest"
metric = "log_loss"

[data]
path = "data/wine.csv"

[cv]
folds = 3

[space]
n_estimators = { type = "int", low = 40, high = 80 }
max_depth = { type = "int", low = 2, high = 10 }
max_features = { type = "categorical", choices = ["sqrt", "all"] }
"#;

fn spawn(sb: &Sandbox, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hpsearch"))
        .args(args)
        .current_dir(sb.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hpsearch")
}

fn rows(sb: &Sandbox, out: &str) -> usize {
    std::fs::read(sb.path().join(out).join("trials.csv"))
        .map(|b| b.iter().filter(|&&c| c == b'\n').count().saturating_sub(1))
        .unwrap_or(0)
}

/// Kill a run of `file` into `out` after each delay (SIGKILL), resuming
/// with a different thread count each time, then let it finish; return how
/// many kills landed before the end.
fn kill_resume(sb: &Sandbox, file: &str, out: &str, delays_ms: &[u64]) -> usize {
    let threads = ["1", "2", "8", "3"];
    let mut interrupted = 0;
    for (i, d) in delays_ms.iter().enumerate() {
        let mut child = spawn(sb, &["run", file, "--out", out, "-q", "-j", threads[i % 4]]);
        std::thread::sleep(Duration::from_millis(*d));
        if child.try_wait().expect("poll").is_none() {
            interrupted += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }
    sb.run(&["run", file, "--out", out, "-q", "-j", "2"])
        .expect_code(0);
    interrupted
}

#[test]
fn killed_function_search_resumes_to_the_same_journal() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(150_000));
    sb.run(&["run", "f.toml", "--out", "straight", "-q", "-j", "2"])
        .expect_code(0);
    let n = kill_resume(&sb, "f.toml", "killed", &[30, 90, 180, 300, 450]);
    assert!(n >= 2, "only {n} kills landed before the search ended");
    assert!(
        sb.read("killed/trials.csv") == sb.read("straight/trials.csv"),
        "trials.csv differs after kill and resume"
    );
}

#[test]
fn killed_model_search_resumes_to_the_same_journal() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    sb.write("m.toml", FOREST);
    sb.run(&["run", "m.toml", "--out", "straight", "-q", "-j", "2"])
        .expect_code(0);
    let n = kill_resume(&sb, "m.toml", "killed", &[150, 300, 500]);
    assert!(n >= 1, "no kill landed before the search ended");
    assert!(sb.read("killed/trials.csv") == sb.read("straight/trials.csv"));
    assert!(sb.read("killed/folds.csv") == sb.read("straight/folds.csv"));
}

#[test]
fn torn_last_line_is_discarded_on_resume() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(50));
    sb.run(&["run", "f.toml", "--out", "straight", "-q"])
        .expect_code(0);
    let whole = sb.read("straight/trials.csv");
    // 20 trials committed, then half of the 21st (line 22), as a crash
    // mid-write leaves.
    sb.write("t.toml", &func_search(20));
    sb.run(&["run", "t.toml", "--out", "torn", "-q"])
        .expect_code(0);
    let text = String::from_utf8(whole.clone()).unwrap();
    let next = text.split_inclusive('\n').nth(21).unwrap();
    let mut torn = sb.read("torn/trials.csv");
    torn.extend_from_slice(&next.as_bytes()[..next.len() / 2]);
    std::fs::write(sb.path().join("torn/trials.csv"), torn).unwrap();
    sb.write("t.toml", &func_search(50));
    let r = sb.run(&["run", "t.toml", "--out", "torn", "-q", "-j", "8"]);
    r.expect_code(0);
    assert!(
        r.stderr().contains("resuming at trial 20 of 50"),
        "{}",
        r.stderr()
    );
    assert!(sb.read("torn/trials.csv") == whole);
}

fn damaged(sb: &Sandbox, expect: &[&str]) {
    let before = sb.snapshot("results");
    let r = sb.run(&["run", "f.toml", "-q"]);
    r.expect_code(2);
    for piece in expect {
        assert!(
            r.stderr().contains(piece),
            "`{piece}` not in {}",
            r.stderr()
        );
    }
    assert!(
        sb.snapshot("results") == before,
        "a damaged folder was changed"
    );
}

#[test]
fn damage_is_named_and_nothing_is_written() {
    let sb = Sandbox::new();
    sb.write("g.toml", &func_search(40));
    sb.run(&["run", "g.toml", "-q"]).expect_code(0);
    let good = std::fs::read_to_string(sb.path().join("results/g/trials.csv")).unwrap();
    // An unfinished search: 30 of 40 trials.
    sb.write("f.toml", &func_search(30));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    sb.write("f.toml", &func_search(40));
    let path = sb.path().join("results/f/trials.csv");
    let unfinished = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<String> = unfinished.lines().map(str::to_string).collect();

    // A changed value on line 6.
    let mut v = lines.clone();
    let f: Vec<&str> = v[5].split(',').collect();
    let changed = v[5].replacen(f[3], &format!("{}1", f[3]), 1);
    v[5] = changed;
    std::fs::write(&path, v.join("\n") + "\n").unwrap();
    damaged(&sb, &["trials.csv", "line 6", "check"]);

    // A deleted row (line 11).
    let mut v = lines.clone();
    v.remove(10);
    std::fs::write(&path, v.join("\n") + "\n").unwrap();
    damaged(&sb, &["trials.csv", "line 11"]);

    // A foreign file.
    std::fs::write(&path, &unfinished).unwrap();
    sb.write("results/f/notes.txt", "mine");
    damaged(&sb, &["notes.txt", "not a file hpsearch writes"]);
    std::fs::remove_file(sb.path().join("results/f/notes.txt")).unwrap();

    // Undamaged, it resumes to the straight run's journal.
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
}

#[test]
fn raising_trials_extends_and_lowering_is_refused() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(100));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    sb.write("f.toml", &func_search(250));
    let r = sb.run(&["run", "f.toml", "-q", "-j", "3"]);
    r.expect_code(0);
    assert!(r.stderr().contains("resuming at trial 100 of 250"));
    sb.write("g.toml", &func_search(250));
    sb.run(&["run", "g.toml", "-q"]).expect_code(0);
    assert!(sb.read("results/f/trials.csv") == sb.read("results/g/trials.csv"));

    sb.write("f.toml", &func_search(60));
    let before = sb.snapshot("results/f");
    let r = sb.run(&["run", "f.toml", "-q"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("already holds 250 trials"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("raise `trials`"), "{}", r.stderr());
    assert!(sb.snapshot("results/f") == before);
}

#[test]
fn a_second_writer_is_refused() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(3_000_000));
    let mut first = spawn(&sb, &["run", "f.toml", "-q", "-j", "1"]);
    let start = Instant::now();
    while rows(&sb, "results/f") < 10 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "first run never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = sb.run(&["run", "f.toml", "-q"]);
    let still_running = first.try_wait().expect("poll").is_none();
    first.kill().expect("kill");
    first.wait().expect("reap");
    assert!(
        still_running,
        "the first run ended before the second started"
    );
    r.expect_code(2);
    assert!(
        r.stderr().contains("another hpsearch process"),
        "{}",
        r.stderr()
    );
    // The lock died with the first process: the folder resumes (to a
    // budget just above what was recorded, to keep the test short).
    let done = rows(&sb, "results/f") as u64;
    sb.write("f.toml", &func_search(done + 5));
    let r = sb.run(&["run", "f.toml", "-q"]);
    r.expect_code(0);
    assert!(r.stderr().contains("resuming at trial"), "{}", r.stderr());
}

#[test]
fn killed_tpe_search_resumes_to_the_same_journal() {
    let sb = Sandbox::new();
    let text = func_search(600).replace("\"random\"", "\"tpe\"\nparallel = 3");
    sb.write("t.toml", &text);
    sb.run(&["run", "t.toml", "--out", "straight", "-q", "-j", "2"])
        .expect_code(0);
    kill_resume(&sb, "t.toml", "killed", &[60, 150, 300]);
    assert!(sb.read("killed/trials.csv") == sb.read("straight/trials.csv"));
}

/// The GP memoises its hyperparameter fits across proposals; a resumed
/// process starts with an empty memo and must rebuild the same fits.
#[test]
fn killed_gp_search_resumes_to_the_same_journal() {
    let sb = Sandbox::new();
    let text = func_search(150).replace("\"random\"", "\"gp\"\nparallel = 3");
    sb.write("g.toml", &text);
    sb.run(&["run", "g.toml", "--out", "straight", "-q", "-j", "2"])
        .expect_code(0);
    let n = kill_resume(&sb, "g.toml", "killed", &[150, 400, 700]);
    assert!(n >= 1, "no kill landed before the search ended");
    assert!(sb.read("killed/trials.csv") == sb.read("straight/trials.csv"));
}

#[test]
fn a_creation_cut_short_starts_over() {
    // Killed after the lock and the CSV headers, before the manifest: no
    // trial was committed, and the next run starts the search afresh.
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(30));
    sb.run(&["run", "f.toml", "--out", "straight", "-q"])
        .expect_code(0);
    sb.write("results/f/lock", "");
    sb.write("results/f/trials.csv", "trial,seed");
    sb.write("results/f/.hpsearch-tmp-Ab12cD", "trial,seconds,thread\n");
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    assert!(sb.read("results/f/trials.csv") == sb.read("straight/trials.csv"));
}
