//! `show`, `list`, `compare` and `report` on real searches run by the real
//! binary, and their answers to bad input.

mod common;

use common::{two_searches, Sandbox};

#[test]
fn show_text_json_csv_agree_on_the_best_trial() {
    let sb = two_searches();
    let text = sb.run(&["show", "results/a", "--top", "3"]);
    text.expect_code(0);
    let t = text.stdout();
    for want in [
        "strategy    random",
        "trials      24 of 24 done, 0 failed (finished)",
        "root hash   ",
        "data        ",
        "sha256 ",
        "started     20",
        "top 3 trials",
        "fold mean ± std",
    ] {
        assert!(t.contains(want), "{want:?} missing:\n{t}");
    }
    let json = sb.run(&["show", "results/a", "--format", "json", "--top", "3"]);
    json.expect_code(0);
    let j: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    let best = &j["best"];
    assert_eq!(j["top"].as_array().unwrap().len(), 3);
    assert_eq!(best["folds"].as_array().unwrap().len(), 3);
    assert!(
        t.contains(&format!("best        trial {}:", best["trial"])),
        "{t}"
    );
    // The run's own summary names the same best trial.
    let csv = sb.run(&["show", "results/a", "--format", "csv", "--top", "3"]);
    csv.expect_code(0);
    let out = csv.stdout();
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let head = rdr.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    assert_eq!(rows[0][col("trial")], best["trial"].to_string());
    assert_eq!(
        rows[0][col("value")].parse::<f64>().unwrap(),
        best["value"].as_f64().unwrap()
    );
    assert_eq!(
        &rows[0][col("weights")],
        best["params"]["weights"].as_str().unwrap()
    );
    for h in [
        "fold_0",
        "fold_2",
        "n_neighbors",
        "p",
        "root_hash",
        "data_sha256",
    ] {
        assert!(head.iter().any(|x| x == h), "{h}");
    }
    // Same folder, same bytes.
    assert_eq!(sb.run(&["show", "results/a", "--top", "3"]).stdout(), t);
}

#[test]
fn list_shows_every_search_newest_first() {
    let sb = two_searches();
    let r = sb.run(&["list"]);
    r.expect_code(0);
    let out = r.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("name") && lines[0].contains("last change (UTC)"));
    // b ran last.
    assert!(
        lines[1].starts_with("b ") && lines[2].starts_with("a "),
        "{out}"
    );
    assert!(lines[1].contains("random") && lines[1].contains("24/24"));
    assert!(lines[1].contains("finished") && lines[1].contains("accuracy 0."));
    // An explicit folder works too.
    sb.run(&["list", "results"]).expect_code(0);
}

#[test]
fn compare_names_the_seed_and_the_best_so_far() {
    let sb = two_searches();
    let r = sb.run(&["compare", "results/a", "results/b"]);
    r.expect_code(0);
    let out = r.stdout();
    for want in [
        "best at 10%",
        "best at 25%",
        "best at 50%",
        "best at 100%",
        "best reached",
        "resolved searches differ in:",
        "best n_neighbors",
        "best weights",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    // Only the seed differs in the resolved searches.
    let diff = &out[out.find("differ in:").unwrap()..];
    assert_eq!(diff.lines().count(), 2, "{diff}");
    assert!(diff.contains("  seed  0  1"), "{diff}");
    let j = sb.run(&["compare", "results/a", "results/b", "--format", "json"]);
    j.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&j.stdout()).unwrap();
    assert_eq!(v["columns"].as_array().unwrap().len(), 2);
    assert_eq!(v["differences"][0][0], "seed");
    // Same folders, same bytes.
    assert_eq!(sb.run(&["compare", "results/a", "results/b"]).stdout(), out);
    // CSV: a row a search, the differing seed as a column.
    let c = sb.run(&["compare", "results/a", "results/b", "--format", "csv"]);
    c.expect_code(0);
    let csv = c.stdout();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("search,strategy,metric,"), "{csv}");
    assert!(
        lines[0].ends_with(",n_neighbors,p,weights,search.seed"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with("results/a,") && lines[1].ends_with(",0"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("results/b,") && lines[2].ends_with(",1"),
        "{csv}"
    );
}

#[test]
fn report_is_self_contained_and_byte_identical() {
    let sb = two_searches();
    sb.run(&["report", "results/a", "results/b", "--out", "r1.html"])
        .expect_code(0);
    sb.run(&["report", "results/a", "results/b", "--out", "r2.html"])
        .expect_code(0);
    let (one, two) = (sb.read("r1.html"), sb.read("r2.html"));
    assert_eq!(one, two, "two reports of the same folders differ");
    let html = String::from_utf8(one).unwrap();
    let count = |k: &str| html.matches(&format!("data-plot=\"{k}\"")).count();
    assert_eq!(count("history"), 1);
    assert_eq!(count("parallel"), 2);
    assert_eq!(count("slice"), 6);
    assert_eq!(count("folds"), 2);
    assert_eq!(count("importance"), 2);
    assert!(html.contains("n_neighbors (log scale)"));
    // The SVG namespace is a name, not an address anything is fetched from.
    let html = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for banned in [
        "<script", "http://", "https://", "<link", "@import", "url(", "src=",
    ] {
        assert!(!html.contains(banned), "the report references {banned}");
    }
}

#[test]
fn not_a_results_folder_exits_2_and_says_where() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path().join("empty")).unwrap();
    for args in [
        vec!["show", "empty"],
        vec!["compare", "empty", "empty"],
        vec!["report", "empty", "--out", "r.html"],
        vec!["show", "missing"],
    ] {
        let r = sb.run(&args);
        r.expect_code(2);
        let e = r.stderr();
        assert!(
            e.contains("not an hpsearch results folder") && e.contains(args[1]),
            "{args:?}: {e}"
        );
    }
    assert!(!sb.path().join("r.html").exists());
    let r = sb.run(&["list", "missing"]);
    r.expect_code(2);
    assert!(r.stderr().contains("missing"), "{}", r.stderr());
    // compare needs two folders.
    sb.run(&["compare", "empty"]).expect_code(2);
}

#[test]
fn a_damaged_journal_is_refused_with_its_line() {
    let sb = two_searches();
    let p = sb.path().join("results/a/trials.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Change a value on line 3.
    let f: Vec<&str> = lines[2].split(',').collect();
    let mut g: Vec<String> = f.iter().map(|s| s.to_string()).collect();
    g[3] = "0.1".into();
    lines[2] = g.join(",");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let r = sb.run(&["show", "results/a"]);
    r.expect_code(2);
    assert!(r.stderr().contains("line 3"), "{}", r.stderr());
    // list keeps going and marks it.
    let l = sb.run(&["list"]);
    l.expect_code(0);
    assert!(l.stdout().contains("damaged"), "{}", l.stdout());
}
