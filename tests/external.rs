//! External objectives the CLI can run: `[objective] external` with a
//! `command` (the program that computes it) and result columns. The same
//! search file gives the same trials.csv, byte for byte, whether its code
//! is a program run by `hpsearch run` or a closure given through
//! `engine::Search::with_fn`.

mod common;

use std::path::Path;

use common::Sandbox;
use hpsearch::engine::{RunOptions, Search, Trial};
use hpsearch::objective::Evaluation;
use hpsearch::value::Params;

/// The objective as a program: a value from its typed parameters, the
/// declared column `half`, and two other keys (`tag`, a string, and
/// `seed`, from the trial's seed) for the `extra` column. Only `+ - * /`,
/// so Python and Rust give the same bits.
const PROG: &str = r#"
import json, os
p = json.load(open(os.environ["HPSEARCH_PARAMS"]))
x, n, kind = p["x"], p["n"], p["kind"]
v = (x - 1.0) * (x - 1.0) + 0.25 * n + (0.5 if kind == "a" else 0.0)
seed = int(os.environ["HPSEARCH_SEED"])
print(json.dumps({"value": v, "half": v / 2, "tag": kind + str(n), "seed": seed % 1000}))
"#;

/// The same objective in Rust, returning the same result map.
fn quad(columns: Vec<String>) -> impl Fn(&Params, &Trial<'_>) -> Evaluation + Send + Sync {
    move |p: &Params, t: &Trial<'_>| {
        let x = p["x"].as_f64().unwrap_or(f64::NAN);
        let n = p["n"].as_i64().unwrap_or(0);
        let kind = p["kind"].as_str().unwrap_or("");
        let v = (x - 1.0) * (x - 1.0) + 0.25 * n as f64 + if kind == "a" { 0.5 } else { 0.0 };
        let mut result = serde_json::Map::new();
        result.insert("value".into(), serde_json::json!(v));
        result.insert("half".into(), serde_json::json!(v / 2.0));
        result.insert("tag".into(), serde_json::json!(format!("{kind}{n}")));
        result.insert("seed".into(), serde_json::json!(t.seed() % 1000));
        Evaluation::from_result(&columns, &result)
    }
}

/// An external search whose `[objective]` ends with `extra` lines; a
/// strategy that learns (TPE after 4 random trials) with a window of 3.
fn search_text(extra: &str) -> String {
    format!(
        r#"
[search]
strategy = "tpe"
trials = 14
seed = 7
parallel = 3
[search.tpe]
n_startup = 4
[objective]
external = "quad"
version = "1"
{extra}
[space]
kind = {{ type = "categorical", choices = ["a", "b"] }}
n = {{ type = "int", low = 0, high = 5 }}
x = {{ type = "float", low = -2.0, high = 4.0 }}
"#
    )
}

const WITH_COMMAND: &str = "command = [\"python3\", \"prog.py\"]\ncolumns = [\"half\"]";

fn run_closure(file: &Path, dir: &Path, threads: usize) -> Vec<u8> {
    let search = Search::from_file(file).unwrap();
    let columns = search.spec().result_columns().unwrap_or_default().to_vec();
    let search = search.with_fn(quad(columns)).unwrap();
    let options = RunOptions {
        threads: Some(threads),
        ..Default::default()
    };
    search.run(dir, options).unwrap();
    std::fs::read(dir.join("trials.csv")).unwrap()
}

