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
