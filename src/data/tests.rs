use super::*;
use std::io::Write;

fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("d.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path
}

fn load_text(text: &str, target: &str, task: Option<Task>) -> Result<Dataset, DataError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, text);
    load(&path, target, task)
}

fn err_text(text: &str, target: &str, task: Option<Task>) -> String {
    match load_text(text, target, task) {
        Err(DataError::Invalid { message, .. }) => message,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn missing_file_is_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.csv");
    let e = load(&path, "y", None).unwrap_err();
    assert!(matches!(e, DataError::Io { .. }));
    assert!(e.to_string().contains("absent.csv"), "{e}");
    assert!(matches!(sha256_file(&path), Err(DataError::Io { .. })));
}

#[test]
fn empty_file_is_rejected() {
    let m = err_text("", "y", None);
    assert!(m.contains("empty"), "{m}");
}

#[test]
fn header_only_has_no_data_rows() {
    let m = err_text("a,y\n", "y", None);
    assert!(m.contains("no data rows"), "{m}");
}

#[test]
fn duplicate_column_names_are_rejected() {
    let m = err_text("a,b,a,y\n1,2,3,0\n", "y", None);
    assert!(m.contains("`a` appears twice"), "{m}");
    assert!(m.contains("columns 1 and 3"), "{m}");
}

#[test]
fn unnamed_column_is_rejected() {
    let m = err_text(",a,y\n0,1,0\n", "y", None);
    assert!(m.contains("column 1 has no name"), "{m}");
}

#[test]
fn missing_target_column_lists_columns() {
    let m = err_text("a,b,label\n1,2,0\n", "target", None);
    assert!(m.contains("`target` is not in the header"), "{m}");
    assert!(m.contains("`a`, `b`, `label`"), "{m}");
}

#[test]
fn ragged_row_names_line_and_counts() {
    let m = err_text("a,b,y\n1,2,0\n1,2,1\n3,1\n", "y", None);
    assert!(m.starts_with("line 4:"), "{m}");
    assert!(m.contains("expected 3 fields"), "{m}");
    assert!(m.contains("found 2"), "{m}");
}

#[test]
fn missing_target_value_names_line() {
    let m = err_text("a,y\n1,0\n2,1\n3,NA\n", "y", None);
    assert!(m.starts_with("line 4: column `y`"), "{m}");
    let m = err_text("a,y\n1,0\n2,\n", "y", None);
    assert!(m.starts_with("line 3:"), "{m}");
    assert!(m.contains("empty cell"), "{m}");
}

#[test]
fn non_numeric_regression_target_names_line_and_value() {
    let m = err_text("a,y\n1,0.5\n2,1.5\n3,high\n", "y", Some(Task::Regression));
    assert!(m.starts_with("line 4:"), "{m}");
    assert!(m.contains("`high`"), "{m}");
    assert!(m.contains("regression"), "{m}");
}

#[test]
fn one_class_is_rejected() {
    let m = err_text("a,y\n1,cat\n2,cat\n", "y", None);
    assert!(m.contains("only one class (`cat`)"), "{m}");
    let m = err_text("a,y\n1,3\n2,3\n", "y", Some(Task::Classification));
    assert!(m.contains("only one class"), "{m}");
}

#[test]
fn blank_line_between_rows_is_rejected_with_its_line() {
    let m = err_text("a,y\n1,0\n\n2,1\n", "y", None);
    assert!(m.starts_with("line 3: blank line"), "{m}");
    let m = err_text("a,y\r\n1,0\r\n\r\n2,1\r\n", "y", None);
    assert!(m.starts_with("line 3: blank line"), "{m}");
    let m = err_text("\na,y\n1,0\n2,1\n", "y", None);
    assert!(m.starts_with("line 1: blank line"), "{m}");
}

#[test]
fn line_break_inside_quoted_cell_is_rejected() {
    let m = err_text("a,y\n\"x\ny\",0\n2,1\n", "y", None);
    assert!(m.starts_with("line 2:"), "{m}");
    assert!(
        m.contains("quoted cell in this row contains a line break"),
        "{m}"
    );
}

#[test]
fn non_utf8_file_is_rejected_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.csv");
    std::fs::write(&path, b"a,y\n1,0\ncaf\xe9,1\n").unwrap();
    let e = load(&path, "y", None).unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("latin1.csv: line 3:"), "{shown}");
    assert!(shown.contains("not valid UTF-8"), "{shown}");
}

#[test]
fn trailing_blank_lines_crlf_and_bom_are_fine() {
    let ds = load_text("\u{feff}a,y\r\n1,0\r\n2,1\r\n\r\n\n", "y", None).unwrap();
    assert_eq!(ds.feature_names, vec!["a"]);
    assert_eq!(ds.n_rows, 2);
    assert_eq!(ds.columns[0], Column::numbers([Some(1.0), Some(2.0)]));
}

