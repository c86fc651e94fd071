//! `hpsearch replay`: a recorded trial retrained in a new process gives the
//! journal's scores bit for bit; changed data is refused, naming the file
//! and both hashes.

mod common;

use common::Sandbox;

fn search(model: &str, space: &str, extra: &str) -> String {
    format!(
        r#"
[search]
strategy = "random"
trials = 4
seed = 2

[objective]
model = "{model}"
{extra}

[data]
path = "data/wine.csv"
scale = "standard"

[cv]
folds = 4

[space]
{space}
"#
    )
}

#[test]
fn every_kind_of_model_replays_bit_for_bit() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    let cases = [
        (
            "random_forest",
            "n_estimators = { type = \"int\", low = 5, high = 30 }",
            "",
        ),
        (
            "decision_tree",
            "max_features = { type = \"categorical\", choices = [\"sqrt\", \"all\"] }",
            "",
        ),
        (
            "gradient_boosting",
            "subsample = { type = \"float\", low = 0.5, high = 1.0 }",
            "metric = \"log_loss\"",
        ),
        (
            "svm",
            "C = { type = \"float\", low = 0.1, high = 10.0, log = true }",
            "",
        ),
        (
            "logistic_regression",
            "C = { type = \"float\", low = 0.01, high = 10.0, log = true }",
            "metric = \"log_loss\"",
        ),
        (
            "knn",
            "n_neighbors = { type = \"int\", low = 1, high = 9 }",
            "",
        ),
        (
            "gaussian_nb",
            "var_smoothing = { type = \"float\", low = 1e-9, high = 1e-3, log = true }",
            "",
        ),
    ];
    for (model, space, extra) in cases {
        let file = format!("{model}.toml");
        sb.write(&file, &search(model, space, extra));
        sb.run(&["run", &file, "-q"]).expect_code(0);
        let dir = format!("results/{model}");
        let r = sb.run(&["replay", &dir]);
        r.expect_code(0);
        assert!(
            r.stdout().contains("identical to the journal, bit for bit"),
            "{model}: {}",
            r.stdout()
        );
        assert!(
            r.stdout().contains("4 fold scores"),
            "{model}: {}",
            r.stdout()
        );
        let r = sb.run(&["replay", &dir, "--trial", "3"]);
        r.expect_code(0);
        assert!(
            r.stdout().starts_with("trial 3: replayed"),
            "{}",
            r.stdout()
        );
    }
}

#[test]
fn replay_needs_only_the_folder_and_the_data() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    sb.write(
        "s/t.toml",
        &search(
            "knn",
            "n_neighbors = { type = \"int\", low = 1, high = 9 }",
            "",
        )
        .replace("data/wine.csv", "../data/wine.csv"),
    );
    sb.run(&["run", "s/t.toml", "--out", "r", "-q"])
        .expect_code(0);
    // The search file is gone; replay from another working directory.
    std::fs::remove_dir_all(sb.path().join("s")).unwrap();
    std::fs::create_dir(sb.path().join("elsewhere")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hpsearch"))
        .args(["replay", "../r"])
        .current_dir(sb.path().join("elsewhere"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The data moved: --data points at it.
    std::fs::rename(
        sb.path().join("data/wine.csv"),
        sb.path().join("wine-copy.csv"),
    )
    .unwrap();
    let r = sb.run(&["replay", "r"]);
    r.expect_code(2);
    assert!(r.stderr().contains("wine.csv"), "{}", r.stderr());
    sb.run(&["replay", "r", "--data", "wine-copy.csv"])
        .expect_code(0);
}

#[test]
fn changed_data_is_refused_naming_file_and_hashes() {
    let sb = Sandbox::new();
    let data = sb.data("wine.csv");
    sb.write(
        "t.toml",
        &search(
            "knn",
            "n_neighbors = { type = \"int\", low = 1, high = 9 }",
            "",
        ),
    );
    sb.run(&["run", "t.toml", "-q"]).expect_code(0);
    let manifest = String::from_utf8(sb.read("results/t/manifest.toml")).unwrap();
    let old = manifest
        .lines()
        .find(|l| l.starts_with("sha256 = "))
        .unwrap()
        .trim_start_matches("sha256 = ")
        .trim_matches('"')
        .to_string();
    let mut bytes = std::fs::read(&data).unwrap();
    let i = bytes.iter().position(|&b| b == b'3').unwrap();
    bytes[i] = b'4';
    std::fs::write(&data, bytes).unwrap();
    let r = sb.run(&["replay", "results/t"]);
    r.expect_code(2);
    let err = r.stderr();
    assert!(err.contains("wine.csv") && err.contains("changed"), "{err}");
    assert!(err.contains(&old), "{err}");
    assert!(
        err.contains(&hpsearch::data::sha256_file(&data).unwrap()),
        "{err}"
    );
}

#[test]
fn bad_replay_requests() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    sb.write(
        "t.toml",
        &search(
            "knn",
            "n_neighbors = { type = \"int\", low = 1, high = 9 }",
            "",
        ),
    );
    sb.run(&["run", "t.toml", "-q"]).expect_code(0);
    let r = sb.run(&["replay", "results/t", "--trial", "4"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("no trial 4 (the journal holds 4)"),
        "{}",
        r.stderr()
    );
    let r = sb.run(&["replay", "data"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("not an hpsearch results folder"),
        "{}",
        r.stderr()
    );
}