#[test]
fn a_command_run_by_the_cli_and_a_closure_give_the_same_bytes() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    let file = sb.write("x.toml", &search_text(WITH_COMMAND));
    let mut csvs = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("cli{threads}");
        sb.run(&[
            "run",
            "x.toml",
            "--out",
            &out,
            "--threads",
            threads,
            "--quiet",
        ])
        .expect_code(0);
        csvs.push((out.clone(), sb.read(&format!("{out}/trials.csv"))));
        // The program ran in its trial's folder.
        assert!(sb.path().join(&out).join("trials/0/stdout.log").is_file());
    }
    for threads in [1, 2] {
        let out = format!("lib{threads}");
        csvs.push((
            out.clone(),
            run_closure(&file, &sb.path().join(&out), threads),
        ));
    }
    let (_, first) = &csvs[0];
    for (name, csv) in &csvs[1..] {
        assert!(
            csv == first,
            "{name} differs from cli1:\n{}\n---\n{}",
            String::from_utf8_lossy(csv),
            String::from_utf8_lossy(first)
        );
    }
    let text = String::from_utf8_lossy(first);
    let mut lines = text.lines();
    // The command layout: the declared column, then `extra`.
    assert_eq!(
        lines.next(),
        Some("trial,seed,status,value,kind,n,x,half,extra,error,check")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 14);
    for row in &rows {
        assert!(row.contains(",ok,"), "{row}");
        assert!(row.contains(r#""{""seed"":"#), "{row}");
        assert!(row.contains(r#"""tag"":""#), "{row}");
    }
    // Replay runs the file's command, here for a folder a closure wrote,
    // and export refuses (no model); neither writes into the folder.
    let before = sb.snapshot("lib1");
    let r = sb.run(&["replay", "lib1"]);
    r.expect_code(0);
    assert!(r.stdout().contains("identical"), "{}", r.stdout());
    sb.run(&["export", "lib1", "--out", "m.json"])
        .expect_code(2);
    assert!(!sb.path().join("m.json").exists());
    assert_eq!(sb.snapshot("lib1"), before);
}

#[test]
fn the_command_is_not_part_of_the_root_hash_the_version_and_columns_are() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    let file = sb.path().join("x.toml");
    let root = |extra: &str| {
        Search::from_toml(&search_text(extra), &file)
            .unwrap_or_else(|e| panic!("{extra}: {e}"))
            .root()
    };
    // Pinned: an external search without columns keeps the root hash it
    // had before `columns` and `command` were accepted beside `external`.
    assert_eq!(
        root(""),
        "9abf3ecee88b130db8904ee30ae5f6cf0b0e14f251bb73a934542928d058f20e"
    );
    let with = root(WITH_COMMAND);
    for same in [
        "columns = [\"half\"]",
        "command = [\"python3\", \"other.py\", \"--fast\"]\ncolumns = [\"half\"]",
        "command = [\"sh\", \"-c\", \"exit 1\"]\ncolumns = [\"half\"]",
        &format!(
            "{WITH_COMMAND}\ntimeout = 30.0\nmax_failures = 3\nargs = false\nprune_grace = 2.0"
        ),
    ] {
        assert_eq!(root(same), with, "{same}");
    }
    for other in [
        "",
        "columns = [\"half\", \"tag\"]",
        "columns = [\"tag\"]",
        "columns = [\"half\"]\nvolatile = [\"seed\"]",
        "columns = [\"half\"]\nmetric = \"loss\"",
    ] {
        assert_ne!(root(other), with, "{other}");
    }
    let v2 = Search::from_toml(
        &search_text(WITH_COMMAND).replace("version = \"1\"", "version = \"2\""),
        &file,
    )
    .unwrap()
    .root();
    assert_ne!(v2, with);
    // `check` shows the command, and says it is not hashed.
    sb.write("x.toml", &search_text(WITH_COMMAND));
    let c = sb.run(&["check", "x.toml"]);
    c.expect_code(0);
    assert!(
        c.stdout().contains(&format!("root hash: {with}")),
        "{}",
        c.stdout()
    );
    assert!(
        c.stdout()
            .contains("command:   [\"python3\", \"prog.py\"] (runs the external objective; not part of the root hash)"),
        "{}",
        c.stdout()
    );
    // A folder the command wrote is the same search for another command
    // and time-out: it is finished, not refused.
    sb.run(&["run", "x.toml", "--out", "r", "--quiet"])
        .expect_code(0);
    let before = sb.snapshot("r");
    sb.write(
        "x.toml",
        &search_text(
            "command = [\"python3\", \"./prog.py\"]\ncolumns = [\"half\"]\ntimeout = 60.0",
        ),
    );
    let again = sb.run(&["run", "x.toml", "--out", "r", "--quiet"]);
    again.expect_code(0);
    assert!(
        again.stderr().contains("already finished"),
        "{}",
        again.stderr()
    );
    assert_eq!(sb.snapshot("r"), before);
    // Another version is another search: refused, nothing written.
    sb.write(
        "x.toml",
        &search_text(WITH_COMMAND).replace("version = \"1\"", "version = \"2\""),
    );
    sb.run(&["run", "x.toml", "--out", "r", "--quiet"])
        .expect_code(2);
    assert_eq!(sb.snapshot("r"), before);
}

#[test]
fn inputs_beside_an_external_objective_are_refused_naming_the_key() {
    let sb = Sandbox::new();
    sb.write("prog.py", PROG);
    for extra in [
        "command = [\"python3\", \"prog.py\"]\ninputs = [\"prog.py\"]",
        "inputs = [\"prog.py\"]",
    ] {
        sb.write("x.toml", &search_text(extra));
        for args in [&["check", "x.toml"][..], &["run", "x.toml", "--out", "r"]] {
            let r = sb.run(args);
            r.expect_code(2);
            assert!(
                r.stderr()
                    .contains("[objective.inputs]: only for command objectives"),
                "{extra}: {}",
                r.stderr()
            );
            assert!(r.stderr().contains("change the version"), "{}", r.stderr());
        }
        assert!(!sb.path().join("r").exists());
        assert!(!sb.path().join("results").exists());
    }
    // A runner key without the command: refused, saying what it is for.
    sb.write("x.toml", &search_text("timeout = 5.0"));
    let r = sb.run(&["check", "x.toml"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("[objective.timeout]: only with `command = [...]`"),
        "{}",
        r.stderr()
    );
}

#[test]
fn run_without_a_command_exits_2_with_the_hint_and_writes_nothing() {
    let sb = Sandbox::new();
    sb.write("x.toml", &search_text("columns = [\"half\"]"));
    // The file is good: check accepts it.
    sb.run(&["check", "x.toml"]).expect_code(0);
    for args in [&["run", "x.toml", "--out", "r"][..], &["run", "x.toml"]] {
        let r = sb.run(args);
        r.expect_code(2);
        assert!(r.stderr().contains("is external"), "{}", r.stderr());
        assert!(
            r.stderr()
                .contains("or give it `command = [...]` to run it from the CLI"),
            "{}",
            r.stderr()
        );
    }
    assert!(!sb.path().join("r").exists());
    assert!(!sb.path().join("results").exists());
}

#[test]
fn a_closure_returning_a_plain_value_leaves_the_result_cells_empty() {
    let sb = Sandbox::new();
    let file = sb.write("x.toml", &search_text("columns = [\"half\"]"));
    let dir = sb.path().join("r");
    let search = Search::from_file(&file)
        .unwrap()
        .with_fn(|p: &Params, _t: &Trial<'_>| p["x"].as_f64().unwrap_or(0.0))
        .unwrap();
    let done = search.run(&dir, RunOptions::default()).unwrap();
    assert_eq!(done.rows.len(), 14);
    let text = String::from_utf8(sb.read("r/trials.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("trial,seed,status,value,kind,n,x,half,extra,error,check")
    );
    for (line, row) in lines.zip(&done.rows) {
        // half, extra and error are empty.
        assert!(line.contains(",,,,"), "{line}");
        assert_eq!(row.extra, ["", ""]);
    }
}
