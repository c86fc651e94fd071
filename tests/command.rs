//! Command objectives on the real binary with real child processes: the
//! three ways parameters arrive, every way a program can end (success,
//! failure, garbage, NaN, hanging past its time-out, leaving children
//! behind, flooding stderr), max_failures, Ctrl-C, versioned inputs,
//! determinism across thread counts, kill-and-resume, and replay.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Sandbox;

/// A Python program whose behaviour is chosen by its `mode` parameter.
/// Every mode checks that the three channels agree on the parameters.
const PROG: &str = r#"
import json, os, random, subprocess, sys, time

p = json.load(open(os.environ["HPSEARCH_PARAMS"]))
args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
for name, value in p.items():
    env = os.environ["HPSEARCH_PARAM_" + name.upper()]
    if isinstance(value, bool):
        ok = args[name] == env == ("true" if value else "false")
    elif isinstance(value, float):
        ok = float(args[name]) == float(env) == value
    elif isinstance(value, int):
        ok = int(args[name]) == int(env) == value
    else:
        ok = args[name] == env == value
    if not ok:
        print(f"channels disagree on {name}: {args[name]!r} {env!r} {value!r}", file=sys.stderr)
        sys.exit(9)

seed = int(os.environ["HPSEARCH_SEED"])
trial = int(os.environ["HPSEARCH_TRIAL"])
workdir = os.environ["HPSEARCH_TRIAL_DIR"]
rng = random.Random(seed)
mode = p.get("mode", "ok")

def spawn_sleeper():
    child = subprocess.Popen(["sleep", "60"])
    with open(os.path.join(workdir, "grandchild.pid"), "w") as f:
        f.write(str(child.pid))

# A child of its own, left running: it must die with the trial.
if mode.startswith("spawn"):
    spawn_sleeper()
if trial >= int(os.environ.get("PROG_SLOW_FROM", "0")):
    time.sleep(float(os.environ.get("PROG_SLEEP", "0")))

if mode == "fail":
    print("{\"value\": 1.0}")
    print("Traceback: something broke", file=sys.stderr)
    sys.exit(3)
elif mode == "garbage":
    print("loss went down, trust me")
    sys.exit(0)
elif mode == "nan":
    print(json.dumps({"value": float("nan")}))
    sys.exit(0)
elif mode == "hang":
    time.sleep(60)
elif mode == "spawn_hang":
    time.sleep(60)
elif mode == "noisy":
    line = "x" * 1023 + "\n"
    for _ in range(20 * 1024):
        sys.stderr.write(line)
    sys.stderr.write("LAST LINE\n")

x = p.get("x", 0.5)
value = (x - 0.3) ** 2 + 1e-3 * rng.random()
print("training done")
print(json.dumps({"value": value, "echo_x": x, "seed": seed, "trial": trial, "note": mode}))
"#;

fn statuses(csv: &str) -> Vec<(String, String, String)> {
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (m, st, err) = (col("mode"), col("status"), col("error"));
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[m].to_string(), r[st].to_string(), r[err].to_string())
        })
        .collect()
}

