//! Every built-in model, trained in three separate processes, must give
//! predictions with the same bits. Separate processes matter: each gets its
//! own random `HashMap` seed, which is how linfa-trees 0.8.1 goes wrong
//! (docs/upstream/linfa-trees-nondeterminism.md).

use std::path::Path;
use std::process::Command;

use hpsearch::data::preprocess::{Impute, PreprocessSpec, Preprocessor, Scale};
use hpsearch::data::{self, Target};
use hpsearch::objective::models::{self, Prediction, Targets, Task};
use hpsearch::value::{Params, Value};
use sha2::{Digest, Sha256};

const CHILD: &str = "HPSEARCH_PREDICTION_CHILD";

/// Digest of one model's predictions on one dataset.
fn digest(model: &str, file: &str, task: Task, params: &Params) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file);
    let ds = data::load(&path, "target", Some(task)).expect("load");
    let rows: Vec<usize> = (0..ds.n_rows).collect();
    let spec = PreprocessSpec {
        impute: Impute::None,
        fill_value: 0.0,
        scale: Scale::Standard,
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
    let mut h = Sha256::new();
    match fitted.predict(x.view()) {
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

/// Not a test on its own: the body of each child process.
#[test]
fn child_prints_prediction_digests() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    for m in models::MODELS {
        let mut params = Params::new();
        if m.name == "random_forest" {
            params.insert("n_estimators".into(), Value::Int(15));
        }
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
