//! The engine as a library (issue 17): closure objectives, ask/tell, the
//! stop token and the builder, each held to the journal the CLI writes.

mod common;

use std::path::Path;

use common::Sandbox;
use hpsearch::engine::{Error, Next, Observer, ParamSpec, RunOptions, Search, Trial};
use hpsearch::interrupt::StopToken;
use hpsearch::objective::function::Function;
use hpsearch::objective::{Evaluation, Status};
use hpsearch::search::Outcome;
use hpsearch::value::Params;

/// Branin written as a caller would: through the built-in function, so
/// the values are the bits `function = "branin"` gives.
fn branin(p: &Params, _t: &Trial<'_>) -> Result<f64, String> {
    Function::parse("branin").ok_or("no branin")?.evaluate(p)
}

fn search_text(strategy: &str, objective: &str, trials: u64) -> String {
    format!(
        r#"
[search]
strategy = "{strategy}"
trials = {trials}
seed = 3
parallel = 4
[objective]
{objective}
[space]
x0 = {{ type = "float", low = -5.0, high = 10.0, steps = 6 }}
x1 = {{ type = "float", low = 0.0, high = 15.0, steps = 5 }}
"#
    )
}

const EXTERNAL: &str = "external = \"branin\"\nversion = \"1\"";

fn run_closure(text: &str, dir: &Path, threads: usize) -> Vec<u8> {
    let search = Search::from_toml(text, "s.toml")
        .and_then(|s| s.with_fn(branin))
        .unwrap();
    let options = RunOptions {
        threads: Some(threads),
        ..Default::default()
    };
    search.run(dir, options).unwrap();
    std::fs::read(dir.join("trials.csv")).unwrap()
}

/// The trials.csv lines without the seed column (the second) and the
/// row checksum (the last): a different objective is a different search
/// (another root hash), so its seeds and checksums differ by design.
fn without_seeds(csv: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(csv)
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(1);
            cells.pop();
            cells.join(",")
        })
        .collect()
}

/// [`without_seeds`] lines of an external search without its `extra`
/// column (the one before `error`), which must be empty in every row.
fn without_extra(lines: Vec<String>) -> Vec<String> {
    lines
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let mut cells: Vec<&str> = l.split(',').collect();
            let extra = cells.remove(cells.len() - 2);
            assert_eq!(extra, if k == 0 { "extra" } else { "" }, "{l}");
            cells.join(",")
        })
        .collect()
}

#[test]
fn a_closure_gives_the_function_search_and_the_same_bytes_for_any_thread_count() {
    let sb = Sandbox::new();
    sb.write("f.toml", &search_text("grid", "function = \"branin\"", 30));
    sb.run(&["run", "f.toml", "--out", "f", "--threads", "2", "--quiet"])
        .expect_code(0);
    let function_csv = sb.read("f/trials.csv");
    let text = search_text("grid", EXTERNAL, 30);
    let mut first: Option<Vec<u8>> = None;
    for threads in [1, 2, 8] {
        let csv = run_closure(&text, &sb.path().join(format!("c{threads}")), threads);
        // The same trials and values as the built-in function, bit for bit.
        // An external search has a command's layout: its `extra` column,
        // empty for a closure returning a plain value, is not the
        // function's.
        assert_eq!(
            without_extra(without_seeds(&csv)),
            without_seeds(&function_csv)
        );
        match &first {
            None => first = Some(csv),
            Some(f) => assert_eq!(&csv, f, "threads {threads}"),
        }
    }
    // A strategy that learns: threads never change a byte either.
    let tpe = search_text("tpe", EXTERNAL, 24);
    let one = run_closure(&tpe, &sb.path().join("t1"), 1);
    for threads in [2, 8] {
        assert_eq!(
            run_closure(&tpe, &sb.path().join(format!("t{threads}")), threads),
            one,
            "tpe, threads {threads}"
        );
    }
}

