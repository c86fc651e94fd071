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

/// Run `hpsearch run <toml> -j <threads> --out <out> -q` in `sb` with
/// `HPSEARCH_SHARED_BYTES=<budget>` (`None`: unset, the default budget).
fn run_with_budget(sb: &Sandbox, toml: &str, threads: &str, out: &str, budget: Option<&str>) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hpsearch"));
    cmd.args(["run", toml, "-j", threads, "--out", out, "-q"])
        .current_dir(sb.path())
        .env_remove("HPSEARCH_SHARED_BYTES");
    if let Some(b) = budget {
        cmd.env("HPSEARCH_SHARED_BYTES", b);
    }
    let done = cmd.output().expect("run hpsearch");
    assert!(
        done.status.success(),
        "{toml} -j {threads}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
}

#[test]
fn shared_bins_leave_trials_byte_identical_for_any_budget_and_thread_count() {
    // Each fold's bins are made once and shared by the trials (one value
    // per max_bins); a search must write the same bytes with sharing off
    // (0), with a budget that keeps only the first value (1), and on by
    // default, on 1 and 2 threads; for a plain search and for
    // `resource = "iterations"` (whose fits start through the same bins).
    let sb = Sandbox::new();
    sb.data("breast_cancer.csv");
    let plain = r#"
[search]
strategy = "random"
trials = 8
seed = 3

[objective]
model = "gradient_boosting"

[objective.params]
max_iter = 8

[data]
path = "data/breast_cancer.csv"
target = "target"

[cv]
folds = 3

[space]
learning_rate = { type = "float", low = 0.05, high = 0.5, log = true }
max_leaf_nodes = { type = "int", low = 4, high = 31 }
max_bins = { type = "int", values = [16, 255] }
subsample = { type = "float", low = 0.5, high = 1.0 }
max_features = { type = "float", low = 0.5, high = 1.0 }
"#;
    let rungs = plain
        .replace(
            "[objective]\n",
            "[search.pruner]\nkind = \"successive_halving\"\n\n[objective]\n",
        )
        .replace(
            "model = \"gradient_boosting\"\n",
            "model = \"gradient_boosting\"\nresource = \"iterations\"\nmax_resources = 9\n",
        )
        .replace("[objective.params]\nmax_iter = 8\n", "");
    sb.write("plain.toml", plain);
    sb.write("rungs.toml", &rungs);
    for search in ["plain", "rungs"] {
        let toml = format!("{search}.toml");
        let reference = format!("{search}-off-1");
        run_with_budget(&sb, &toml, "1", &reference, Some("0"));
        let want = sb.read(&format!("{reference}/trials.csv"));
        assert!(
            String::from_utf8_lossy(&want).lines().count() == 9,
            "{search}: eight trials and a header"
        );
        for (budget, name) in [(Some("0"), "off"), (Some("1"), "one"), (None, "on")] {
            for threads in ["1", "2"] {
                let out = format!("{search}-{name}-{threads}");
                if out == reference {
                    continue;
                }
                run_with_budget(&sb, &toml, threads, &out, budget);
                assert!(
                    sb.read(&format!("{out}/trials.csv")) == want,
                    "{search}: trials.csv differs with sharing {name} on {threads} threads"
                );
            }
        }
    }
}
