//! The journal is never lost or silently shortened, on the real binary: a
//! folder without its manifest, a journal cut back at a row boundary and
//! an edited manifest are refused (exit 2, nothing written) by `run` and
//! `show`; a resume truncates nothing it need not; hpsearch's temporary
//! files never clobber a user's; a different search names what changed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Sandbox;

fn func_search(trials: u64, seed: u64) -> String {
    format!(
        r#"
[search]
strategy = "random"
trials = {trials}
seed = {seed}

[objective]
function = "mixed"

[space]
x1 = {{ type = "float", low = -5.0, high = 5.0 }}
x2 = {{ type = "float", low = -5.0, high = 5.0 }}
lr = {{ type = "float", low = 1e-5, high = 1e-1, log = true }}
n = {{ type = "int", low = 1, high = 32 }}
act = {{ type = "categorical", choices = ["relu", "tanh"] }}
"#
    )
}

/// `run` (and `show`) refuse the folder `results/f` with exit 2, naming
/// each of `expect`, and change nothing in it.
fn refused(sb: &Sandbox, expect: &[&str]) {
    let before = sb.snapshot("results");
    for args in [&["run", "f.toml", "-q"][..], &["show", "results/f"][..]] {
        let r = sb.run(args);
        r.expect_code(2);
        for piece in expect {
            assert!(
                r.stderr().contains(piece),
                "{args:?}: `{piece}` not in {}",
                r.stderr()
            );
        }
        assert!(
            sb.snapshot("results") == before,
            "{args:?} changed a refused folder"
        );
    }
}

fn lines(sb: &Sandbox, rel: &str) -> Vec<String> {
    String::from_utf8(sb.read(rel))
        .unwrap()
        .lines()
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_folder_without_its_manifest_is_refused_and_nothing_replaced() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(40, 3));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    std::fs::remove_file(sb.path().join("results/f/manifest.toml")).unwrap();
    refused(&sb, &["manifest.toml is missing", "40 trials", "backup"]);
    // Only the journal left: still refused.
    for f in ["timings.csv", "search.toml", "lock"] {
        std::fs::remove_file(sb.path().join("results/f").join(f)).unwrap();
    }
    refused(&sb, &["manifest.toml is missing", "40 trials"]);
}

#[test]
fn a_journal_cut_to_its_header_is_refused() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(40, 3));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    let all = lines(&sb, "results/f/trials.csv");
    sb.write("results/f/trials.csv", &all[0]);
    refused(
        &sb,
        &[
            "trials.csv",
            "holds 0 trials where the manifest records 40",
            "trials 0 to 39 (lines 2 to 41) are missing",
        ],
    );
}

#[test]
fn a_journal_cut_at_a_row_boundary_is_refused() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(40, 3));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    let all = lines(&sb, "results/f/trials.csv");
    sb.write("results/f/trials.csv", &all[..26].concat());
    refused(
        &sb,
        &[
            "holds 25 trials where the manifest records 40",
            "trials 25 to 39 (lines 27 to 41) are missing",
        ],
    );
    // One row short: named alone.
    sb.write("results/f/trials.csv", &all[..40].concat());
    refused(&sb, &["trial 39 (line 41) is missing"]);
}

/// A crash between the journal's flush and the manifest's update leaves
/// more rows than recorded: those are kept, and the search resumes after
/// them to the straight run's journal.
#[test]
fn a_journal_longer_than_recorded_resumes() {
    let sb = Sandbox::new();
    sb.write("g.toml", &func_search(40, 3));
    sb.run(&["run", "g.toml", "-q"]).expect_code(0);
    let straight = lines(&sb, "results/g/trials.csv");
    sb.write("f.toml", &func_search(20, 3));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    // Rows 20..29 reached the journal; the manifest still records 20.
    sb.write("results/f/trials.csv", &straight[..31].concat());
    sb.write("f.toml", &func_search(40, 3));
    let r = sb.run(&["run", "f.toml", "-q"]);
    r.expect_code(0);
    assert!(
        r.stderr().contains("resuming at trial 30 of 40"),
        "{}",
        r.stderr()
    );
    assert_eq!(lines(&sb, "results/f/trials.csv"), straight);
    sb.run(&["show", "results/f"]).expect_code(0);
}

#[test]
fn an_edited_manifest_is_refused_by_run_and_show() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(40, 3));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    let path = sb.path().join("results/f/manifest.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    assert!(good.contains("\nseed = 3\n"), "{good}");
    assert!(good.contains("\nbudget = 40\n"), "{good}");
    for (from, to) in [
        ("\nseed = 3\n", "\nseed = 4\n"),
        ("\nbudget = 40\n", "\nbudget = 80\n"),
    ] {
        std::fs::write(&path, good.replace(from, to)).unwrap();
        refused(&sb, &["manifest.toml", "was edited", "restore"]);
    }
    std::fs::write(&path, &good).unwrap();
    sb.run(&["show", "results/f"]).expect_code(0);
}