#[test]
fn missing_markers_and_text_features() {
    let text = "num, color ,y\n1.5, red ,a\nNA,blue,b\n?,,a\n-2e1,null,b\nnan,N/A,a\nNaN,red,b\n";
    let ds = load_text(text, "y", None).unwrap();
    assert_eq!(ds.feature_names, vec!["num", "color"]);
    assert_eq!(
        ds.columns[0],
        Column::numbers([Some(1.5), None, None, Some(-20.0), None, None])
    );
    assert_eq!(
        ds.columns[1],
        Column::Text(vec![
            Some("red".into()),
            Some("blue".into()),
            None,
            None,
            None,
            Some("red".into())
        ])
    );
    // Row 1 (line 3), column `num` is the first missing value.
    assert_eq!(ds.first_missing(), Some((3, "num".to_owned())));
    assert_eq!(ds.line(0), 2);
}

#[test]
fn first_missing_scans_rows_then_columns() {
    let ds = load_text("a,b,y\n1,2,0\n3,,1\n,4,0\n", "y", None).unwrap();
    assert_eq!(ds.first_missing(), Some((3, "b".to_owned())));
    let ds = load_text("a,b,y\n1,2,0\n3,4,1\n", "y", None).unwrap();
    assert_eq!(ds.first_missing(), None);
}

#[test]
fn a_column_at_most_half_numbers_is_text() {
    let ds = load_text("a,y\n1,0\ninf,1\n", "y", None).unwrap();
    assert!(matches!(ds.columns[0], Column::Text(_)));
    let ds = load_text("a,y\n1,0\nx,1\n2,0\ny,1\n", "y", None).unwrap();
    assert!(matches!(ds.columns[0], Column::Text(_)));
}

#[test]
fn a_mostly_numeric_column_with_a_non_number_is_an_error() {
    let cases = [
        ("inf", "infinity"),
        ("-Infinity", "infinity"),
        ("1e400", "beyond the range"),
        ("0x1p3", "hexadecimal"),
        ("1_000", "digit separators"),
        ("\"1,000\"", "digit separators"),
        ("a\0b", "control character"),
        ("NAN", "NaN is not a value"),
        ("high", "`high` is not a number, but"),
        ("+€", "`+€` is not a number, but"),
    ];
    for (cell, why) in cases {
        let m = err_text(&format!("a,y\n1,0\n2,1\n{cell},0\n3,1\n"), "y", None);
        assert!(m.starts_with("line 4, column `a`: `"), "{cell}: {m}");
        assert!(!m.contains("(it is not a number)"), "{m}");
        assert!(m.contains(why), "{cell}: {m}");
        assert!(m.contains("3 of the column's 4 non-missing cells"), "{m}");
        assert!(m.contains("[data] text = [\"a\"]"), "{m}");
    }
    // The NUL is shown escaped, not written raw to the terminal.
    let m = err_text("a,y\n1,0\n2,1\n\0,0\n", "y", None);
    assert!(m.contains("`\\0`"), "{m}");
}

#[test]
fn plus_sign_and_plain_decimals_are_numbers() {
    let ds = load_text("a,y\n+5,0\n.5,1\n-2e3,0\n5.,1\n", "y", None).unwrap();
    assert_eq!(
        ds.columns[0],
        Column::numbers([Some(5.0), Some(0.5), Some(-2000.0), Some(5.0)])
    );
}

#[test]
fn text_option_reads_a_column_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "zip,n,y\n01234,1,0\n02139,2,1\nK1A0B1,3,0\n");
    let text = vec!["zip".to_owned(), "n".to_owned()];
    let options = ReadOptions {
        text: &text,
        task_from: None,
    };
    let ds = load_with(&path, "y", None, &options).unwrap();
    assert_eq!(
        ds.columns[0],
        Column::Text(vec![
            Some("01234".into()),
            Some("02139".into()),
            Some("K1A0B1".into())
        ])
    );
    assert!(matches!(ds.columns[1], Column::Text(_)));
    assert!(load(&path, "y", None).is_err());
}

#[test]
fn a_mostly_numeric_inferred_target_with_a_non_number_is_an_error() {
    let m = err_text("a,y\n1,0.5\n2,1.5\n3,inf\n", "y", None);
    assert!(m.starts_with("line 4: column `y`: target `inf`"), "{m}");
    assert!(m.contains("task = \"classification\""), "{m}");
    // Asked for classification: the labels are text.
    let ds = load_text(
        "a,y\n1,0.5\n2,1.5\n3,inf\n",
        "y",
        Some(Task::Classification),
    );
    assert_eq!(ds.unwrap().target.n_classes(), 3);
}

#[test]
fn regression_error_names_what_set_the_task() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a,y\n1,x\n2,y\n");
    let options = ReadOptions {
        text: &[],
        task_from: Some("metric rmse is for regression"),
    };
    let e = load_with(&path, "y", Some(Task::Regression), &options).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("the task is regression (metric rmse is for regression)"),
        "{m}"
    );
}

