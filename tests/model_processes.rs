//! Every built-in model, trained in three separate processes, must give
//! predictions with the same bits. Separate processes matter: each gets its
//! own random `HashMap` seed, which is how linfa-trees 0.8.1 goes wrong
//! (docs/upstream/linfa-trees-nondeterminism.md).
//!
//! Every built-in model, written to JSON and read back, must predict the
//! same bits as the model it was written from, and must refuse rows of
//! another width.

use std::path::Path;
use std::process::Command;

use hpsearch::data::preprocess::{Impute, PreprocessSpec, Preprocessor, Scale};
use hpsearch::data::{self, Target};
use hpsearch::objective::models::{self, Fitted, Prediction, Targets, Task};
use hpsearch::value::{Params, Value};
use ndarray::{s, Array2};
use sha2::{Digest, Sha256};

const CHILD: &str = "HPSEARCH_PREDICTION_CHILD";

/// `model` trained on every other row of `file` (features standardised
/// over all rows), and all rows.
fn fit_half(model: &str, file: &str, task: Task, params: &Params) -> (Fitted, Array2<f64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file);
    let ds = data::load(&path, "target", Some(task)).expect("load");
    let rows: Vec<usize> = (0..ds.n_rows).collect();
    let spec = PreprocessSpec {
        impute: Impute::None,
        fill_value: 0.0,
        scale: Scale::Standard,
        keep_missing: false,
    };
    let pre = Preprocessor::fit(&ds, &rows, &spec).expect("fit preprocessing");
    let x = pre.transform(&ds, &rows).expect("transform");
    // Train on every other row, predict all rows.
    let train: Vec<usize> = (0..ds.n_rows).step_by(2).collect();
    let xt = x.select(ndarray::Axis(0), &train);
    let fitted = match &ds.target {
        Target::Classes { labels, y } => {
            let yt: Vec<usize> = train.iter().map(|&r| y[r]).collect();
            let t = Targets::Classes {
                y: &yt,
                n_classes: labels.len(),
            };
            models::fit(model, xt.view(), t, params, 7)
        }
        Target::Values(v) => {
            let yt: Vec<f64> = train.iter().map(|&r| v[r]).collect();
            models::fit(model, xt.view(), Targets::Values(&yt), params, 7)
        }
    }
    .unwrap_or_else(|e| panic!("{model} on {file}: {e}"));
    (fitted, x)
}

/// The bits of a prediction: labels, then probabilities (or a marker for
/// none), or values.
fn bits(p: &Prediction) -> Vec<u64> {
    match p {
        Prediction::Classes { labels, proba } => {
            let mut out: Vec<u64> = labels.iter().map(|&l| l as u64).collect();
            match proba {
                Some(pr) => {
                    out.push(pr.nrows() as u64);
                    out.push(pr.ncols() as u64);
                    out.extend(pr.iter().map(|v| v.to_bits()));
                }
                None => out.push(u64::MAX),
            }
            out
        }
        Prediction::Values(v) => v.iter().map(|v| v.to_bits()).collect(),
    }
}

/// Digest of one model's predictions on one dataset.
fn digest(model: &str, file: &str, task: Task, params: &Params) -> String {
    let (fitted, x) = fit_half(model, file, task, params);
    let mut h = Sha256::new();
    match fitted.predict(x.view()).expect("predict") {
        Prediction::Classes { labels, proba } => {
            for l in labels {
                h.update((l as u64).to_le_bytes());
            }
            for p in proba.iter().flatten() {
                h.update(p.to_bits().to_le_bytes());
            }
        }
        Prediction::Values(v) => {
            for p in v {
                h.update(p.to_bits().to_le_bytes());
            }
        }
    }
    hpsearch::seed::hex(&h.finalize())
}

