//! Issue 19 (scikit-learn ports): the new metrics through the binary,
//! `predict --keep`, volatile result keys and the cross-validation schemes.

mod common;

use common::Sandbox;

/// A two-trial random search of `model` on `file` scored by `metric`.
fn metric_search(model: &str, file: &str, metric: &str, space: &str) -> String {
    format!(
        "[search]\nstrategy = \"random\"\ntrials = 2\n[objective]\nmodel = \"{model}\"\n\
         metric = \"{metric}\"\n[data]\npath = \"data/{file}\"\nscale = \"standard\"\n\
         [cv]\nfolds = 3\n[space]\n{space}\n"
    )
}

const LOGREG: &str = "C = { type = \"float\", low = 0.01, high = 10.0, log = true }";
const ENET: &str = "alpha = { type = \"float\", low = 0.001, high = 1.0, log = true }";

#[test]
fn each_new_metric_is_accepted_with_its_direction() {
    let sb = Sandbox::new();
    for f in ["breast_cancer.csv", "wine.csv", "diabetes.csv"] {
        sb.data(f);
    }
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "logistic_regression",
            "breast_cancer.csv",
            "roc_auc",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "wine.csv",
            "roc_auc_ovr",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "wine.csv",
            "roc_auc_ovr_weighted",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "breast_cancer.csv",
            "average_precision",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "breast_cancer.csv",
            "precision",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "wine.csv",
            "precision_macro",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "breast_cancer.csv",
            "recall",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "wine.csv",
            "recall_macro",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "wine.csv",
            "f1_weighted",
            LOGREG,
            "maximize",
        ),
        (
            "logistic_regression",
            "breast_cancer.csv",
            "brier_score",
            LOGREG,
            "minimize",
        ),
        ("elastic_net", "diabetes.csv", "mape", ENET, "minimize"),
        (
            "elastic_net",
            "diabetes.csv",
            "median_absolute_error",
            ENET,
            "minimize",
        ),
        (
            "elastic_net",
            "diabetes.csv",
            "explained_variance",
            ENET,
            "maximize",
        ),
    ];
    for (i, (model, file, metric, space, direction)) in cases.iter().enumerate() {
        let name = format!("m{i}.toml");
        sb.write(&name, &metric_search(model, file, metric, space));
        let check = sb.run(&["check", &name]);
        check.expect_code(0);
        assert!(
            check
                .stdout()
                .contains(&format!("direction = \"{direction}\"")),
            "{metric}: {}",
            check.stdout()
        );
        let run = sb.run(&["run", &name, "-q"]);
        run.expect_code(0);
        let trials = String::from_utf8(sb.read(&format!("results/m{i}/trials.csv"))).unwrap();
        assert_eq!(trials.matches(",ok,").count(), 2, "{metric}: {trials}");
        assert!(
            run.stdout().contains(&format!("{direction} {metric}")),
            "{metric}: {}",
            run.stdout()
        );
    }
}

#[test]
fn probability_metrics_refuse_a_model_without_probabilities() {
    let sb = Sandbox::new();
    sb.data("breast_cancer.csv");
    sb.write(
        "s.toml",
        &metric_search(
            "svm",
            "breast_cancer.csv",
            "roc_auc",
            "C = { type = \"float\", low = 0.1, high = 10.0, log = true }",
        ),
    );
    let r = sb.run(&["run", "s.toml", "-q"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("metric roc_auc needs class probabilities"),
        "{}",
        r.stderr()
    );
    assert!(!sb.path().join("results").exists());
}

#[test]
fn binary_metrics_refuse_a_multiclass_target_and_name_the_macro_one() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    for (metric, instead) in [
        ("roc_auc", "roc_auc_ovr"),
        ("precision", "precision_macro"),
        ("recall", "recall_macro"),
        ("brier_score", "log_loss"),
    ] {
        sb.write(
            "s.toml",
            &metric_search("logistic_regression", "wine.csv", metric, LOGREG),
        );
        let r = sb.run(&["check", "s.toml"]);
        r.expect_code(2);
        assert!(
            r.stderr().contains(&format!(
                "metric {metric} is binary, but the target has 3 classes; use {instead}"
            )),
            "{}",
            r.stderr()
        );
    }
}

