//! `hpsearch drift` and `hpsearch predict --check-drift` on shipped data,
//! through the real binary: the training file itself does not alert
//! (exit 0), shifted copies do (exit 3), the report is the same bytes on
//! every run, and predict writes the report beside its predictions.

mod common;

use common::Sandbox;
use hpsearch::replay::Artifact;

const MPG: &str = r#"
[search]
strategy = "random"
trials = 3
[objective]
model = "elastic_net"
[data]
path = "data/auto_mpg.csv"
target = "mpg"
impute = "median"
scale = "standard"
[cv]
folds = 3
[space]
alpha = { type = "float", low = 0.001, high = 1.0, log = true }
"#;

/// auto_mpg (regression on mpg; `origin` is text, `horsepower` has
/// missing cells), searched and exported to `m.json`.
fn exported() -> Sandbox {
    let sb = Sandbox::new();
    sb.data("auto_mpg.csv");
    sb.write("mpg.toml", MPG);
    sb.run(&["run", "mpg.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/mpg", "--out", "m.json"])
        .expect_code(0);
    sb
}

/// auto_mpg's rows, each a vector of cells (the file has no quoted cells).
fn rows(sb: &Sandbox) -> Vec<Vec<String>> {
    String::from_utf8(sb.read("data/auto_mpg.csv"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// Write `rows` with `edit(row index, row)` applied to each data row.
fn write_edited(
    sb: &Sandbox,
    name: &str,
    rows: &[Vec<String>],
    edit: impl Fn(usize, &mut Vec<String>),
) {
    let mut text = rows[0].join(",") + "\n";
    for (i, r) in rows[1..].iter().enumerate() {
        let mut r = r.clone();
        edit(i, &mut r);
        text.push_str(&(r.join(",") + "\n"));
    }
    sb.write(name, &text);
}

fn column_json<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == name && c["role"] == "feature")
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The report's row for the model's predictions.
fn prediction_json(report: &serde_json::Value) -> &serde_json::Value {
    report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["role"] == "prediction")
        .unwrap_or_else(|| panic!("no prediction row"))
}

#[test]
fn training_data_passes_and_the_report_is_repeatable() {
    let sb = exported();
    let a = Artifact::read(&sb.path().join("m.json")).unwrap();
    let profile = a
        .profile
        .as_ref()
        .expect("format 2 artifacts carry a profile");
    assert_eq!(profile.rows, 398);
    assert_eq!(profile.features.len(), 7);
    let r = sb.run(&["drift", "m.json", "data/auto_mpg.csv"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("result: OK (0 alert, 0 warn, 8 ok)"),
        "{}",
        r.stdout()
    );
    let j1 = sb.run(&["drift", "m.json", "data/auto_mpg.csv", "--format", "json"]);
    j1.expect_code(0);
    let j2 = sb.run(&["drift", "m.json", "data/auto_mpg.csv", "--format", "json"]);
    assert_eq!(j1.stdout(), j2.stdout(), "two runs, different reports");
    let report: serde_json::Value = serde_json::from_str(&j1.stdout()).unwrap();
    assert_eq!(report["severity"], "ok");
    assert_eq!(report["rows"], 398);
    assert_eq!(report["tests"], 32);
    // The training data against its own profile: no difference at all.
    let weight = column_json(&report, "weight");
    assert_eq!(weight["psi"]["statistic"], 0.0);
    assert_eq!(weight["test"]["statistic"], 0.0);
    let hp = column_json(&report, "horsepower");
    assert_eq!(hp["missing"]["statistic"], 0.0);
    assert_eq!(column_json(&report, "origin")["test"]["test"], "chi2");
    assert_eq!(
        report["data_sha256"],
        hpsearch::data::sha256_file(&sb.path().join("data/auto_mpg.csv")).unwrap()
    );
}

#[test]
fn shifted_data_alerts_with_exit_3() {
    let sb = exported();
    let rows = rows(&sb);
    // weight (column 4) 30 % heavier on every row.
    write_edited(&sb, "heavy.csv", &rows, |_, r| {
        let w: f64 = r[4].parse().unwrap();
        r[4] = format!("{}", w * 1.3);
    });
    let r = sb.run(&["drift", "m.json", "heavy.csv", "--format", "json"]);
    r.expect_code(3);
    assert!(r.stderr().contains("drift alert in"), "{}", r.stderr());
    assert!(r.stderr().contains("weight"), "{}", r.stderr());
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    assert_eq!(report["severity"], "alert");
    // The table's first rows are the alerts; weight is one of them, and a
    // model that reads weight predicts differently too.
    assert_eq!(report["columns"][0]["severity"], "alert");
    let w = column_json(&report, "weight");
    assert_eq!(w["severity"], "alert");
    assert_eq!(w["psi"]["severity"], "alert");
    assert_eq!(w["test"]["test"], "ks");
    assert_eq!(column_json(&report, "cylinders")["severity"], "ok");
    let text = sb.run(&["drift", "m.json", "heavy.csv"]);
    text.expect_code(3);
    let first = text.stdout().lines().nth(4).unwrap_or_default().to_owned();
    assert!(first.starts_with("alert"), "{}", text.stdout());

    // New categories: a third of the cars come from an unseen origin.
    write_edited(&sb, "mars.csv", &rows, |i, r| {
        if i % 3 == 0 {
            r[7] = "Mars".into();
        }
    });
    let r = sb.run(&["drift", "m.json", "mars.csv", "--format", "json"]);
    r.expect_code(3);
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let o = column_json(&report, "origin");
    assert_eq!(o["outside"]["severity"], "alert");
    assert_eq!(o["unseen"][0][0], "Mars");

    // More missing values: horsepower blank on half the rows.
    write_edited(&sb, "gaps.csv", &rows, |i, r| {
        if i % 2 == 0 {
            r[3] = String::new();
        }
    });
    let r = sb.run(&["drift", "m.json", "gaps.csv", "--format", "json"]);
    r.expect_code(3);
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    assert_eq!(
        column_json(&report, "horsepower")["missing"]["severity"],
        "alert"
    );
}

#[test]
fn predict_check_drift_writes_the_report_beside_the_predictions() {
    let sb = exported();
    let plain = sb.run(&["predict", "m.json", "data/auto_mpg.csv"]);
    plain.expect_code(0);
    sb.run(&[
        "predict",
        "m.json",
        "data/auto_mpg.csv",
        "--check-drift",
        "--out",
        "p.csv",
    ])
    .expect_code(0);
    assert_eq!(String::from_utf8(sb.read("p.csv")).unwrap(), plain.stdout());
    let json = sb.run(&["drift", "m.json", "data/auto_mpg.csv", "--format", "json"]);
    assert_eq!(
        String::from_utf8(sb.read("p.drift.json")).unwrap(),
        json.stdout()
    );

    // Drift that alerts: predictions and report are written, exit 3.
    write_edited(&sb, "heavy.csv", &rows(&sb), |_, r| {
        let w: f64 = r[4].parse().unwrap();
        r[4] = format!("{}", w * 1.3);
    });
    let r = sb.run(&[
        "predict",
        "m.json",
        "heavy.csv",
        "--check-drift",
        "--out",
        "h.csv",
    ]);
    r.expect_code(3);
    assert_eq!(
        String::from_utf8(sb.read("h.csv")).unwrap().lines().count(),
        399
    );
    let report: serde_json::Value =
        serde_json::from_str(&String::from_utf8(sb.read("h.drift.json")).unwrap()).unwrap();
    assert_eq!(report["severity"], "alert");

    // Without --out there is nowhere to put the report: exit 2, nothing written.
    let r = sb.run(&["predict", "m.json", "data/auto_mpg.csv", "--check-drift"]);
    r.expect_code(2);
    assert!(r.stderr().contains("give --out"), "{}", r.stderr());
    assert!(r.stdout().is_empty());
}

/// `predict FILE --check-drift --out a.csv` and plain `predict FILE --out
/// b.csv` write the same bytes, and the report equals `drift`'s, for
/// `sb`'s model `m.json` on `file` (relative to the sandbox).
fn check_drift_predicts_as_predict(sb: &Sandbox, file: &str) {
    sb.run(&["predict", "m.json", file, "--out", "plain.csv"])
        .expect_code(0);
    let r = sb.run(&[
        "predict",
        "m.json",
        file,
        "--check-drift",
        "--out",
        "checked.csv",
    ]);
    assert!(matches!(r.code(), 0 | 3), "{file}: {}", r.stderr());
    let plain = sb.read("plain.csv");
    assert!(!plain.is_empty());
    assert!(
        sb.read("checked.csv") == plain,
        "{file}: predict --check-drift wrote other predictions than predict"
    );
    let json = sb.run(&["drift", "m.json", file, "--format", "json"]);
    assert_eq!(
        String::from_utf8(sb.read("checked.drift.json")).unwrap(),
        json.stdout(),
        "{file}: the report differs from drift's"
    );
}

/// `text`'s data rows repeated `times` times below its header.
fn repeated(text: &str, times: usize) -> String {
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let body: Vec<&str> = lines.collect();
    let mut out = head.to_owned() + "\n";
    for _ in 0..times {
        for l in &body {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

#[test]
fn predict_check_drift_writes_the_same_predictions_as_predict() {
    // Regression (elastic net on auto_mpg, a text column and missing
    // cells): the shipped file, and 11 copies of its rows (4378 rows: a
    // full batch of 4096 and a partial one).
    let sb = exported();
    check_drift_predicts_as_predict(&sb, "data/auto_mpg.csv");
    let text = String::from_utf8(sb.read("data/auto_mpg.csv")).unwrap();
    let big = repeated(&text, 11);
    assert_eq!(big.lines().count() - 1, 4378);
    sb.write("big.csv", &big);
    check_drift_predicts_as_predict(&sb, "big.csv");
    // The same rows with CRLF line ends.
    sb.write("big_crlf.csv", &big.replace('\n', "\r\n"));
    check_drift_predicts_as_predict(&sb, "big_crlf.csv");

    // A classifier with probabilities (logistic regression on iris): the
    // shipped file, and 30 copies (4500 rows, two batches).
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write(
        "iris.toml",
        r#"
[search]
strategy = "random"
trials = 2
[objective]
model = "logistic_regression"
[data]
path = "data/iris.csv"
target = "target"
scale = "standard"
[cv]
folds = 3
[space]
C = { type = "float", low = 0.01, high = 100.0, log = true }
"#,
    );
    sb.run(&["run", "iris.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/iris", "--out", "m.json"])
        .expect_code(0);
    check_drift_predicts_as_predict(&sb, "data/iris.csv");
    let head = String::from_utf8(sb.read("plain.csv")).unwrap();
    assert!(
        head.starts_with("prediction,proba_"),
        "no probabilities: {}",
        head.lines().next().unwrap_or_default()
    );
    let text = String::from_utf8(sb.read("data/iris.csv")).unwrap();
    sb.write("big.csv", &repeated(&text, 30));
    check_drift_predicts_as_predict(&sb, "big.csv");
    assert_eq!(
        String::from_utf8(sb.read("checked.csv"))
            .unwrap()
            .lines()
            .count(),
        4501
    );
}

#[test]
fn bad_input_exits_2_and_old_artifacts_ask_for_a_re_export() {
    let sb = exported();
    let rows = rows(&sb);
    // A column the model reads is missing.
    let keep = [0usize, 1, 2, 4, 5, 6, 7];
    let text: String = rows
        .iter()
        .map(|r| {
            keep.iter()
                .map(|&c| r[c].as_str())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    sb.write("nohp.csv", &text);
    let r = sb.run(&["drift", "m.json", "nohp.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("missing column(s) the model reads: horsepower"),
        "{}",
        r.stderr()
    );
    assert!(r.stdout().is_empty());
    let r = sb.run(&[
        "predict",
        "m.json",
        "nohp.csv",
        "--check-drift",
        "--out",
        "x.csv",
    ]);
    r.expect_code(2);
    assert!(!sb.path().join("x.csv").exists());
    assert!(!sb.path().join("x.drift.json").exists());
    // A numeric column with text in it, named by line.
    write_edited(&sb, "text.csv", &rows, |i, r| {
        if i == 4 {
            r[4] = "heavy".into();
        }
    });
    let r = sb.run(&["drift", "m.json", "text.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("line 6: column `weight`"),
        "{}",
        r.stderr()
    );
    // A blank line between rows, and a cell that spans lines, are
    // refused by line as predict refuses them; blank lines at the end and
    // CRLF line ends are fine.
    let lines: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
    let blank = format!("{}\n{}\n\n{}\n", lines[0], lines[1], lines[2..].join("\n"));
    sb.write("blank.csv", &blank);
    for cmd in ["drift", "predict"] {
        let r = sb.run(&[cmd, "m.json", "blank.csv"]);
        r.expect_code(2);
        assert!(r.stderr().contains("line 3: "), "{cmd}: {}", r.stderr());
        assert!(r.stdout().is_empty(), "{cmd} wrote output");
    }
    let mut split = lines.clone();
    split[3] = split[3].replacen(',', ",\"\n\",", 1);
    sb.write("split.csv", &(split.join("\n") + "\n"));
    let r = sb.run(&["drift", "m.json", "split.csv"]);
    r.expect_code(2);
    assert!(r.stderr().contains("line 4: "), "{}", r.stderr());
    sb.write("tail.csv", &(lines.join("\r\n") + "\r\n\r\n\n"));
    sb.run(&["drift", "m.json", "tail.csv"]).expect_code(0);
    let crlf_blank = format!("{}\r\n\r\n{}\r\n", lines[0], lines[1..].join("\r\n"));
    sb.write("crlf_blank.csv", &crlf_blank);
    let r = sb.run(&["drift", "m.json", "crlf_blank.csv"]);
    r.expect_code(2);
    assert!(r.stderr().contains("line 2: "), "{}", r.stderr());
    // A blank line before the header, LF or CRLF (and after a byte order
    // mark): refused by drift, predict and predict --check-drift alike,
    // which then writes nothing.
    for (name, text) in [
        ("lead.csv", format!("\n{}\n", lines.join("\n"))),
        ("crlf_lead.csv", format!("\r\n{}\r\n", lines.join("\r\n"))),
        (
            "bom_lead.csv",
            format!("\u{feff}\r\n{}\r\n", lines.join("\r\n")),
        ),
    ] {
        sb.write(name, &text);
        let r = sb.run(&["drift", "m.json", name]);
        r.expect_code(2);
        assert!(
            r.stderr().contains("line 1: blank line"),
            "{name}: {}",
            r.stderr()
        );
        sb.run(&["predict", "m.json", name]).expect_code(2);
        let r = sb.run(&["predict", "m.json", name, "--check-drift", "--out", "x.csv"]);
        r.expect_code(2);
        assert!(
            r.stderr().contains("line 1: blank line"),
            "{name}: {}",
            r.stderr()
        );
        assert!(!sb.path().join("x.csv").exists(), "{name}");
        assert!(!sb.path().join("x.drift.json").exists(), "{name}");
    }
    // The same file with a BOM and no blank line is fine.
    sb.write("bom.csv", &format!("\u{feff}{}\r\n", lines.join("\r\n")));
    sb.run(&["drift", "m.json", "bom.csv"]).expect_code(0);
    // Lines ended by a bare CR: predict counts lines by LF and refuses the
    // file, and so do drift and predict --check-drift.
    sb.write("cr.csv", &(lines.join("\r") + "\r"));
    sb.run(&["predict", "m.json", "cr.csv"]).expect_code(2);
    let r = sb.run(&["drift", "m.json", "cr.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("line 1: the line ends in a bare carriage return"),
        "{}",
        r.stderr()
    );
    // A CRLF header above LF rows is read as predict reads it.
    sb.write(
        "mixed.csv",
        &format!("{}\r\n{}\n", lines[0], lines[1..].join("\n")),
    );
    sb.run(&["predict", "m.json", "mixed.csv"]).expect_code(0);
    sb.run(&["drift", "m.json", "mixed.csv"]).expect_code(0);
    // A quoted line break in the header.
    let mut qhead = lines.clone();
    qhead[0] = qhead[0].replacen("mpg", "\"mpg\r\n\"", 1);
    sb.write("qhead.csv", &(qhead.join("\r\n") + "\r\n"));
    sb.run(&["predict", "m.json", "qhead.csv"]).expect_code(2);
    let r = sb.run(&["drift", "m.json", "qhead.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("line 1: a quoted cell in the header contains a line break"),
        "{}",
        r.stderr()
    );
    // A text training column whose cells are all numbers: predict reads
    // each column with its trained kind, so the numbers are unseen levels
    // (predicted as all-zero one-hot), and the drift check alerts on them.
    write_edited(&sb, "num_origin.csv", &rows, |i, r| {
        r[7] = format!("{}", i % 3 + 1);
    });
    let plain = sb.run(&["predict", "m.json", "num_origin.csv"]);
    plain.expect_code(0);
    sb.run(&[
        "predict",
        "m.json",
        "num_origin.csv",
        "--check-drift",
        "--out",
        "x.csv",
    ])
    .expect_code(3);
    assert_eq!(sb.read("x.csv"), plain.0.stdout);
    sb.run(&["drift", "m.json", "num_origin.csv"])
        .expect_code(3);
    // No file.
    sb.run(&["drift", "m.json", "absent.csv"]).expect_code(2);
    // csv is not a drift format.
    sb.run(&["drift", "m.json", "data/auto_mpg.csv", "--format", "csv"])
        .expect_code(2);

    // A format-1 artifact (no profile) still predicts, but drift asks
    // for a re-export.
    let mut v: serde_json::Value =
        serde_json::from_str(&String::from_utf8(sb.read("m.json")).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("profile");
    v["format"] = 1.into();
    sb.write("old.json", &serde_json::to_string_pretty(&v).unwrap());
    let p = sb.run(&["predict", "old.json", "data/auto_mpg.csv"]);
    p.expect_code(0);
    assert_eq!(
        p.stdout(),
        sb.run(&["predict", "m.json", "data/auto_mpg.csv"]).stdout()
    );
    let r = sb.run(&["drift", "old.json", "data/auto_mpg.csv"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("re-export it with this hpsearch"),
        "{}",
        r.stderr()
    );
}

#[test]
fn classifier_predictions_are_profiled_by_class() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write(
        "iris.toml",
        &common::IRIS_KNN
            .replace("SEED", "0")
            .replace("trials = 24", "trials = 3"),
    );
    sb.run(&["run", "iris.toml", "-q"]).expect_code(0);
    sb.run(&["export", "results/iris", "--out", "m.json"])
        .expect_code(0);
    let r = sb.run(&["drift", "m.json", "data/iris.csv", "--format", "json"]);
    r.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let pred = prediction_json(&report);
    assert_eq!(pred["kind"], "categorical");
    assert_eq!(pred["train"]["levels"], 3);
    assert_eq!(pred["psi"]["statistic"], 0.0);
    // Only the long-petal flowers: the features drift, and so do the
    // predicted classes.
    let text = String::from_utf8(sb.read("data/iris.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = lines.next().unwrap().to_owned() + "\n";
    for l in lines {
        let petal: f64 = l.split(',').nth(2).unwrap().parse().unwrap();
        if petal > 4.5 {
            out.push_str(l);
            out.push('\n');
        }
    }
    sb.write("long.csv", &out);
    let r = sb.run(&["drift", "m.json", "long.csv", "--format", "json"]);
    r.expect_code(3);
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let pred = prediction_json(&report);
    assert_eq!(pred["severity"], "alert");
}
