//! Linear models sharing work across the candidates of a grid (issue 22
//! point 3), on the real binary: the journal does not depend on whether
//! work is shared, on the thread count, or on a kill and resume.

mod common;

use std::process::{Command, Output};

use common::Sandbox;

/// An elastic-net grid on diabetes (442 rows > 10 features: the Gram
/// solver), with ridge's and lasso's corners among the l1 ratios.
const ELASTIC_NET: &str = r#"
[search]
strategy = "grid"
seed = 4

[objective]
model = "elastic_net"
metric = "r2"

[data]
path = "data/diabetes.csv"
target = "target"
scale = "standard"

[cv]
folds = 4

[space]
alpha = { type = "float", low = 1e-4, high = 10.0, log = true, steps = 12 }
l1_ratio = { type = "float", values = [0.0, 0.5, 1.0] }
fit_intercept = { type = "categorical", choices = [true, false] }
"#;

/// `hpsearch run FILE --out OUT -q -j THREADS`, with
/// `HPSEARCH_SHARED_BYTES` set to `budget` when given.
fn run(sb: &Sandbox, file: &str, out: &str, threads: &str, budget: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hpsearch"));
    cmd.args(["run", file, "--out", out, "-q", "-j", threads])
        .current_dir(sb.path())
        .env_remove("HPSEARCH_SHARED_BYTES");
    if let Some(b) = budget {
        cmd.env("HPSEARCH_SHARED_BYTES", b);
    }
    let o = cmd.output().expect("run hpsearch");
    assert!(
        o.status.success(),
        "{out}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

#[test]
fn elastic_net_grid_is_the_same_with_and_without_a_shared_gram() {
    let sb = Sandbox::new();
    sb.data("diabetes.csv");
    sb.write("en.toml", ELASTIC_NET);
    run(&sb, "en.toml", "off", "1", Some("0"));
    let want = sb.read("off/trials.csv");
    // 12 alphas × 3 ratios × 2 intercept settings, each scored.
    let text = String::from_utf8(want.clone()).expect("utf-8");
    assert_eq!(text.lines().count(), 1 + 72, "{text}");
    assert!(!text.contains(",failed,"), "{text}");
    for (threads, budget, out) in [
        ("1", None, "on1"),
        ("2", None, "on2"),
        ("2", Some("0"), "off2"),
    ] {
        run(&sb, "en.toml", out, threads, budget);
        assert!(
            sb.read(&format!("{out}/trials.csv")) == want,
            "{out}: trials.csv differs from the unshared run"
        );
    }
}

/// A logistic C grid on breast_cancer along the path: 10 values of C
/// for each of two `tol`s (two chains a fold).
fn logistic(warm_start: &str) -> String {
    format!(
        r#"
[search]
strategy = "grid"
seed = 2

[objective]
model = "logistic_regression"
metric = "log_loss"
warm_start = "{warm_start}"

[objective.params]
max_iter = 500

[data]
path = "data/breast_cancer.csv"
target = "target"
scale = "standard"

[cv]
folds = 5

[space]
C = {{ type = "float", low = 1e-3, high = 100.0, log = true, steps = 10 }}
tol = {{ type = "float", values = [1e-4, 1e-7] }}
"#
    )
}

fn rows(sb: &Sandbox, out: &str) -> usize {
    std::fs::read(sb.path().join(out).join("trials.csv"))
        .map(|b| b.iter().filter(|&&c| c == b'\n').count().saturating_sub(1))
        .unwrap_or(0)
}

#[test]
fn logistic_path_journal_is_the_same_for_any_threads_sharing_and_resume() {
    let sb = Sandbox::new();
    sb.data("breast_cancer.csv");
    sb.write("lr.toml", &logistic("path"));
    sb.write("cold.toml", &logistic("none"));
    run(&sb, "lr.toml", "t1", "1", None);
    let want = sb.read("t1/trials.csv");
    let text = String::from_utf8(want.clone()).expect("utf-8");
    assert_eq!(text.lines().count(), 1 + 20, "{text}");
    assert!(!text.contains(",failed,"), "{text}");
    for (threads, budget, out) in [
        ("2", None, "t2"),
        ("8", None, "t8"),
        ("2", Some("0"), "off"),
    ] {
        run(&sb, "lr.toml", out, threads, budget);
        assert!(
            sb.read(&format!("{out}/trials.csv")) == want,
            "{out}: trials.csv differs from the one-thread run"
        );
    }
    // The cold search is another search (warm_start is in the root hash)
    // whose values are close (the unit tests check the optima against
    // the solver's tolerance).
    run(&sb, "cold.toml", "cold", "2", None);
    let cold = String::from_utf8(sb.read("cold/trials.csv")).expect("utf-8");
    let value = |line: &str| line.split(',').nth(3).and_then(|v| v.parse::<f64>().ok());
    for (a, b) in text.lines().skip(1).zip(cold.lines().skip(1)) {
        let (a, b) = (value(a).expect("value"), value(b).expect("value"));
        assert!((a - b).abs() <= 0.05 * b.abs().max(1e-3), "{a} vs {b}");
    }
    let hash = |f: &str| {
        let r = sb.run(&["check", f]);
        r.expect_code(0);
        r.stdout()
    };
    let (path_check, cold_check) = (hash("lr.toml"), hash("cold.toml"));
    assert!(path_check.contains("warm_start = \"path\""), "{path_check}");
    assert!(!cold_check.contains("warm_start"), "{cold_check}");
    let root = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("root hash"))
            .map(str::to_string)
    };
    assert_ne!(root(&path_check), root(&cold_check));

    // Killed mid-grid (SIGKILL once rows are committed), resumed with
    // other thread counts and no sharing: the same journal.
    let mut landed = 0;
    for (threads, budget) in [("2", "0"), ("1", "0")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
            .args(["run", "lr.toml", "--out", "killed", "-q", "-j", threads])
            .current_dir(sb.path())
            .env("HPSEARCH_SHARED_BYTES", budget)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn hpsearch");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let start = rows(&sb, "killed");
        while rows(&sb, "killed") <= start
            && child.try_wait().expect("poll").is_none()
            && std::time::Instant::now() < until
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        if child.try_wait().expect("poll").is_none() {
            landed += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }
    assert!(landed >= 1, "no kill landed before the search ended");
    assert!(rows(&sb, "killed") < 20, "the kills left a finished search");
    run(&sb, "lr.toml", "killed", "8", None);
    assert!(
        sb.read("killed/trials.csv") == want,
        "trials.csv differs after kill and resume"
    );

    // Replaying one mid-grid trial rebuilds its chain: the same bits.
    for trial in ["7", "14"] {
        let r = sb.run(&["replay", "t2", "--trial", trial]);
        r.expect_code(0);
        assert!(
            r.stdout().contains("identical to the journal, bit for bit"),
            "{}",
            r.stdout()
        );
    }
}

#[test]
fn warm_start_outside_a_plain_c_grid_is_refused_and_nothing_is_written() {
    let sb = Sandbox::new();
    sb.data("breast_cancer.csv");
    sb.data("diabetes.csv");
    let base = logistic("path");
    let cases: Vec<(String, &str)> = vec![
        (
            base.replace("warm_start = \"path\"", "warm_start = \"yes\""),
            "unknown warm_start \"yes\"; expected one of: none, path",
        ),
        (
            base.replace("strategy = \"grid\"", "strategy = \"random\"\ntrials = 5"),
            "needs strategy = \"grid\"",
        ),
        (
            base.replace("max_iter = 500", "max_iter = 500\nC = 1.0")
                .replace(
                    "C = { type = \"float\", low = 1e-3, high = 100.0, log = true, steps = 10 }\n",
                    "",
                ),
            "fixed in [objective.params]",
        ),
        (
            base.replace(
                "C = { type = \"float\", low = 1e-3, high = 100.0, log = true, steps = 10 }\n",
                "",
            ),
            "which [space] does not search",
        ),
        (
            ELASTIC_NET.replace("metric = \"r2\"", "metric = \"r2\"\nwarm_start = \"path\""),
            "model elastic_net has none",
        ),
    ];
    for (text, expect) in cases {
        sb.write("bad.toml", &text);
        for cmd in ["run", "check"] {
            let r = sb.run(&[cmd, "bad.toml"]);
            r.expect_code(2);
            assert!(
                r.stderr().contains("objective.warm_start"),
                "{}",
                r.stderr()
            );
            assert!(r.stderr().contains(expect), "{expect}: {}", r.stderr());
        }
        assert!(
            !sb.path().join("results").exists(),
            "{expect}: something was written"
        );
    }
}
