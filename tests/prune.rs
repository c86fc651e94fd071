//! Pruning (issue 15, first increment) on the real binary with a real
//! program: intermediate values, the median pruner, byte-identical
//! journals for any thread count and after kill -9 + resume, the grace
//! period of a program that ignores SIGTERM, bad step lines and bad
//! pruner settings.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Sandbox;

/// A learning curve from the parameters and the seed:
/// `value_t = a + b * exp(-t * lr) + noise`, ten steps, then the result.
/// `mode` (when a parameter) misbehaves in the ways the tests need.
const PROG: &str = r#"
import json, math, os, random, signal, sys, time

p = json.load(open(os.environ["HPSEARCH_PARAMS"]))
rng = random.Random(int(os.environ["HPSEARCH_SEED"]))
workdir = os.environ["HPSEARCH_TRIAL_DIR"]
mode = p.get("mode", "ok")
a, b, lr = p.get("a", 0.5), p.get("b", 1.0), p.get("lr", 0.3)
pause = float(os.environ.get("PROG_SLEEP", "0"))

def on_term(signum, frame):
    open(os.path.join(workdir, "got_sigterm"), "w").close()

if mode == "stubborn":
    signal.signal(signal.SIGTERM, on_term)
    a = 100.0

def say(step, value):
    print(json.dumps({"step": step, "value": value}), flush=True)

value = None
for t in range(10):
    value = a + b * math.exp(-t * lr) + 0.01 * rng.random()
    if mode == "back" and t == 3:
        say(1, value)
    elif mode == "nan" and t == 2:
        say(t, float("nan"))
    elif mode == "past" and t == 4:
        say(12, value)
    elif mode == "frac" and t == 1:
        say(1.5, value)
    else:
        say(t, value)
    if mode == "stubborn":
        # Ignores SIGTERM: only the SIGKILL after prune_grace ends it.
        for _ in range(600):
            time.sleep(0.1)
    time.sleep(pause)
print(json.dumps({"value": value}))
"#;

const CURVES: &str = r#"
[search]
strategy = "STRATEGY"
trials = 30
seed = 7
parallel = 3

[search.pruner]
kind = "median"
n_startup_trials = 3
n_warmup_steps = 1

[objective]
command = ["python3", "prog.py"]
direction = "minimize"
max_step = 9

[space]
a = { type = "float", low = 0.0, high = 1.0 }
b = { type = "float", low = 0.0, high = 2.0 }
lr = { type = "float", low = 0.05, high = 1.0, log = true }
"#;

fn sandbox(strategy: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("s.toml", &CURVES.replace("STRATEGY", strategy));
    sb
}

/// Run `s.toml` into `j1`, `j2` and `j8` with that many threads; the
/// journals must be the same bytes (`what` names the case). Returns them.
fn run_1_2_8(sb: &Sandbox, what: &str) -> Vec<u8> {
    for j in ["1", "2", "8"] {
        sb.run(&["run", "s.toml", "--out", &format!("j{j}"), "-q", "-j", j])
            .expect_code(0);
    }
    let one = sb.read("j1/trials.csv");
    assert!(
        one == sb.read("j2/trials.csv"),
        "{what}: -j 1 and -j 2 differ"
    );
    assert!(
        one == sb.read("j8/trials.csv"),
        "{what}: -j 1 and -j 8 differ"
    );
    one
}

/// `(trial, status, value, steps, error)` of every row.
fn rows(sb: &Sandbox, out: &str) -> Vec<csv::StringRecord> {
    let bytes = sb.read(&format!("{out}/trials.csv"));
    let mut rdr = csv::Reader::from_reader(bytes.as_slice());
    let header = rdr.headers().unwrap().clone();
    let want = ["trial", "status", "value", "steps", "error"];
    let idx: Vec<usize> = want
        .iter()
        .map(|w| header.iter().position(|h| h == *w).unwrap())
        .collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            idx.iter().map(|&i| r.get(i).unwrap()).collect()
        })
        .collect()
}