#[test]
fn every_way_a_program_ends_is_recorded_and_the_search_completes() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write(
        "s.toml",
        r#"
[search]
strategy = "grid"

[objective]
command = ["python3", "prog.py"]
direction = "minimize"
timeout = 8
max_failures = 0
columns = ["echo_x"]
inputs = ["prog.py"]

[space]
mode = { type = "categorical", choices = ["ok", "fail", "garbage", "nan", "hang", "spawn_hang", "spawn_exit", "noisy"] }
x = { type = "float", values = [0.1] }
"#,
    );
    let began = Instant::now();
    let r = sb.run(&["run", "s.toml", "--out", "r", "-q", "-j", "8"]);
    r.expect_code(0);
    // Two programs hang for 60 s; the time-out ends them.
    assert!(began.elapsed() < Duration::from_secs(40));
    let csv = String::from_utf8(sb.read("r/trials.csv")).unwrap();
    let rows = statuses(&csv);
    let by_mode = |m: &str| rows.iter().find(|r| r.0 == m).unwrap().clone();
    for (mode, want) in [
        ("ok", "ok"),
        ("fail", "failed"),
        ("garbage", "failed"),
        ("nan", "failed"),
        ("hang", "timeout"),
        ("spawn_hang", "timeout"),
        ("spawn_exit", "ok"),
        ("noisy", "ok"),
    ] {
        assert_eq!(by_mode(mode).1, want, "{mode}:\n{csv}");
    }
    let fail = by_mode("fail");
    assert_eq!(fail.1, "failed");
    assert!(fail.2.contains("exited with status 3"), "{}", fail.2);
    assert!(fail.2.contains("Traceback: something broke"), "{}", fail.2);
    let garbage = by_mode("garbage");
    assert_eq!(garbage.1, "failed");
    assert!(garbage.2.contains("printed no result"), "{}", garbage.2);
    let nan = by_mode("nan");
    assert_eq!(nan.1, "failed");
    assert!(
        nan.2.contains("value NaN is not a finite number"),
        "{}",
        nan.2
    );
    let hang = by_mode("hang");
    assert_eq!(hang.1, "timeout");
    assert!(hang.2.contains("timeout of 8 s"), "{}", hang.2);

    // The children the programs left behind died with them.
    for trial in ["5", "6"] {
        let pid = String::from_utf8(sb.read(&format!("r/trials/{trial}/grandchild.pid"))).unwrap();
        assert!(
            common::eventually_dead(&pid),
            "trial {trial}'s child {pid} survived"
        );
    }
    // 20 MiB of stderr: the search did not stall, and only the tail is kept.
    let noisy = sb.read("r/trials/7/stderr.log");
    assert_eq!(noisy.len(), 64 * 1024);
    assert!(noisy.ends_with(b"LAST LINE\n"));
    // The failure's stderr is kept in its folder, its params file too.
    assert!(String::from_utf8(sb.read("r/trials/1/stderr.log"))
        .unwrap()
        .contains("something broke"));
    let params: serde_json::Value =
        serde_json::from_slice(&sb.read("r/trials/0/params.json")).unwrap();
    assert_eq!(params["x"], 0.1);
    assert_eq!(params["mode"], "ok");

    // Declared columns get a column; the other keys go to `extra`.
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let h = rdr.headers().unwrap().clone();
    assert_eq!(
        h.iter().collect::<Vec<_>>(),
        ["trial", "seed", "status", "value", "mode", "x", "echo_x", "extra", "error", "check"]
    );
    let first = rdr.records().next().unwrap().unwrap();
    assert_eq!(&first[6], "0.1");
    let extra: serde_json::Value = serde_json::from_str(&first[7]).unwrap();
    assert_eq!(extra["note"], "ok");
    assert_eq!(extra["trial"], 0);
    assert_eq!(extra["seed"].as_u64().unwrap().to_string(), &first[1]);
    assert!(
        r.stdout().contains("8 trials (3 failed, 2 timed out)"),
        "{}",
        r.stdout()
    );
}

fn tpe_search(trials: u64, extra: &str) -> String {
    format!(
        r#"
[search]
strategy = "tpe"
trials = {trials}
seed = 5
parallel = 4

[objective]
command = ["python3", "prog.py"]
direction = "minimize"
inputs = ["prog.py"]
{extra}

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}
lr = {{ type = "float", low = 1e-5, high = 1e-1, log = true }}
depth = {{ type = "int", low = 1, high = 8 }}
flag = {{ type = "categorical", choices = [true, false] }}
"#
    )
}

