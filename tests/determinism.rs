//! The reproducibility promises of design.md, checked on the real binary:
//! byte-identical journals for any thread count, the root hash's
//! invariances, and results folders that are never changed by a later run.

mod common;

use common::Sandbox;

const MIXED: &str = r#"
[search]
strategy = "random"
trials = 400
seed = 11

[objective]
function = "mixed"

[space]
x1 = { type = "float", low = -5.0, high = 5.0 }
x2 = { type = "float", low = -5.0, high = 5.0 }
lr = { type = "float", low = 1e-5, high = 1e-1, log = true }
n = { type = "int", low = 1, high = 32 }
act = { type = "categorical", choices = ["relu", "tanh", "sigmoid"] }
"#;

/// The thread counts compared: 1, 2 and 8, or the comma-separated list in
/// `HPSEARCH_TEST_THREADS` (e.g. `1,2,8,16` on a machine with 16 cores).
fn thread_counts() -> Vec<String> {
    match std::env::var("HPSEARCH_TEST_THREADS") {
        Ok(list) if !list.trim().is_empty() => {
            list.split(',').map(|t| t.trim().to_string()).collect()
        }
        _ => ["1", "2", "8"].map(String::from).to_vec(),
    }
}

fn same_for_threads(sb: &Sandbox, file: &str) -> Vec<u8> {
    let mut first: Option<Vec<u8>> = None;
    for t in thread_counts() {
        let t = t.as_str();
        let out = format!("{file}-out{t}");
        sb.run(&["run", file, "--threads", t, "--out", &out, "--quiet"])
            .expect_code(0);
        let bytes = sb.read(&format!("{out}/trials.csv"));
        match &first {
            None => first = Some(bytes),
            Some(f) => assert!(f == &bytes, "trials.csv differs with --threads {t}"),
        }
    }
    first.unwrap_or_default()
}

#[test]
fn function_search_is_identical_for_1_2_8_threads() {
    let sb = Sandbox::new();
    sb.write("mixed.toml", MIXED);
    let bytes = same_for_threads(&sb, "mixed.toml");
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.lines().count(), 401);
    assert!(text.starts_with("trial,seed,status,value,act,lr,n,x1,x2,error,check\n"));
}

#[test]
fn model_searches_are_identical_for_1_2_8_threads() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    sb.data("iris.csv");
    // A forest draws bootstrap samples and feature subsets from its seed:
    // the strongest test of seeded training.
    sb.write(
        "forest.toml",
        r#"
[search]
strategy = "random"
trials = 6
seed = 5
[objective]
model = "random_forest"
[data]
path = "data/wine.csv"
[cv]
folds = 3
[space]
n_estimators = { type = "int", low = 5, high = 20 }
max_depth = { type = "int", low = 2, high = 8 }
"#,
    );
    let bytes = same_for_threads(&sb, "forest.toml");
    let text = String::from_utf8(bytes).unwrap();
    assert!(text
        .lines()
        .next()
        .unwrap()
        .ends_with("fold_0,fold_1,fold_2,error,check"));
    assert_eq!(text.lines().filter(|l| l.contains(",ok,")).count(), 6);
    // The folds every trial was scored on, one line per data row.
    let folds = String::from_utf8(sb.read("forest.toml-out1/folds.csv")).unwrap();
    assert!(folds.starts_with("fold\n"));
    assert_eq!(folds.lines().count(), 179);
    for k in 0..3 {
        let n = folds.lines().filter(|l| *l == k.to_string()).count();
        assert!((59..=60).contains(&n), "fold {k} has {n} rows");
    }

    sb.write(
        "knn.toml",
        r#"
[search]
strategy = "grid"
[objective]
model = "knn"
metric = "log_loss"
[data]
path = "data/iris.csv"
scale = "standard"
[space]
n_neighbors = { type = "int", low = 1, high = 15, step = 2 }
weights = { type = "categorical", choices = ["uniform", "distance"] }
"#,
    );
    same_for_threads(&sb, "knn.toml");
}

#[test]
fn gradient_boosting_searches_are_identical_for_1_2_8_threads() {
    // Histograms are built feature by feature on the search's threads;
    // subsampled rows and features draw from the trial seed.
    let sb = Sandbox::new();
    sb.data("digits.csv");
    sb.write(
        "gb.toml",
        r#"
[search]
strategy = "random"
trials = 4
seed = 3
[objective]
model = "gradient_boosting"
metric = "log_loss"
[objective.params]
max_iter = 8
[data]
path = "data/digits.csv"
[cv]
folds = 3
[space]
learning_rate = { type = "float", low = 0.05, high = 0.5, log = true }
subsample = { type = "float", low = 0.5, high = 1.0 }
max_features = { type = "float", low = 0.3, high = 1.0 }
"#,
    );
    let text = String::from_utf8(same_for_threads(&sb, "gb.toml")).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains(",ok,")).count(), 4);
}