#[test]
fn median_pruning_is_identical_for_any_thread_count() {
    for strategy in ["random", "tpe"] {
        let sb = sandbox(strategy);
        let one = run_1_2_8(&sb, strategy);
        let text = String::from_utf8_lossy(&one).into_owned();
        assert!(
            text.lines().next().unwrap().ends_with(",steps,error,check"),
            "{text}"
        );
        let rows = rows(&sb, "j1");
        let pruned: Vec<_> = rows.iter().filter(|r| &r[1] == "pruned").collect();
        let ok = rows.iter().filter(|r| &r[1] == "ok").count();
        assert!(!pruned.is_empty() && ok >= 3, "{strategy}: {text}");
        for r in &pruned {
            // Pruned at its last recorded step; the value is that step's.
            let steps: Vec<(u64, f64)> = serde_json::from_str::<Vec<(u64, f64)>>(&r[3]).unwrap();
            let (step, value) = *steps.last().unwrap();
            assert!(steps.len() < 10, "{text}");
            assert_eq!(r[2].parse::<f64>().unwrap(), value);
            assert_eq!(&r[4], format!("pruned at step {step}"));
        }
        // Complete trials keep all ten values.
        for r in rows.iter().filter(|r| &r[1] == "ok") {
            assert_eq!(
                serde_json::from_str::<Vec<(u64, f64)>>(&r[3])
                    .unwrap()
                    .len(),
                10
            );
        }
        // Replay reruns a pruned trial to the step it stopped at, and a
        // complete one to its end, comparing every value bit for bit.
        let first_ok = rows.iter().find(|r| &r[1] == "ok").unwrap();
        for t in [&pruned[0][0], &first_ok[0]] {
            let r = sb.run(&["replay", "j1", "--trial", t]);
            r.expect_code(0);
        }
        for args in [&["show", "j1"][..], &["list", "j1"][..]] {
            let shown = sb.run(args);
            shown.expect_code(0);
            assert!(
                shown.stdout().contains(&format!("{} pruned", pruned.len())),
                "{args:?}: {}",
                shown.stdout()
            );
        }
    }
}

#[test]
fn killed_pruned_search_resumes_to_the_same_journal() {
    kill_and_resume(&sandbox("tpe"));
}

#[test]
fn killed_successive_halving_search_resumes_to_the_same_journal() {
    let sb = sandbox("tpe");
    sb.write("s.toml", &with_kind("tpe", SH));
    kill_and_resume(&sb);
}

/// kill -9 the search in `sb` at three instants, resume: the journal is
/// the straight run's.
fn kill_and_resume(sb: &Sandbox) {
    sb.run(&["run", "s.toml", "--out", "straight", "-q", "-j", "2"])
        .expect_code(0);
    let threads = ["1", "2", "8"];
    let mut landed = 0;
    for (i, ms) in [400u64, 900, 1600].iter().enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
            .args(["run", "s.toml", "--out", "killed", "-q", "-j", threads[i]])
            .env("PROG_SLEEP", "0.02")
            .current_dir(sb.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*ms));
        if child.try_wait().unwrap().is_none() {
            landed += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(landed >= 1, "no kill landed before the search ended");
    sb.run(&["run", "s.toml", "--out", "killed", "-q", "-j", "2"])
        .expect_code(0);
    assert!(
        sb.read("killed/trials.csv") == sb.read("straight/trials.csv"),
        "trials.csv differs after kill -9 and resume"
    );
}

#[test]
fn a_program_that_ignores_sigterm_is_killed_after_prune_grace() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write(
        "s.toml",
        r#"
[search]
strategy = "grid"
parallel = 1
[search.pruner]
kind = "median"
n_startup_trials = 1
[objective]
command = ["python3", "prog.py"]
direction = "minimize"
prune_grace = 1
[space]
mode = { type = "categorical", choices = ["ok", "stubborn"] }
"#,
    );
    let began = Instant::now();
    sb.run(&["run", "s.toml", "--out", "r", "-q", "-j", "2"])
        .expect_code(0);
    // The stubborn program sleeps for a minute after each step.
    assert!(
        began.elapsed() < Duration::from_secs(45),
        "the pruned program was not killed after prune_grace"
    );
    let rows = rows(&sb, "r");
    assert_eq!(&rows[0][1], "ok");
    assert_eq!(&rows[1][1], "pruned", "{rows:?}");
    assert_eq!(&rows[1][4], "pruned at step 0");
    assert!(
        sb.path().join("r/trials/1/got_sigterm").exists(),
        "SIGTERM was not sent before SIGKILL"
    );
    let out = sb.run(&["show", "r"]);
    assert!(
        out.stdout().contains("0 failed, 1 pruned"),
        "{}",
        out.stdout()
    );
}

