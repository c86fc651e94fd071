//! `hpsearch list`: one line per results folder under a folder (default
//! `results/`), the most recently changed first.
//!
//! "Last change" is the newest modification time of the folder's files
//! (`manifest.toml`, `trials.csv`, `timings.csv`), in UTC: the journal
//! records when a search started and ended but not when its last trial was
//! written, and a running search changes `trials.csv` with every trial.
//! It is the one output of this module that is not a pure function of the
//! folders' contents.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::{fmt_sig, fmt_utc, InspectError};

/// One search in a listing.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    /// The folder's name.
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// Strategy name (empty when the folder could not be read).
    pub strategy: String,
    /// Trials recorded.
    pub done: usize,
    /// The budget.
    pub budget: u64,
    /// Trials that failed, timed out, or were pruned, each counted apart
    /// (as `run` and `show` count them).
    pub failed: usize,
    /// Trials that ran past their time-out.
    pub timed_out: usize,
    /// Trials the pruner stopped.
    pub pruned: usize,
    /// What the value column holds.
    pub metric: String,
    /// The best value.
    pub best: Option<f64>,
    /// `finished`, `unfinished`, `failed`, or `damaged` (see `problem`).
    pub status: String,
    /// Why a damaged folder could not be read.
    pub problem: Option<String>,
    /// Newest modification time of the folder's files, nanoseconds since
    /// the Unix epoch.
    pub changed_ns: u128,
}

fn mtime_ns(dir: &Path) -> u128 {
    ["manifest.toml", "trials.csv", "timings.csv"]
        .iter()
        .filter_map(|f| fs::metadata(dir.join(f)).ok()?.modified().ok())
        .filter_map(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .max()
        .unwrap_or(0)
}

fn entry(dir: &Path) -> Entry {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    let changed_ns = mtime_ns(dir);
    match super::open(dir) {
        Ok(f) => Entry {
            name,
            dir: dir.to_path_buf(),
            strategy: f.strategy.clone(),
            done: f.rows.len(),
            budget: f.budget(),
            failed: f.n_failed(),
            timed_out: f.n_timed_out(),
            pruned: f.n_pruned(),
            metric: f.metric.clone(),
            best: f.best().and_then(|r| r.value),
            status: f.status().name().to_string(),
            problem: None,
            changed_ns,
        },
        Err(e) => Entry {
            name,
            dir: dir.to_path_buf(),
            strategy: String::new(),
            done: 0,
            budget: 0,
            failed: 0,
            timed_out: 0,
            pruned: 0,
            metric: String::new(),
            best: None,
            status: "damaged".into(),
            problem: Some(e.to_string()),
            changed_ns,
        },
    }
}

/// The searches in `root`: `root` itself when it is a results folder,
/// otherwise every folder directly inside it that holds a `manifest.toml`
/// (others are skipped). Newest change first; equal times by name.
pub fn list(root: &Path) -> Result<Vec<Entry>, InspectError> {
    if root.join("manifest.toml").is_file() {
        return Ok(vec![entry(root)]);
    }
    let read = fs::read_dir(root).map_err(|e| InspectError::NotFound {
        path: root.to_path_buf(),
        message: format!("cannot list it: {e}"),
    })?;
    let mut dirs: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifest.toml").is_file())
        .collect();
    dirs.sort();
    let mut out: Vec<Entry> = dirs.iter().map(|d| entry(d)).collect();
    out.sort_by(|a, b| b.changed_ns.cmp(&a.changed_ns).then(a.name.cmp(&b.name)));
    Ok(out)
}

/// The listing as a table, with a note under it for each damaged folder.
pub fn to_text(entries: &[Entry]) -> String {
    let mut table = vec![vec![
        "name".to_string(),
        "strategy".into(),
        "trials".into(),
        "best".into(),
        "status".into(),
        "last change (UTC)".into(),
    ]];
    for e in entries {
        table.push(vec![
            e.name.clone(),
            e.strategy.clone(),
            if e.problem.is_some() {
                "-".into()
            } else {
                format!("{}/{}{}", e.done, e.budget, not_ok(e))
            },
            e.best
                .map(|b| format!("{} {}", e.metric, fmt_sig(b, 6)))
                .unwrap_or_else(|| "-".into()),
            e.status.clone(),
            fmt_utc((e.changed_ns / 1_000_000_000) as u64),
        ]);
    }
    let mut t = super::show::columns(&table);
    for e in entries {
        if let Some(p) = &e.problem {
            t.push_str(&format!("{}: {p}\n", e.name));
        }
    }
    t
}

/// " (1 failed, 2 pruned)": the trials that did not end ok, by how they
/// ended; empty when all did.
fn not_ok(e: &Entry) -> String {
    let parts: Vec<String> = [
        (e.failed, "failed"),
        (e.timed_out, "timed out"),
        (e.pruned, "pruned"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests::{write_folder, BRANIN_SEARCH};

    #[test]
    fn lists_newest_first_and_names_damage() {
        let d = tempfile::tempdir().unwrap();
        let r = |v: &str| -> Vec<String> { vec!["ok".into(), v.into(), "a".into(), "1.0".into()] };
        write_folder(
            &d.path().join("old"),
            BRANIN_SEARCH,
            &["c", "x"],
            &[r("2.0")],
            true,
        );
        write_folder(
            &d.path().join("new"),
            BRANIN_SEARCH,
            &["c", "x"],
            &[r("1.0"), r("0.5")],
            false,
        );
        // Damage: a trials.csv whose row no longer matches its check.
        write_folder(
            &d.path().join("bad"),
            BRANIN_SEARCH,
            &["c", "x"],
            &[r("1.0")],
            true,
        );
        let p = d.path().join("bad/trials.csv");
        let t = fs::read_to_string(&p).unwrap().replace(",1.0,a", ",9.0,a");
        fs::write(&p, t).unwrap();
        fs::create_dir(d.path().join("not_a_search")).unwrap();
        let set = |name: &str, secs: u64| {
            for f in ["manifest.toml", "trials.csv", "timings.csv"] {
                let file = fs::File::options()
                    .write(true)
                    .open(d.path().join(name).join(f))
                    .unwrap();
                file.set_modified(UNIX_EPOCH + std::time::Duration::from_secs(secs))
                    .unwrap();
            }
        };
        set("old", 1_000);
        set("new", 3_000);
        set("bad", 2_000);
        let got = list(d.path()).unwrap();
        let names: Vec<&str> = got.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["new", "bad", "old"]);
        assert_eq!(got[0].status, "unfinished");
        assert_eq!(got[0].best, Some(0.5));
        assert_eq!((got[0].done, got[0].budget), (2, 4));
        assert_eq!((got[0].failed, got[0].timed_out, got[0].pruned), (0, 0, 0));
        assert_eq!(got[1].status, "damaged");
        assert_eq!(got[2].status, "finished");
        let text = to_text(&got);
        assert!(text.contains("1970-01-01T00:50:00Z"), "{text}");
        assert!(text.contains("bad: ") && text.contains("line 2"), "{text}");
        // A results folder itself lists as one line.
        assert_eq!(list(&d.path().join("old")).unwrap().len(), 1);
        assert!(list(&d.path().join("missing")).is_err());
    }
}
