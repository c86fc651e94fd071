//! `gradient_boosting` end to end: missing cells reach the model as NaN
//! under `impute = "none"` (search, export, predict, replay, drift), other
//! models refuse them naming the model and the key, and the absolute-error
//! loss searches, replays and ignores the thread count.

mod common;

use common::Sandbox;
use hpsearch::data;
use hpsearch::replay;

/// 150 rows: `a` numeric with every sixth cell empty, `b` numeric noise,
/// `color` text with every ninth cell empty. Class 1 when `a` is missing
/// or above 5, so the missing rows must learn to go with the large values.
fn gaps_csv(with_target: bool) -> String {
    let mut s = String::from(if with_target {
        "a,b,color,y\n"
    } else {
        "a,b,color\n"
    });
    for i in 0..150 {
        let a = (i * 7 % 11) as f64;
        let missing = i % 6 == 0;
        let cell = if missing {
            String::new()
        } else {
            a.to_string()
        };
        let b = (i * 13 % 17) as f64 / 4.0;
        let color = match i % 9 {
            0 => "",
            1 | 4 | 7 => "red",
            2 | 5 => "blue",
            _ => "green",
        };
        let y = u8::from(missing || a > 5.0);
        if with_target {
            s += &format!("{cell},{b},{color},{y}\n");
        } else {
            s += &format!("{cell},{b},{color}\n");
        }
    }
    s
}

fn search(model: &str, space: &str) -> String {
    format!(
        r#"
[search]
strategy = "random"
trials = 4
seed = 5

[objective]
model = "{model}"

[data]
path = "data/gaps.csv"
target = "y"
impute = "none"
scale = "standard"

[cv]
folds = 3

[space]
{space}
"#
    )
}

const GB_SPACE: &str = "max_iter = { type = \"int\", low = 10, high = 30 }\n\
                        min_samples_leaf = { type = \"int\", low = 2, high = 10 }";

#[test]
fn gradient_boosting_takes_missing_cells_end_to_end() {
    let sb = Sandbox::new();
    sb.write("data/gaps.csv", &gaps_csv(true));
    sb.write("gb.toml", &search("gradient_boosting", GB_SPACE));
    sb.run(&["check", "gb.toml"]).expect_code(0);
    sb.run(&["run", "gb.toml", "-j", "1", "--out", "one", "-q"])
        .expect_code(0);
    sb.run(&["run", "gb.toml", "-j", "2", "--out", "two", "-q"])
        .expect_code(0);
    let trials = sb.read("one/trials.csv");
    assert!(
        trials == sb.read("two/trials.csv"),
        "threads change trials.csv"
    );
    let text = String::from_utf8(trials).unwrap();
    assert_eq!(text.matches(",ok,").count(), 4, "{text}");
    // The rule is learnable only through the missing cells' direction.
    let best = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(3)?.parse::<f64>().ok())
        .fold(0.0, f64::max);
    assert!(best > 0.95, "{text}");

    // Replay retrains in a new process, bit for bit.
    let r = sb.run(&["replay", "one"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("identical to the journal, bit for bit"),
        "{}",
        r.stdout()
    );

    // Export keeps missing cells; predict takes them in new rows.
    sb.run(&["export", "one", "--out", "m.json"]).expect_code(0);
    let artifact = String::from_utf8(sb.read("m.json")).unwrap();
    assert!(artifact.contains("\"keep_missing\": true"), "{artifact}");
    sb.write("new.csv", &gaps_csv(false));
    let p = sb.run(&["predict", "m.json", "new.csv"]);
    p.expect_code(0);
    let lines: Vec<String> = p.stdout().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 151);
    assert!(lines[0].starts_with("prediction,"), "{}", lines[0]);
    // Rows 0, 6, 12, ... have `a` missing: class 1.
    for i in (0..150).step_by(6) {
        assert!(lines[i + 1].starts_with("1,"), "row {i}: {}", lines[i + 1]);
    }
    // The artifact read back predicts what the exporting process's model
    // predicts, to the bit.
    let here = replay::export(replay::open(&sb.path().join("one"), None).unwrap(), None).unwrap();
    let ds = data::load_features(&sb.path().join("new.csv")).unwrap();
    let mine = here.predictions_csv(&here.predict(&ds).unwrap());
    assert_eq!(p.stdout(), mine);
    // Drift reads the missing cells instead of refusing them.
    sb.run(&["drift", "m.json", "new.csv"]).expect_code(0);
}

#[test]
fn models_without_native_missing_values_refuse_them_naming_model_and_key() {
    let sb = Sandbox::new();
    sb.write("data/gaps.csv", &gaps_csv(true));
    sb.write(
        "knn.toml",
        &search("knn", "n_neighbors = { type = \"int\", low = 1, high = 9 }"),
    );
    for cmd in ["check", "run"] {
        let r = sb.run(&[cmd, "knn.toml"]);
        r.expect_code(2);
        let err = r.stderr();
        for piece in [
            "[data.impute]:",
            "line 2, column `a` is missing a value",
            "model knn cannot take missing values (only gradient_boosting can",
        ] {
            assert!(err.contains(piece), "`{piece}` not in: {err}");
        }
        assert!(!sb.path().join("results").exists(), "{cmd} wrote results/");
    }
    // A gradient_boosting model exported from complete data still takes
    // missing cells in predict (NaN goes to the child that had more rows);
    // a knn model refuses them, naming the line and column.
    let full: String = gaps_csv(true)
        .lines()
        .filter(|l| !l.starts_with(',') && !l.contains(",,"))
        .map(|l| format!("{l}\n"))
        .collect();
    sb.write("data/gaps.csv", &full);
    sb.write("gb.toml", &search("gradient_boosting", GB_SPACE));
    sb.run(&["run", "gb.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/gb", "--out", "gb.json"])
        .expect_code(0);
    sb.write("new.csv", &gaps_csv(false));
    sb.run(&["predict", "gb.json", "new.csv"]).expect_code(0);
    sb.run(&["run", "knn.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/knn", "--out", "knn.json"])
        .expect_code(0);
    let r = sb.run(&["predict", "knn.json", "new.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("column `a`: missing value"),
        "{}",
        r.stderr()
    );
}

#[test]
fn absolute_error_searches_replays_and_ignores_threads() {
    let sb = Sandbox::new();
    sb.data("diabetes.csv");
    let toml = r#"
[search]
strategy = "random"
trials = 3
seed = 1

[objective]
model = "gradient_boosting"
metric = "mae"

[objective.params]
loss = "absolute_error"

[data]
path = "data/diabetes.csv"
target = "target"

[cv]
folds = 3

[space]
max_iter = { type = "int", low = 5, high = 20 }
subsample = { type = "float", low = 0.6, high = 1.0 }
"#;
    sb.write("abs.toml", toml);
    sb.write("sq.toml", &toml.replace("loss = \"absolute_error\"", ""));
    sb.run(&["run", "abs.toml", "-j", "1", "--out", "one", "-q"])
        .expect_code(0);
    sb.run(&["run", "abs.toml", "-j", "2", "--out", "two", "-q"])
        .expect_code(0);
    assert!(sb.read("one/trials.csv") == sb.read("two/trials.csv"));
    sb.run(&["run", "sq.toml", "--out", "sq", "-q"])
        .expect_code(0);
    assert!(
        sb.read("one/trials.csv") != sb.read("sq/trials.csv"),
        "the loss changed nothing"
    );
    let r = sb.run(&["replay", "one"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("identical to the journal, bit for bit"),
        "{}",
        r.stdout()
    );
}