#[test]
fn bad_step_lines_fail_the_trial_and_the_search_goes_on() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write(
        "s.toml",
        r#"
[search]
strategy = "grid"
[search.pruner]
kind = "median"
n_startup_trials = 100
[objective]
command = ["python3", "prog.py"]
direction = "minimize"
max_step = 9
[space]
mode = { type = "categorical", choices = ["back", "nan", "past", "frac", "ok"] }
"#,
    );
    sb.run(&["run", "s.toml", "--out", "r", "-q", "-j", "2"])
        .expect_code(0);
    let text = String::from_utf8_lossy(&sb.read("r/trials.csv")).into_owned();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (mode, status, error, steps) = (col("mode"), col("status"), col("error"), col("steps"));
    let mut seen = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        let want = match &r[mode] {
            "back" => "intermediate value 4: step 1 after step 2; steps must strictly increase",
            "nan" => "intermediate value 3: the value NaN at step 2 is not a finite number",
            "past" => "intermediate value 5: step 12 is past max_step = 9",
            "frac" => "intermediate value 2: the step 1.5 is not an integer >= 0",
            _ => {
                assert_eq!(&r[status], "ok", "{text}");
                seen += 1;
                continue;
            }
        };
        assert_eq!(&r[status], "failed", "{text}");
        assert!(r[error].contains(want), "{want}\n{text}");
        // The values before the bad line are kept.
        assert!(r[steps].starts_with("[[0,"), "{text}");
        seen += 1;
    }
    assert_eq!(seen, 5, "{text}");
}

const SH: &str = "kind = \"successive_halving\"\nreduction_factor = 3\n";
const HB: &str = "kind = \"hyperband\"\nmin_resource = 1\nmax_resource = 9\n";

/// The curves search for `strategy` with `pruner` as its pruner table.
fn with_kind(strategy: &str, pruner: &str) -> String {
    CURVES.replace("STRATEGY", strategy).replace(
        "kind = \"median\"\nn_startup_trials = 3\nn_warmup_steps = 1\n",
        pruner,
    )
}

/// `-j 1, 2, 8` write the same bytes; some trials pruned (at their last
/// step), some complete with all ten steps.
fn identical_for_any_thread_count(strategy: &str, pruner: &str) -> Vec<csv::StringRecord> {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("s.toml", &with_kind(strategy, pruner));
    let one = run_1_2_8(&sb, pruner);
    let text = String::from_utf8_lossy(&one).into_owned();
    let rows = rows(&sb, "j1");
    let pruned: Vec<_> = rows.iter().filter(|r| &r[1] == "pruned").collect();
    let ok: Vec<_> = rows.iter().filter(|r| &r[1] == "ok").collect();
    assert!(pruned.len() >= 3 && ok.len() >= 3, "{pruner}: {text}");
    for r in &pruned {
        let steps: Vec<(u64, f64)> = serde_json::from_str(&r[3]).unwrap();
        let (step, value) = *steps.last().unwrap();
        assert_eq!(r[2].parse::<f64>().unwrap(), value);
        assert_eq!(&r[4], format!("pruned at step {step}"));
    }
    for r in &ok {
        let steps: Vec<(u64, f64)> = serde_json::from_str(&r[3]).unwrap();
        assert_eq!(steps.len(), 10, "{text}");
    }
    rows
}

#[test]
fn successive_halving_is_identical_for_any_thread_count() {
    for strategy in ["random", "tpe"] {
        let rows = identical_for_any_thread_count(strategy, SH);
        // Rungs at steps 1, 3, 9: a trial stops only there.
        for r in rows.iter().filter(|r| &r[1] == "pruned") {
            assert!(
                ["pruned at step 1", "pruned at step 3", "pruned at step 9"].contains(&&r[4]),
                "{:?}",
                r
            );
        }
    }
}

