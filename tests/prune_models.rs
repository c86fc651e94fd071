//! Multi-fidelity for the built-in models (issue 15 point 2, issue 20
//! point 3) on the real binary: `[objective] resource = "samples"`,
//! `"trees"` and `"iterations"` under a pruner give byte-identical
//! journals for any thread count and after kill -9 + resume, steps on the
//! ladder, a last rung that scores what the search without a resource
//! scores, replay of pruned trials, and every bad setting refused before
//! anything is written.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::Sandbox;

/// An RBF SVM on breast_cancer (569 rows, 2 classes, 5 folds) on
/// `samples`: the ladder is 20 (2 x 5 folds x 2 classes), 60, 180, then
/// 456 (the largest training fold).
const SVM_SAMPLES: &str = r#"
[search]
strategy = "random"
trials = 30
seed = 4

[search.pruner]
kind = "successive_halving"

[objective]
model = "svm"
resource = "samples"

[data]
path = "data/breast_cancer.csv"
target = "target"
scale = "standard"

[space]
C = { type = "float", low = 0.01, high = 1000.0, log = true }
gamma = { type = "float", low = 1e-5, high = 1.0, log = true }
"#;

const SVM_LADDER: [u64; 4] = [20, 60, 180, 456];

/// A random forest on breast_cancer (3 folds) on `trees`, up to 27.
const FOREST_TREES: &str = r#"
[search]
strategy = "random"
trials = 20
seed = 1

[search.pruner]
kind = "hyperband"

[objective]
model = "random_forest"
resource = "trees"
max_resources = 27

[data]
path = "data/breast_cancer.csv"
target = "target"

[cv]
folds = 3

[space]
max_depth = { type = "int", low = 1, high = 8 }
min_samples_leaf = { type = "int", low = 1, high = 20 }
"#;

const FOREST_LADDER: [u64; 4] = [1, 3, 9, 27];

/// Gradient boosting on breast_cancer (3 folds) on `iterations`, up to 27.
const BOOST_ITERATIONS: &str = r#"
[search]
strategy = "random"
trials = 20
seed = 2

[search.pruner]
kind = "successive_halving"

[objective]
model = "gradient_boosting"
resource = "iterations"
max_resources = 27

[data]
path = "data/breast_cancer.csv"
target = "target"

[cv]
folds = 3

[space]
learning_rate = { type = "float", low = 0.001, high = 1.0, log = true }
max_leaf_nodes = { type = "int", low = 2, high = 31 }
"#;

const BOOST_LADDER: [u64; 4] = [1, 3, 9, 27];

fn sandbox(search: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.data("breast_cancer.csv");
    sb.data("digits.csv");
    sb.write("s.toml", search);
    sb
}

/// Run `s.toml` with 1, 2 and 8 threads: the journals must be the same
/// bytes. Returns the rows of `j1` as (trial, status, value, steps, error).
fn identical_1_2_8(sb: &Sandbox) -> Vec<Vec<String>> {
    for j in ["1", "2", "8"] {
        sb.run(&["run", "s.toml", "--out", &format!("j{j}"), "-q", "-j", j])
            .expect_code(0);
    }
    let one = sb.read("j1/trials.csv");
    assert!(one == sb.read("j2/trials.csv"), "-j 1 and -j 2 differ");
    assert!(one == sb.read("j8/trials.csv"), "-j 1 and -j 8 differ");
    columns(sb, "j1", &["trial", "status", "value", "steps", "error"])
}

/// The named columns of every row of `out/trials.csv`.
fn columns(sb: &Sandbox, out: &str, want: &[&str]) -> Vec<Vec<String>> {
    let bytes = sb.read(&format!("{out}/trials.csv"));
    let mut rdr = csv::Reader::from_reader(bytes.as_slice());
    let header = rdr.headers().unwrap().clone();
    let idx: Vec<usize> = want
        .iter()
        .map(|w| header.iter().position(|h| h == *w).unwrap())
        .collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            idx.iter().map(|&i| r.get(i).unwrap().to_string()).collect()
        })
        .collect()
}

