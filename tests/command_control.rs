//! Trial programs stay under control: a process that escapes its trial's
//! process group (`setsid`) and holds the output pipes neither delays the
//! time-out, Ctrl-C or the trial's end nor outlives the trial; a `kill -9`
//! of hpsearch leaves no trial program running, and a resumed search kills
//! what they started before it reuses their folders; a result line that
//! cannot be used says why.
//!
//! Every run here is bounded (see [`run_bounded`]): a regression fails the
//! test instead of hanging it.

mod common;

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Sandbox;

/// How long any one hpsearch run may take before the test fails; the runs
/// take seconds, the processes they must not wait for live 120 s.
const BOUND: Duration = Duration::from_secs(60);

/// A program whose behaviour is chosen by its `mode` parameter. Escaped
/// children live 120 s and write their pid to `esc.pid` in the trial folder.
const PROG: &str = r#"
import json, os, subprocess, sys, time

d = os.environ["HPSEARCH_TRIAL_DIR"]
p = json.load(open(os.environ["HPSEARCH_PARAMS"]))
mode = p["mode"]
trial = int(os.environ["HPSEARCH_TRIAL"])

def note(name, pid):
    with open(os.path.join(d, name), "w") as f:
        f.write(str(pid))

def escape(*args, **kw):
    # A new session: out of the trial's process group, stdout inherited
    # unless told otherwise.
    c = subprocess.Popen(list(args), start_new_session=True, **kw)
    note("esc.pid", c.pid)

WRITER = """
import os, time
d = os.environ["HPSEARCH_TRIAL_DIR"]
while True:
    with open(os.path.join(d, "scribble"), "a") as f:
        f.write(str(os.getpid()) + "\\n")
    time.sleep(0.02)
"""

if mode == "hold_exit":
    escape("sleep", "120")
elif mode == "hold_sleep":
    escape("sleep", "120")
    time.sleep(120)