#[test]
fn ask_tell_told_out_of_order_equals_a_straight_run() {
    let sb = Sandbox::new();
    for strategy in ["tpe", "random"] {
        let text = search_text(strategy, EXTERNAL, 23);
        let straight = run_closure(&text, &sb.path().join(format!("run-{strategy}")), 2);
        let search = Search::from_toml(&text, "s.toml").unwrap();
        let dir = sb.path().join(format!("at-{strategy}"));
        let mut at = search.ask_tell(&dir).unwrap();
        let mut held = Vec::new();
        let mut told = 0;
        let tell_all = |at: &mut hpsearch::engine::AskTell<'_>, held: &mut Vec<_>| {
            // Newest first: the journal must still come out in order.
            while let Some(t) = held.pop() {
                let t: hpsearch::engine::Asked = t;
                let v = Function::parse("branin").unwrap().evaluate(&t.params);
                at.tell(t.index, Evaluation::ok(v.unwrap(), Vec::new()))
                    .unwrap();
            }
        };
        loop {
            match at.ask() {
                Next::Trial(t) => {
                    held.push(t);
                    // Random looks at no results: hold many back.
                    if held.len() == 7 {
                        told += held.len();
                        tell_all(&mut at, &mut held);
                    }
                }
                Next::Wait => {
                    told += held.len();
                    tell_all(&mut at, &mut held);
                }
                Next::Done => break,
            }
        }
        told += held.len();
        tell_all(&mut at, &mut held);
        assert_eq!(told, 23);
        assert_eq!(at.finish().unwrap().len(), 23);
        assert_eq!(
            std::fs::read(dir.join("trials.csv")).unwrap(),
            straight,
            "{strategy}"
        );
        // The folder is the CLI's: show reads it.
        sb.run(&["show", dir.to_str().unwrap()]).expect_code(0);
    }
}

#[test]
fn ask_tell_refuses_what_was_not_asked_or_told_twice_and_resumes_the_rest() {
    let sb = Sandbox::new();
    let text = search_text("tpe", EXTERNAL, 10);
    let straight = run_closure(&text, &sb.path().join("run"), 1);
    let search = Search::from_toml(&text, "s.toml").unwrap();
    let dir = sb.path().join("at");
    {
        let mut at = search.ask_tell(&dir).unwrap();
        let Next::Trial(t0) = at.ask() else {
            panic!("trial 0")
        };
        let Next::Trial(t1) = at.ask() else {
            panic!("trial 1")
        };
        assert!(matches!(
            at.tell(5, Evaluation::ok(1.0, Vec::new())),
            Err(Error::Input(m)) if m.contains("not asked")
        ));
        let v = |p: &Params| Function::parse("branin").unwrap().evaluate(p).unwrap();
        at.tell(t0.index, Evaluation::ok(v(&t0.params), Vec::new()))
            .unwrap();
        assert!(matches!(
            at.tell(t0.index, Evaluation::ok(1.0, Vec::new())),
            Err(Error::Input(m)) if m.contains("already told")
        ));
        assert!(at.tell(t1.index, Evaluation::interrupted()).is_err());
        // A function search records no fold scores.
        assert!(matches!(
            at.tell(t1.index, Evaluation::ok(1.0, vec![0.5])),
            Err(Error::Input(m)) if m.contains("1 fold scores")
        ));
        assert_eq!(at.pending(), vec![1]);
        // Trial 1 is never told: the folder resumes at it.
        assert_eq!(at.finish().unwrap().len(), 1);
    }
    let mut at = search.ask_tell(&dir).unwrap();
    assert_eq!(at.committed(), 1);
    loop {
        match at.ask() {
            Next::Trial(t) => {
                let v = Function::parse("branin").unwrap().evaluate(&t.params);
                at.tell(t.index, Evaluation::ok(v.unwrap(), Vec::new()))
                    .unwrap();
            }
            Next::Wait => unreachable!("told at once, nothing waits"),
            Next::Done => break,
        }
    }
    at.finish().unwrap();
    assert_eq!(std::fs::read(dir.join("trials.csv")).unwrap(), straight);
    // Finished: nothing more to ask, and the rows as they are.
    let mut again = search.ask_tell(&dir).unwrap();
    assert!(matches!(again.ask(), Next::Done));
    assert!(again.tell(0, Evaluation::ok(1.0, Vec::new())).is_err());
    assert_eq!(again.finish().unwrap().len(), 10);
    assert_eq!(std::fs::read(dir.join("trials.csv")).unwrap(), straight);
}

/// Stops its token after `after` committed trials.
struct StopAfter {
    stop: StopToken,
    after: usize,
    seen: usize,
}

impl Observer for StopAfter {
    fn committed(&mut self, _o: &Outcome) {
        self.seen += 1;
        if self.seen == self.after {
            self.stop.stop();
        }
    }
}

