//! `hpsearch show`: one search at a glance, as text for people and as JSON
//! or CSV for other tools. All three hold the same facts.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::{fmt_sig, fold_stats, Folder};
use crate::journal::Row;
use crate::value::Value;

/// What `show` prints: the facts of a search and its top trials.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The results folder.
    pub dir: String,
    /// The search file it was run from.
    pub search_file: String,
    /// Strategy name.
    pub strategy: String,
    /// The strategy's settings (`key -> value` text).
    pub strategy_settings: BTreeMap<String, String>,
    /// A one-line description of the objective.
    pub objective: String,
    /// What the value column holds.
    pub metric: String,
    /// `minimize` or `maximize`.
    pub direction: String,
    /// The user's seed.
    pub seed: Option<i64>,
    /// The trial budget.
    pub budget: u64,
    /// Trials recorded.
    pub trials_done: usize,
    /// Recorded trials that failed (not counting time-outs).
    pub trials_failed: usize,
    /// Recorded trials killed at their time-out.
    pub trials_timed_out: usize,
    /// Recorded trials stopped early by the pruner (left out when none,
    /// so searches without a pruner show what they did before).
    #[serde(skip_serializing_if = "is_zero")]
    pub trials_pruned: usize,
    /// `finished`, `unfinished` or `failed`.
    pub status: String,
    /// The root hash (64 hex digits).
    pub root_hash: String,
    /// The hpsearch version that started the search.
    pub hpsearch_version: String,
    /// Start time the manifest records (UTC).
    pub started: String,
    /// End time the manifest records, if the search ended.
    pub finished: Option<String>,
    /// Data files and their SHA-256.
    pub data: Vec<DataFile>,
    /// The best trial.
    pub best: Option<Trial>,
    /// The best `top` successful trials, best first.
    pub top: Vec<Trial>,
}

/// A data file the search read.
#[derive(Clone, Debug, Serialize)]
pub struct DataFile {
    /// Its path when the search started.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

/// One trial as `show` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Trial {
    /// 1 for the best.
    pub rank: usize,
    /// Trial number.
    pub trial: u64,
    /// Its seed.
    pub seed: u64,
    /// `ok`, or why it did not count.
    pub status: String,
    /// The objective value.
    pub value: Option<f64>,
    /// Parameters by name (numbers as numbers).
    pub params: BTreeMap<String, Value>,
    /// Per-fold scores, in fold order.
    pub folds: Vec<f64>,
    /// Mean of the fold scores.
    pub fold_mean: Option<f64>,
    /// Population standard deviation of the fold scores.
    pub fold_std: Option<f64>,
}

fn trial(f: &Folder, rank: usize, r: &Row) -> Trial {
    let params = (0..f.params.len())
        .map(|k| {
            let v = f
                .value_of(r, k)
                .unwrap_or_else(|| Value::Str(r.params.get(k).map_or("", |p| &p.1).to_string()));
            (f.params[k].name.clone(), v)
        })
        .collect();
    let stats = fold_stats(&r.folds);
    Trial {
        rank,
        trial: r.trial,
        seed: r.seed,
        status: r.status.name().to_string(),
        value: r.value,
        params,
        folds: r.folds.clone(),
        fold_mean: stats.map(|s| s.0),
        fold_std: stats.map(|s| s.1),
    }
}

/// The facts of `f` with its `top` best trials (all of them when `top` is 0).
pub fn summary(f: &Folder, top: usize) -> Summary {
    let ranked = f.ranked();
    let n = if top == 0 { ranked.len() } else { top };
    let seed = f.manifest.search.get("seed").and_then(|s| s.as_integer());
    Summary {
        dir: f.dir.display().to_string(),
        search_file: f.manifest.search_file.clone(),
        strategy: f.strategy.clone(),
        strategy_settings: f.strategy_settings.iter().cloned().collect(),
        objective: f.objective.clone(),
        metric: f.metric.clone(),
        direction: f.direction.name().to_string(),
        seed,
        budget: f.budget(),
        trials_done: f.rows.len(),
        trials_failed: f.n_failed(),
        trials_timed_out: f.n_timed_out(),
        trials_pruned: f.n_pruned(),
        status: f.status().name().to_string(),
        root_hash: f.manifest.root_hash.clone(),
        hpsearch_version: f.manifest.hpsearch_version.clone(),
        started: f.manifest.started.clone(),
        finished: f.manifest.finished.clone(),
        data: f
            .manifest
            .data
            .iter()
            .map(|d| DataFile {
                path: d.path.clone(),
                sha256: d.sha256.clone(),
            })
            .collect(),
        best: ranked.first().map(|r| trial(f, 1, r)),
        top: ranked
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, r)| trial(f, i + 1, r))
            .collect(),
    }
}

/// The summary as JSON (pretty, ending with a newline).
pub fn to_json(s: &Summary) -> String {
    // Plain structs, maps and finite floats: serialising cannot fail.
    let mut t = serde_json::to_string_pretty(s).unwrap_or_default();
    t.push('\n');
    t
}