fn root_of(sb: &Sandbox, file: &str) -> String {
    let r = sb.run(&["check", file]);
    r.expect_code(0);
    let out = r.stdout();
    let line = out
        .lines()
        .find(|l| l.starts_with("root hash: "))
        .expect("root hash line");
    line["root hash: ".len()..].to_string()
}

const LOGREG: &str = r#"
[search]
strategy = "random"
trials = 4
seed = 1

[objective]
model = "logistic_regression"
metric = "accuracy"

[data]
path = "data/breast_cancer.csv"
target = "target"
scale = "standard"

[space]
C = { type = "float", low = 0.01, high = 10.0, log = true }
"#;

#[test]
fn root_hash_ignores_form_and_budget_but_not_content() {
    let sb = Sandbox::new();
    let data = sb.data("breast_cancer.csv");
    sb.write("a.toml", LOGREG);
    let root = root_of(&sb, "a.toml");

    // Key order, comments, whitespace, number spelling and the budget.
    sb.write(
        "b.toml",
        r#"
# the same search, written differently
[space]
C = {high=10, low=0.01, log=true, type="float"}   # keys reordered

[data]
scale="standard"
target="target"
path="data/breast_cancer.csv"

[objective]
metric="accuracy"
model="logistic_regression"

[search]
seed=1
trials=999
strategy="random"
"#,
    );
    assert_eq!(root_of(&sb, "b.toml"), root);
    // The data file moved: same content, same hash.
    sb.data("breast_cancer.csv");
    std::fs::rename(
        sb.path().join("data/breast_cancer.csv"),
        sb.path().join("moved.csv"),
    )
    .unwrap();
    sb.write(
        "c.toml",
        &LOGREG.replace("data/breast_cancer.csv", "moved.csv"),
    );
    assert_eq!(root_of(&sb, "c.toml"), root);
    sb.data("breast_cancer.csv");

    // Anything that changes results changes the hash.
    let changes = [
        ("seed = 1", "seed = 2"),
        ("high = 10.0", "high = 10.5"),
        ("\"random\"", "\"grid\"\n"),
        ("scale = \"standard\"", "scale = \"minmax\""),
        ("metric = \"accuracy\"", "metric = \"f1\""),
        ("[data]", "[cv]\nfolds = 4\n[data]"),
    ];
    let mut seen = vec![root.clone()];
    for (from, to) in changes {
        let mut text = LOGREG.replace(from, to);
        if to.contains("grid") {
            text = text.replace("log = true }", "log = true, steps = 4 }");
        }
        sb.write("d.toml", &text);
        let r = root_of(&sb, "d.toml");
        assert!(!seen.contains(&r), "changing {from} -> {to} kept the hash");
        seen.push(r);
    }

    // One byte of the data file.
    let mut bytes = std::fs::read(&data).unwrap();
    let i = bytes.iter().position(|&b| b == b'7').unwrap();
    bytes[i] = b'8';
    std::fs::write(&data, &bytes).unwrap();
    assert_ne!(root_of(&sb, "a.toml"), root);
}

#[test]
fn threads_and_out_are_not_in_the_manifest_hash() {
    let sb = Sandbox::new();
    sb.write("m.toml", MIXED);
    sb.run(&["run", "m.toml", "-j", "1", "--out", "x", "-q"])
        .expect_code(0);
    sb.run(&["run", "m.toml", "-j", "3", "--out", "y", "-q"])
        .expect_code(0);
    let root = |d: &str| {
        let text = String::from_utf8(sb.read(&format!("{d}/manifest.toml"))).unwrap();
        text.lines()
            .find(|l| l.starts_with("root_hash"))
            .unwrap()
            .to_string()
    };
    assert_eq!(root("x"), root("y"));
    assert_eq!(
        format!("root_hash = \"{}\"", root_of(&sb, "m.toml")),
        root("x")
    );
}

#[test]
fn finished_search_is_not_touched_again() {
    let sb = Sandbox::new();
    sb.write("m.toml", MIXED);
    let first = sb.run(&["run", "m.toml", "-q"]);
    first.expect_code(0);
    assert!(first.stdout().contains("best trial"));
    assert!(first.stdout().contains("results/m/trials.csv"));
    let before = sb.snapshot("results");
    assert_eq!(
        before.len(),
        5,
        "manifest, trials, timings, search.toml, lock"
    );
    let again = sb.run(&["run", "m.toml", "-j", "2"]);
    again.expect_code(0);
    assert!(
        again.stderr().contains("already finished"),
        "{}",
        again.stderr()
    );
    assert_eq!(again.stdout(), first.stdout());
    assert!(
        sb.snapshot("results") == before,
        "a finished folder changed"
    );
}