#[test]
fn a_stop_token_stops_a_run_that_then_resumes_to_the_straight_journal() {
    let sb = Sandbox::new();
    let text = search_text("tpe", EXTERNAL, 20);
    let straight = run_closure(&text, &sb.path().join("straight"), 2);
    let search = Search::from_toml(&text, "s.toml")
        .and_then(|s| s.with_fn(branin))
        .unwrap();
    let dir = sb.path().join("stopped");
    let stop = StopToken::new();
    let mut watch = StopAfter {
        stop: stop.clone(),
        after: 6,
        seen: 0,
    };
    let r = search.run(
        &dir,
        RunOptions {
            threads: Some(2),
            stop,
            observer: Some(&mut watch),
            ..Default::default()
        },
    );
    let Err(Error::Stopped { committed, .. }) = r else {
        panic!("not stopped: {r:?}")
    };
    assert!((6..20).contains(&committed), "{committed}");
    // A new token: the old one stays stopped.
    let done = search.run(&dir, RunOptions::default()).unwrap();
    assert_eq!(done.ending, hpsearch::engine::Ending::Complete);
    assert_eq!(std::fs::read(dir.join("trials.csv")).unwrap(), straight);
    let again = search.run(&dir, RunOptions::default()).unwrap();
    assert_eq!(again.ending, hpsearch::engine::Ending::AlreadyComplete);
}

#[test]
fn the_version_is_the_identity_of_an_external_objective() {
    let sb = Sandbox::new();
    let v1 = search_text("tpe", EXTERNAL, 5);
    let v2 = search_text("tpe", "external = \"branin\"\nversion = \"2\"", 5);
    let a = Search::from_toml(&v1, "s.toml").unwrap();
    let b = Search::from_toml(&v2, "s.toml").unwrap();
    assert_ne!(a.root(), b.root());
    let dir = sb.path().join("r");
    a.with_fn(branin)
        .unwrap()
        .run(&dir, RunOptions::default())
        .unwrap();
    let before = sb.snapshot("r");
    let e = b
        .with_fn(branin)
        .unwrap()
        .run(&dir, RunOptions::default())
        .unwrap_err();
    assert!(matches!(e, Error::Input(_)), "{e}");
    assert_eq!(sb.snapshot("r"), before, "the refused run wrote");
}

#[test]
fn the_cli_refuses_an_external_objective_and_check_shows_it() {
    let sb = Sandbox::new();
    sb.write("x.toml", &search_text("tpe", EXTERNAL, 5));
    let r = sb.run(&["run", "x.toml", "--out", "r"]);
    r.expect_code(2);
    assert!(r.stderr().contains("is external"), "{}", r.stderr());
    assert!(!sb.path().join("r").exists());
    let c = sb.run(&["check", "x.toml"]);
    c.expect_code(0);
    assert!(
        c.stdout().contains("external = \"branin\""),
        "{}",
        c.stdout()
    );
    assert!(c.stdout().contains("version = \"1\""), "{}", c.stdout());
    // No version: refused, naming the key.
    sb.write("nov.toml", &search_text("tpe", "external = \"branin\"", 5));
    let n = sb.run(&["check", "nov.toml"]);
    n.expect_code(2);
    assert!(n.stderr().contains("objective.version"), "{}", n.stderr());
    // A built-in objective takes no code from the caller.
    let f = Search::from_toml(&search_text("tpe", "function = \"branin\"", 5), "f.toml").unwrap();
    assert!(matches!(f.with_fn(branin), Err(Error::Input(_))));
}

#[test]
fn a_closure_reports_steps_and_is_pruned_as_a_program_is() {
    let sb = Sandbox::new();
    let text = r#"
[search]
strategy = "random"
trials = 12
parallel = 2
[search.pruner]
kind = "median"
n_startup_trials = 2
[objective]
external = "curve"
version = "1"
direction = "minimize"
[space]
x = { type = "float", low = 0.0, high = 1.0 }
"#;
    let curve = |p: &Params, t: &Trial<'_>| -> Result<f64, String> {
        let x = p["x"].as_f64().ok_or("x")?;
        let mut v = 0.0;
        for step in 1..=5u64 {
            v = x + 1.0 / step as f64;
            t.report(step, v)?;
            if t.should_prune() {
                // What it returns now is not recorded: the decision is.
                return Ok(-1.0);
            }
        }
        Ok(v)
    };
    let mut runs = Vec::new();
    for threads in [1, 4] {
        let search = Search::from_toml(text, "s.toml")
            .and_then(|s| s.with_fn(curve))
            .unwrap();
        let dir = sb.path().join(format!("r{threads}"));
        let done = search
            .run(
                &dir,
                RunOptions {
                    threads: Some(threads),
                    ..Default::default()
                },
            )
            .unwrap();
        let pruned: Vec<_> = done
            .rows
            .iter()
            .filter(|r| r.status == Status::Pruned)
            .collect();
        assert!(!pruned.is_empty(), "nothing pruned");
        for r in &pruned {
            assert!(r.value.is_some_and(|v| v >= 0.0), "{r:?}");
            assert!(r.steps.len() < 5);
        }
        runs.push(std::fs::read(dir.join("trials.csv")).unwrap());
    }
    assert_eq!(runs[0], runs[1]);
    // A step that goes backwards fails the trial with a clear error.
    let search = Search::from_toml(text, "s.toml")
        .and_then(|s| {
            s.with_fn(|_p: &Params, t: &Trial<'_>| -> Result<f64, String> {
                t.report(2, 1.0)?;
                t.report(1, 1.0)?;
                Ok(0.0)
            })
        })
        .unwrap();
    let done = search
        .run(sb.path().join("bad"), RunOptions::default())
        .unwrap();
    assert!(done.rows.iter().all(|r| r.status == Status::Failed));
    assert!(
        done.rows[0].error.contains("steps must increase"),
        "{}",
        done.rows[0].error
    );
}

