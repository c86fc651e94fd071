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

/// A random search of Branin with `trials` trials (a function: quick).
fn branin(sb: &Sandbox, name: &str, trials: usize) {
    sb.write(
        &format!("{name}.toml"),
        &format!(
            "[search]\nstrategy = \"random\"\ntrials = {trials}\nseed = 0\n\
             [objective]\nfunction = \"branin\"\n\
             [space]\nx0 = {{ type = \"float\", low = -5.0, high = 10.0 }}\n\
             x1 = {{ type = \"float\", low = 0.0, high = 15.0 }}\n"
        ),
    );
    sb.run(&[
        "run",
        &format!("{name}.toml"),
        "-q",
        "--out",
        &format!("results/{name}"),
    ])
    .expect_code(0);
}

#[test]
fn report_of_a_large_search_is_thinned_says_so_and_is_byte_identical() {
    let sb = Sandbox::new();
    branin(&sb, "big", 20_000);
    sb.run(&["report", "results/big", "--out", "r1.html"])
        .expect_code(0);
    sb.run(&["report", "results/big", "--out", "r2.html"])
        .expect_code(0);
    let (one, two) = (sb.read("r1.html"), sb.read("r2.html"));
    assert_eq!(one, two, "two reports of the same folder differ");
    let html = String::from_utf8(one).unwrap();
    let count = |k: &str| html.matches(&format!("data-plot=\"{k}\"")).count();
    assert_eq!(
        (count("history"), count("parallel"), count("slice")),
        (1, 1, 2)
    );
    assert_eq!(count("importance"), 1);
    // Every scatter plot and the parallel coordinates say what they show.
    let notes = html.matches(" of 20,000 trials (").count();
    // In the SVG and in the caption, for history, parallel and two slices.
    assert_eq!(notes, 2 * 4, "{notes}");
    assert!(html.contains("Showing 2,000 of 20,000 trials (the best 200 and"));
    assert!(html.contains("one dot per 4-pixel cell"));
    assert!(html.contains("Fitted to 2,000 of 20,000 successful trials"));
    // Far fewer dots than trials were drawn.
    let dots = html.matches("<circle").count();
    assert!(dots < 20_000, "{dots} dots");
    assert!(html.len() < 8_000_000, "{} bytes", html.len());
}

#[test]
fn a_small_report_is_not_thinned() {
    let sb = Sandbox::new();
    branin(&sb, "small", 300);
    sb.run(&["report", "results/small", "--out", "r.html"])
        .expect_code(0);
    let html = String::from_utf8(sb.read("r.html")).unwrap();
    assert!(!html.contains("Showing "), "thinned a small report");
    // Every successful trial is a dot in the history and in both slices
    // (the best is a ring in the slices).
    assert!(html.matches("<circle").count() >= 300 + 2 * 299);
}

