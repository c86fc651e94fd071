//! Per-fit cost of the built-in models on the shipped data (divan):
//! `cargo bench --bench models`. One training fold (rows with index % 5 !=
//! 0), features standardised, the parameters of scikit-learn's best grid
//! point where there is one.

use std::path::Path;

use hpsearch::data::preprocess::{Impute, PreprocessSpec, Preprocessor, Scale};
use hpsearch::data::{self, Target};
use hpsearch::objective::models::{self, Targets, Task};
use hpsearch::value::{Params, Value};
use ndarray::Array2;

fn main() {
    divan::main();
}

enum Y {
    Classes(Vec<usize>, usize),
    Values(Vec<f64>),
}

fn fold(file: &str, task: Task) -> (Array2<f64>, Y) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file);
    let ds = data::load(&path, "target", Some(task)).expect("load");
    let train: Vec<usize> = (0..ds.n_rows).filter(|r| r % 5 != 0).collect();
    let spec = PreprocessSpec {
        impute: Impute::None,
        fill_value: 0.0,
        scale: Scale::Standard,
        keep_missing: false,
    };
    let pre = Preprocessor::fit(&ds, &train, &spec).expect("preprocess");
    let x = pre.transform(&ds, &train).expect("transform");
    let y = match &ds.target {
        Target::Classes { labels, y } => {
            Y::Classes(train.iter().map(|&r| y[r]).collect(), labels.len())
        }
        Target::Values(v) => Y::Values(train.iter().map(|&r| v[r]).collect()),
    };
    (x, y)
}

fn bench_fit(b: divan::Bencher, model: &str, file: &str, task: Task, params: &[(&str, Value)]) {
    let (x, y) = fold(file, task);
    let params: Params = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    b.bench_local(|| {
        let t = match &y {
            Y::Classes(y, n) => Targets::Classes { y, n_classes: *n },
            Y::Values(v) => Targets::Values(v),
        };
        models::fit(model, x.view(), t, &params, 0).expect("fit")
    });
}

#[divan::bench(sample_count = 20)]
fn logistic_breast_cancer(b: divan::Bencher) {
    let p = [("C", Value::Float(0.695)), ("max_iter", Value::Int(1000))];
    bench_fit(
        b,
        "logistic_regression",
        "breast_cancer.csv",
        Task::Classification,
        &p,
    );
}

#[divan::bench(sample_count = 20)]
fn decision_tree_wine_depth3(b: divan::Bencher) {
    let p = [("max_depth", Value::Int(3))];
    bench_fit(b, "decision_tree", "wine.csv", Task::Classification, &p);
}

#[divan::bench(sample_count = 20)]
fn elastic_net_diabetes_small_alpha(b: divan::Bencher) {
    let p = [
        ("alpha", Value::Float(1e-4)),
        ("l1_ratio", Value::Float(0.5)),
    ];
    bench_fit(b, "elastic_net", "diabetes.csv", Task::Regression, &p);
}

#[divan::bench(sample_count = 10)]
fn random_forest_breast_cancer_100(b: divan::Bencher) {
    bench_fit(
        b,
        "random_forest",
        "breast_cancer.csv",
        Task::Classification,
        &[],
    );
}

#[divan::bench(sample_count = 5)]
fn svm_rbf_digits(b: divan::Bencher) {
    let p = [
        ("C", Value::Float(7.19686)),
        ("gamma", Value::Float(0.00719686)),
    ];
    bench_fit(b, "svm", "digits.csv", Task::Classification, &p);
}
