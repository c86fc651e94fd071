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
    let _serial = serial();
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
    let _serial = serial();
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
    let _serial = serial();
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

// ------------------------------------------------------------ predict --

/// `text`'s data rows repeated `times` times below its header.
fn repeated(text: &str, times: usize) -> String {
    let mut lines = text.lines();
    let head = lines.next().unwrap_or_default();
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

/// Run a 2-trial search of `model` on `file` and export its best trial to
/// `<name>.json`.
fn exported(sb: &Sandbox, name: &str, model: &str, file: &str, space: &str, data: &str) {
    sb.data(file);
    sb.write(
        &format!("{name}.toml"),
        &format!(
            "[search]\nstrategy = \"random\"\ntrials = 2\n[objective]\nmodel = \"{model}\"\n\
             [data]\npath = \"data/{file}\"\n{data}\n[cv]\nfolds = 3\n[space]\n{space}\n"
        ),
    );
    sb.run(&["run", &format!("{name}.toml"), "-q", "--out", name])
        .expect_code(0);
    sb.run(&["export", name, "--out", &format!("{name}.json")])
        .expect_code(0);
}

/// Every model, on data that exercises its task (and, for auto_mpg, a
/// text column and missing cells).
const MODELS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "logreg",
        "logistic_regression",
        "breast_cancer.csv",
        "C = { type = \"float\", low = 0.01, high = 10.0, log = true }",
        "scale = \"standard\"",
    ),
    (
        "enet",
        "elastic_net",
        "auto_mpg.csv",
        "alpha = { type = \"float\", low = 0.001, high = 1.0, log = true }",
        "target = \"mpg\"\nimpute = \"median\"\nscale = \"standard\"",
    ),
    (
        "ridge",
        "ridge",
        "diabetes.csv",
        "alpha = { type = \"float\", low = 0.01, high = 10.0, log = true }",
        "scale = \"standard\"",
    ),
    (
        "lasso",
        "lasso",
        "diabetes.csv",
        "alpha = { type = \"float\", low = 0.01, high = 1.0, log = true }",
        "scale = \"minmax\"",
    ),
    (
        "tree",
        "decision_tree",
        "wine.csv",
        "max_depth = { type = \"int\", low = 2, high = 6 }",
        "",
    ),
    (
        "forest",
        "random_forest",
        "wine.csv",
        "n_estimators = { type = \"int\", low = 5, high = 15 }",
        "",
    ),
    (
        "svm",
        "svm",
        "iris.csv",
        "C = { type = \"float\", low = 0.1, high = 10.0, log = true }",
        "scale = \"standard\"",
    ),
    (
        "knn",
        "knn",
        "auto_mpg.csv",
        "n_neighbors = { type = \"int\", low = 2, high = 12 }",
        "target = \"mpg\"\nimpute = \"mean\"\nscale = \"standard\"",
    ),
    (
        "nb",
        "gaussian_nb",
        "wine.csv",
        "var_smoothing = { type = \"float\", low = 1e-9, high = 1e-6, log = true }",
        "",
    ),
    (
        "gb",
        "gradient_boosting",
        "auto_mpg.csv",
        "max_iter = { type = \"int\", low = 5, high = 20 }",
        "target = \"mpg\"\nimpute = \"median\"",
    ),
];

