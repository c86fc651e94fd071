//! `hpsearch export` and `hpsearch predict`: the artifact is the same bytes
//! every time, and a model read back in another process predicts exactly
//! what the exporting process's model predicts.

mod common;

use std::path::Path;

use common::Sandbox;
use hpsearch::data;
use hpsearch::replay::{self, Artifact};

const SEARCHES: &[(&str, &str, &str, &str)] = &[
    (
        "forest",
        "random_forest",
        "wine.csv",
        "n_estimators = { type = \"int\", low = 5, high = 25 }",
    ),
    (
        "logreg",
        "logistic_regression",
        "breast_cancer.csv",
        "C = { type = \"float\", low = 0.01, high = 10.0, log = true }",
    ),
    (
        "enet",
        "elastic_net",
        "diabetes.csv",
        "alpha = { type = \"float\", low = 0.001, high = 1.0, log = true }",
    ),
    (
        "svm",
        "svm",
        "iris.csv",
        "C = { type = \"float\", low = 0.1, high = 10.0, log = true }",
    ),
    (
        "knn",
        "knn",
        "diabetes.csv",
        "n_neighbors = { type = \"int\", low = 2, high = 12 }",
    ),
    (
        "nb",
        "gaussian_nb",
        "wine.csv",
        "var_smoothing = { type = \"float\", low = 1e-9, high = 1e-6, log = true }",
    ),
    (
        "gb",
        "gradient_boosting",
        "breast_cancer.csv",
        "max_iter = { type = \"int\", low = 5, high = 20 }",
    ),
];

fn setup(sb: &Sandbox, name: &str, model: &str, file: &str, space: &str) {
    sb.data(file);
    sb.write(
        &format!("{name}.toml"),
        &format!(
            "[search]\nstrategy = \"random\"\ntrials = 3\n[objective]\nmodel = \"{model}\"\n\
             [data]\npath = \"data/{file}\"\nscale = \"standard\"\n[cv]\nfolds = 3\n[space]\n{space}\n"
        ),
    );
    sb.run(&["run", &format!("{name}.toml"), "-q"])
        .expect_code(0);
}

#[test]
fn exported_models_predict_the_exporting_models_bits() {
    let sb = Sandbox::new();
    for (name, model, file, space) in SEARCHES {
        setup(&sb, name, model, file, space);
        let dir = sb.path().join("results").join(name);
        let out = format!("{name}.json");
        sb.run(&["export", dir.to_str().unwrap(), "--out", &out])
            .expect_code(0);
        sb.run(&["export", dir.to_str().unwrap(), "--out", "again.json"])
            .expect_code(0);
        assert!(
            sb.read(&out) == sb.read("again.json"),
            "{name}: export is not repeatable"
        );

        // The model in this (exporting) process ...
        let here = replay::export(replay::open(&dir, None).unwrap(), None).unwrap();
        assert_eq!(
            here.to_json().as_bytes(),
            sb.read(&out).as_slice(),
            "{name}"
        );
        let ds = data::load_features(&sb.path().join("data").join(file)).unwrap();
        let mine = here.predictions_csv(&here.predict(&ds).unwrap());
        // ... and the artifact read back by `hpsearch predict` elsewhere.
        let r = sb.run(&["predict", &out, &format!("data/{file}")]);
        r.expect_code(0);
        assert_eq!(r.stdout(), mine, "{name}: predictions differ");
        assert_eq!(r.stdout().lines().count(), ds.n_rows + 1);
    }
}

#[test]
fn artifact_describes_itself() {
    let sb = Sandbox::new();
    let (name, model, file, space) = SEARCHES[0];
    setup(&sb, name, model, file, space);
    sb.run(&[
        "export",
        "results/forest",
        "--trial",
        "1",
        "--out",
        "m.json",
    ])
    .expect_code(0);
    let a = Artifact::read(&sb.path().join("m.json")).unwrap();
    let manifest = String::from_utf8(sb.read("results/forest/manifest.toml")).unwrap();
    assert!(manifest.contains(&a.root_hash));
    assert_eq!(
        a.data_sha256,
        data::sha256_file(&sb.path().join("data/wine.csv")).unwrap()
    );
    assert_eq!(a.trial, 1);
    assert_eq!(a.format, replay::ARTIFACT_FORMAT);
    assert_eq!(a.model, "random_forest");
    assert_eq!(a.features.len(), 13);
    assert_eq!(a.classes.as_deref().map(|c| c.len()), Some(3));
    assert_eq!(a.fold_scores.len(), 3);
    assert!(a.params.contains_key("n_estimators"));
    let trials = String::from_utf8(sb.read("results/forest/trials.csv")).unwrap();
    let line = trials.lines().nth(2).unwrap();
    assert!(
        line.starts_with(&format!("1,{},ok,{:?},", a.seed, a.cv_score)),
        "{line}"
    );
}