#[test]
fn a_program_deterministic_in_its_seed_gives_identical_journals_for_1_2_8_threads() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("s.toml", &tpe_search(24, ""));
    let mut journals = Vec::new();
    for t in ["1", "2", "8"] {
        let out = format!("r{t}");
        sb.run(&["run", "s.toml", "--out", &out, "-q", "-j", t])
            .expect_code(0);
        journals.push(sb.read(&format!("{out}/trials.csv")));
    }
    assert!(journals[0] == journals[1] && journals[1] == journals[2]);
    // Every trial succeeded, so the channels agreed on every parameter.
    let text = String::from_utf8(journals[0].clone()).unwrap();
    assert_eq!(text.matches(",ok,").count(), 24, "{text}");

    // Replay reruns the program and compares the value bit for bit.
    let r = sb.run(&["replay", "r2"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("identical to the journal"),
        "{}",
        r.stdout()
    );
    sb.run(&["replay", "r2", "--trial", "7"]).expect_code(0);
    // Replay writes nothing into the folder.
    assert!(!sb.path().join("r2/trials/24").exists());
    // `show` reads a command search's journal, extra columns and all.
    let r = sb.run(&["show", "r2"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("command `python3 prog.py`"),
        "{}",
        r.stdout()
    );
    assert!(r.stdout().contains("24 of 24 done"), "{}", r.stdout());
}

#[test]
fn replay_notices_a_program_that_is_not_deterministic() {
    let sb = Sandbox::new();
    sb.write(
        "clock.py",
        "import json, time\nprint(json.dumps({\"value\": time.time()}))\n",
    );
    sb.write(
        "s.toml",
        r#"
[search]
strategy = "random"
trials = 2

[objective]
command = ["python3", "clock.py"]
direction = "minimize"

[space]
x = { type = "float", low = 0.0, high = 1.0 }
"#,
    );
    sb.run(&["run", "s.toml", "--out", "r", "-q"])
        .expect_code(0);
    let r = sb.run(&["replay", "r"]);
    r.expect_code(1);
    assert!(
        r.stderr().contains("differs from the journal: value"),
        "{}",
        r.stderr()
    );
}

fn spawn_run(sb: &Sandbox, args: &[&str], sleep: &str, slow_from: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hpsearch"))
        .args(args)
        .current_dir(sb.path())
        .env("PROG_SLEEP", sleep)
        .env("PROG_SLOW_FROM", slow_from.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hpsearch")
}

fn run_with_sleep(sb: &Sandbox, args: &[&str], sleep: &str) -> common::Run {
    let out = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
        .args(args)
        .current_dir(sb.path())
        .env("PROG_SLEEP", sleep)
        .output()
        .expect("run hpsearch");
    common::Run(out)
}

#[test]
fn killed_command_search_resumes_to_the_same_journal() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("s.toml", &tpe_search(30, ""));
    run_with_sleep(
        &sb,
        &["run", "s.toml", "--out", "straight", "-q", "-j", "2"],
        "0",
    )
    .expect_code(0);
    let mut landed = 0;
    for (i, delay) in [700u64, 1500, 2500].iter().enumerate() {
        let threads = ["1", "8", "3"][i];
        let mut child = spawn_run(
            &sb,
            &["run", "s.toml", "--out", "killed", "-q", "-j", threads],
            "0.05",
            0,
        );
        std::thread::sleep(Duration::from_millis(*delay));
        if child.try_wait().unwrap().is_none() {
            landed += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(landed >= 1, "no kill landed before the search ended");
    run_with_sleep(
        &sb,
        &["run", "s.toml", "--out", "killed", "-q", "-j", "2"],
        "0",
    )
    .expect_code(0);
    assert!(sb.read("killed/trials.csv") == sb.read("straight/trials.csv"));
}

#[test]
fn ctrl_c_kills_running_trials_keeps_a_clean_journal_and_resumes() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    let search = tpe_search(16, "").replace(
        "flag = ",
        "mode = { type = \"categorical\", choices = [\"spawn_exit\"] }\nflag = ",
    );
    sb.write("s.toml", &search);
    run_with_sleep(
        &sb,
        &["run", "s.toml", "--out", "straight", "-q", "-j", "4"],
        "0",
    )
    .expect_code(0);

    // Trials 0-5 are quick, the later ones would run for 60 s.
    let child = spawn_run(
        &sb,
        &["run", "s.toml", "--out", "stopped", "-q", "-j", "4"],
        "60",
        6,
    );
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until
        && String::from_utf8_lossy(
            &std::fs::read(sb.path().join("stopped/trials.csv")).unwrap_or_default(),
        )
        .lines()
        .count()
            < 7
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let began = Instant::now();
    let out = child.wait_with_output().unwrap();
    // Running programs were killed, not waited for.
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(out.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("interrupted") && err.contains("resume"),
        "{err}"
    );

    // What is in the journal is a prefix of the straight run, nothing torn.
    let straight = sb.read("straight/trials.csv");
    let stopped = sb.read("stopped/trials.csv");
    assert_eq!(String::from_utf8_lossy(&stopped).lines().count(), 7);
    assert!(straight.starts_with(&stopped));
    assert!(stopped.ends_with(b"\n"));
    // No program outlived the stop.
    for entry in std::fs::read_dir(sb.path().join("stopped/trials")).unwrap() {
        let pidfile = entry.unwrap().path().join("grandchild.pid");
        if let Ok(pid) = std::fs::read_to_string(&pidfile) {
            assert!(
                common::eventually_dead(&pid),
                "{} survived",
                pidfile.display()
            );
        }
    }
    run_with_sleep(
        &sb,
        &["run", "s.toml", "--out", "stopped", "-q", "-j", "2"],
        "0",
    )
    .expect_code(0);
    assert!(sb.read("stopped/trials.csv") == straight);
}

#[test]
fn too_many_failures_in_a_row_stop_the_search_and_it_resumes() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    let search = r#"
[search]
strategy = "random"
trials = 20

[objective]
command = ["python3", "prog.py"]
direction = "maximize"
max_failures = 3

[space]
mode = { type = "categorical", choices = ["fail"] }
"#;
    sb.write("s.toml", search);
    let r = sb.run(&["run", "s.toml", "--out", "r", "-q", "-j", "1"]);
    r.expect_code(1);
    let err = r.stderr();
    assert!(
        err.contains("stopped after 3 failed trials in a row"),
        "{err}"
    );
    assert!(err.contains("trial 2"), "{err}");
    assert!(err.contains("something broke"), "{err}");
    let csv = String::from_utf8(sb.read("r/trials.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    // Running again resumes (and stops again: the program still fails).
    let r = sb.run(&["run", "s.toml", "--out", "r", "-q", "-j", "1"]);
    r.expect_code(1);
    assert!(r.stderr().contains("resuming at trial 3"), "{}", r.stderr());
}

#[test]
fn a_changed_input_is_a_different_search_and_replay_names_it() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("lib/helper.txt", "v1");
    sb.write(
        "s.toml",
        &tpe_search(3, "").replace("inputs = [\"prog.py\"]", "inputs = [\"prog.py\", \"lib\"]"),
    );
    sb.run(&["run", "s.toml", "--out", "r", "-q"])
        .expect_code(0);
    let manifest = String::from_utf8(sb.read("r/manifest.toml")).unwrap();
    assert!(
        manifest.contains("[[inputs]]\npath = \"lib\""),
        "{manifest}"
    );

    // Python's own caches do not count as a change.
    sb.write("lib/__pycache__/x.pyc", "cache");
    sb.run(&["run", "s.toml", "--out", "r", "-q"])
        .expect_code(0);

    sb.write("lib/helper.txt", "v2");
    let r = sb.run(&["run", "s.toml", "--out", "r", "-q"]);
    r.expect_code(2);
    assert!(r.stderr().contains("input lib changed"), "{}", r.stderr());
    let r = sb.run(&["replay", "r"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("input lib changed since the search ran"),
        "{}",
        r.stderr()
    );
    sb.write("lib/helper.txt", "v1");
    sb.run(&["replay", "r"]).expect_code(0);
    // Export is for built-in models.
    let r = sb.run(&["export", "r", "--out", "m.json"]);
    r.expect_code(2);
    assert!(r.stderr().contains("runs a command"), "{}", r.stderr());
}

#[test]
fn args_can_be_turned_off_and_the_program_runs_in_the_search_folder() {
    let sb = Sandbox::new();
    sb.write(
        "sub/strict.py",
        r#"
import json, os, sys
assert sys.argv[1:] == ["--fixed"], sys.argv
assert os.path.exists("strict.py")
# hpsearch runs from another folder: the paths it hands over still work.
assert os.path.isabs(os.environ["HPSEARCH_TRIAL_DIR"])
assert json.load(open(os.environ["HPSEARCH_PARAMS"]))["x"] == float(os.environ["HPSEARCH_PARAM_X"])
print(json.dumps({"value": float(os.environ["HPSEARCH_PARAM_X"])}))
"#,
    );
    sb.write(
        "sub/s.toml",
        r#"
[search]
strategy = "random"
trials = 3

[objective]
command = ["python3", "strict.py", "--fixed"]
args = false
direction = "minimize"
metric = "loss"

[space]
x = { type = "float", low = 0.0, high = 1.0 }
"#,
    );
    let r = sb.run(&["run", "sub/s.toml", "--out", "r", "-q"]);
    r.expect_code(0);
    assert!(r.stdout().contains("minimize loss"), "{}", r.stdout());
    assert!(Path::new(&sb.path().join("r/trials/2/stdout.log")).exists());
}
