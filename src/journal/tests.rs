#[test]
fn a_pruned_row_says_at_which_step_it_stopped() {
    use crate::objective::{Evaluation, Status};
    let pruned = |error: Option<&str>| Evaluation {
        status: Status::Pruned,
        value: 0.5,
        folds: Vec::new(),
        error: error.map(str::to_string),
        extra: Vec::new(),
        steps: vec![(0, 0.9), (3, 0.5)],
    };
    assert_eq!(super::error_text(&pruned(None)), "pruned at step 3");
    assert_eq!(super::error_text(&pruned(Some(""))), "pruned at step 3");
    // An objective's own words are kept.
    assert_eq!(
        super::error_text(&pruned(Some("pruned at step 3"))),
        "pruned at step 3"
    );
    assert_eq!(super::error_text(&pruned(Some("why"))), "why");
    // Other rows are as before.
    let ok = Evaluation::ok(1.0, Vec::new());
    assert_eq!(super::error_text(&ok), "");
    let failed = Evaluation::failed("boom".into(), Vec::new());
    assert_eq!(super::error_text(&failed), "boom");
}

use super::*;

#[test]
fn steps_round_trip_bit_for_bit() {
    let steps = vec![
        (0, 0.1),
        (3, 1e-300),
        (7, -2.5e17),
        (9, 0.30000000000000004),
    ];
    let text = steps_text(&steps);
    assert_eq!(
        text,
        "[[0,0.1],[3,1e-300],[7,-2.5e17],[9,0.30000000000000004]]"
    );
    let back = parse_steps(&text).unwrap();
    assert_eq!(back.len(), steps.len());
    for (a, b) in back.iter().zip(&steps) {
        assert_eq!(a.0, b.0);
        assert_eq!(a.1.to_bits(), b.1.to_bits());
    }
    assert_eq!(parse_steps("[]"), Some(Vec::new()));
    for bad in ["", "[[1]]", "[[x,1]]", "[[1,NaN]]", "[[1,2]", "[[-1,2]]"] {
        assert_eq!(parse_steps(bad), None, "{bad}");
    }
}

#[test]
fn utc_format_shape() {
    let s = utc_now();
    assert_eq!(s.len(), 20);
    assert!(s.starts_with("20") && s.ends_with('Z'));
}

#[test]
fn csv_line_quotes_commas() {
    let l = csv_line(&["a,b".into(), "c".into()]);
    assert_eq!(l, b"\"a,b\",c\n");
}

#[test]
fn torn_last_line_is_dropped_and_damage_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("trials.csv");
    let cols = Columns {
        params: vec!["x".into()],
        n_folds: 0,
        extra: Vec::new(),
        steps: false,
    };
    let row = |prev: &str, f: &[&str]| {
        let fields: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        let c = chain_next(prev, &fields);
        (format!("{},{c}\n", f.join(",")), c)
    };
    let (r0, c0) = row("root", &["0", "5", "ok", "1.5", "2", ""]);
    let (r1, _) = row(&c0, &["1", "6", "ok", "1", "1", ""]);
    let head = "trial,seed,status,value,x,error,check\n";
    fs::write(&p, format!("{head}{r0}{}", &r1[..9])).unwrap();
    let rows = read_rows(&p, &cols, "root").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].value, Some(1.5));
    fs::write(&p, format!("{head}{r0}{r1}")).unwrap();
    assert_eq!(read_rows(&p, &cols, "root").unwrap().len(), 2);
    // Another root: the first row's check fails.
    let e = read_rows(&p, &cols, "other").unwrap_err().to_string();
    assert!(e.contains("line 2"), "{e}");
    // A changed value.
    fs::write(&p, format!("{head}{}{r1}", r0.replace("1.5", "1.6"))).unwrap();
    let e = read_rows(&p, &cols, "root").unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("check"), "{e}");
    // A deleted row.
    fs::write(&p, format!("{head}{r1}")).unwrap();
    let e = read_rows(&p, &cols, "root").unwrap_err().to_string();
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn resume_truncates_only_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv");
    fs::write(&p, "a\nb\n").unwrap();
    // Read-only: any set_len fails, so none may be called without a
    // torn tail.
    let ro = File::open(&p).unwrap();
    drop_torn_tail(&ro, &p, 4, 4).unwrap();
    assert!(drop_torn_tail(&ro, &p, 5, 4).is_err());
    fs::write(&p, "a\nb\nc").unwrap();
    assert_eq!(line_lengths(&p).unwrap(), (5, 4));
    let rw = OpenOptions::new().append(true).open(&p).unwrap();
    drop_torn_tail(&rw, &p, 5, 4).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"a\nb\n");
    // A torn line longer than a read block, and a file with no newline.
    let long = format!("x\n{}", "y".repeat(10_000));
    fs::write(&p, &long).unwrap();
    assert_eq!(line_lengths(&p).unwrap(), (long.len() as u64, 2));
    fs::write(&p, "zz").unwrap();
    assert_eq!(line_lengths(&p).unwrap(), (2, 0));
}