#[test]
fn predict_matches_columns_by_name() {
    let sb = Sandbox::new();
    sb.data("auto_mpg.csv");
    sb.write(
        "mpg.toml",
        r#"
[search]
strategy = "random"
trials = 3
[objective]
model = "random_forest"
[data]
path = "data/auto_mpg.csv"
target = "origin"
impute = "median"
[space]
n_estimators = { type = "int", low = 5, high = 10 }
"#,
    );
    sb.run(&["run", "mpg.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/mpg", "--out", "m.json"])
        .expect_code(0);
    let text = String::from_utf8(sb.read("data/auto_mpg.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let write = |name: &str, cols: &[usize]| {
        let body: String = rows
            .iter()
            .map(|r| cols.iter().map(|&c| r[c]).collect::<Vec<_>>().join(",") + "\n")
            .collect();
        sb.write(name, &body);
    };
    // Without the target, and in another column order (with missing cells).
    write("plain.csv", &[0, 1, 2, 3, 4, 5, 6]);
    write("shuffled.csv", &[6, 3, 0, 5, 1, 4, 2]);
    let a = sb.run(&["predict", "m.json", "plain.csv"]);
    a.expect_code(0);
    let b = sb.run(&["predict", "m.json", "shuffled.csv", "--out", "p.csv"]);
    b.expect_code(0);
    assert_eq!(a.stdout(), String::from_utf8(sb.read("p.csv")).unwrap());
    assert!(a
        .stdout()
        .starts_with("prediction,proba_Europe,proba_Japan,proba_USA\n"));
    // The target column may be there; it is ignored.
    let c = sb.run(&["predict", "m.json", "data/auto_mpg.csv"]);
    c.expect_code(0);
    assert_eq!(c.stdout(), a.stdout());

    write("missing.csv", &[0, 1, 2, 4, 5, 6]);
    let r = sb.run(&["predict", "m.json", "missing.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("missing column(s) the model reads: horsepower"),
        "{}",
        r.stderr()
    );

    let extra: String = rows
        .iter()
        .map(|r| format!("{},x\n", r[..7].join(",")))
        .collect();
    sb.write("extra.csv", &extra.replacen(",x\n", ",colour\n", 1));
    let r = sb.run(&["predict", "m.json", "extra.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("column(s) the model does not know: colour"),
        "{}",
        r.stderr()
    );
}

#[test]
fn newer_artifacts_and_function_searches_are_refused() {
    let sb = Sandbox::new();
    let (name, model, file, space) = SEARCHES[3];
    setup(&sb, name, model, file, space);
    sb.run(&["export", "results/svm", "--out", "m.json"])
        .expect_code(0);
    let text = String::from_utf8(sb.read("m.json")).unwrap();
    let ours = replay::ARTIFACT_FORMAT;
    sb.write(
        "new.json",
        &text.replacen(
            &format!("\"format\": {ours}"),
            &format!("\"format\": {}", ours + 1),
            1,
        ),
    );
    let r = sb.run(&["predict", "new.json", "data/iris.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains(&format!("artifact format {}", ours + 1)),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("newer hpsearch"), "{}", r.stderr());
    sb.write("junk.json", "{\"hello\": 1}");
    sb.run(&["predict", "junk.json", "data/iris.csv"])
        .expect_code(2);

    sb.write(
        "f.toml",
        "[search]\nstrategy = \"random\"\ntrials = 3\n[objective]\nfunction = \"branin\"\n[space]\n\
         x0 = { type = \"float\", low = -5.0, high = 10.0 }\nx1 = { type = \"float\", low = 0.0, high = 15.0 }\n",
    );
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    let r = sb.run(&["export", "results/f", "--out", "f.json"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("export is for searches over a built-in model"),
        "{}",
        r.stderr()
    );
    assert!(!Path::new(&sb.path().join("f.json")).exists());
}

#[test]
fn a_pruned_trial_is_refused_and_never_the_default() {
    // Maximised; every trial after the first two is pruned at step 0 with
    // a value (a + 1) above the best complete one (1.0 + 0.2).
    let sb = Sandbox::new();
    sb.write(
        "curve.sh",
        "awk -v a=\"$HPSEARCH_PARAM_A\" 'BEGIN { \
         for (t = 0; t < 5; t++) printf \"{\\\"step\\\": %d, \\\"value\\\": %.4f}\\n\", t, a + 1 / (t + 1); \
         printf \"{\\\"value\\\": %.4f}\\n\", a + 0.2 }'\n",
    );
    sb.write(
        "p.toml",
        r#"
[search]
strategy = "grid"
parallel = 1
[search.pruner]
kind = "median"
n_startup_trials = 2
n_warmup_steps = 0
[objective]
command = ["sh", "curve.sh"]
direction = "maximize"
inputs = ["curve.sh"]
[space]
a = { type = "float", values = [1.0, 0.9, 0.8, 0.7] }
"#,
    );
    sb.run(&["run", "p.toml", "--out", "p", "-q"])
        .expect_code(0);
    let csv = String::from_utf8(sb.read("p/trials.csv")).unwrap();
    assert!(
        csv.contains("\n2,") && csv.contains(",pruned,1.8,"),
        "{csv}"
    );
    let r = sb.run(&["export", "p", "--trial", "2", "--out", "m.json"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("trial 2 was pruned at step 0")
            && r.stderr().contains("export a complete trial"),
        "{}",
        r.stderr()
    );
    assert!(!sb.path().join("m.json").exists());
    // The default pick is the best complete trial (here, a program search
    // has nothing to export, and says that instead), and replay picks it.
    let r = sb.run(&["export", "p", "--out", "m.json"]);
    r.expect_code(2);
    assert!(!r.stderr().contains("pruned"), "{}", r.stderr());
    let r = sb.run(&["replay", "p"]);
    r.expect_code(0);
    assert!(
        format!("{}{}", r.stdout(), r.stderr()).contains("trial 0: replayed"),
        "{}{}",
        r.stdout(),
        r.stderr()
    );
}