#[test]
fn hyperband_is_identical_for_any_thread_count() {
    for strategy in ["random", "tpe"] {
        let rows = identical_for_any_thread_count(strategy, HB);
        // Brackets of 9, 5 and 3 trials, from the index: bracket 0 has
        // rungs at 1, 3, 9; bracket 1 at 3, 9; bracket 2 at 9.
        for r in rows.iter().filter(|r| &r[1] == "pruned") {
            let i: u64 = r[0].parse().unwrap();
            let allowed: &[&str] = match i % 17 {
                0..=8 => &["pruned at step 1", "pruned at step 3", "pruned at step 9"],
                9..=13 => &["pruned at step 3", "pruned at step 9"],
                _ => &["pruned at step 9"],
            };
            assert!(allowed.contains(&&r[4]), "{:?}", r);
        }
    }
}

/// A bad pruner setting: exit 2, the key (or line) named, nothing written.
fn refused(toml_text: &str, key: &str, also: &str) {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    sb.write("s.toml", toml_text);
    let r = sb.run(&["run", "s.toml", "--out", "r", "-q"]);
    r.expect_code(2);
    assert!(r.stderr().contains(key), "{key}: {}", r.stderr());
    assert!(r.stderr().contains(also), "{also}: {}", r.stderr());
    assert!(
        !sb.path().join("r").exists(),
        "{key}: something was written"
    );
}

/// The curves search with its pruner table replaced by `pruner` and its
/// `max_step` line by `objective_extra`.
fn with(pruner: &str, objective_extra: &str) -> String {
    CURVES
        .replace("STRATEGY", "random")
        .replace(
            "kind = \"median\"\nn_startup_trials = 3\nn_warmup_steps = 1\n",
            pruner,
        )
        .replace("max_step = 9\n", objective_extra)
}

/// One test per rule: the search file, the key (or place) the error
/// names, and what it says.
macro_rules! refused {
    ($name:ident, $text:expr, $key:expr, $says:expr) => {
        #[test]
        fn $name() {
            refused(&$text, $key, $says);
        }
    };
}

refused!(
    an_unknown_pruner_is_refused,
    with("kind = \"asha\"\n", ""),
    "[search.pruner.kind]",
    "unknown pruner \"asha\"; expected one of: none, median, successive_halving, hyperband"
);
refused!(
    interval_steps_cannot_be_zero,
    with("kind = \"median\"\ninterval_steps = 0\n", ""),
    "[search.pruner.interval_steps]",
    "must be at least 1 (got 0)"
);
refused!(
    n_warmup_steps_cannot_be_negative,
    with("kind = \"median\"\nn_warmup_steps = -1\n", ""),
    "[search.pruner.n_warmup_steps]",
    "must be at least 0 (got -1)"
);
refused!(
    n_startup_trials_cannot_be_negative,
    with("kind = \"median\"\nn_startup_trials = -2\n", ""),
    "[search.pruner.n_startup_trials]",
    "must be at least 0 (got -2)"
);
refused!(
    median_settings_need_kind_median,
    with("kind = \"none\"\nn_startup_trials = 2\n", ""),
    "[search.pruner.n_startup_trials]",
    "only for kind = \"median\""
);
refused!(
    an_unknown_pruner_key_is_refused_with_its_line,
    with("kind = \"median\"\nbogus = 1\n", ""),
    "line 10, column 1",
    "unknown field `bogus`"
);
refused!(
    prune_grace_must_be_positive,
    with("kind = \"median\"\n", "prune_grace = 0\n"),
    "[objective.prune_grace]",
    "must be a positive number of seconds (got 0)"
);
refused!(
    max_step_cannot_be_negative,
    with("kind = \"median\"\n", "max_step = -3\n"),
    "[objective.max_step]",
    "must be >= 0 (got -3)"
);
refused!(
    max_step_needs_a_pruner,
    with("kind = \"none\"\n", "max_step = 3\n"),
    "[objective.max_step]",
    "only with a pruner"
);
refused!(
    prune_grace_is_only_for_commands,
    FUNCTION_SEARCH
        .replace("[search.pruner]\nkind = \"median\"\n", "")
        .replace(
            "function = \"branin\"\n",
            "function = \"branin\"\nprune_grace = 3\n"
        ),
    "[objective.prune_grace]",
    "only for command objectives"
);
refused!(
    a_pruner_needs_a_command_objective_for_now,
    FUNCTION_SEARCH,
    "[search.pruner]",
    "pruning needs a command objective that prints its steps"
);