#[test]
fn manifest_check_covers_the_body() {
    let body = "format = 2\nseed = 1\n";
    let text = format!("# c\n# d\n{CHECK_KEY}{}\"\n{body}", body_check(body));
    let (check, b) = split_check(&text).unwrap();
    assert_eq!(b, body);
    assert_eq!(check, body_check(body));
    assert_ne!(body_check("format = 2\nseed = 2\n"), check);
    // A key before the check line: not a manifest this version wrote.
    assert!(split_check("format = 2\ncheck = \"ab\"\n").is_none());
    assert!(split_check("format = 2\n").is_none());
}

#[test]
fn search_diffs_name_changed_added_and_removed_keys() {
    let a: toml::Value = toml::from_str(
        "seed = 0\nwindow = 1\n[space.C]\nhigh = 10.0\nlow = 1.0\n[space.k]\nhigh = 3\n",
    )
    .unwrap();
    let b: toml::Value = toml::from_str(
        "seed = 1\nwindow = 1\n[space.C]\nhigh = 100.0\nlow = 1.0\n[space.g]\nhigh = 2\n",
    )
    .unwrap();
    assert_eq!(
        search_diffs(&a, &b),
        [
            "search.seed: 0 → 1",
            "space.C.high: 10.0 → 100.0",
            "space.g: (none) → { high = 2 }",
            "space.k: { high = 3 } → (none)",
        ]
    );
    assert!(search_diffs(&a, &a).is_empty());
}

/// A write the writer cannot make stops the run with the file's path,
/// at the next commit or sync, and nothing after it is written.
#[test]
fn a_failed_write_is_reported_with_its_path() {
    for bad in ["trials.csv", "timings.csv"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("trials.csv"), "h\n").unwrap();
        fs::write(d.join("timings.csv"), "h\n").unwrap();
        let open = |name: &str| {
            if name == bad {
                // Read-only: every write fails.
                File::open(d.join(name)).unwrap()
            } else {
                OpenOptions::new().append(true).open(d.join(name)).unwrap()
            }
        };
        let manifest = Manifest {
            format: FORMAT,
            hpsearch_version: "t".into(),
            root_hash: "r".into(),
            search_file: "s".into(),
            budget: 2,
            rows: 0,
            last_check: "r".into(),
            started: "t".into(),
            finished: None,
            host: "h".into(),
            data: Vec::new(),
            inputs: Vec::new(),
            search: toml::Value::Table(Default::default()),
        };
        let w = Writer::start(d, open("trials.csv"), open("timings.csv"), 2, 2, manifest).unwrap();
        w.hand(&mut b"row\n".to_vec(), &mut b"t\n".to_vec(), 1, "c")
            .unwrap();
        let e = w.wait(1).unwrap_err().to_string();
        assert!(e.contains(bad), "{bad}: {e}");
        let e = w
            .hand(&mut b"row\n".to_vec(), &mut b"t\n".to_vec(), 2, "d")
            .unwrap_err()
            .to_string();
        assert!(e.contains(bad), "{bad}: {e}");
        assert_eq!(fs::read(d.join("trials.csv")).unwrap(), b"h\n");
        assert!(!d.join("manifest.toml").exists());
    }
}