/// Parameters that keep the forest small; defaults otherwise.
fn test_params(model: &str) -> Params {
    let mut params = Params::new();
    if model == "random_forest" {
        params.insert("n_estimators".into(), Value::Int(15));
    }
    if model == "gradient_boosting" {
        // Subsampled rows and features: the seeded paths too.
        params.insert("max_iter".into(), Value::Int(10));
        params.insert("subsample".into(), Value::Float(0.8));
        params.insert("max_features".into(), Value::Float(0.5));
    }
    params
}

/// Not a test on its own: the body of each child process.
#[test]
fn child_prints_prediction_digests() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    for m in models::MODELS {
        let params = test_params(m.name);
        for &task in m.tasks {
            let files: &[&str] = match task {
                Task::Classification => &["wine.csv", "breast_cancer.csv", "digits.csv"],
                Task::Regression => &["diabetes.csv"],
            };
            for f in files {
                println!(
                    "DIGEST {} {} {}",
                    m.name,
                    f,
                    digest(m.name, f, task, &params)
                );
            }
        }
    }
}

#[test]
fn every_model_predicts_the_same_bits_in_three_processes() {
    let exe = std::env::current_exe().expect("test binary");
    let mut outputs = Vec::new();
    for _ in 0..3 {
        let out = Command::new(&exe)
            .args([
                "--exact",
                "child_prints_prediction_digests",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .expect("run child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("DIGEST "))
            .map(str::to_string)
            .collect();
        outputs.push(lines);
    }
    for m in models::MODELS {
        assert!(
            outputs[0]
                .iter()
                .any(|l| l.starts_with(&format!("DIGEST {} ", m.name))),
            "no predictions from {}",
            m.name
        );
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}

#[test]
fn every_model_read_back_from_json_predicts_the_same_bits() {
    let mut checked = 0;
    for m in models::MODELS {
        let params = test_params(m.name);
        for &task in m.tasks {
            // Two classes (one logistic output) and three (one per class).
            let files: &[&str] = match task {
                Task::Classification => &["breast_cancer.csv", "wine.csv"],
                Task::Regression => &["diabetes.csv"],
            };
            for file in files {
                let what = format!("{} on {file}", m.name);
                let (fitted, x) = fit_half(m.name, file, task, &params);
                assert_eq!(fitted.n_features(), x.ncols(), "{what}");
                let json = serde_json::to_string(&fitted).unwrap();
                let kind = match m.name {
                    "ridge" | "lasso" => "elastic_net",
                    other => other,
                };
                let value: serde_json::Value = serde_json::from_str(&json).unwrap();
                assert_eq!(value["kind"], kind, "{what}");
                let back: Fitted = serde_json::from_str(&json)
                    .unwrap_or_else(|e| panic!("{what}: reading back: {e}"));
                assert_eq!(back, fitted, "{what}");
                // Written again, the same text.
                assert_eq!(serde_json::to_string(&back).unwrap(), json, "{what}");
                let before = fitted.predict(x.view()).unwrap();
                let after = back.predict(x.view()).unwrap();
                assert_eq!(bits(&after), bits(&before), "{what}");
                match (&before, task) {
                    (Prediction::Classes { labels, .. }, Task::Classification) => {
                        assert_eq!(labels.len(), x.nrows(), "{what}")
                    }
                    (Prediction::Values(v), Task::Regression) => {
                        assert_eq!(v.len(), x.nrows(), "{what}")
                    }
                    _ => panic!("{what}: prediction of the wrong task"),
                }
                // One column too few: an error naming both widths.
                let narrow = x.slice(s![.., ..x.ncols() - 1]);
                for model in [&fitted, &back] {
                    let e = model.predict(narrow).err().unwrap().to_string();
                    assert!(
                        e.contains(&x.ncols().to_string())
                            && e.contains(&(x.ncols() - 1).to_string()),
                        "{what}: {e}"
                    );
                }
                checked += 1;
            }
        }
    }
    // 10 models: 4 serve both tasks (tree, forest, gradient boosting, knn),
    // 3 classification only (logistic, svm, naive Bayes), 3 regression only
    // (the linear ones).
    assert_eq!(checked, 4 * 3 + 3 * 2 + 3);
}
