//! What a command objective costs beyond starting the program (divan):
//! `cargo bench --bench command`.
//!
//! * `spawn_true` — the floor: start `true` with its output piped and wait
//!   for it, as any tool that runs a program per trial must;
//! * `trial_true` — one whole command trial of `true` through
//!   `CommandObjective` (a fresh trial folder, `params.json`, environment,
//!   its own process group, output readers, the group killed after it,
//!   the output tails written). `true` prints no result, so the trial is
//!   `failed`: the work done is the same as for a success;
//! * `search_true` — 200 trials of `true` through `hpsearch`'s coordinator
//!   and journal (one thread), per trial.
//!
//! The difference between the first two is the engine's overhead per
//! command trial.

use std::path::Path;

use hpsearch::config;
use hpsearch::engine;
use hpsearch::journal;
use hpsearch::objective::{self, TrialInfo};
use hpsearch::value::{Params, Value};

fn main() {
    divan::main();
}

const SEARCH: &str = r#"
[search]
strategy = "random"
trials = 200
[objective]
command = ["true"]
direction = "minimize"
max_failures = 0
[space]
x = { type = "float", low = 0.0, high = 1.0 }
n = { type = "int", low = 1, high = 32 }
"#;

#[divan::bench(sample_count = 200)]
fn spawn_true() -> std::process::Output {
    std::process::Command::new("true")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run true")
}

#[divan::bench(sample_count = 200)]
fn trial_true(b: divan::Bencher) {
    let loaded = config::parse(
        Path::new("bench.toml"),
        SEARCH,
        hpsearch::objective::models::MODELS,
    )
    .expect("search");
    let obj = objective::build(&loaded.search, None).expect("objective");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut params = Params::new();
    params.insert("x".into(), Value::Float(0.25));
    params.insert("n".into(), Value::Int(7));
    let mut i = 0u64;
    b.bench_local(|| {
        i += 1;
        let work = journal::fresh_trial_dir(dir.path(), i).expect("trial dir");
        let info = TrialInfo {
            index: i,
            seed: i,
            workdir: Some(&work),
            pruner: None,
            stop: None,
        };
        obj.evaluate(&params, &info)
    });
}

#[divan::bench(sample_count = 5)]
fn search_true(b: divan::Bencher) {
    let search = engine::Search::from_toml(SEARCH, "bench.toml").expect("search");
    b.counter(divan::counter::ItemsCount::new(200usize))
        .bench_local(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let options = engine::RunOptions {
                threads: Some(1),
                ..Default::default()
            };
            search.run(dir.path(), options).expect("search");
        });
}