#[test]
fn other_search_in_the_folder_is_refused() {
    let sb = Sandbox::new();
    sb.write("m.toml", MIXED);
    sb.run(&["run", "m.toml", "-q"]).expect_code(0);
    let before = sb.snapshot("results");
    sb.write("m.toml", &MIXED.replace("seed = 11", "seed = 12"));
    let r = sb.run(&["run", "m.toml", "-q"]);
    r.expect_code(2);
    assert!(r.stderr().contains("different search"), "{}", r.stderr());
    assert!(r.stderr().contains("--out"), "{}", r.stderr());
    assert!(sb.snapshot("results") == before);

    // A folder that is not a results folder.
    sb.write("busy/notes.txt", "mine");
    let r = sb.run(&["run", "m.toml", "--out", "busy", "-q"]);
    r.expect_code(2);
    assert!(r.stderr().contains("not an hpsearch results folder"));
}

#[test]
fn unfinished_search_resumes_to_the_same_journal() {
    let sb = Sandbox::new();
    sb.write("w.toml", MIXED);
    sb.run(&["run", "w.toml", "-q"]).expect_code(0);
    let whole = sb.read("results/w/trials.csv");
    // Stopped after 100 trials (a journal cut short is refused: the
    // manifest records how many rows it holds).
    sb.write("m.toml", &MIXED.replace("trials = 400", "trials = 100"));
    sb.run(&["run", "m.toml", "-q"]).expect_code(0);
    sb.write("m.toml", MIXED);
    let r = sb.run(&["run", "m.toml", "-q", "-j", "1"]);
    r.expect_code(0);
    assert!(
        r.stderr().contains("resuming at trial 100 of 400"),
        "{}",
        r.stderr()
    );
    assert!(sb.read("results/m/trials.csv") == whole);
}

#[test]
fn grid_is_capped_by_trials_and_in_documented_order() {
    let sb = Sandbox::new();
    sb.write(
        "g.toml",
        r#"
[search]
strategy = "grid"
trials = 5
[objective]
function = "branin"
[space]
x0 = { type = "float", values = [1.0, 2.0] }
x1 = { type = "float", low = 0.0, high = 15.0, steps = 4 }
"#,
    );
    sb.run(&["run", "g.toml", "-q"]).expect_code(0);
    let text = String::from_utf8(sb.read("results/g/trials.csv")).unwrap();
    let pts: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{}", f[4], f[5])
        })
        .collect();
    assert_eq!(
        pts,
        ["1.0,0.0", "1.0,5.0", "1.0,10.0", "1.0,15.0", "2.0,0.0"]
    );
}

/// Model-based strategies with a window of 4: the proposals depend on
/// results, yet the journal is the same for any thread count.
#[test]
fn tpe_and_gp_are_identical_for_1_2_8_threads_with_window_4() {
    let sb = Sandbox::new();
    for strategy in ["tpe", "gp"] {
        let mut text = MIXED
            .replace("\"random\"", &format!("\"{strategy}\"\nparallel = 4"))
            .replace("trials = 400", "trials = 40");
        if strategy == "gp" {
            // Past `fit_points` too, where the fit chain refits every
            // second trial.
            text.push_str("\n[search.gp]\nfit_points = 16\n");
        }
        let file = format!("{strategy}.toml");
        sb.write(&file, &text);
        let bytes = same_for_threads(&sb, &file);
        assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 41);
        let manifest = String::from_utf8(sb.read(&format!("{file}-out1/manifest.toml"))).unwrap();
        assert!(manifest.contains("window = 4"), "{manifest}");
        if strategy == "gp" {
            assert!(manifest.contains("fit_points = 16"), "{manifest}");
        }
    }
}

/// Long enough for tpe's bad group to pass 64 points, where each proposal
/// reuses the last bad mixture's work, kept in the strategy between
/// proposals: the journal must still not depend on the thread count.
#[test]
fn tpe_reusing_its_last_mixture_is_identical_for_1_2_8_threads() {
    let sb = Sandbox::new();
    let text = MIXED
        .replace("\"random\"", "\"tpe\"\nparallel = 4")
        .replace("trials = 400", "trials = 150");
    sb.write("tpe150.toml", &text);
    let bytes = same_for_threads(&sb, "tpe150.toml");
    assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 151);
}