fn steps(cell: &str) -> Vec<(u64, f64)> {
    serde_json::from_str(cell).unwrap()
}

/// Every row climbs `ladder`: a complete trial all of it, its value the
/// last rung's; a pruned one a prefix, its value its last rung's, and its
/// error says where. Some trials are pruned, some complete. Returns the
/// index of a pruned trial and of a complete one.
fn on_the_ladder(rows: &[Vec<String>], ladder: &[u64]) -> (String, String) {
    let mut pruned = None;
    let mut complete = None;
    for r in rows {
        let s = steps(&r[3]);
        let at: Vec<u64> = s.iter().map(|p| p.0).collect();
        let (last_step, last_value) = *s.last().unwrap();
        assert_eq!(r[2].parse::<f64>().unwrap(), last_value, "{r:?}");
        match r[1].as_str() {
            "ok" => {
                assert_eq!(at, ladder, "{r:?}");
                complete.get_or_insert(r[0].clone());
            }
            "pruned" => {
                // A prefix (median may stop a trial at the last rung too).
                assert!(at.len() <= ladder.len(), "{r:?}");
                assert_eq!(at, ladder[..at.len()], "{r:?}");
                assert_eq!(r[4], format!("pruned at step {last_step}"));
                pruned.get_or_insert(r[0].clone());
            }
            other => panic!("status {other}: {r:?}"),
        }
    }
    (
        pruned.expect("no trial was pruned"),
        complete.expect("no trial completed"),
    )
}

#[test]
fn successive_halving_on_samples_is_identical_for_any_thread_count() {
    let sb = sandbox(SVM_SAMPLES);
    let rows = identical_1_2_8(&sb);
    let (pruned, complete) = on_the_ladder(&rows, &SVM_LADDER);
    // Replay reruns a pruned trial to its rung and a complete one to the
    // end, comparing every intermediate value bit for bit.
    for t in [&pruned, &complete] {
        let r = sb.run(&["replay", "j1", "--trial", t]);
        r.expect_code(0);
    }
}

#[test]
fn hyperband_on_trees_is_identical_for_any_thread_count() {
    let sb = sandbox(FOREST_TREES);
    let rows = identical_1_2_8(&sb);
    let (pruned, complete) = on_the_ladder(&rows, &FOREST_LADDER);
    for t in [&pruned, &complete] {
        sb.run(&["replay", "j1", "--trial", t]).expect_code(0);
    }
    // The export is the forest of max_resources trees.
    sb.run(&["export", "j1", "--trial", &complete, "--out", "m.json"])
        .expect_code(0);
    let model: serde_json::Value = serde_json::from_slice(&sb.read("m.json")).unwrap();
    assert_eq!(model["params"]["n_estimators"], 27, "{}", model["params"]);
}

#[test]
fn successive_halving_on_iterations_is_identical_for_any_thread_count() {
    let sb = sandbox(BOOST_ITERATIONS);
    let rows = identical_1_2_8(&sb);
    let (pruned, complete) = on_the_ladder(&rows, &BOOST_LADDER);
    for t in [&pruned, &complete] {
        sb.run(&["replay", "j1", "--trial", t]).expect_code(0);
    }
    // The export is the model of max_resources iterations.
    sb.run(&["export", "j1", "--trial", &complete, "--out", "m.json"])
        .expect_code(0);
    let model: serde_json::Value = serde_json::from_slice(&sb.read("m.json")).unwrap();
    assert_eq!(model["params"]["max_iter"], 27, "{}", model["params"]);
}