#[test]
fn streamed_predictions_are_the_whole_file_predictions_for_every_model() {
    let _serial = serial();
    use hpsearch::replay::Artifact;
    let sb = Sandbox::new();
    for (name, model, file, space, data) in MODELS {
        exported(&sb, name, model, file, space, data);
        // Over two batch boundaries (4096 rows a batch).
        let text = String::from_utf8(sb.read(&format!("data/{file}"))).unwrap();
        let rows = text.lines().count() - 1;
        let big = repeated(&text, 8200 / rows + 1);
        let n = big.lines().count() - 1;
        assert!(n > 2 * 4096, "{name}: {n} rows");
        let input = format!("{name}-rows.csv");
        sb.write(&input, &big);
        // One whole-file prediction, in this process, as predict made it.
        let a = Artifact::read(&sb.path().join(format!("{name}.json"))).unwrap();
        let ds = hpsearch::data::load_features(&sb.path().join(&input)).unwrap();
        let whole = a.predictions_csv(&a.predict(&ds).unwrap());
        assert_eq!(whole.lines().count(), n + 1, "{name}");

        let model_file = format!("{name}.json");
        let r = sb.run(&["predict", &model_file, &input]);
        r.expect_code(0);
        assert!(
            r.stdout() == whole,
            "{name}: stdout differs from the whole-file prediction"
        );
        sb.run(&["predict", &model_file, &input, "--out", "p.csv"])
            .expect_code(0);
        assert!(
            sb.read("p.csv") == whole.as_bytes(),
            "{name}: --out differs"
        );
        let r = sb.run(&[
            "predict",
            &model_file,
            &input,
            "--check-drift",
            "--out",
            "d.csv",
        ]);
        assert!(matches!(r.code(), 0 | 3), "{name}: {}", r.stderr());
        assert!(
            sb.read("d.csv") == whole.as_bytes(),
            "{name}: --check-drift differs"
        );
    }
    // Nothing but the outputs: no temporary file left beside them.
    let leftovers: Vec<String> = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Names in the sandbox's top folder.
fn listing(sb: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn predict_refuses_a_bad_row_past_the_first_batch_and_writes_nothing() {
    let _serial = serial();
    let sb = Sandbox::new();
    exported(
        &sb,
        "enet",
        "elastic_net",
        "auto_mpg.csv",
        MODELS[1].3,
        MODELS[1].4,
    );
    let text = String::from_utf8(sb.read("data/auto_mpg.csv")).unwrap();
    let big = repeated(&text, 25);
    let mut lines: Vec<String> = big.lines().map(str::to_owned).collect();
    // Line 9001: a numeric cell that is not a number, two batches in.
    let header: Vec<&str> = lines[0].split(',').collect();
    let weight = header.iter().position(|h| *h == "weight").unwrap();
    let mut cells: Vec<String> = lines[9000].split(',').map(str::to_owned).collect();
    cells[weight] = "heavy".into();
    lines[9000] = cells.join(",");
    sb.write("bad.csv", &(lines.join("\n") + "\n"));
    sb.write("keep.csv", "mine\n");
    let before = listing(&sb);
    for args in [
        vec!["predict", "enet.json", "bad.csv"],
        vec!["predict", "enet.json", "bad.csv", "--out", "new.csv"],
        vec!["predict", "enet.json", "bad.csv", "--out", "keep.csv"],
        vec![
            "predict",
            "enet.json",
            "bad.csv",
            "--check-drift",
            "--out",
            "new.csv",
        ],
    ] {
        let r = sb.run(&args);
        r.expect_code(2);
        assert!(
            r.stdout().is_empty(),
            "{args:?}: wrote {} bytes",
            r.stdout().len()
        );
        assert!(
            r.stderr().contains("bad.csv")
                && r.stderr().contains("line 9001")
                && r.stderr().contains("`weight`")
                && r.stderr().contains("`heavy`"),
            "{args:?}: {}",
            r.stderr()
        );
        assert_eq!(listing(&sb), before, "{args:?}");
        assert_eq!(sb.read("keep.csv"), b"mine\n");
    }
}

#[test]
fn predict_reads_a_text_column_of_numbers_as_text_past_the_first_batch() {
    let _serial = serial();
    // auto_mpg's `origin` is text; here every cell of it is a number. The
    // column is read with the kind it had in training (text: these numbers
    // are unseen levels), the same on stdout and in --out.
    let sb = Sandbox::new();
    exported(
        &sb,
        "enet",
        "elastic_net",
        "auto_mpg.csv",
        MODELS[1].3,
        MODELS[1].4,
    );
    let text = String::from_utf8(sb.read("data/auto_mpg.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let origin = header.iter().position(|h| *h == "origin").unwrap();
    let numbered: String = repeated(&text, 12)
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut cells: Vec<String> = l.split(',').map(str::to_owned).collect();
            if i > 0 {
                cells[origin] = (i % 3).to_string();
            }
            cells.join(",") + "\n"
        })
        .collect();
    sb.write("numbered.csv", &numbered);
    let shown = sb.run(&["predict", "enet.json", "numbered.csv"]);
    shown.expect_code(0);
    sb.run(&["predict", "enet.json", "numbered.csv", "--out", "new.csv"])
        .expect_code(0);
    assert_eq!(shown.stdout().into_bytes(), sb.read("new.csv"));
    assert_eq!(shown.stdout().lines().count(), numbered.lines().count());
}

// ------------------------------------------------------------- memory --

/// One test of this file at a time: the memory test reads a child's peak
/// memory, which counts what this process held when it forked the child,
/// so another test's data in memory at that moment would inflate it.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `hpsearch args` in `sb` with `env`; its exit code and peak resident
/// memory in KiB (from the kernel's accounting of the reaped child).
// The child is reaped by `wait4` (which also gives its peak memory), not
// by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_measured(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> (i32, i64) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hpsearch"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(sb.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn hpsearch");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it for our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
}

/// A numeric CSV: `rows` x `features` cells in [-1, 1) with 5 decimals
/// and a binary target (a fixed linear rule), the same bytes every time.
fn numeric_csv(rows: usize, features: usize) -> String {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        // SplitMix64.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let mut out: String = (0..features).map(|j| format!("x{j},")).collect();
    out.push_str("target\n");
    for _ in 0..rows {
        let mut score = 0.0;
        for j in 0..features {
            let x = next();
            score += x * if j % 2 == 0 { 1.0 } else { -0.5 };
            out.push_str(&format!("{x:.5},"));
        }
        out.push_str(if score + 0.3 * next() > 0.0 {
            "1\n"
        } else {
            "0\n"
        });
    }
    out
}

const BIG_SEARCH: &str = r#"
[search]
strategy = "grid"
seed = 0
[objective]
model = "logistic_regression"
metric = "accuracy"
params = { max_iter = 5 }
[data]
path = "data/big.csv"
scale = "standard"
[cv]
folds = 5
[space]
C = { type = "float", values = [0.1, 1.0] }
"#;

#[test]
fn kept_and_prepared_folds_score_the_same_bits() {
    let _serial = serial();
    // auto_mpg (a text column, missing cells, imputed: kept as columns),
    // wine and breast_cancer (all numeric: kept row after row; two-class
    // logistic regression), with the folds kept (small data) and prepared
    // per trial (budget 0), on 1, 3 and 8 threads.
    let sb = Sandbox::new();
    for (name, model, file, space, data) in [MODELS[0], MODELS[1], MODELS[5], MODELS[7]] {
        sb.data(file);
        sb.write(
            &format!("{name}.toml"),
            &format!(
                "[search]\nstrategy = \"random\"\ntrials = 4\n[objective]\nmodel = \"{model}\"\n\
                 [data]\npath = \"data/{file}\"\n{data}\n[cv]\nfolds = 4\n[space]\n{space}\n"
            ),
        );
        let toml = format!("{name}.toml");
        let (code, _) = run_measured(&sb, &["run", &toml, "-q", "--out", "kept"], &[]);
        assert_eq!(code, 0);
        for threads in ["1", "3", "8"] {
            let out = format!("prepared{threads}");
            let (code, _) = run_measured(
                &sb,
                &["run", &toml, "-q", "-j", threads, "--out", &out],
                &[("HPSEARCH_KEEP_FOLDS_BYTES", "0")],
            );
            assert_eq!(code, 0);
            assert!(
                sb.read(&format!("{out}/trials.csv")) == sb.read("kept/trials.csv"),
                "{name}, {threads} threads: prepared folds scored other bits"
            );
            assert!(sb.read(&format!("{out}/folds.csv")) == sb.read("kept/folds.csv"));
            std::fs::remove_dir_all(sb.path().join(&out)).unwrap();
        }
        std::fs::remove_dir_all(sb.path().join("kept")).unwrap();
    }
}

#[test]
fn memory_stays_within_a_small_multiple_of_the_data() {
    let _serial = serial();
    // 200,000 rows x 10 features: 16 MB as an f64 matrix, an 18 MB file.
    let (rows, features) = (200_000, 10);
    let matrix_kib = (8 * rows * features / 1024) as i64;
    let sb = Sandbox::new();
    sb.write("data/big.csv", &numeric_csv(rows, features));
    sb.write("big.toml", BIG_SEARCH);
    // The process itself (code, libraries) before any data.
    let (_, base) = run_measured(&sb, &["models"], &[]);
    let above = |kib: i64| (kib - base) as f64 / matrix_kib as f64;

    let (code, check) = run_measured(&sb, &["check", "big.toml"], &[]);
    assert_eq!(code, 0);
    // Before: a String per cell, 11 times the matrix.
    assert!(
        above(check) < 4.5,
        "check: {:.1} x the matrix",
        above(check)
    );

    let (code, run) = run_measured(
        &sb,
        &["run", "big.toml", "-q", "-j", "2", "--out", "r"],
        &[("HPSEARCH_KEEP_FOLDS_BYTES", "0")],
    );
    assert_eq!(code, 0);
    eprintln!("run {:.2}", above(run));
    assert!(above(run) < 9.0, "run: {:.1} x the matrix", above(run));
    let folds = sb.read("r/folds.csv");
    assert_eq!(folds.len(), 5 + 2 * rows);

    let (code, export) = run_measured(&sb, &["export", "r", "--out", "m.json"], &[]);
    assert_eq!(code, 0);
    assert!(
        above(export) < 5.0,
        "export: {:.1} x the matrix",
        above(export)
    );

    // Predict streams: bounded whatever the rows (before: 10 x the matrix).
    let (code, predict) = run_measured(
        &sb,
        &["predict", "m.json", "data/big.csv", "--out", "p.csv"],
        &[],
    );
    assert_eq!(code, 0);
    assert!(
        above(predict) < 0.5,
        "predict: {:.2} x the matrix",
        above(predict)
    );
    let (code, predict) = run_measured(&sb, &["predict", "m.json", "data/big.csv"], &[]);
    assert_eq!(code, 0);
    assert!(
        above(predict) < 0.5,
        "predict to stdout: {:.2} x the matrix",
        above(predict)
    );
    eprintln!(
        "peak above the process's own {base} KiB, in matrices of {matrix_kib} KiB: check {:.2}, \
         run {:.2}, export {:.2}, predict {:.2}",
        above(check),
        above(run),
        above(export),
        above(predict)
    );
}

#[test]
fn check_reads_a_big_numeric_file_within_twice_the_matrix_and_names_a_late_bad_cell() {
    let _serial = serial();
    // 200,000 rows x 10 features: an 18 MB file, read in several batches.
    let (rows, features) = (200_000, 10);
    let matrix_kib = (8 * rows * features / 1024) as i64;
    let sb = Sandbox::new();
    let text = numeric_csv(rows, features);
    let path = sb.write("data/big.csv", &text);
    sb.write("big.toml", BIG_SEARCH);
    let (_, base) = run_measured(&sb, &["models"], &[]);
    for threads in ["1", "3"] {
        let env = [("RAYON_NUM_THREADS", threads)];
        let (code, check) = run_measured(&sb, &["check", "big.toml"], &env);
        assert_eq!(code, 0);
        // The columns take the matrix (8 bytes a cell); the reader adds a
        // batch or two of the file. Before: 2.7 times the matrix.
        let above = (check - base) as f64 / matrix_kib as f64;
        assert!(
            above < 2.0,
            "check, {threads} threads: {above:.2} x the matrix"
        );
    }
    let out = sb.run(&["check", "big.toml"]);
    out.expect_code(0);
    let sha = hpsearch::data::sha256_file(&path).unwrap();
    assert!(
        out.stdout().contains(&format!("(sha256 {sha})")),
        "{}",
        out.stdout()
    );
    assert!(out
        .stdout()
        .contains(&format!("rows:      {rows}, features: {features}")));

    // A bad cell and a short row near the end (the last batch) are named
    // by line and column, as in a small file, and nothing is written.
    let lines: Vec<&str> = text.lines().collect();
    let bad_line = rows - 5 + 2;
    let mut cells: Vec<String> = lines[bad_line - 1].split(',').map(str::to_owned).collect();
    cells[3] = "1.2.3".to_owned();
    let mut edited = lines.clone();
    let bad = cells.join(",");
    edited[bad_line - 1] = &bad;
    sb.write("data/big.csv", &(edited.join("\n") + "\n"));
    let out = sb.run(&["check", "big.toml"]);
    out.expect_code(2);
    assert!(
        out.stderr().contains(&format!(
            "line {bad_line}, column `x3`: `1.2.3` is not a number, but {} of the column's {rows} \
             non-missing cells are numbers",
            rows - 1
        )),
        "{}",
        out.stderr()
    );
    let short = cells[..features].join(",");
    edited[bad_line - 1] = &short;
    sb.write("data/big.csv", &(edited.join("\n") + "\n"));
    let out = sb.run(&["check", "big.toml"]);
    out.expect_code(2);
    assert!(
        out.stderr().contains(&format!(
            "line {bad_line}: expected {} fields as in the header, found {features}",
            features + 1
        )),
        "{}",
        out.stderr()
    );
    assert!(!sb.path().join("results").exists());
}

/// A file of `rows` rows whose numeric cells take every form a number may
/// have (`1.`, `.5`, `+5`, exponents, padding spaces, 20 digits and more,
/// missing markers), the same bytes every time, and a regression target.
fn number_forms_csv(rows: usize) -> String {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = String::from("x0,x1,x2,x3,y\n");
    for _ in 0..rows {
        let mut y = 0.0;
        for j in 0..4 {
            let r = next();
            // A value in (-8, 8) with up to 17 significant digits.
            let v = ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 16.0;
            let m = (v * 1e6).round() as i64;
            let cell = match (r >> 3) % 14 {
                0 => format!("{}.", v.trunc() as i64),
                1 => format!("{v}").replacen("0.", ".", 1),
                2 if v > 0.0 => format!("+{v}"),
                3 => format!("{m}e-6"),
                4 => format!("{m}E-06"),
                5 => format!("{}e+2", v / 100.0),
                6 => format!(" {v} "),
                7 => format!("{v:.22}"),
                8 => format!("{m}00000000000000000000e-26"),
                9 => ["", "NA", "nan", "?"][(r >> 8) as usize % 4].to_owned(),
                _ => format!("{v}"),
            };
            y += v * (j as f64 - 1.5);
            out.push_str(&cell);
            out.push(',');
        }
        out.push_str(&format!("{y:.6}\n"));
    }
    out
}

#[test]
fn every_number_form_trains_as_the_general_reader_reads_it_and_a_late_bad_one_is_named() {
    let _serial = serial();
    // About 6 MB: two batches of many pieces for the fast reader.
    let rows = 100_000;
    let sb = Sandbox::new();
    let text = number_forms_csv(rows);
    // The same file with the first target cell quoted: the fast reader
    // passes it on, and the general reader (the csv crate, std's parser)
    // reads every cell.
    let first_end = text.find('\n').unwrap_or(0) + 1;
    let second_end = first_end + text[first_end..].find('\n').unwrap_or(0);
    let target_at = text[..second_end].rfind(',').unwrap_or(0) + 1;
    let quoted = format!(
        "{}\"{}\"{}",
        &text[..target_at],
        &text[target_at..second_end],
        &text[second_end..]
    );
    sb.write("data/plain.csv", &text);
    sb.write("data/quoted.csv", &quoted);
    let mut trials = Vec::new();
    for name in ["plain", "quoted"] {
        sb.write(
            &format!("{name}.toml"),
            &format!(
                "[search]\nstrategy = \"grid\"\nseed = 0\n[objective]\nmodel = \"ridge\"\n\
                 metric = \"rmse\"\n[data]\npath = \"data/{name}.csv\"\n\
                 target = \"y\"\nimpute = \"median\"\nscale = \"standard\"\n[cv]\nfolds = 3\n\
                 [space]\nalpha = {{ type = \"float\", values = [0.001, 1.0] }}\n"
            ),
        );
        sb.run(&["run", &format!("{name}.toml"), "-q", "--out", name])
            .expect_code(0);
        let csv = String::from_utf8(sb.read(&format!("{name}/trials.csv"))).unwrap_or_default();
        assert!(csv.lines().count() == 3, "{csv}");
        // The seed and the check column follow the data's hash; the rest
        // is the trial's parameters and scores.
        let scores: Vec<String> = csv
            .lines()
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                cells[2..cells.len() - 1].join(",")
            })
            .collect();
        trials.push(scores);
    }
    // The scores (every fold's, to the last digit) are the same.
    assert_eq!(trials[0], trials[1]);
    assert!(trials[0][1].starts_with("ok,"), "{:?}", trials[0]);

    // A cell std does not read as a finite number, late in the file, is
    // named by line and column, and nothing is written.
    let lines: Vec<&str> = text.lines().collect();
    let bad_line = rows - 3 + 2;
    for bad in [
        "1e", "-.e1", "+", ".", "inf", "1e400", "0x1p3", "1_000", "1 5", "--1",
    ] {
        let mut cells: Vec<&str> = lines[bad_line - 1].split(',').collect();
        cells[2] = bad;
        let row = cells.join(",");
        let mut edited = lines.clone();
        edited[bad_line - 1] = &row;
        sb.write("data/plain.csv", &(edited.join("\n") + "\n"));
        let out = sb.run(&["check", "plain.toml"]);
        out.expect_code(2);
        assert!(
            out.stderr()
                .contains(&format!("line {bad_line}, column `x2`: `{bad}` is not a")),
            "{bad}: {}",
            out.stderr()
        );
    }
    assert!(!sb.path().join("results").exists());
}