#[test]
fn a_panicking_closure_fails_its_trial_and_the_search_goes_on() {
    let sb = Sandbox::new();
    let search = Search::from_toml(&search_text("random", EXTERNAL, 6), "s.toml")
        .and_then(|s| {
            s.with_fn(|p: &Params, t: &Trial<'_>| -> f64 {
                if t.index() == 2 {
                    panic!("boom at two");
                }
                p["x0"].as_f64().unwrap_or(0.0)
            })
        })
        .unwrap();
    let done = search
        .run(sb.path().join("r"), RunOptions::default())
        .unwrap();
    assert_eq!(done.rows.len(), 6);
    assert_eq!(done.rows[2].status, Status::Failed);
    assert!(done.rows[2]
        .error
        .contains("the objective panicked: boom at two"));
    assert!(done.rows.iter().filter(|r| r.status == Status::Ok).count() == 5);
}

#[test]
fn the_builder_is_the_search_file_it_stands_for() {
    let sb = Sandbox::new();
    let built = Search::builder()
        .strategy("tpe")
        .trials(24)
        .seed(3)
        .window(4)
        .param("x0", ParamSpec::float(-5.0, 10.0).set("steps", 6))
        .param("x1", ParamSpec::float(0.0, 15.0).set("steps", 5))
        .external("branin", "1", "minimize")
        .build()
        .unwrap();
    let written = Search::from_toml(&search_text("tpe", EXTERNAL, 24), "s.toml").unwrap();
    assert_eq!(built.root(), written.root());
    let a = sb.path().join("built");
    built
        .with_fn(branin)
        .unwrap()
        .run(&a, RunOptions::default())
        .unwrap();
    let b = run_closure(&search_text("tpe", EXTERNAL, 24), &sb.path().join("w"), 2);
    assert_eq!(std::fs::read(a.join("trials.csv")).unwrap(), b);
    // A bad part is refused as the file would be, naming the key.
    let e = Search::builder()
        .strategy("tpe")
        .trials(5)
        .param("x", ParamSpec::float(2.0, 1.0))
        .external("f", "1", "minimize")
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, Error::Input(m) if m.contains("space.x")),
        "{e}"
    );
    // A model search from parts, on the shipped data.
    let data = sb.data("iris.csv");
    let model = Search::builder()
        .strategy("random")
        .trials(3)
        .model("knn", "accuracy", data.to_str().unwrap(), "target")
        .param("n_neighbors", ParamSpec::int(1, 15))
        .build()
        .unwrap();
    let done = model
        .run(sb.path().join("knn"), RunOptions::default())
        .unwrap();
    assert!(done.best(&model).is_some());
}

#[test]
fn the_cli_reads_an_external_search_folder_and_refuses_to_rerun_it() {
    let sb = Sandbox::new();
    let dir = sb.path().join("r");
    run_closure(&search_text("random", EXTERNAL, 4), &dir, 2);
    let before = sb.snapshot("r");
    let show = sb.run(&["show", "r"]);
    show.expect_code(0);
    assert!(show.stdout().contains("4 trials"), "{}", show.stdout());
    // The code is the caller's: replay cannot retrain it, and there is no
    // model to export. Both say so, exit 2 and write nothing.
    let replay = sb.run(&["replay", "r"]);
    replay.expect_code(2);
    assert!(
        replay.stderr().contains("is external"),
        "{}",
        replay.stderr()
    );
    sb.run(&["export", "r", "--out", "m.json"]).expect_code(2);
    assert!(!sb.path().join("m.json").exists());
    assert_eq!(sb.snapshot("r"), before);
}