#[test]
fn show_counts_timeouts_apart_from_failures_as_run_does() {
    let sb = Sandbox::new();
    sb.write(
        "prog.sh",
        "case \"$HPSEARCH_PARAM_MODE\" in\n  hang*) sleep 30 ;;\n  fail) exit 3 ;;\nesac\n\
         echo '{\"value\": 1.5}'\n",
    );
    sb.write(
        "s.toml",
        r#"
[search]
strategy = "grid"
[objective]
command = ["sh", "prog.sh"]
direction = "minimize"
timeout = 1
max_failures = 0
inputs = ["prog.sh"]
[space]
mode = { type = "categorical", choices = ["ok", "fail", "hang", "hang2"] }
"#,
    );
    let r = sb.run(&["run", "s.toml", "--out", "r", "-q", "-j", "4"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("4 trials (1 failed, 2 timed out)"),
        "{}",
        r.stdout()
    );
    let s = sb.run(&["show", "r"]);
    s.expect_code(0);
    assert!(
        s.stdout()
            .contains("trials      4 of 4 done, 1 failed, 2 timed out (finished)"),
        "{}",
        s.stdout()
    );
    let j = sb.run(&["show", "r", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&j.stdout()).unwrap();
    assert_eq!(
        (v["trials_failed"].as_u64(), v["trials_timed_out"].as_u64()),
        (Some(1), Some(2))
    );
    let c = sb.run(&["show", "r", "--format", "csv"]);
    let out = c.stdout();
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let head = rdr.headers().unwrap().clone();
    let row = rdr.records().next().unwrap().unwrap();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    assert_eq!(
        (&row[col("trials_failed")], &row[col("trials_timed_out")]),
        ("1", "2")
    );
    // compare and report agree.
    let cmp = sb.run(&["compare", "r", "r"]);
    assert!(
        cmp.stdout().contains("4/4 (1 failed, 2 timed out)"),
        "{}",
        cmp.stdout()
    );
    sb.run(&["report", "r", "--out", "r.html"]).expect_code(0);
    let html = String::from_utf8(sb.read("r.html")).unwrap();
    assert!(html.contains("4 of 4 done, 1 failed, 2 timed out (finished)"));
}

/// Two searches of a 30-parameter function whose bounds all differ.
fn thirty_parameters(sb: &Sandbox) {
    for (name, high) in [("a", "1.0"), ("b", "0.9")] {
        let mut t = String::from(
            "[search]\nstrategy = \"random\"\ntrials = 5\nseed = 0\n\
             [objective]\nfunction = \"rosenbrock\"\n[space]\n",
        );
        for i in 0..30 {
            t.push_str(&format!(
                "x{i} = {{ type = \"float\", low = 0.0, high = {high} }}\n"
            ));
        }
        sb.write(&format!("{name}.toml"), &t);
        sb.run(&[
            "run",
            &format!("{name}.toml"),
            "-q",
            "--out",
            &format!("results/{name}"),
        ])
        .expect_code(0);
    }
}

#[test]
fn compare_starts_with_the_table_and_summarises_space_differences() {
    let sb = Sandbox::new();
    thirty_parameters(&sb);
    let r = sb.run(&["compare", "results/a", "results/b"]);
    r.expect_code(0);
    let out = r.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].trim_start().starts_with("results/a") && lines[1].starts_with("strategy"),
        "{out}"
    );
    let diff = &out[out.find("resolved searches differ in:").unwrap()..];
    assert_eq!(diff.lines().count(), 2, "{diff}");
    assert!(
        diff.contains(
            "space.*.high  differs for 30 parameters: x0, x1, x10, x11, x12, x13 and 24 more"
        ),
        "{diff}"
    );
    // --verbose and JSON keep every key.
    let v = sb.run(&["compare", "results/a", "results/b", "--verbose"]);
    v.expect_code(0);
    let vo = v.stdout();
    let vdiff = &vo[vo.find("resolved searches differ in:").unwrap()..];
    assert_eq!(vdiff.lines().count(), 31, "{vdiff}");
    assert!(vdiff.contains("  space.x29.high  1.0  0.9"), "{vdiff}");
    let j = sb.run(&["compare", "results/a", "results/b", "--format", "json"]);
    let jv: serde_json::Value = serde_json::from_str(&j.stdout()).unwrap();
    assert_eq!(jv["differences"].as_array().map(Vec::len), Some(30));
}

#[test]
fn report_comparison_is_an_html_table() {
    let sb = two_searches();
    sb.run(&["report", "results/a", "results/b", "--out", "r.html"])
        .expect_code(0);
    let html = String::from_utf8(sb.read("r.html")).unwrap();
    let at = html.find("<h2>Comparison</h2>").unwrap();
    let rest = &html[at..];
    assert!(
        rest["<h2>Comparison</h2>".len()..]
            .trim_start()
            .starts_with("<table>"),
        "{}",
        &rest[..200]
    );
    assert!(!html.contains("<pre>"));
    let block = &rest[..rest.find("<h2>Optimisation history").unwrap()];
    for want in [
        "<th>best at 100%</th>",
        "<th>best n_neighbors</th>",
        "<th>a</th><th>b</th>",
        "<h3>The resolved searches differ in</h3>",
        "<tr><th>seed</th><td>0</td><td>1</td></tr>",
    ] {
        assert!(block.contains(want), "{want:?} missing:\n{block}");
    }
}

#[test]
fn report_history_axis_is_not_squashed_by_chance_level_trials() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    // k up to 100 of 100 training rows: the largest k score near chance.
    sb.write(
        "s.toml",
        r#"
[search]
strategy = "random"
trials = 60
seed = 0
[objective]
model = "knn"
metric = "accuracy"
[data]
path = "data/iris.csv"
target = "target"
scale = "standard"
[cv]
folds = 3
[space]
n_neighbors = { type = "int", low = 1, high = 100, log = true }
"#,
    );
    sb.run(&["run", "s.toml", "-q", "--out", "results/knn"])
        .expect_code(0);
    let csv = String::from_utf8(sb.read("results/knn/trials.csv")).unwrap();
    let chance = csv
        .lines()
        .skip(1)
        .filter(|l| {
            l.split(',')
                .nth(3)
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(|v| v < 0.7)
        })
        .count();
    assert!(chance >= 3, "the search has no chance-level trials:\n{csv}");
    sb.run(&["report", "results/knn", "--out", "r.html"])
        .expect_code(0);
    let html = String::from_utf8(sb.read("r.html")).unwrap();
    let history = &html[html.find("data-plot=\"history\"").unwrap()..];
    let history = &history[..history.find("</figure>").unwrap()];
    assert!(
        history.contains("trials with accuracy below ")
            && history.contains("drawn as triangles at the bottom edge"),
        "{history}"
    );
}