elif mode == "free_exit":
    escape("sleep", "120", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
elif mode == "envi_hold_exit":
    # Its environment replaced: nothing names the trial any more.
    escape("env", "-i", "sleep", "120")
elif mode == "writer":
    escape(sys.executable, "-c", WRITER, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    note("prog.pid", os.getpid())
    if trial >= int(os.environ.get("PROG_SLOW_FROM", "1000000")):
        time.sleep(120)
elif mode == "overflow":
    print('{"value": 1e400, "loss": 2}')
    sys.exit(0)
elif mode == "long":
    print(json.dumps({"value": 0.5}))
    print(json.dumps({"value": 1.0, "blob": "x" * (2 << 20)}))
    sys.exit(0)
elif mode == "big_extra":
    print('{"value": 0.25, "big": 1e400, "loss": NaN}')
    sys.exit(0)

print(json.dumps({"value": (p["x"] - 0.3) ** 2, "trial": trial}))
"#;

fn search(modes: &[&str], trials: Option<u64>, extra: &str) -> String {
    let choices: Vec<String> = modes.iter().map(|m| format!("\"{m}\"")).collect();
    let trials = trials.map(|t| format!("trials = {t}")).unwrap_or_default();
    // A grid runs each mode once; random draws x for a journal to compare.
    let (strategy, x) = if modes.len() > 1 {
        ("grid", "values = [0.1]")
    } else {
        ("random", "low = 0.0, high = 1.0")
    };
    format!(
        r#"
[search]
strategy = "{strategy}"
{trials}
seed = 3

[objective]
command = ["python3", "prog.py"]
direction = "minimize"
columns = ["loss"]
{extra}

[space]
mode = {{ type = "categorical", choices = [{}] }}
x = {{ type = "float", {x} }}
"#,
        choices.join(", ")
    )
}

/// Start hpsearch with `args` and extra environment, its output in files.
fn start(sb: &Sandbox, args: &[&str], env: &[(&str, &str)], name: &str) -> Child {
    let out = File::create(sb.path().join(format!("{name}.out"))).unwrap();
    let err = File::create(sb.path().join(format!("{name}.err"))).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hpsearch"));
    cmd.args(args)
        .current_dir(sb.path())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn hpsearch")
}

/// Wait for `child` at most [`BOUND`]; kill it and fail past that.
fn finish(sb: &Sandbox, mut child: Child, name: &str) -> (i32, String) {
    let until = Instant::now() + BOUND;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "hpsearch {name} still running after {BOUND:?}; stderr:\n{}",
                String::from_utf8_lossy(&sb.read(&format!("{name}.err")))
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = String::from_utf8_lossy(&sb.read(&format!("{name}.err"))).into_owned();
    (status.code().unwrap_or(-1), err)
}

/// Run hpsearch to its end, at most [`BOUND`].
fn run_bounded(sb: &Sandbox, args: &[&str], env: &[(&str, &str)], name: &str) -> (i32, String) {
    let child = start(sb, args, env, name);
    finish(sb, child, name)
}

fn kill(pid: &str) {
    let _ = Command::new("kill").args(["-9", pid.trim()]).status();
}

fn read_pid(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// One row of `trials.csv`.
struct Row {
    trial: String,
    status: String,
    value: String,
    error: String,
}

/// The row of each mode.
fn rows(csv: &[u8]) -> std::collections::BTreeMap<String, Row> {
    let mut rdr = csv::Reader::from_reader(csv);
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (t, m, st, v, err) = (
        col("trial"),
        col("mode"),
        col("status"),
        col("value"),
        col("error"),
    );
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let row = Row {
                trial: r[t].to_string(),
                status: r[st].to_string(),
                value: r[v].to_string(),
                error: r[err].to_string(),
            };
            (r[m].to_string(), row)
        })
        .collect()
}

#[test]
#[cfg(target_os = "linux")]
fn an_escaped_child_holding_the_pipes_neither_delays_nor_outlives_its_trial() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write(
        "s.toml",
        &search(
            &["hold_exit", "hold_sleep", "free_exit", "envi_hold_exit"],
            None,
            "timeout = 10",
        ),
    );
    let (code, err) = run_bounded(
        &sb,
        &["run", "s.toml", "--out", "r", "-q", "-j", "4"],
        &[],
        "run",
    );
    let rows = rows(&sb.read("r/trials.csv"));
    // The process that replaced its environment escapes the kill: stop it
    // here, whatever happened (the module doc of `interrupt` says so).
    let envi = rows
        .get("envi_hold_exit")
        .and_then(|r| read_pid(&sb.path().join(format!("r/trials/{}/esc.pid", r.trial))));
    if let Some(pid) = &envi {
        kill(pid);
    }
    assert_eq!(code, 0, "{err}");
    assert!(envi.is_some());
    for (mode, want) in [
        ("hold_exit", "ok"),
        ("hold_sleep", "timeout"),
        ("free_exit", "ok"),
        ("envi_hold_exit", "ok"),
    ] {
        assert_eq!(rows[mode].status, want, "{mode}: {}", rows[mode].error);
    }
    assert!(
        rows["hold_sleep"].error.contains("timeout of 10 s"),
        "{}",
        rows["hold_sleep"].error
    );
    // What escaped the process group died with its trial.
    for mode in ["hold_exit", "hold_sleep", "free_exit"] {
        let trial = &rows[mode].trial;
        let pid = read_pid(&sb.path().join(format!("r/trials/{trial}/esc.pid")))
            .unwrap_or_else(|| panic!("{mode} wrote no esc.pid"));
        assert!(
            common::eventually_dead(&pid),
            "{mode}: the escaped child {pid} survived"
        );
    }
}

#[test]
#[cfg(target_os = "linux")]
fn ctrl_c_stops_at_once_while_an_escaped_child_holds_the_pipes() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("s.toml", &search(&["hold_sleep"], Some(3), ""));
    let child = start(
        &sb,
        &["run", "s.toml", "--out", "r", "-q", "-j", "1"],
        &[],
        "run",
    );
    let pidfile = sb.path().join("r/trials/0/esc.pid");
    let until = Instant::now() + BOUND;
    while read_pid(&pidfile).is_none() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let esc = read_pid(&pidfile).expect("the first trial never started its child");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let (code, err) = finish(&sb, child, "run");
    let survived = !common::eventually_dead(&esc);
    if survived {
        kill(&esc);
    }
    assert_eq!(code, 130, "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(!survived, "the escaped child {esc} outlived the stop");
    // Nothing finished: the journal holds its header only.
    assert_eq!(
        String::from_utf8_lossy(&sb.read("r/trials.csv"))
            .lines()
            .count(),
        1
    );
}