/// A missing cell that no fold trains on (in the last time-series fold's
/// validation rows) with no fill is refused before anything is written,
/// naming its line and column, with the same message whether the folds are
/// kept or prepared per trial. (The search file's check refuses it first;
/// `Preprocessor::check_packed`'s own refusal, behind it, has a unit test.)
#[test]
fn a_missing_cell_only_a_validation_fold_holds_is_refused_up_front() {
    let _serial = serial();
    let sb = Sandbox::new();
    let mut lines: Vec<String> = numeric_csv(200, 3).lines().map(str::to_owned).collect();
    // The last data row (line 201): `x1` missing.
    let last = lines.len() - 1;
    let mut cells: Vec<&str> = lines[last].split(',').collect();
    cells[1] = "";
    lines[last] = cells.join(",");
    sb.write("data/gap.csv", &(lines.join("\n") + "\n"));
    sb.write(
        "s.toml",
        "[search]\nstrategy = \"grid\"\n[objective]\nmodel = \"logistic_regression\"\n\
         [data]\npath = \"data/gap.csv\"\n[cv]\nkind = \"time_series\"\nfolds = 3\n\
         [space]\nC = { type = \"float\", values = [0.1, 1.0] }\n",
    );
    let mut messages = Vec::new();
    for budget in [None, Some("0")] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hpsearch"));
        command
            .args(["run", "s.toml", "-q", "--out", "r"])
            .current_dir(sb.path());
        if let Some(b) = budget {
            command.env("HPSEARCH_KEEP_FOLDS_BYTES", b);
        }
        let out = command.output().expect("run hpsearch");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "budget {budget:?}: {stderr}");
        assert!(
            stderr.contains("line 201") && stderr.contains("`x1`"),
            "budget {budget:?}: {stderr}"
        );
        assert!(!sb.path().join("r").exists(), "budget {budget:?}: wrote r/");
        messages.push(stderr);
    }
    assert_eq!(messages[0], messages[1]);
}