/// The manifest is written first: a crash before the CSV files exist
/// leaves a manifest that records no row, and the next run completes the
/// folder and runs the search from trial 0.
#[test]
fn a_manifest_without_its_files_and_no_row_is_completed() {
    use sha2::{Digest, Sha256};
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(30, 3));
    sb.run(&["run", "f.toml", "--out", "straight", "-q"])
        .expect_code(0);
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    let dir = sb.path().join("results/f");
    for f in ["trials.csv", "timings.csv", "search.toml"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    // The manifest as creation writes it: no row, no end.
    let text = std::fs::read_to_string(dir.join("manifest.toml")).unwrap();
    let at = text.find("check = \"").unwrap();
    let body_at = at + text[at..].find('\n').unwrap() + 1;
    let root = text
        .lines()
        .find_map(|l| l.strip_prefix("root_hash = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    let body: String = text[body_at..]
        .lines()
        .filter(|l| !l.starts_with("finished = "))
        .map(|l| {
            if l.starts_with("rows = ") {
                "rows = 0\n".to_string()
            } else if l.starts_with("last_check = ") {
                format!("last_check = \"{root}\"\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let check: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        dir.join("manifest.toml"),
        format!("{}check = \"{check}\"\n{body}", &text[..at]),
    )
    .unwrap();
    sb.run(&["show", "results/f"]).expect_code(0);
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    assert!(sb.read("results/f/trials.csv") == sb.read("straight/trials.csv"));
    assert!(sb.read("results/f/search.toml") == sb.read("f.toml"));
}

/// Clears `chattr +a` when dropped, so the sandbox can be removed.
struct AppendOnly(Vec<PathBuf>);

impl AppendOnly {
    fn set(paths: &[PathBuf]) -> Option<AppendOnly> {
        let guard = AppendOnly(Vec::new());
        let mut guard = guard;
        for p in paths {
            let ok = Command::new("chattr")
                .arg("+a")
                .arg(p)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return None;
            }
            guard.0.push(p.clone());
        }
        Some(guard)
    }
}

impl Drop for AppendOnly {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = Command::new("chattr").arg("-a").arg(p).status();
        }
    }
}

/// Resuming truncates only a torn line: an append-only journal and
/// timings file (`chattr +a`, which refuses any truncation) resume.
#[test]
fn resume_truncates_nothing_without_a_torn_line() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(20, 3));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    let dir = sb.path().join("results/f");
    let Some(_guard) = AppendOnly::set(&[dir.join("trials.csv"), dir.join("timings.csv")]) else {
        eprintln!("skipped: chattr +a is not available here (needs root and ext4 or similar)");
        return;
    };
    sb.write("f.toml", &func_search(40, 3));
    let r = sb.run(&["run", "f.toml", "-q"]);
    r.expect_code(0);
    assert!(r.stderr().contains("resuming at trial 20 of 40"));
    sb.write("g.toml", &func_search(40, 3));
    sb.run(&["run", "g.toml", "-q"]).expect_code(0);
    assert!(sb.read("results/f/trials.csv") == sb.read("results/g/trials.csv"));
}

fn user_file(sb: &Sandbox, name: &str) -> PathBuf {
    sb.write(name, "the user's own file\n")
}

fn untouched(p: &Path) {
    assert_eq!(
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        "the user's own file\n"
    );
}

/// `export`, `report`, `predict` and `predict --check-drift` write through
/// uniquely named temporary files: a user's `X.tmp` beside the target
/// survives, and nothing of hpsearch's is left behind.
#[test]
fn a_users_tmp_files_beside_the_outputs_survive() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write("k.toml", &common::IRIS_KNN.replace("SEED", "0"));
    sb.run(&["run", "k.toml", "-q"]).expect_code(0);
    let mine: Vec<PathBuf> = [
        "model.tmp",
        "report.tmp",
        "preds.tmp",
        "checked.tmp",
        "checked.drift.tmp",
    ]
    .iter()
    .map(|n| user_file(&sb, n))
    .collect();
    sb.run(&["export", "results/k", "--out", "model.json"])
        .expect_code(0);
    sb.run(&["report", "results/k", "--out", "report.html"])
        .expect_code(0);
    sb.run(&[
        "predict",
        "model.json",
        "data/iris.csv",
        "--out",
        "preds.csv",
    ])
    .expect_code(0);
    let r = sb.run(&[
        "predict",
        "model.json",
        "data/iris.csv",
        "--out",
        "checked.csv",
        "--check-drift",
    ]);
    assert!(r.code() == 0 || r.code() == 1, "{}", r.stderr());
    for p in &mine {
        untouched(p);
    }
    for out in ["model.json", "report.html", "preds.csv", "checked.csv"] {
        assert!(sb.path().join(out).is_file(), "{out} not written");
    }
    let leftovers: Vec<String> = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".hpsearch-tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A failed write removes its temporary file: exporting into a folder that