/// The summary as one CSV table, one row per top trial, the search's facts
/// repeated on every row so a data frame holds them all:
/// `search,strategy,metric,direction,seed,budget,trials_done,trials_failed,
/// trials_timed_out,status,root_hash,hpsearch_version,started,finished,data,data_sha256,
/// rank,trial,seed_trial,status_trial,value,fold_mean,fold_std,<params>,fold_0..`
/// (several data files are joined with `;`).
pub fn to_csv(s: &Summary) -> String {
    let params: Vec<String> = s
        .best
        .as_ref()
        .map(|b| b.params.keys().cloned().collect())
        .unwrap_or_default();
    let n_folds = s.top.iter().map(|t| t.folds.len()).max().unwrap_or(0);
    let mut header: Vec<String> = [
        "search",
        "strategy",
        "metric",
        "direction",
        "seed",
        "budget",
        "trials_done",
        "trials_failed",
        "trials_timed_out",
        "status",
        "root_hash",
        "hpsearch_version",
        "started",
        "finished",
        "data",
        "data_sha256",
        "rank",
        "trial",
        "trial_seed",
        "trial_status",
        "value",
        "fold_mean",
        "fold_std",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    header.extend(params.iter().cloned());
    header.extend((0..n_folds).map(|k| format!("fold_{k}")));
    let num = |x: Option<f64>| x.map(crate::value::fmt_f64).unwrap_or_default();
    let join = |f: &dyn Fn(&DataFile) -> &str| s.data.iter().map(f).collect::<Vec<_>>().join(";");
    let facts = vec![
        s.dir.clone(),
        s.strategy.clone(),
        s.metric.clone(),
        s.direction.clone(),
        s.seed.map(|x| x.to_string()).unwrap_or_default(),
        s.budget.to_string(),
        s.trials_done.to_string(),
        s.trials_failed.to_string(),
        s.trials_timed_out.to_string(),
        s.status.clone(),
        s.root_hash.clone(),
        s.hpsearch_version.clone(),
        s.started.clone(),
        s.finished.clone().unwrap_or_default(),
        join(&|d| &d.path),
        join(&|d| &d.sha256),
    ];
    let rows = s.top.iter().map(|t| {
        let mut rec = facts.clone();
        rec.extend([
            t.rank.to_string(),
            t.trial.to_string(),
            t.seed.to_string(),
            t.status.clone(),
            num(t.value),
            num(t.fold_mean),
            num(t.fold_std),
        ]);
        rec.extend(
            params
                .iter()
                .map(|p| t.params.get(p).map(|v| v.to_string()).unwrap_or_default()),
        );
        rec.extend((0..n_folds).map(|k| num(t.folds.get(k).copied())));
        rec
    });
    super::csv_text(&header, rows)
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// "`done` of `budget` done, `n` failed[, `m` timed out] (`status`)": the
/// counts `run` prints, time-outs apart from failures.
pub(crate) fn trials_line(s: &Summary) -> String {
    let mut timed_out = match s.trials_timed_out {
        0 => String::new(),
        n => format!(", {n} timed out"),
    };
    if s.trials_pruned > 0 {
        timed_out.push_str(&format!(", {} pruned", s.trials_pruned));
    }
    format!(
        "{} of {} done, {} failed{timed_out} ({})",
        s.trials_done, s.budget, s.trials_failed, s.status
    )
}

/// The summary for people.
pub fn to_text(s: &Summary) -> String {
    let mut t = String::new();
    let field = |t: &mut String, k: &str, v: &str| {
        let _ = writeln!(t, "{k:<12}{v}");
    };
    field(&mut t, "search", &format!("{} ({})", s.dir, s.search_file));
    let settings = if s.strategy_settings.is_empty() {
        String::new()
    } else {
        let kv: Vec<String> = s
            .strategy_settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(" ({})", kv.join(", "))
    };
    field(&mut t, "strategy", &format!("{}{settings}", s.strategy));
    field(
        &mut t,
        "objective",
        &format!("{} {}", s.direction, s.objective),
    );
    if let Some(seed) = s.seed {
        field(&mut t, "seed", &seed.to_string());
    }
    field(&mut t, "trials", &trials_line(s));
    field(&mut t, "root hash", &s.root_hash);
    for d in &s.data {
        field(&mut t, "data", &format!("{} sha256 {}", d.path, d.sha256));
    }
    field(&mut t, "hpsearch", &s.hpsearch_version);
    field(&mut t, "started", &s.started);
    field(&mut t, "finished", s.finished.as_deref().unwrap_or("-"));
    match &s.best {
        None => field(&mut t, "best", "no trial succeeded"),
        Some(b) => {
            field(
                &mut t,
                "best",
                &format!(
                    "trial {}: {} = {}",
                    b.trial,
                    s.metric,
                    b.value.map(crate::value::fmt_f64).unwrap_or_default()
                ),
            );
            for (k, v) in &b.params {
                // An empty cell: a conditional parameter the trial left
                // inactive.
                if v.as_str() == Some("") {
                    continue;
                }
                let _ = writeln!(t, "  {k} = {v}");
            }
            if let (Some(m), Some(sd)) = (b.fold_mean, b.fold_std) {
                let folds: Vec<String> = b.folds.iter().map(|f| fmt_sig(*f, 6)).collect();
                let _ = writeln!(
                    t,
                    "  folds: {} (mean {} ± {})",
                    folds.join(", "),
                    fmt_sig(m, 6),
                    fmt_sig(sd, 4)
                );
            }
        }
    }
    if !s.top.is_empty() {
        let _ = writeln!(t, "\ntop {} trials", s.top.len());
        let mut table: Vec<Vec<String>> = Vec::new();
        let names: Vec<String> = s
            .best
            .as_ref()
            .map(|b| b.params.keys().cloned().collect())
            .unwrap_or_default();
        let mut head = vec!["rank".to_string(), "trial".into(), s.metric.clone()];
        let has_folds = s.top.iter().any(|x| x.fold_mean.is_some());
        if has_folds {
            head.push("fold mean ± std".into());
        }
        head.extend(names.iter().cloned());
        table.push(head);
        for x in &s.top {
            let mut row = vec![
                x.rank.to_string(),
                x.trial.to_string(),
                x.value.map(|v| fmt_sig(v, 6)).unwrap_or_default(),
            ];
            if has_folds {
                row.push(match (x.fold_mean, x.fold_std) {
                    (Some(m), Some(sd)) => format!("{} ± {}", fmt_sig(m, 6), fmt_sig(sd, 3)),
                    _ => String::new(),
                });
            }
            row.extend(names.iter().map(|n| match x.params.get(n) {
                Some(Value::Float(f)) => fmt_sig(*f, 6),
                Some(v) => v.to_string(),
                None => String::new(),
            }));
            table.push(row);
        }
        t.push_str(&columns(&table));
    }
    t
}

/// Left-aligned columns separated by two spaces (widths in characters).
pub(crate) fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|k| {
            rows.iter()
                .filter_map(|r| r.get(k))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (k, c) in r.iter().enumerate() {
            line.push_str(c);
            if k + 1 < r.len() {
                let pad = widths[k] - c.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests::{write_folder, BRANIN_SEARCH};

    fn folder() -> (tempfile::TempDir, Folder) {
        let d = tempfile::tempdir().unwrap();
        let r = |s: &str, v: &str, c: &str, x: &str| -> Vec<String> {
            vec![s.into(), v.into(), c.into(), x.into()]
        };
        write_folder(
            d.path(),
            BRANIN_SEARCH,
            &["c", "x"],
            &[
                r("ok", "3.0", "a", "0.1"),
                r("failed", "", "b", "1.0"),
                r("ok", "1.5", "b", "5.0"),
                r("ok", "2.5", "a", "2.0"),
            ],
            true,
        );
        let f = crate::inspect::open(d.path()).unwrap();
        (d, f)
    }

    #[test]
    fn summary_counts_and_top_k() {
        let (_d, f) = folder();
        let s = summary(&f, 2);
        assert_eq!((s.trials_done, s.trials_failed, s.budget), (4, 1, 4));
        assert_eq!(s.status, "finished");
        assert_eq!(s.top.iter().map(|t| t.trial).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(s.best.as_ref().map(|b| b.value), Some(Some(1.5)));
        assert_eq!(summary(&f, 0).top.len(), 3);
    }

    #[test]
    fn text_json_and_csv_hold_the_same_best() {
        let (_d, f) = folder();
        let s = summary(&f, 10);
        let text = to_text(&s);
        assert!(text.contains("best        trial 2: value = 1.5"), "{text}");
        assert!(text.contains("  c = b\n  x = 5.0\n"), "{text}");
        assert!(text.contains("4 of 4 done, 1 failed (finished)"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&to_json(&s)).unwrap();
        assert_eq!(json["best"]["trial"], 2);
        assert_eq!(json["best"]["params"]["x"], 5.0);
        assert_eq!(json["best"]["params"]["c"], "b");
        assert_eq!(json["top"].as_array().map(Vec::len), Some(3));
        let csv = to_csv(&s);
        let mut lines = csv.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let first: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
        assert_eq!(first[col("trial")], "2");
        assert_eq!(first[col("value")], "1.5");
        assert_eq!(first[col("x")], "5.0");
        assert_eq!(first[col("c")], "b");
        assert_eq!(first[col("strategy")], "random");
        assert_eq!(csv.lines().count(), 4);
    }

    #[test]
    fn columns_pad_by_characters() {
        let t = columns(&[
            vec!["a".into(), "±".into(), "c".into()],
            vec!["long".into(), "x".into(), "".into()],
        ]);
        assert_eq!(t, "a     ±  c\nlong  x\n");
    }
}