#[test]
fn predict_rows_are_read_with_the_trained_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "zip,n,extra\n01234,1,a\n02139,inf,b\n");
    let trained = [("zip", Kind::Text), ("n", Kind::Numeric)];
    let m = load_features_as(&path, &trained).unwrap_err().to_string();
    assert!(m.contains("line 3, column `n`: `inf`"), "{m}");
    assert!(m.contains("numeric when the model was trained"), "{m}");
    let path = write(&dir, "zip,n,extra\n01234,1,a\n02139,2,1\n");
    let ds = load_features_as(&path, &trained).unwrap();
    assert!(matches!(ds.columns[0], Column::Text(_)));
    assert!(matches!(ds.columns[1], Column::Numeric(_)));
    assert!(matches!(ds.columns[2], Column::Text(_)));
}

#[cfg(unix)]
#[test]
fn special_files_are_refused() {
    let e = load(Path::new("/dev/zero"), "y", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("a character device, not a regular file"), "{e}");
    let e = load(Path::new("/tmp"), "y", None).unwrap_err().to_string();
    assert!(e.contains("a folder, not a regular file"), "{e}");
}

#[test]
fn numeric_class_labels_sort_numerically() {
    let ds = load_text("a,y\n1,2\n2,10\n3,1\n4,2\n", "y", None).unwrap();
    assert_eq!(
        ds.target,
        Target::Classes {
            labels: vec!["1".into(), "2".into(), "10".into()],
            y: vec![1, 2, 0, 1]
        }
    );
}

#[test]
fn text_class_labels_sort_lexicographically() {
    let ds = load_text("a,y\n1,dog\n2,cat\n3, bird \n4,cat\n", "y", None).unwrap();
    assert_eq!(
        ds.target,
        Target::Classes {
            labels: vec!["bird".into(), "cat".into(), "dog".into()],
            y: vec![2, 1, 0, 1]
        }
    );
}

#[test]
fn explicit_classification_of_fractional_numbers() {
    let ds = load_text(
        "a,y\n1,0.5\n2,1.5\n3,0.5\n",
        "y",
        Some(Task::Classification),
    )
    .unwrap();
    assert_eq!(
        ds.target,
        Target::Classes {
            labels: vec!["0.5".into(), "1.5".into()],
            y: vec![0, 1, 0]
        }
    );
}

#[test]
fn inference_rule() {
    // Whole numbers, 2 distinct values: classification.
    let ds = load_text("a,y\n1,0\n2,1\n3,1\n", "y", None).unwrap();
    assert_eq!(ds.target.task(), Task::Classification);
    // A fraction: regression.
    let ds = load_text("a,y\n1,0\n2,1.5\n3,1\n", "y", None).unwrap();
    assert_eq!(ds.target, Target::Values(vec![0.0, 1.5, 1.0]));
    // 20 distinct whole numbers: classification; 21: regression.
    let mut text = String::from("a,y\n");
    for i in 0..20 {
        text.push_str(&format!("{i},{i}\n"));
    }
    let ds = load_text(&text, "y", None).unwrap();
    assert_eq!(ds.target.n_classes(), 20);
    text.push_str("20,20\n");
    let ds = load_text(&text, "y", None).unwrap();
    assert_eq!(ds.target.task(), Task::Regression);
    // Any non-number: classification.
    let ds = load_text("a,y\n1,0.5\n2,x\n", "y", None).unwrap();
    assert_eq!(ds.target.n_classes(), 2);
    // Whole numbers but regression asked for: values.
    let ds = load_text("a,y\n1,0\n2,1\n", "y", Some(Task::Regression)).unwrap();
    assert_eq!(ds.target, Target::Values(vec![0.0, 1.0]));
}

#[test]
fn sha256_matches_known_vector() {
    // SHA-256("abc") from FIPS 180-2.
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "abc");
    assert_eq!(sha256_file(&path).unwrap(), sha256_hex(b"abc"));
}

fn shipped_sums() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    std::fs::read_to_string(dir.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some((
                parts.nth(1)?.to_owned(),
                l.split_whitespace().next()?.to_owned(),
            ))
        })
        .collect()
}

#[test]
fn shipped_datasets_load_with_expected_shapes_and_hashes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let sums = shipped_sums();
    let cases = [
        ("breast_cancer.csv", 569, 30, Some(2)),
        ("wine.csv", 178, 13, Some(3)),
        ("diabetes.csv", 442, 10, None),
        ("digits.csv", 1797, 64, Some(10)),
        ("iris.csv", 150, 4, Some(3)),
    ];
    for (file, rows, features, classes) in cases {
        let ds = load(&dir.join(file), "target", None).unwrap();
        assert_eq!(ds.n_rows, rows, "{file}");
        assert_eq!(ds.feature_names.len(), features, "{file}");
        assert_eq!(ds.columns.len(), features, "{file}");
        assert!(ds
            .columns
            .iter()
            .all(|c| matches!(c, Column::Numeric(_)) && c.len() == rows));
        assert_eq!(ds.first_missing(), None, "{file}");
        match (classes, &ds.target) {
            (Some(k), Target::Classes { labels, y }) => {
                assert_eq!(labels.len(), k, "{file}");
                assert_eq!(y.len(), rows);
            }
            (None, Target::Values(v)) => assert_eq!(v.len(), rows),
            (_, t) => panic!("{file}: unexpected target {t:?}"),
        }
        assert_eq!(Some(&ds.sha256), sums.get(file), "{file}");
    }
}