#[test]
#[cfg(target_os = "linux")]
fn after_kill_9_no_trial_program_runs_on_and_resume_clears_what_they_started() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("s.toml", &search(&["writer"], Some(6), ""));
    let args = |out: &'static str| ["run", "s.toml", "--out", out, "-q", "-j", "2"];
    let (code, err) = run_bounded(&sb, &args("straight"), &[], "straight");
    assert_eq!(code, 0, "{err}");
    // The writers a straight run's trials left behind died with them.
    for trial in 0..6 {
        let pid = read_pid(&sb.path().join(format!("straight/trials/{trial}/esc.pid"))).unwrap();
        assert!(
            common::eventually_dead(&pid),
            "trial {trial}'s writer {pid} survived"
        );
    }

    // Trials 0 and 1 finish; 2 and 3 then run for 120 s: kill -9 meanwhile.
    let mut child = start(&sb, &args("killed"), &[("PROG_SLOW_FROM", "2")], "killed");
    let running = |t: u32| {
        let d = sb.path().join(format!("killed/trials/{t}"));
        read_pid(&d.join("prog.pid")).is_some() && read_pid(&d.join("esc.pid")).is_some()
    };
    let until = Instant::now() + BOUND;
    while !(running(2) && running(3)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(running(2) && running(3), "trials 2 and 3 never started");
    child.kill().unwrap();
    child.wait().unwrap();

    let mut programs = Vec::new();
    let mut writers = Vec::new();
    for t in [2, 3] {
        let d = sb.path().join(format!("killed/trials/{t}"));
        programs.push(read_pid(&d.join("prog.pid")).unwrap());
        writers.push(read_pid(&d.join("esc.pid")).unwrap());
    }
    // The programs die with hpsearch; what they started out of their
    // group is still writing into their folders.
    let orphans: Vec<&String> = programs
        .iter()
        .filter(|p| !common::eventually_dead(p))
        .collect();
    for p in &orphans {
        kill(p);
    }
    assert!(
        orphans.is_empty(),
        "trial programs {orphans:?} outlived hpsearch"
    );

    let (code, err) = run_bounded(&sb, &args("killed"), &[], "resumed");
    let survivors: Vec<&String> = writers.iter().filter(|p| !common::dead(p)).collect();
    for p in &survivors {
        kill(p);
    }
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("resuming at trial 2"), "{err}");
    assert!(
        survivors.is_empty(),
        "the writers {survivors:?} outlived the resume"
    );
    assert!(sb.read("killed/trials.csv") == sb.read("straight/trials.csv"));
    // Each reused folder holds the rerun's files only: the old writers
    // were killed before it was cleared, and wrote nothing after.
    for t in [2, 3] {
        let d = sb.path().join(format!("killed/trials/{t}"));
        let now = read_pid(&d.join("esc.pid")).unwrap();
        let scribble = std::fs::read_to_string(d.join("scribble")).unwrap_or_default();
        for line in scribble.lines() {
            assert_eq!(line, now.trim(), "trial {t}: a line from another writer");
        }
        assert!(common::eventually_dead(&now));
    }
}

#[test]
fn a_result_that_overflows_or_is_too_long_says_what_was_wrong() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write(
        "s.toml",
        &search(&["overflow", "long", "big_extra"], None, ""),
    );
    let (code, err) = run_bounded(&sb, &["run", "s.toml", "--out", "r", "-q"], &[], "run");
    assert_eq!(code, 0, "{err}");
    let csv = sb.read("r/trials.csv");
    let rows = rows(&csv);
    let overflow = &rows["overflow"];
    assert_eq!(overflow.status, "failed");
    assert_eq!(
        overflow.error,
        "the result's value 1e400 is not a finite number"
    );
    let long = &rows["long"];
    assert_eq!(long.status, "failed");
    assert!(
        long.error.contains(
            "the last line with a result was longer than the 1 MiB limit (2097178 bytes)"
        ),
        "{}",
        long.error
    );
    // A key other than `value` that no float holds does not hide the
    // result; it is left empty.
    let big = &rows["big_extra"];
    assert_eq!((big.status.as_str(), big.value.as_str()), ("ok", "0.25"));
    let text = String::from_utf8_lossy(&csv);
    assert!(text.contains(r#"{""big"":null}"#), "{text}");
    // The other keys of a non-finite result still get their columns.
    let mut rdr = csv::Reader::from_reader(&csv[..]);
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let rec = rdr
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[col("mode")] == "overflow")
        .unwrap();
    assert_eq!(&rec[col("loss")], "2");
}