/// is not writable leaves nothing behind (and says where it failed).
#[test]
fn a_failed_export_leaves_no_temporary_file() {
    let sb = Sandbox::new();
    sb.data("iris.csv");
    sb.write("k.toml", &common::IRIS_KNN.replace("SEED", "0"));
    sb.run(&["run", "k.toml", "-q"]).expect_code(0);
    // The target is a folder: the rename fails after the temporary file
    // was written beside it.
    std::fs::create_dir(sb.path().join("model.json")).unwrap();
    sb.write("model.json/keep", "x");
    let r = sb.run(&["export", "results/k", "--out", "model.json"]);
    r.expect_code(1);
    assert!(r.stderr().contains("model.json"), "{}", r.stderr());
    let leftovers: Vec<String> = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".hpsearch-tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(
        !sb.path().join("model.tmp").exists(),
        "model.tmp left behind"
    );
}

#[test]
fn a_different_search_names_the_keys_that_changed() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(20, 3));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    let before = sb.snapshot("results");
    sb.write(
        "f.toml",
        &func_search(20, 4).replace("high = 32", "high = 64"),
    );
    let r = sb.run(&["run", "f.toml", "-q"]);
    r.expect_code(2);
    let e = r.stderr();
    assert!(e.contains("holds a different search"), "{e}");
    assert!(e.contains("search.seed: 3 → 4"), "{e}");
    assert!(e.contains("space.n.high: 32 → 64"), "{e}");
    assert!(!e.contains("x1"), "an unchanged key is named: {e}");
    assert!(sb.snapshot("results") == before);
}

/// With `parallel = 1` each proposal waits for the previous result, and
/// the journal is written behind it (a group commit): killed at any
/// moment and resumed, it still ends as a straight run's, and the thread
/// count changes nothing.
#[test]
fn sequential_tpe_killed_and_resumed_equals_a_straight_run() {
    let sb = Sandbox::new();
    let text = func_search(400, 5).replace("\"random\"", "\"tpe\"\nparallel = 1");
    sb.write("t.toml", &text);
    for (out, j) in [("one", "1"), ("eight", "8")] {
        sb.run(&["run", "t.toml", "--out", out, "-q", "-j", j])
            .expect_code(0);
    }
    assert!(sb.read("one/trials.csv") == sb.read("eight/trials.csv"));
    for d in [40u64, 120, 250] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hpsearch"))
            .args(["run", "t.toml", "--out", "killed", "-q", "-j", "2"])
            .current_dir(sb.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(d));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    sb.run(&["run", "t.toml", "--out", "killed", "-q"])
        .expect_code(0);
    assert!(sb.read("killed/trials.csv") == sb.read("one/trials.csv"));
    sb.run(&["show", "killed"]).expect_code(0);
}

/// A manifest as results format 1 wrote it (earlier versions): no
/// `check`, `rows` or `last_check`.
fn as_format_1(manifest: &str) -> String {
    manifest
        .lines()
        .filter(|l| !(l.starts_with("check = ") || l.starts_with("rows = ")))
        .filter(|l| !l.starts_with("last_check = "))
        .map(|l| match l {
            "format = 2" => "format = 1\n".to_string(),
            l => format!("{l}\n"),
        })
        .collect()
}

#[test]
fn a_folder_written_by_an_earlier_version_still_shows_and_resumes() {
    let sb = Sandbox::new();
    sb.write("f.toml", &func_search(30, 5));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    let path = sb.path().join("results/f/manifest.toml");
    let old = as_format_1(&std::fs::read_to_string(&path).unwrap());
    assert!(
        old.contains("format = 1\n") && !old.contains("last_check"),
        "{old}"
    );
    std::fs::write(&path, &old).unwrap();

    let shown = sb.run(&["show", "results/f"]);
    shown.expect_code(0);
    assert!(shown.stdout().contains("30 of 30"), "{}", shown.stdout());
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);

    // Extending it resumes, upgrades the manifest, and ends as a straight run.
    sb.write("f.toml", &func_search(45, 5));
    sb.run(&["run", "f.toml", "-q"]).expect_code(0);
    sb.run(&["run", "f.toml", "-q", "--out", "straight"])
        .expect_code(0);
    assert!(sb.read("results/f/trials.csv") == sb.read("straight/trials.csv"));
    let now = std::fs::read_to_string(&path).unwrap();
    assert!(
        now.contains("format = 2") && now.contains("rows = 45"),
        "{now}"
    );
}
