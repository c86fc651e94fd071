//! The SVM's Gram cache (`src/objective/models/svm/gram.rs`) changes time,
//! never results: on the real binary, an RBF and a linear SVM search on
//! digits, with `samples` under successive halving, write the same
//! journal byte for byte with the cache off, on, squeezed to a budget that
//! evicts and keeps only the small rungs, and on 1 or 2 threads; replay
//! (a fresh process, its fit a cache miss) agrees with the journal.

mod common;

use std::process::Command;

use common::Sandbox;

const SEARCH: &str = r#"
[search]
strategy = "random"
trials = 12
seed = 3
parallel = 2

[search.pruner]
kind = "successive_halving"

[objective]
model = "svm"
metric = "accuracy"
resource = "samples"
min_resources = 54
factor = 3

[data]
path = "data/digits.csv"
target = "target"
scale = "standard"

[cv]
folds = 3

[space]
kernel = { type = "categorical", choices = ["rbf", "linear"] }
C = { type = "float", low = 1e-2, high = 1e3, log = true }
gamma = { type = "float", low = 1e-5, high = 1e-1, log = true }
"#;

/// Run the search into `out` with the cache budget `bytes` (`None`: the
/// default) on `threads` threads; its journal and fold scores.
fn run(sb: &Sandbox, out: &str, bytes: Option<&str>, threads: &str) -> Vec<u8> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hpsearch"));
    cmd.args([
        "run",
        "search.toml",
        "--out",
        out,
        "--threads",
        threads,
        "-q",
    ])
    .current_dir(sb.path());
    match bytes {
        Some(b) => cmd.env("HPSEARCH_SVM_GRAM_BYTES", b),
        None => cmd.env_remove("HPSEARCH_SVM_GRAM_BYTES"),
    };
    let o = cmd.output().expect("run hpsearch");
    assert!(
        o.status.success(),
        "{out}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut bytes = sb.read(&format!("{out}/trials.csv"));
    bytes.extend(sb.read(&format!("{out}/folds.csv")));
    bytes
}

#[test]
fn the_gram_cache_never_changes_a_journal() {
    let sb = Sandbox::new();
    sb.data("digits.csv");
    sb.write("search.toml", SEARCH);
    let off = run(&sb, "off", Some("0"), "1");
    let text = String::from_utf8_lossy(&off);
    assert!(text.contains("pruned") && text.contains("rbf") && text.contains("linear"));
    // 3 folds of digits: about 1,198 training rows a fold, a 11 MB Gram
    // matrix: 4 MB keeps the small rungs only and evicts among them.
    for (out, bytes, threads) in [
        ("on1", None, "1"),
        ("on2", None, "2"),
        ("small2", Some("4000000"), "2"),
    ] {
        assert!(run(&sb, out, bytes, threads) == off, "{out} differs");
    }
    for trial in ["0", "5", "11"] {
        let r = sb.run(&["replay", "on2", "--trial", trial]);
        assert_eq!(r.code(), 0, "replay {trial}: {}", r.stderr());
    }
}