const FUNCTION_SEARCH: &str = r#"
[search]
strategy = "random"
trials = 5
[search.pruner]
kind = "median"
[objective]
function = "branin"
[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"#;

#[test]
fn kind_none_keeps_the_root_hash_and_the_columns() {
    let sb = sandbox("random");
    let plain = CURVES
        .replace("STRATEGY", "random")
        .replace(
            "[search.pruner]\nkind = \"median\"\nn_startup_trials = 3\nn_warmup_steps = 1\n",
            "",
        )
        .replace("max_step = 9\n", "");
    let none = plain.replace(
        "parallel = 3\n",
        "parallel = 3\n[search.pruner]\nkind = \"none\"\n",
    );
    sb.write("plain.toml", &plain);
    sb.write("none.toml", &none);
    let a = sb.run(&["check", "plain.toml"]);
    let b = sb.run(&["check", "none.toml"]);
    a.expect_code(0);
    b.expect_code(0);
    let hash = |s: String| {
        s.lines()
            .find(|l| l.contains("root hash"))
            .map(str::to_string)
            .unwrap()
    };
    assert_eq!(hash(a.stdout()), hash(b.stdout()));
    let c = sb.run(&["check", "s.toml"]);
    assert_ne!(
        hash(a.stdout()),
        hash(c.stdout()),
        "the pruner is in the hash"
    );
    sb.run(&["run", "none.toml", "--out", "r", "-q", "-j", "2"])
        .expect_code(0);
    let text = String::from_utf8_lossy(&sb.read("r/trials.csv")).into_owned();
    assert!(
        text.lines().next().unwrap().ends_with(",extra,error,check"),
        "{text}"
    );
}

refused!(
    reduction_factor_must_be_at_least_two,
    with_kind(
        "random",
        "kind = \"successive_halving\"\nreduction_factor = 1\n"
    ),
    "[search.pruner.reduction_factor]",
    "must be at least 2 (got 1)"
);
refused!(
    hyperband_reduction_factor_must_be_at_least_two,
    with_kind("random", &format!("{HB}reduction_factor = 0\n")),
    "[search.pruner.reduction_factor]",
    "must be at least 2 (got 0)"
);
refused!(
    min_resource_must_be_at_least_one,
    with_kind(
        "random",
        "kind = \"successive_halving\"\nmin_resource = 0\n"
    ),
    "[search.pruner.min_resource]",
    "must be at least 1 (got 0)"
);
refused!(
    min_early_stopping_rate_cannot_be_negative,
    with_kind(
        "random",
        "kind = \"successive_halving\"\nmin_early_stopping_rate = -1\n"
    ),
    "[search.pruner.min_early_stopping_rate]",
    "must be at least 0 (got -1)"
);
refused!(
    bootstrap_count_cannot_be_negative,
    with_kind("random", &format!("{HB}bootstrap_count = -1\n")),
    "[search.pruner.bootstrap_count]",
    "must be at least 0 (got -1)"
);
refused!(
    max_resource_must_be_above_min_resource,
    with_kind(
        "random",
        "kind = \"hyperband\"\nmin_resource = 4\nmax_resource = 4\n"
    ),
    "[search.pruner.max_resource]",
    "must be above min_resource (4) (got 4)"
);
refused!(
    hyperband_needs_max_resource,
    with_kind("random", "kind = \"hyperband\"\n"),
    "[search.pruner.max_resource]",
    "missing"
);
refused!(
    max_resource_is_only_for_hyperband,
    with_kind("random", &format!("{SH}max_resource = 9\n")),
    "[search.pruner.max_resource]",
    "only for kind = \"hyperband\", not kind = \"successive_halving\""
);
refused!(
    min_early_stopping_rate_is_not_for_hyperband,
    with_kind("random", &format!("{HB}min_early_stopping_rate = 1\n")),
    "[search.pruner.min_early_stopping_rate]",
    "only for kind = \"successive_halving\", not kind = \"hyperband\""
);
refused!(
    median_keys_are_not_for_successive_halving,
    with_kind("random", &format!("{SH}n_warmup_steps = 1\n")),
    "[search.pruner.n_warmup_steps]",
    "only for kind = \"median\", not kind = \"successive_halving\""
);
refused!(
    halving_keys_are_not_for_median,
    with_kind("random", "kind = \"median\"\nreduction_factor = 2\n"),
    "[search.pruner.reduction_factor]",
    "only for kind = \"successive_halving\" or kind = \"hyperband\", not kind = \"median\""
);
