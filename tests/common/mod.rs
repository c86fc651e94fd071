//! Helpers for the integration tests: run the real binary in a temporary
//! folder of its own.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch folder holding search files and copies of the shipped data.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("data")).expect("data dir");
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copy a shipped dataset into `data/`.
    pub fn data(&self, name: &str) -> PathBuf {
        let to = self.path().join("data").join(name);
        fs::copy(repo().join("data").join(name), &to).expect("copy data");
        to
    }

    /// Write a file (relative to the sandbox).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, text).expect("write");
        p
    }

    /// Run `hpsearch` with `args` in the sandbox.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("run hpsearch");
        Run(out)
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Every file under `rel`, with its bytes, sorted by path.
    pub fn snapshot(&self, rel: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        walk(&self.path().join(rel), &mut out);
        out.sort();
        out
    }
}

fn walk(p: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    if p.is_dir() {
        for e in fs::read_dir(p).expect("read_dir") {
            walk(&e.expect("entry").path(), out);
        }
    } else if p.is_file() {
        out.push((p.to_path_buf(), fs::read(p).expect("read")));
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A quick model search with a log parameter, a categorical one and folds.
pub const IRIS_KNN: &str = r#"
[search]
strategy = "random"
trials = 24
seed = SEED

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
n_neighbors = { type = "int", low = 1, high = 40, log = true }
weights = { type = "categorical", choices = ["uniform", "distance"] }
p = { type = "int", values = [1, 2] }
"#;

/// Two finished searches, `results/a` (seed 0) and `results/b` (seed 1).
pub fn two_searches() -> Sandbox {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    for (name, seed) in [("a", "0"), ("b", "1")] {
        sb.write(&format!("{name}.toml"), &IRIS_KNN.replace("SEED", seed));
        sb.run(&[
            "run",
            &format!("{name}.toml"),
            "-q",
            "--out",
            &format!("results/{name}"),
        ])
        .expect_code(0);
    }
    sb
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    /// Panic with both streams unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// A system program a test needs (a browser, later a database server):
/// `found` when it is there; else, when the environment variable
/// `require` is `1`, a failure; else `None`, after printing that the test
/// was skipped (a fresh machine has only the Rust toolchain and Python,
/// and the README's test command must pass there).
pub fn system_tool<T>(found: Option<T>, require: &str, what: &str) -> Option<T> {
    if found.is_some() {
        return found;
    }
    if std::env::var(require).is_ok_and(|v| v == "1") {
        panic!("{require}=1 but this test's program is missing: {what}");
    }
    // Written to the stream itself, not through eprintln!, which the test
    // harness captures and shows only for a failing test.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: this test needs {what}; set {require}=1 to make its absence a failure"
    );
    None
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
pub fn dead(pid: &str) -> bool {
    match fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Whether process `pid` is gone within 10 seconds.
pub fn eventually_dead(pid: &str) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < until {
        if dead(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}