#[test]
fn the_last_iteration_rung_scores_what_a_search_with_that_max_iter_scores() {
    // A grid of gradient boosting: a complete trial's last rung (27
    // iterations, from predict_rounds) has the value and fold scores of
    // the plain search with max_iter = 27, bit for bit.
    let grid = BOOST_ITERATIONS
        .replace(
            "strategy = \"random\"\ntrials = 20\n",
            "strategy = \"grid\"\n",
        )
        .replace(
            "learning_rate = { type = \"float\", low = 0.001, high = 1.0, log = true }\n\
             max_leaf_nodes = { type = \"int\", low = 2, high = 31 }\n",
            "learning_rate = { type = \"float\", values = [0.01, 0.1, 0.5] }\n\
             max_leaf_nodes = { type = \"int\", values = [3, 15] }\n",
        );
    assert!(grid.contains("values"), "{grid}");
    let plain = grid
        .replace("[search.pruner]\nkind = \"successive_halving\"\n", "")
        .replace(
            "resource = \"iterations\"\nmax_resources = 27\n",
            "params = { max_iter = 27 }\n",
        );
    assert!(plain.contains("max_iter = 27"), "{plain}");
    let sb = sandbox(&grid);
    sb.write("plain.toml", &plain);
    sb.run(&["run", "s.toml", "--out", "mf", "-q"])
        .expect_code(0);
    sb.run(&["run", "plain.toml", "--out", "plain", "-q"])
        .expect_code(0);
    let want = [
        "trial",
        "status",
        "value",
        "learning_rate",
        "max_leaf_nodes",
        "fold_0",
        "fold_1",
        "fold_2",
    ];
    let mf = columns(&sb, "mf", &want);
    let plain = columns(&sb, "plain", &want);
    assert_eq!(mf.len(), 6);
    let mut complete = 0;
    for (a, b) in mf.iter().zip(&plain) {
        assert_eq!(a[3..5], b[3..5], "same parameters by index");
        if a[1] == "ok" {
            complete += 1;
            assert_eq!(a[2..], b[2..], "trial {}: the last rung differs", a[0]);
        }
    }
    assert!(complete >= 2, "{mf:?}");
}

#[test]
fn models_lists_iterations_for_gradient_boosting_only() {
    let sb = Sandbox::new();
    let r = sb.run(&["models"]);
    r.expect_code(0);
    let out = r.stdout();
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("resource:") && l.contains("\"iterations\""))
        .collect();
    assert_eq!(
        lines,
        ["  resource: \"samples\" or \"iterations\""],
        "{out}"
    );
    let at = out.find("gradient_boosting").unwrap();
    let next = out[at..].find("resource:").unwrap();
    assert!(out[at + next..].starts_with("resource: \"samples\" or \"iterations\""));
}

#[test]
fn median_on_samples_is_identical_for_any_thread_count() {
    let sb = sandbox(&SVM_SAMPLES.replace(
        "kind = \"successive_halving\"\n",
        "kind = \"median\"\nn_startup_trials = 3\n",
    ));
    let rows = identical_1_2_8(&sb);
    on_the_ladder(&rows, &SVM_LADDER);
}

#[test]
fn the_last_rung_scores_what_the_search_without_a_resource_scores() {
    // A grid (the same parameters by index in both searches) of an SVM,
    // whose training uses no seed: a complete trial's value and fold
    // scores are the plain search's, bit for bit (written the same).
    let grid = SVM_SAMPLES
        .replace(
            "strategy = \"random\"\ntrials = 30\n",
            "strategy = \"grid\"\n",
        )
        .replace(
            "C = { type = \"float\", low = 0.01, high = 1000.0, log = true }\n\
             gamma = { type = \"float\", low = 1e-5, high = 1.0, log = true }\n",
            "C = { type = \"float\", values = [0.1, 1.0, 10.0, 100.0] }\n\
             gamma = { type = \"float\", values = [0.001, 0.03] }\n",
        );
    assert!(grid.contains("values"), "{grid}");
    let plain = grid
        .replace("[search.pruner]\nkind = \"successive_halving\"\n", "")
        .replace("resource = \"samples\"\n", "");
    let sb = sandbox(&grid);
    sb.write("plain.toml", &plain);
    sb.run(&["run", "s.toml", "--out", "mf", "-q"])
        .expect_code(0);
    sb.run(&["run", "plain.toml", "--out", "plain", "-q"])
        .expect_code(0);
    let want = [
        "trial", "status", "value", "C", "gamma", "fold_0", "fold_1", "fold_2", "fold_3", "fold_4",
    ];
    let mf = columns(&sb, "mf", &want);
    let plain = columns(&sb, "plain", &want);
    assert_eq!(mf.len(), 8);
    let mut complete = 0;
    for (a, b) in mf.iter().zip(&plain) {
        assert_eq!(a[3..5], b[3..5], "same parameters by index");
        if a[1] == "ok" {
            complete += 1;
            assert_eq!(a[2..], b[2..], "trial {}: the last rung differs", a[0]);
        }
    }
    assert!(complete >= 2, "{mf:?}");
}

