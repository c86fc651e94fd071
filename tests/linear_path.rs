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
