//! The benchmark inputs under benches/ (run by scripts/bench_prune_programs.sh
//! and scripts/bench_halving.sh, never in CI) stay valid: the search files
//! pass `hpsearch check`, and the multi-fidelity Hartmann program prints the
//! curve the benchmark counts on. Cheap: no search is run.

mod common;

use common::{repo, Sandbox};
use std::process::Command;

/// The three pruner searches over mf_hartmann.py and the digits searches,
/// with and without successive halving on samples, are valid search
/// files. (The forest files need the data scripts/bench_halving.sh
/// generates.)
#[test]
fn the_benchmark_search_files_pass_check() {
    let sb = Sandbox::new();
    for rel in [
        "benches/prune/mf_hartmann_median.toml",
        "benches/prune/mf_hartmann_successive_halving.toml",
        "benches/prune/mf_hartmann_hyperband.toml",
        "benches/halving/digits_svm.toml",
        "benches/halving/digits_svm_grid.toml",
        "benches/halving/digits_svm_halving.toml",
        "benches/halving/digits_svm_grid_halving.toml",
    ] {
        let path = repo().join(rel);
        let p = path.to_str().expect("utf-8 path");
        let r = sb.run(&["check", p]);
        r.expect_code(0);
        assert!(r.stdout().contains(": ok"), "{rel}: {}", r.stdout());
    }
    assert!(!sb.path().join("results").exists());
}

/// At the Hartmann 6-D minimiser the program prints steps 1..=27, each
/// value below the one before (a lower fidelity only lowers the weights),
/// the last equal to the final value, and the final value is -3.32237.
#[test]
fn mf_hartmann_prints_a_falling_curve_ending_at_the_minimum() {
    let sb = Sandbox::new();
    let params = sb.write(
        "params.json",
        r#"{"x1": 0.20169, "x2": 0.150011, "x3": 0.476874, "x4": 0.275332, "x5": 0.311652, "x6": 0.6573}"#,
    );
    let out = Command::new("python3")
        .arg(repo().join("benches/programs/mf_hartmann.py"))
        .env("HPSEARCH_PARAMS", &params)
        .env_remove("MF_HARTMANN_STEPS")
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 28, "{text}");
    let mut last = f64::INFINITY;
    for (k, line) in lines[..27].iter().enumerate() {
        assert_eq!(line["step"].as_u64(), Some(k as u64 + 1), "{text}");
        let v = line["value"].as_f64().expect("a value");
        assert!(v < last, "step {}: {v} not below {last}", k + 1);
        last = v;
    }
    let fin = lines[27]["value"].as_f64().expect("a final value");
    assert!(lines[27].get("step").is_none(), "{text}");
    assert_eq!(fin.to_bits(), last.to_bits(), "the last step is fidelity 1");
    assert!((fin - -3.32237).abs() < 1e-5, "{fin}");
}