#[test]
fn killed_search_on_samples_resumes_to_the_same_journal() {
    // digits (1797 rows, 10 classes): slow enough for a kill to land.
    let search = SVM_SAMPLES
        .replace("breast_cancer", "digits")
        .replace("trials = 30", "trials = 40");
    let sb = sandbox(&search);
    sb.run(&["run", "s.toml", "--out", "straight", "-q", "-j", "2"])
        .expect_code(0);
    let threads = ["1", "2", "8"];
    let mut landed = 0;
    for (i, ms) in [300u64, 800, 1500].iter().enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
            .args(["run", "s.toml", "--out", "killed", "-q", "-j", threads[i]])
            .current_dir(sb.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*ms));
        if child.try_wait().unwrap().is_none() {
            landed += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(landed >= 1, "no kill landed before the search ended");
    sb.run(&["run", "s.toml", "--out", "killed", "-q", "-j", "2"])
        .expect_code(0);
    assert!(
        sb.read("killed/trials.csv") == sb.read("straight/trials.csv"),
        "trials.csv differs after kill -9 and resume"
    );
}

#[test]
fn replay_catches_a_tampered_intermediate_value() {
    let sb = sandbox(SVM_SAMPLES);
    sb.run(&["run", "s.toml", "--out", "r", "-q"])
        .expect_code(0);
    let rows = columns(&sb, "r", &["trial", "status", "value", "steps", "error"]);
    let (_, complete) = on_the_ladder(&rows, &SVM_LADDER);
    let row = &rows[complete.parse::<usize>().unwrap()];
    let first = steps(&row[3])[0].1;
    let text = String::from_utf8(sb.read("r/trials.csv")).unwrap();
    let was = format!("[[20,{first}]");
    assert!(text.contains(&was), "{was}");
    sb.write(
        "r/trials.csv",
        &text.replacen(&was, &format!("[[20,{}]", first / 2.0), 1),
    );
    // The row's check no longer matches: refused before any retraining.
    let r = sb.run(&["replay", "r", "--trial", &complete]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("does not match its check"),
        "{}",
        r.stderr()
    );
}

/// A bad setting: exit 2, the key named with what it says, nothing written.
fn refused(text: &str, key: &str, says: &str) {
    let sb = sandbox(text);
    let r = sb.run(&["run", "s.toml", "--out", "r", "-q"]);
    r.expect_code(2);
    assert!(r.stderr().contains(key), "{key}: {}", r.stderr());
    assert!(r.stderr().contains(says), "{says}: {}", r.stderr());
    assert!(
        !sb.path().join("r").exists(),
        "{key}: something was written"
    );
}

/// The SVM search with `resource = "samples"` replaced by `objective`.
fn svm_with(objective: &str) -> String {
    SVM_SAMPLES.replace("resource = \"samples\"\n", objective)
}

macro_rules! refused {
    ($name:ident, $text:expr, $key:expr, $says:expr) => {
        #[test]
        fn $name() {
            refused(&$text, $key, $says);
        }
    };
}