/// A program whose value falls from `a + 1` at step 0 to `a + 0.2` at
/// step 4 (no Python needed): maximised, over `a` from 1.0 down, so every
/// trial after the first two is pruned at step 0 with a value (`a + 1`)
/// above every complete trial's final one.
const CURVE_SH: &str = "awk -v a=\"$HPSEARCH_PARAM_A\" 'BEGIN { \
for (t = 0; t < 5; t++) printf \"{\\\"step\\\": %d, \\\"value\\\": %.4f}\\n\", t, a + 1 / (t + 1); \
printf \"{\\\"value\\\": %.4f}\\n\", a + 0.2 }'\n";

const CURVE_SEARCH: &str = r#"
[search]
strategy = "grid"
parallel = 1
PRUNER
[objective]
command = ["sh", "curve.sh"]
direction = "maximize"
inputs = ["curve.sh"]
[space]
a = { type = "float", values = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3] }
"#;

const MEDIAN: &str = "[search.pruner]\nkind = \"median\"\nn_startup_trials = 2\nn_warmup_steps = 0";

#[test]
fn pruned_trials_are_drawn_marked_and_never_best() {
    let sb = Sandbox::new();
    sb.write("curve.sh", CURVE_SH);
    sb.write("p.toml", &CURVE_SEARCH.replace("PRUNER", MEDIAN));
    sb.write("n.toml", &CURVE_SEARCH.replace("PRUNER", ""));
    sb.run(&["run", "p.toml", "--out", "p", "-q"])
        .expect_code(0);
    sb.run(&["run", "n.toml", "--out", "n", "-q"])
        .expect_code(0);
    let csv = String::from_utf8(sb.read("p/trials.csv")).unwrap();
    // Two complete trials, six pruned at step 0: the pruned values
    // (a + 1, up to 1.8) beat the best complete one (1.0 + 0.2).
    assert_eq!(csv.matches(",pruned,").count(), 6, "{csv}");
    assert_eq!(csv.matches("pruned at step 0").count(), 6, "{csv}");
    assert!(
        csv.contains("\n2,") && csv.contains(",pruned,1.8,"),
        "{csv}"
    );

    // show, compare and report agree: the best is complete trial 0.
    let j = sb.run(&["show", "p", "--format", "json"]);
    j.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&j.stdout()).unwrap();
    assert_eq!(v["best"]["trial"], 0, "{}", j.stdout());
    assert_eq!(v["trials_pruned"], 6, "{}", j.stdout());
    let top: Vec<u64> = v["top"]
        .as_array()
        .map(|t| t.iter().filter_map(|r| r["trial"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(top, vec![0, 1], "only complete trials rank: {}", j.stdout());
    let c = sb.run(&["compare", "p", "n", "--format", "csv"]);
    c.expect_code(0);
    let out = c.stdout();
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let head = rdr.headers().unwrap().clone();
    let col = head.iter().position(|h| h == "best_trial").unwrap();
    let first = rdr.records().next().unwrap().unwrap();
    assert_eq!(&first[col], "0", "{out}");

    // The report draws the curves, pruned ones marked; not without a pruner.
    sb.run(&["report", "p", "--out", "p.html"]).expect_code(0);
    let html = String::from_utf8(sb.read("p.html")).unwrap();
    assert_eq!(html.matches("data-plot=\"curves\"").count(), 1);
    let curves = &html[html.find("data-plot=\"curves\"").unwrap()..];
    let curves = &curves[..curves.find("</figure>").unwrap()];
    assert!(
        curves.contains("pruned (a cross where it stopped)"),
        "{curves}"
    );
    assert!(curves.contains("the 6 pruned trials"), "{curves}");
    assert!(curves.contains("best (trial 0)"), "{curves}");
    assert!(html.contains("<h3>Intermediate values</h3>"));
    sb.run(&["report", "n", "--out", "n.html"]).expect_code(0);
    let html = String::from_utf8(sb.read("n.html")).unwrap();
    assert!(!html.contains("data-plot=\"curves\""));
    assert!(!html.contains("Intermediate values"));
}
