//! The command line as a user meets it: help, `models`, `check`, and every
//! shipped example search.

mod common;

use common::{repo, Sandbox};

#[test]
fn every_command_has_help() {
    let sb = Sandbox::new();
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["check", "--help"],
        vec!["models", "--help"],
        vec!["replay", "--help"],
        vec!["export", "--help"],
        vec!["predict", "--help"],
    ] {
        let r = sb.run(&args);
        r.expect_code(0);
        assert!(
            r.stdout().contains("Usage: hpsearch"),
            "{args:?}: {}",
            r.stdout()
        );
    }
    let r = sb.run(&["run", "--help"]);
    for flag in ["--threads", "--out", "--quiet"] {
        assert!(r.stdout().contains(flag), "{flag}");
    }
}

#[test]
fn models_lists_every_model_and_its_parameters() {
    let sb = Sandbox::new();
    let r = sb.run(&["models"]);
    r.expect_code(0);
    let out = r.stdout();
    for (model, params) in [
        (
            "logistic_regression",
            &["C", "max_iter", "tol", "fit_intercept"][..],
        ),
        ("elastic_net", &["alpha", "l1_ratio"][..]),
        ("ridge", &["alpha"][..]),
        ("lasso", &["alpha"][..]),
        (
            "decision_tree",
            &[
                "max_depth",
                "min_samples_split",
                "min_samples_leaf",
                "criterion",
            ][..],
        ),
        (
            "random_forest",
            &["n_estimators", "max_features", "bootstrap"][..],
        ),
        (
            "gradient_boosting",
            &[
                "learning_rate",
                "max_iter",
                "max_leaf_nodes",
                "l2_regularization",
                "max_bins",
                "subsample",
            ][..],
        ),
        ("svm", &["C", "gamma", "kernel"][..]),
        ("knn", &["n_neighbors", "weights", "p"][..]),
        ("gaussian_nb", &["var_smoothing"][..]),
    ] {
        let start = out
            .find(&format!("\n{model} ("))
            .or_else(|| out.starts_with(&format!("{model} (")).then_some(0))
            .unwrap_or_else(|| panic!("{model} missing:\n{out}"));
        let block = &out[start..];
        let block = &block[..block[1..].find("\n\n").map_or(block.len(), |e| e + 1)];
        for p in params {
            assert!(
                block.contains(&format!("    {p} ")),
                "{model} lacks {p}:\n{block}"
            );
        }
    }
}

#[test]
fn check_prints_the_resolved_search_and_writes_nothing() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    sb.write(
        "s.toml",
        r#"
[search]
strategy = "grid"
[objective]
model = "decision_tree"
[data]
path = "data/wine.csv"
[space]
max_depth = { type = "int", low = 1, high = 10 }
min_samples_split = { type = "int", values = [2, 4, 8, 16] }
"#,
    );
    let r = sb.run(&["check", "s.toml"]);
    r.expect_code(0);
    let out = r.stdout();
    for piece in [
        "root hash: ",
        "grid size: 40",
        "budget:    40 trials",
        "rows:      178, features: 13",
        // Defaults filled in.
        "metric = \"accuracy\"",
        "task = \"classification\"",
        "folds = 5",
        "impute = \"none\"",
        "seed = 0",
    ] {
        assert!(out.contains(piece), "`{piece}` not in:\n{out}");
    }
    assert!(!sb.path().join("results").exists());
}

/// Every example in configs/ is valid, and every one but the two heavy
/// digits grids (run by scripts/bench_sklearn.sh) runs to the end.
#[test]
fn every_shipped_config_runs() {
    let sb = Sandbox::new();
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(repo().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    for path in entries {
        let p = path.to_str().unwrap();
        sb.run(&["check", p]).expect_code(0);
        let stem = path.file_stem().unwrap().to_str().unwrap();
        if stem.starts_with("digits_") {
            continue;
        }
        let r = sb.run(&["run", p, "--out", stem, "--quiet"]);
        r.expect_code(0);
        assert!(r.stdout().contains("best trial"), "{stem}: {}", r.stdout());
        assert!(r.stdout().contains("(0 failed)"), "{stem}: {}", r.stdout());
        n += 1;
    }
    assert!(n >= 15, "only {n} configs ran");
}

#[test]
fn drift_help_offers_only_text_and_json() {
    let sb = Sandbox::new();
    let r = sb.run(&["drift", "--help"]);
    r.expect_code(0);
    let out = r.stdout();
    assert!(out.contains("[possible values: text, json]"), "{out}");
    assert!(!out.contains("csv"), "{out}");
    // csv is refused by the argument parser, as any unknown value is.
    let r = sb.run(&["drift", "m.json", "d.csv", "--format", "csv"]);
    r.expect_code(2);
    assert!(r.stderr().contains("invalid value 'csv'"), "{}", r.stderr());
}

/// Ctrl-C on a function search: a stop, not an error. The search is far
/// too long to finish; it is stopped once its journal has rows.
#[test]
fn ctrl_c_on_a_function_search_is_printed_as_a_stop() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let sb = Sandbox::new();
    sb.write(
        "s.toml",
        "[search]\nstrategy = \"random\"\ntrials = 1000000000\nseed = 0\n\
         [objective]\nfunction = \"branin\"\n\
         [space]\nx0 = { type = \"float\", low = -5.0, high = 10.0 }\n\
         x1 = { type = \"float\", low = 0.0, high = 15.0 }\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
        .args(["run", "s.toml", "--out", "r", "-q", "-j", "2"])
        .current_dir(sb.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let journal = sb.path().join("r/trials.csv");
    // Bounds against a hang, not timings.
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until && std::fs::metadata(&journal).map_or(0, |m| m.len()) < 10_000 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("error"), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("stopped: r: interrupted with ")
            && last.ends_with(" trials in the journal; run the same command again to resume"),
        "{err}"
    );
    // The count is what the journal holds.
    let rows = std::fs::read_to_string(&journal).unwrap().lines().count() - 1;
    assert!(
        last.contains(&format!(" with {rows} trials ")),
        "{rows}: {err}"
    );
}