/// A finished iris knn search exported to `m.json`, and `rows.csv`: the
/// iris rows with an `id` column first and a `name` column last.
fn exported_iris(sb: &Sandbox) {
    sb.data("iris.csv");
    sb.write(
        "s.toml",
        "[search]\nstrategy = \"random\"\ntrials = 2\n[objective]\nmodel = \"knn\"\n\
         [data]\npath = \"data/iris.csv\"\n[cv]\nfolds = 3\n[space]\n\
         n_neighbors = { type = \"int\", low = 2, high = 12 }\n",
    );
    sb.run(&["run", "s.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/s", "--out", "m.json"])
        .expect_code(0);
    let iris = String::from_utf8(sb.read("data/iris.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in iris.lines().enumerate() {
        if i == 0 {
            out.push_str(&format!("id,{line},name\n"));
        } else {
            out.push_str(&format!("r{i},{line},\"flower, {i}\"\n"));
        }
    }
    sb.write("rows.csv", &out);
}

#[test]
fn predict_keep_passes_id_columns_through_first_in_input_order() {
    let sb = Sandbox::new();
    exported_iris(&sb);
    let plain = sb.run(&["predict", "m.json", "data/iris.csv"]);
    plain.expect_code(0);
    // Asked name first: written in the input's order, id then name.
    let kept = sb.run(&[
        "predict", "m.json", "rows.csv", "--keep", "name", "--keep", "id",
    ]);
    kept.expect_code(0);
    let plain_lines: Vec<String> = plain.stdout().lines().map(str::to_owned).collect();
    let kept_lines: Vec<String> = kept.stdout().lines().map(str::to_owned).collect();
    assert_eq!(plain_lines.len(), 151);
    assert_eq!(kept_lines.len(), plain_lines.len());
    assert_eq!(kept_lines[0], format!("id,name,{}", plain_lines[0]));
    for i in 1..plain_lines.len() {
        assert_eq!(
            kept_lines[i],
            format!("r{i},\"flower, {i}\",{}", plain_lines[i]),
            "line {}",
            i + 1
        );
    }
    // The same bytes through --out.
    sb.run(&[
        "predict", "m.json", "rows.csv", "--keep", "id", "--keep", "name", "--out", "p.csv",
    ])
    .expect_code(0);
    assert_eq!(sb.read("p.csv"), kept.stdout().into_bytes());
}

#[test]
fn predict_still_refuses_an_unknown_column_that_is_not_kept() {
    let sb = Sandbox::new();
    exported_iris(&sb);
    let r = sb.run(&[
        "predict", "m.json", "rows.csv", "--keep", "id", "--out", "p.csv",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("column(s) the model does not know: name"),
        "{}",
        r.stderr()
    );
    assert!(!sb.path().join("p.csv").exists());
}

#[test]
fn predict_keep_of_a_missing_column_exits_2_and_writes_nothing() {
    let sb = Sandbox::new();
    exported_iris(&sb);
    let r = sb.run(&[
        "predict", "m.json", "rows.csv", "--keep", "id", "--keep", "name", "--keep", "nope",
        "--out", "p.csv",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("--keep nope: the file has no column `nope`"),
        "{}",
        r.stderr()
    );
    assert!(!sb.path().join("p.csv").exists());
}

/// A command search whose program prints a deterministic value, a fit
/// time (`fit_seconds`, different every run) and a fixed `n`; `extra` is
/// added to `[objective]`.
fn clock_search(sb: &Sandbox, extra: &str) {
    sb.write(
        "clock.py",
        "import json, os, time\n\
         p = json.load(open(os.environ[\"HPSEARCH_PARAMS\"]))\n\
         print(json.dumps({\"value\": p[\"x\"] ** 2, \"fit_seconds\": time.time(), \"n\": 3}))\n",
    );
    sb.write(
        "s.toml",
        &format!(
            "[search]\nstrategy = \"random\"\ntrials = 2\n[objective]\n\
             command = [\"python3\", \"clock.py\"]\ndirection = \"minimize\"\n{extra}\n\
             [space]\nx = {{ type = \"float\", low = 0.0, high = 1.0 }}\n"
        ),
    );
}

#[test]
fn replay_names_a_changing_result_key_and_suggests_volatile() {
    let sb = Sandbox::new();
    for (extra, key) in [
        ("", "fit_seconds"),
        ("columns = [\"fit_seconds\"]", "fit_seconds"),
    ] {
        clock_search(&sb, extra);
        let _ = std::fs::remove_dir_all(sb.path().join("r"));
        sb.run(&["run", "s.toml", "--out", "r", "-q"])
            .expect_code(0);
        let r = sb.run(&["replay", "r"]);
        r.expect_code(1);
        assert!(
            r.stderr().contains(&format!("result key `{key}`"))
                && r.stderr().contains(&format!("volatile = [\"{key}\"]")),
            "{extra}: {}",
            r.stderr()
        );
    }
}

#[test]
fn replay_skips_volatile_keys_and_says_so() {
    let sb = Sandbox::new();
    for extra in [
        "volatile = [\"fit_seconds\"]",
        "volatile = [\"fit_seconds\"]\ncolumns = [\"fit_seconds\", \"n\"]",
    ] {
        clock_search(&sb, extra);
        let _ = std::fs::remove_dir_all(sb.path().join("r"));
        sb.run(&["run", "s.toml", "--out", "r", "-q"])
            .expect_code(0);
        // Recorded all the same.
        let trials = String::from_utf8(sb.read("r/trials.csv")).unwrap();
        assert!(trials.contains("fit_seconds"), "{trials}");
        let r = sb.run(&["replay", "r"]);
        r.expect_code(0);
        assert!(
            r.stdout().contains("not compared (volatile): fit_seconds"),
            "{extra}: {}",
            r.stdout()
        );
    }
}

#[test]
fn volatile_enters_the_root_hash_only_when_set_and_only_for_commands() {
    let sb = Sandbox::new();
    let root = |sb: &Sandbox| {
        let c = sb.run(&["check", "s.toml"]);
        c.expect_code(0);
        c.stdout()
            .lines()
            .find(|l| l.starts_with("root hash:"))
            .unwrap()
            .to_owned()
    };
    clock_search(&sb, "");
    let plain = root(&sb);
    clock_search(&sb, "volatile = []");
    assert_eq!(root(&sb), plain);
    clock_search(&sb, "volatile = [\"fit_seconds\"]");
    assert_ne!(root(&sb), plain);
    clock_search(&sb, "volatile = [\"value\"]");
    let r = sb.run(&["check", "s.toml"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("[objective.volatile.value]"),
        "{}",
        r.stderr()
    );
    sb.data("iris.csv");
    sb.write(
        "m.toml",
        "[search]\nstrategy = \"random\"\ntrials = 2\n[objective]\nmodel = \"knn\"\n\
         volatile = [\"x\"]\n[data]\npath = \"data/iris.csv\"\n[space]\n\
         n_neighbors = { type = \"int\", low = 2, high = 12 }\n",
    );
    let r = sb.run(&["check", "m.toml"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("[objective.volatile]: only for command objectives"),
        "{}",
        r.stderr()
    );
}

/// Run `hpsearch run` on a copy of the shipped config `name`, with the
/// data it reads copied beside it as `../data`.
fn run_config(sb: &Sandbox, name: &str, data: &str) -> String {
    sb.data(data);
    let text = std::fs::read_to_string(common::repo().join("configs").join(name)).unwrap();
    sb.write(&format!("configs/{name}"), &text);
    let out = name.trim_end_matches(".toml");
    sb.run(&["run", &format!("configs/{name}"), "--out", out, "-q"])
        .expect_code(0);
    String::from_utf8(sb.read(&format!("{out}/folds.csv"))).unwrap()
}

/// `folds.csv`'s lines after the header, for a single-column file.
fn fold_cells(text: &str) -> Vec<i64> {
    text.lines().skip(1).map(|l| l.parse().unwrap()).collect()
}

#[test]
fn group_folds_example_holds_each_store_out_whole() {
    let sb = Sandbox::new();
    let folds = run_config(&sb, "store_sales_group.toml", "store_sales.csv");
    assert!(folds.starts_with("fold\n"));
    let cells = fold_cells(&folds);
    let data = String::from_utf8(sb.read("data/store_sales.csv")).unwrap();
    let stores: Vec<&str> = data
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(cells.len(), stores.len());
    let mut fold_of_store = std::collections::BTreeMap::new();
    for (s, &f) in stores.iter().zip(&cells) {
        assert_eq!(
            *fold_of_store.entry(*s).or_insert(f),
            f,
            "store {s} split across folds"
        );
    }
    // 8 stores of 15 rows in 4 folds: two stores (30 rows) each.
    for f in 0..4 {
        assert_eq!(cells.iter().filter(|&&c| c == f).count(), 30);
    }
    // The groups column is not a feature: the export does not read it,
    // and predict passes it through only when kept.
    sb.run(&["export", "store_sales_group", "--out", "m.json"])
        .expect_code(0);
    let r = sb.run(&["predict", "m.json", "data/store_sales.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("does not know: store"),
        "{}",
        r.stderr()
    );
    let r = sb.run(&[
        "predict",
        "m.json",
        "data/store_sales.csv",
        "--keep",
        "store",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout().starts_with("store,prediction\n"),
        "{}",
        r.stdout()
    );
}

#[test]
fn time_series_example_trains_on_earlier_weeks_only() {
    let sb = Sandbox::new();
    let folds = run_config(&sb, "store_sales_time_series.toml", "store_sales.csv");
    let cells = fold_cells(&folds);
    let data = String::from_utf8(sb.read("data/store_sales.csv")).unwrap();
    let weeks: Vec<&str> = data
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    // 120 rows, 4 folds: 24 rows each, the first 24 (by week) in none.
    assert_eq!(cells.iter().filter(|&&c| c == -1).count(), 24);
    let latest = |f: i64| {
        weeks
            .iter()
            .zip(&cells)
            .filter(|(_, &c)| c == f)
            .map(|(w, _)| *w)
            .max()
            .unwrap()
    };
    let earliest = |f: i64| {
        weeks
            .iter()
            .zip(&cells)
            .filter(|(_, &c)| c == f)
            .map(|(w, _)| *w)
            .min()
            .unwrap()
    };
    for f in 0..4 {
        assert!(
            latest(f - 1) <= earliest(f),
            "fold {f} starts before fold {} ends",
            f - 1
        );
    }
    let trials = String::from_utf8(sb.read("store_sales_time_series/trials.csv")).unwrap();
    assert_eq!(trials.matches(",ok,").count(), 12, "{trials}");
    sb.run(&["replay", "store_sales_time_series"])
        .expect_code(0);
}

/// An iris knn grid search (its values do not depend on the root hash)
/// with `cv` as its `[cv]` table.
fn iris_cv(sb: &Sandbox, cv: &str) {
    sb.data("iris.csv");
    sb.write(
        "s.toml",
        &format!(
            "[search]\nstrategy = \"grid\"\ntrials = 3\n[objective]\nmodel = \"knn\"\n\
             [data]\npath = \"data/iris.csv\"\n[cv]\n{cv}\n[space]\n\
             n_neighbors = {{ type = \"int\", low = 2, high = 12 }}\n"
        ),
    );
}

fn values(sb: &Sandbox, dir: &str) -> Vec<String> {
    let t = String::from_utf8(sb.read(&format!("{dir}/trials.csv"))).unwrap();
    t.lines()
        .skip(1)
        .map(|l| l.split(',').skip(3).take(2).collect::<Vec<_>>().join(","))
        .collect()
}

fn root(sb: &Sandbox) -> String {
    let c = sb.run(&["check", "s.toml"]);
    c.expect_code(0);
    c.stdout()
        .lines()
        .find(|l| l.starts_with("root hash:"))
        .unwrap()
        .to_owned()
}

#[test]
fn default_kinds_set_explicitly_score_as_today_and_change_only_the_hash() {
    let sb = Sandbox::new();
    iris_cv(&sb, "folds = 4");
    let plain_root = root(&sb);
    sb.run(&["run", "s.toml", "--out", "a", "-q"])
        .expect_code(0);
    iris_cv(&sb, "folds = 4\nkind = \"stratified\"");
    assert_ne!(root(&sb), plain_root);
    sb.run(&["run", "s.toml", "--out", "b", "-q"])
        .expect_code(0);
    assert_eq!(values(&sb, "a"), values(&sb, "b"));
    assert_eq!(sb.read("a/folds.csv"), sb.read("b/folds.csv"));
    // Repeat 0 of a repeated search is the plain stratified split.
    iris_cv(&sb, "folds = 4\nkind = \"repeated\"\nrepeats = 3");
    sb.run(&["run", "s.toml", "--out", "c", "-q"])
        .expect_code(0);
    let c = String::from_utf8(sb.read("c/folds.csv")).unwrap();
    let a = String::from_utf8(sb.read("a/folds.csv")).unwrap();
    assert!(c.starts_with("repeat_0,repeat_1,repeat_2\n"));
    let first: Vec<&str> = c
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let plain: Vec<&str> = a.lines().skip(1).collect();
    assert_eq!(first, plain);
    // Each row in one fold per repeat, numbered on: repeat r holds 4r..4r+3.
    for line in c.lines().skip(1) {
        let f: Vec<usize> = line.split(',').map(|x| x.parse().unwrap()).collect();
        for (r, &x) in f.iter().enumerate() {
            assert!((4 * r..4 * r + 4).contains(&x), "{line}");
        }
    }
    let t = String::from_utf8(sb.read("c/trials.csv")).unwrap();
    assert!(t.starts_with("trial,seed,status,value,n_neighbors,fold_0,"));
    assert!(t.lines().next().unwrap().contains("fold_11,"), "{t}");
    // Replay and show read the 12 fold scores.
    sb.run(&["replay", "c"]).expect_code(0);
    let show = sb.run(&["show", "c"]);
    show.expect_code(0);
    // Regression: kind = "kfold" is today's default.
    sb.data("diabetes.csv");
    let reg = |extra: &str| {
        format!(
            "[search]\nstrategy = \"grid\"\ntrials = 3\n[objective]\nmodel = \"ridge\"\n\
             [data]\npath = \"data/diabetes.csv\"\n[cv]\nfolds = 3\n{extra}\n[space]\n\
             alpha = {{ type = \"float\", low = 0.001, high = 1.0, log = true, steps = 3 }}\n"
        )
    };
    sb.write("r.toml", &reg(""));
    sb.run(&["run", "r.toml", "--out", "ra", "-q"])
        .expect_code(0);
    sb.write("r.toml", &reg("kind = \"kfold\""));
    sb.run(&["run", "r.toml", "--out", "rb", "-q"])
        .expect_code(0);
    assert_eq!(values(&sb, "ra"), values(&sb, "rb"));
    assert_eq!(sb.read("ra/folds.csv"), sb.read("rb/folds.csv"));
}

#[test]
fn holdout_scores_one_split_and_marks_training_rows_minus_one() {
    let sb = Sandbox::new();
    iris_cv(&sb, "kind = \"holdout\"\ntest_size = 0.2");
    sb.run(&["run", "s.toml", "--out", "h", "-q"])
        .expect_code(0);
    let cells = fold_cells(&String::from_utf8(sb.read("h/folds.csv")).unwrap());
    assert_eq!(cells.iter().filter(|&&c| c == 0).count(), 30);
    assert_eq!(cells.iter().filter(|&&c| c == -1).count(), 120);
    // Stratified: 10 of each of the 3 classes held out.
    let data = String::from_utf8(sb.read("data/iris.csv")).unwrap();
    let classes: Vec<&str> = data
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    for c in ["0", "1", "2"] {
        let held = classes
            .iter()
            .zip(&cells)
            .filter(|(&k, &f)| k == c && f == 0)
            .count();
        assert_eq!(held, 10, "class {c}");
    }
    let t = String::from_utf8(sb.read("h/trials.csv")).unwrap();
    assert!(
        t.starts_with("trial,seed,status,value,n_neighbors,fold_0,error"),
        "{t}"
    );
    sb.run(&["replay", "h"]).expect_code(0);
}

/// `cv` as iris's `[cv]` table is refused by `check` and `run` (exit 2,
/// nothing written) with `message`.
fn refused(cv: &str, message: &str) {
    let sb = Sandbox::new();
    iris_cv(&sb, cv);
    for cmd in ["check", "run"] {
        let r = sb.run(&[cmd, "s.toml", "-q"][..if cmd == "run" { 3 } else { 2 }]);
        r.expect_code(2);
        assert!(r.stderr().contains(message), "{cv}: {}", r.stderr());
    }
    assert!(!sb.path().join("results").exists());
}

#[test]
fn groups_fewer_than_folds_are_refused() {
    refused(
        "kind = \"group\"\ngroups = \"petal width (cm)\"\nfolds = 30",
        "[cv.groups]: column `petal width (cm)` has 22 distinct value(s), fewer than the 30 folds",
    );
}

#[test]
fn a_group_column_that_is_the_target_or_missing_is_refused() {
    refused(
        "kind = \"group\"\ngroups = \"target\"",
        "[cv.groups]: `target` is the target column",
    );
    refused(
        "kind = \"group\"\ngroups = \"nope\"",
        "[cv.groups]: `nope` is not a column of",
    );
    refused("kind = \"group\"", "[cv.groups]: missing");
}

#[test]
fn time_series_with_stratify_is_refused() {
    refused(
        "kind = \"time_series\"\nstratify = true",
        "[cv.stratify]: kind = \"time_series\" does not stratify",
    );
}

#[test]
fn test_size_outside_zero_one_is_refused() {
    for t in ["0.0", "1.0", "1.5", "-0.2"] {
        refused(
            &format!("kind = \"holdout\"\ntest_size = {t}"),
            "[cv.test_size]: must be a share of the rows strictly between 0 and 1",
        );
    }
}

#[test]
fn repeats_below_one_are_refused() {
    refused(
        "kind = \"repeated\"\nrepeats = 0",
        "[cv.repeats]: must be at least 1, got 0",
    );
}

#[test]
fn keys_of_another_kind_and_unknown_kinds_are_refused() {
    refused("gap = 1", "[cv.gap]: only with kind = \"time_series\"");
    refused(
        "kind = \"kfold\"\ntest_size = 0.3",
        "[cv.test_size]: only with kind = \"holdout\"",
    );
    refused(
        "kind = \"bogus\"",
        "[cv.kind]: unknown cross-validation kind \"bogus\"",
    );
    refused(
        "kind = \"holdout\"\nfolds = 3",
        "[cv.folds]: a holdout is one split",
    );
    refused(
        "kind = \"time_series\"\nfolds = 5\ngap = 100",
        "[cv.folds]: 150 rows are too few for a time-series split into 5 folds with gap 100",
    );
}

#[test]
fn a_subsampling_resource_with_time_series_folds_is_refused() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write(
        "s.toml",
        "[search]\nstrategy = \"random\"\ntrials = 3\n[search.pruner]\nkind = \"successive_halving\"\n\
         [objective]\nmodel = \"knn\"\nresource = \"samples\"\n\
         [data]\npath = \"data/iris.csv\"\n[cv]\nkind = \"time_series\"\nfolds = 3\n[space]\n\
         n_neighbors = { type = \"int\", low = 2, high = 12 }\n",
    );
    let r = sb.run(&["check", "s.toml"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("[objective.resource]: resource = \"samples\" is not supported with [cv] kind = \"time_series\""),
        "{}",
        r.stderr()
    );
}
