//! Engine micro-benchmarks (divan): seed derivation, proposals, and whole
//! in-process searches over a trivial function with a durable journal.
//! `cargo bench --bench engine`. The end-to-end comparisons with
//! scikit-learn are in scripts/bench_sklearn.sh.

use std::path::Path;

use hpsearch::config;
use hpsearch::engine;
use hpsearch::seed::RootHash;
use hpsearch::strategy::{History, Spec, Trial};

fn main() {
    divan::main();
}

const MIXED: &str = r#"
[search]
strategy = "random"
trials = 10000
[objective]
function = "mixed"
[space]
x1 = { type = "float", low = -5.0, high = 5.0 }
x2 = { type = "float", low = -5.0, high = 5.0 }
lr = { type = "float", low = 1e-5, high = 1e-1, log = true }
n = { type = "int", low = 1, high = 32 }
act = { type = "categorical", choices = ["relu", "tanh", "sigmoid"] }
"#;

#[divan::bench]
fn trial_seed(b: divan::Bencher) {
    let root = RootHash::of(b"bench");
    let mut i = 0u64;
    b.bench_local(|| {
        i += 1;
        root.trial_seed(divan::black_box(i))
    });
}

#[divan::bench]
fn random_proposal_mixed(b: divan::Bencher) {
    let loaded = config::parse(
        Path::new("bench.toml"),
        MIXED,
        hpsearch::objective::models::MODELS,
    )
    .expect("config");
    let strategy = Spec::Random.build();
    let mut i = 0u64;
    b.bench_local(|| {
        i += 1;
        let t = Trial {
            space: &loaded.search.space,
            index: i,
            seed: i,
            search_seed: 0,
        };
        strategy.propose(&t, &History::default())
    });
}

/// A whole search of 10,000 trials, journal fsync'd in batches.
#[divan::bench(args = [1, 2], sample_count = 5)]
fn search_10k_trials(b: divan::Bencher, threads: usize) {
    let search = engine::Search::from_toml(MIXED, "bench.toml").expect("search");
    b.bench_local(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = engine::RunOptions {
            threads: Some(threads),
            ..Default::default()
        };
        search.run(dir.path().join("r"), options).expect("run");
    });
}
