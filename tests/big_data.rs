//! Big data: what a search writes and holds grows with the data no faster
//! than the data itself (`folds.csv` a fold per row, a bounded memory
//! peak), and `predict` streams the rows with the same bytes of output as
//! a whole-file prediction.

mod common;

use common::Sandbox;

const WINE_TREE: &str = r#"
[search]
strategy = "grid"
trials = TRIALS
seed = 3

[objective]
model = "decision_tree"
metric = "accuracy"

[data]
path = "data/wine.csv"
target = "target"

[cv]
folds = 3

[space]
max_depth = { type = "int", values = [1, 2, 3, 4] }
"#;

fn wine_tree(sb: &Sandbox, name: &str, trials: u64) {
    sb.write(name, &WINE_TREE.replace("TRIALS", &trials.to_string()));
}

/// The first format of `folds.csv`, `row,line,fold`, from today's.
fn first_format(folds: &str) -> String {
    let mut out = String::from("row,line,fold\n");
    for (row, fold) in folds.lines().skip(1).enumerate() {
        out.push_str(&format!("{row},{},{fold}\n", row + 2));
    }
    out
}

#[test]
fn folds_csv_holds_one_fold_per_data_row_on_the_rows_line() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    wine_tree(&sb, "t.toml", 4);
    sb.run(&["run", "t.toml", "--out", "out", "-q"])
        .expect_code(0);
    let folds = String::from_utf8(sb.read("out/folds.csv")).unwrap();
    let lines: Vec<&str> = folds.lines().collect();
    // The header, then data row r (line r + 2 of wine.csv) on line r + 2.
    assert_eq!(lines[0], "fold");
    assert_eq!(lines.len(), 179);
    assert!(lines[1..].iter().all(|l| ["0", "1", "2"].contains(l)));
    // Two bytes a row: the file is far smaller than the data.
    assert_eq!(folds.len(), 5 + 2 * 178);
    for k in 0..3 {
        let n = lines[1..].iter().filter(|l| **l == k.to_string()).count();
        assert!((59..=60).contains(&n), "fold {k}: {n} rows");
    }
}

#[test]
fn a_folder_with_first_format_folds_still_resumes() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    wine_tree(&sb, "t4.toml", 4);
    sb.run(&["run", "t4.toml", "--out", "straight", "-q"])
        .expect_code(0);
    // Two trials, then folds.csv as an earlier version wrote it; raising the
    // budget extends the folder.
    wine_tree(&sb, "t.toml", 2);
    sb.run(&["run", "t.toml", "--out", "old", "-q"])
        .expect_code(0);
    let folds = String::from_utf8(sb.read("old/folds.csv")).unwrap();
    sb.write("old/folds.csv", &first_format(&folds));
    wine_tree(&sb, "t.toml", 4);
    sb.run(&["run", "t.toml", "--out", "old", "-q"])
        .expect_code(0);
    assert!(sb.read("old/trials.csv") == sb.read("straight/trials.csv"));
    // The folder's own file is left as it was.
    assert_eq!(
        String::from_utf8(sb.read("old/folds.csv")).unwrap(),
        first_format(&folds)
    );
}

#[test]
fn a_changed_folds_csv_is_refused_in_either_format() {
    let sb = Sandbox::new();
    sb.data("wine.csv");
    wine_tree(&sb, "t.toml", 2);
    sb.run(&["run", "t.toml", "--out", "out", "-q"])
        .expect_code(0);
    let folds = String::from_utf8(sb.read("out/folds.csv")).unwrap();
    wine_tree(&sb, "t.toml", 4);
    let flip = |text: &str| {
        // The last row's fold changed.
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let last = lines.pop().unwrap();
        let (head, fold) = last.rsplit_once(',').unwrap_or(("", &last));
        let other = if fold == "0" { "1" } else { "0" };
        lines.push(if head.is_empty() {
            other.to_owned()
        } else {
            format!("{head},{other}")
        });
        lines.join("\n") + "\n"
    };
    let cut = |text: &str| {
        let lines: Vec<&str> = text.lines().collect();
        lines[..lines.len() - 1].join("\n") + "\n"
    };
    for bad in [
        flip(&folds),
        flip(&first_format(&folds)),
        cut(&folds),
        folds.clone() + "0\n",
        folds.trim_end().to_owned(),
        folds.replacen("fold", "folds", 1),
    ] {
        sb.write("out/folds.csv", &bad);
        let r = sb.run(&["run", "t.toml", "--out", "out", "-q"]);
        r.expect_code(2);
        assert!(
            r.stderr().contains("folds.csv") && r.stderr().contains("does not match the folds"),
            "{}",
            r.stderr()
        );
    }
    // Put back, it resumes.
    sb.write("out/folds.csv", &folds);
    sb.run(&["run", "t.toml", "--out", "out", "-q"])
        .expect_code(0);
}