refused!(
    a_resource_needs_a_pruner,
    SVM_SAMPLES.replace("[search.pruner]\nkind = \"successive_halving\"\n", ""),
    "[objective.resource]",
    "only with a pruner"
);
refused!(
    a_pruner_with_a_model_needs_a_resource,
    svm_with(""),
    "[search.pruner]",
    "set [objective] resource = \"samples\""
);
refused!(
    an_unknown_resource_is_refused,
    svm_with("resource = \"epochs\"\n"),
    "[objective.resource]",
    "unknown resource \"epochs\"; expected one of: samples, trees"
);
refused!(
    trees_are_only_for_random_forest,
    svm_with("resource = \"trees\"\n"),
    "[objective.resource]",
    "\"trees\" is only for random_forest; model svm has no trees"
);
refused!(
    n_estimators_cannot_be_searched_with_trees,
    FOREST_TREES.replace(
        "[space]\n",
        "[space]\nn_estimators = { type = \"int\", low = 10, high = 50 }\n"
    ),
    "[space.n_estimators]",
    "cannot be searched with [objective] resource = \"trees\""
);
refused!(
    iterations_are_only_for_gradient_boosting,
    FOREST_TREES.replace("resource = \"trees\"\n", "resource = \"iterations\"\n"),
    "[objective.resource]",
    "\"iterations\" is only for gradient_boosting; model random_forest has no boosting \
     iterations"
);
refused!(
    max_iter_cannot_be_searched_with_iterations,
    BOOST_ITERATIONS.replace(
        "[space]\n",
        "[space]\nmax_iter = { type = \"int\", low = 10, high = 50 }\n"
    ),
    "[space.max_iter]",
    "cannot be searched with [objective] resource = \"iterations\""
);
refused!(
    max_iter_cannot_be_set_with_iterations,
    BOOST_ITERATIONS.replace(
        "max_resources = 27\n",
        "max_resources = 27\nparams = { max_iter = 50 }\n"
    ),
    "[objective.params.max_iter]",
    "cannot be set with [objective] resource = \"iterations\""
);
refused!(
    factor_must_be_at_least_two,
    svm_with("resource = \"samples\"\nfactor = 1\n"),
    "[objective.factor]",
    "must be at least 2 (got 1)"
);
refused!(
    min_resources_must_be_at_least_one,
    svm_with("resource = \"samples\"\nmin_resources = 0\n"),
    "[objective.min_resources]",
    "must be at least 1 (got 0)"
);
refused!(
    min_resources_cannot_exceed_max_resources,
    svm_with("resource = \"samples\"\nmin_resources = 100\nmax_resources = 50\n"),
    "[objective.min_resources]",
    "must be at most max_resources (50); got 100"
);
refused!(
    max_resources_cannot_exceed_the_training_fold,
    svm_with("resource = \"samples\"\nmax_resources = 457\n"),
    "[objective.max_resources]",
    "must be at most the largest training fold (456 rows: 569 rows, 5 folds) (got 457)"
);
refused!(
    resource_settings_need_a_resource,
    svm_with("factor = 2\n"),
    "[objective.factor]",
    "only with a resource"
);
refused!(
    a_pruner_min_resource_off_the_ladder_is_refused,
    SVM_SAMPLES.replace(
        "kind = \"successive_halving\"\n",
        "kind = \"successive_halving\"\nmin_resource = 5\n"
    ),
    "[search.pruner.min_resource]",
    "5 differs from [objective] min_resources (20)"
);
refused!(
    a_pruner_reduction_factor_off_the_ladder_is_refused,
    FOREST_TREES.replace(
        "kind = \"hyperband\"\n",
        "kind = \"hyperband\"\nreduction_factor = 2\n"
    ),
    "[search.pruner.reduction_factor]",
    "2 differs from [objective] factor (3)"
);
refused!(
    a_resource_is_only_for_models,
    r#"
[search]
strategy = "random"
trials = 5
[search.pruner]
kind = "median"
[objective]
function = "branin"
resource = "samples"
[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"#,
    "[objective.resource]",
    "only for built-in models"
);
