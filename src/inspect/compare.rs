//! `hpsearch compare`: several searches side by side — what differs in
//! their resolved searches, their best values and parameters, and how fast
//! each reached its best.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{flatten, fmt_sig, Folder};
use crate::value::Value;

/// The fractions of the budget at which best-so-far values are reported.
pub(crate) const CHECKPOINTS: [u64; 4] = [10, 25, 50, 100];

/// One search's column in a comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Column {
    /// The folder as given.
    pub dir: String,
    /// Strategy name.
    pub strategy: String,
    /// What the value column holds, and whether lower or higher is better.
    pub metric: String,
    /// `minimize` or `maximize`.
    pub direction: String,
    /// The root hash.
    pub root_hash: String,
    /// Trials recorded.
    pub done: usize,
    /// The budget.
    pub budget: u64,
    /// Recorded trials that failed (not counting time-outs).
    pub failed: usize,
    /// Recorded trials killed at their time-out.
    pub timed_out: usize,
    /// The best trial and its value.
    pub best_trial: Option<u64>,
    /// The best value.
    pub best_value: Option<f64>,
    /// The best trial's parameters, by name.
    pub best_params: BTreeMap<String, Value>,
    /// The best value among the first `ceil(p% of the budget)` trials, for
    /// each `p` in `CHECKPOINTS`; `None` when the search has not got
    /// that far or no trial had succeeded by then.
    pub best_at: Vec<(u64, Option<f64>)>,
}

/// Several searches side by side.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// One per search, in the order given.
    pub columns: Vec<Column>,
    /// Keys of the resolved searches (`manifest.toml [search]`, dotted)
    /// whose values differ, with each search's value (`None`: absent).
    pub differences: Vec<(String, Vec<Option<String>>)>,
}

/// The number of trials that make `p` percent of `budget`, rounded up, at
/// least 1.
pub(crate) fn checkpoint(budget: u64, p: u64) -> u64 {
    (budget * p).div_ceil(100).max(1)
}

fn column(f: &Folder) -> Column {
    let best = f.best();
    let so_far = f.best_so_far();
    let best_at = CHECKPOINTS
        .iter()
        .map(|&p| {
            let n = checkpoint(f.budget(), p) as usize;
            (p, so_far.get(n - 1).copied().flatten())
        })
        .collect();
    Column {
        dir: f.dir.display().to_string(),
        strategy: f.strategy.clone(),
        metric: f.metric.clone(),
        direction: f.direction.name().to_string(),
        root_hash: f.manifest.root_hash.clone(),
        done: f.rows.len(),
        budget: f.budget(),
        failed: f.n_failed(),
        timed_out: f.n_timed_out(),
        best_trial: best.map(|r| r.trial),
        best_value: best.and_then(|r| r.value),
        best_params: best
            .map(|r| {
                (0..f.params.len())
                    .filter_map(|k| Some((f.params[k].name.clone(), f.value_of(r, k)?)))
                    .collect()
            })
            .unwrap_or_default(),
        best_at,
    }
}

/// Compare `folders`, in the order given.
pub fn compare(folders: &[Folder]) -> Comparison {
    let flat: Vec<BTreeMap<String, String>> = folders
        .iter()
        .map(|f| {
            let mut m = BTreeMap::new();
            flatten("", &f.manifest.search, &mut m);
            m
        })
        .collect();
    let keys: BTreeSet<&String> = flat.iter().flat_map(|m| m.keys()).collect();
    let differences = keys
        .into_iter()
        .filter_map(|k| {
            let vals: Vec<Option<String>> = flat.iter().map(|m| m.get(k).cloned()).collect();
            vals.iter()
                .any(|v| *v != vals[0])
                .then(|| (k.clone(), vals))
        })
        .collect();
    Comparison {
        columns: folders.iter().map(column).collect(),
        differences,
    }
}

/// The comparison as JSON.
pub fn to_json(c: &Comparison) -> String {
    let mut t = serde_json::to_string_pretty(c).unwrap_or_default();
    t.push('\n');
    t
}

/// The comparison for pandas: one row a search, in the order given, with
/// its facts, the best value so far at each checkpoint (`best_at_<p>`),
/// the best trial's parameters (the union of every search's names, empty
/// where a search has none) and the settings that differ (`search.<key>`).
pub fn to_csv(c: &Comparison) -> String {
    let params: BTreeSet<&String> = c
        .columns
        .iter()
        .flat_map(|k| k.best_params.keys())
        .collect();
    let mut header: Vec<String> = [
        "search",
        "strategy",
        "metric",
        "direction",
        "root_hash",
        "budget",
        "trials_done",
        "trials_failed",
        "trials_timed_out",
        "best_trial",
        "best_value",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    header.extend(CHECKPOINTS.iter().map(|p| format!("best_at_{p}")));
    header.extend(params.iter().map(|p| p.to_string()));
    header.extend(c.differences.iter().map(|(k, _)| format!("search.{k}")));
    let num = |x: Option<f64>| x.map(crate::value::fmt_f64).unwrap_or_default();
    let rows = c.columns.iter().enumerate().map(|(i, k)| {
        let mut rec = vec![
            k.dir.clone(),
            k.strategy.clone(),
            k.metric.clone(),
            k.direction.clone(),
            k.root_hash.clone(),
            k.budget.to_string(),
            k.done.to_string(),
            k.failed.to_string(),
            k.timed_out.to_string(),
            k.best_trial.map(|t| t.to_string()).unwrap_or_default(),
            num(k.best_value),
        ];
        rec.extend(k.best_at.iter().map(|&(_, v)| num(v)));
        rec.extend(params.iter().map(|p| {
            k.best_params
                .get(*p)
                .map(|v| v.to_string())
                .unwrap_or_default()
        }));
        rec.extend(
            c.differences
                .iter()
                .map(|(_, vals)| vals.get(i).cloned().flatten().unwrap_or_default()),
        );
        rec
    });
    super::csv_text(&header, rows)
}

/// The side-by-side table: a header row (an empty corner, then each
/// search's folder), then one row a fact: strategy, objective, root hash,
/// trials, best value, trial and when it was reached, the best so far at
/// each checkpoint, and the best trial's parameters.
pub(crate) fn table(c: &Comparison) -> Vec<Vec<String>> {
    let num = |x: Option<f64>| x.map_or("-".to_string(), |v| fmt_sig(v, 6));
    let mut head = vec![String::new()];
    head.extend(c.columns.iter().map(|k| k.dir.clone()));
    let mut rows = vec![head];
    let mut line = |label: &str, f: &dyn Fn(&Column) -> String| {
        let mut r = vec![label.to_string()];
        r.extend(c.columns.iter().map(f));
        rows.push(r);
    };
    line("strategy", &|k| k.strategy.clone());
    line("objective", &|k| format!("{} {}", k.direction, k.metric));
    line("root hash", &|k| {
        k.root_hash.get(..12).unwrap_or("").to_string()
    });
    line("trials", &|k| {
        let timed_out = match k.timed_out {
            0 => String::new(),
            n => format!(", {n} timed out"),
        };
        format!("{}/{} ({} failed{timed_out})", k.done, k.budget, k.failed)
    });
    line("best value", &|k| num(k.best_value));
    line("best trial", &|k| {
        k.best_trial.map_or("-".into(), |t| t.to_string())
    });
    line("best reached", &|k| match k.best_trial {
        Some(t) if k.budget > 0 => format!("{}% of budget", ((t + 1) * 100).div_ceil(k.budget)),
        _ => "-".into(),
    });
    for (i, &p) in CHECKPOINTS.iter().enumerate() {
        line(&format!("best at {p}%"), &|k| {
            num(k.best_at.get(i).and_then(|b| b.1))
        });
    }
    let names: BTreeSet<&String> = c
        .columns
        .iter()
        .flat_map(|k| k.best_params.keys())
        .collect();
    for n in names {
        line(&format!("best {n}"), &|k| match k.best_params.get(n) {
            Some(Value::Float(f)) => fmt_sig(*f, 6),
            Some(v) => v.to_string(),
            None => "-".into(),
        });
    }
    rows
}

/// Parameters named in a summary line before "and N more".
const NAMED: usize = 6;

/// One line of "what differs in the resolved searches".
#[derive(Clone, Debug, PartialEq)]
pub enum Difference {
    /// A key and each search's value (`-` where a search lacks it).
    Key(String, Vec<String>),
    /// The same setting of several parameters (`space.<name>.<setting>`)
    /// differs: the setting and the parameters' names.
    Space {
        /// The setting (`low`, `log`, …).
        setting: String,
        /// The parameters whose setting differs, by name.
        params: Vec<String>,
    },
}

impl Difference {
    /// The line as table cells: the label, then the values or the summary
    /// (naming a few parameters and pointing to `--verbose`).
    pub fn cells(&self) -> Vec<String> {
        match self {
            Difference::Key(k, vals) => {
                let mut r = vec![k.clone()];
                r.extend(vals.iter().cloned());
                r
            }
            Difference::Space { setting, params } => {
                let mut named: Vec<&str> = params.iter().take(NAMED).map(String::as_str).collect();
                let more = params.len().saturating_sub(NAMED);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                if named.is_empty() {
                    named.push("-");
                }
                vec![
                    format!("space.*.{setting}"),
                    format!(
                        "differs for {} parameters: {}{more} (--verbose lists each)",
                        params.len(),
                        named.join(", ")
                    ),
                ]
            }
        }
    }
}

impl Difference {
    /// A summary line naming every parameter (for the report, which has
    /// no `--verbose`); `None` for a single key.
    pub fn summary_in_full(&self) -> Option<String> {
        match self {
            Difference::Key(..) => None,
            Difference::Space { params, .. } => Some(format!(
                "differs for {} parameters: {}",
                params.len(),
                params.join(", ")
            )),
        }
    }
}

/// The differing keys for people: every key other than `space.*` on a line
/// of its own with each search's value; the `space.<name>.<setting>` keys
/// grouped by setting, one line for a setting that differs for several
/// parameters (a search over 30 parameters whose bounds all changed gives
/// one line, not 30). `verbose` lists every key on its own line.
pub fn differences(c: &Comparison, verbose: bool) -> Vec<Difference> {
    let key = |k: &str, vals: &[Option<String>]| {
        Difference::Key(
            k.to_string(),
            vals.iter()
                .map(|v| v.clone().unwrap_or_else(|| "-".into()))
                .collect(),
        )
    };
    if verbose {
        return c.differences.iter().map(|(k, v)| key(k, v)).collect();
    }
    // setting -> the parameters whose setting differs, in name order.
    let mut by_setting: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (k, _) in &c.differences {
        if let Some((param, setting)) = k.strip_prefix("space.").and_then(|r| r.split_once('.')) {
            by_setting
                .entry(setting)
                .or_default()
                .push(param.to_string());
        }
    }
    let mut out = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for (k, vals) in &c.differences {
        let setting = k
            .strip_prefix("space.")
            .and_then(|r| r.split_once('.'))
            .map(|(_, s)| s);
        match setting.and_then(|s| by_setting.get(s).map(|p| (s, p))) {
            Some((s, params)) if params.len() > 1 => {
                if done.insert(s) {
                    out.push(Difference::Space {
                        setting: s.to_string(),
                        params: params.clone(),
                    });
                }
            }
            _ => out.push(key(k, vals)),
        }
    }
    out
}

/// The comparison as a side-by-side table, then what differs in the
/// resolved searches (see [`differences`]; `verbose` lists every key).
pub fn to_text(c: &Comparison, verbose: bool) -> String {
    let mut t = super::show::columns(&table(c));
    t.push('\n');
    if c.differences.is_empty() {
        t.push_str("resolved searches: identical\n");
    } else {
        t.push_str("resolved searches differ in:\n");
        let rows: Vec<Vec<String>> = differences(c, verbose)
            .iter()
            .map(|d| {
                let mut r = d.cells();
                r[0] = format!("  {}", r[0]);
                r
            })
            .collect();
        t.push_str(&super::show::columns(&rows));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests::{write_folder, BRANIN_SEARCH};

    #[test]
    fn checkpoints_round_up() {
        assert_eq!(checkpoint(20, 10), 2);
        assert_eq!(checkpoint(30, 25), 8);
        assert_eq!(checkpoint(3, 10), 1);
        assert_eq!(checkpoint(60, 100), 60);
    }

    #[test]
    fn differences_and_best_so_far() {
        let d = tempfile::tempdir().unwrap();
        let r = |v: &str| -> Vec<String> { vec!["ok".into(), v.into(), "a".into(), "1.0".into()] };
        write_folder(
            &d.path().join("a"),
            BRANIN_SEARCH,
            &["c", "x"],
            &[r("4.0"), r("3.0"), r("2.0"), r("1.0")],
            true,
        );
        let other = BRANIN_SEARCH
            .replace("seed = 0", "seed = 7")
            .replace("high = 10.0", "high = 20.0");
        write_folder(
            &d.path().join("b"),
            &other,
            &["c", "x"],
            &[r("0.5"), r("3.0")],
            false,
        );
        let fs = [
            crate::inspect::open(&d.path().join("a")).unwrap(),
            crate::inspect::open(&d.path().join("b")).unwrap(),
        ];
        let c = compare(&fs);
        let keys: Vec<&str> = c.differences.iter().map(|d| d.0.as_str()).collect();
        assert_eq!(keys, ["seed", "space.x.high"]);
        assert_eq!(
            c.differences[0].1,
            vec![Some("0".to_string()), Some("7".to_string())]
        );
        // Budget 4: 10% and 25% -> 1 trial, 50% -> 2, 100% -> 4.
        assert_eq!(
            c.columns[0].best_at,
            vec![
                (10, Some(4.0)),
                (25, Some(4.0)),
                (50, Some(3.0)),
                (100, Some(1.0))
            ]
        );
        // Two of four trials recorded: 100% not reached.
        assert_eq!(c.columns[1].best_at[3], (100, None));
        assert_eq!(c.columns[1].best_at[2], (50, Some(0.5)));
        let text = to_text(&c, false);
        let line = text
            .lines()
            .find(|l| l.starts_with("best reached"))
            .unwrap();
        assert!(
            line.contains(" 100% of budget ") && line.ends_with(" 25% of budget"),
            "{text}"
        );
        assert!(text.contains("\n  seed          0     7\n"), "{text}");
        let csv = to_csv(&c);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "search,strategy,metric,direction,root_hash,budget,trials_done,trials_failed,\
             trials_timed_out,best_trial,best_value,best_at_10,best_at_25,best_at_50,best_at_100,c,x,\
             search.seed,search.space.x.high"
        );
        assert_eq!(lines.len(), 3, "{csv}");
        let a: Vec<&str> = lines[1].split(',').collect();
        let b: Vec<&str> = lines[2].split(',').collect();
        // a: 4 of 4 trials, best 1.0 at trial 3; b: 2 of 4, best 0.5 at 0.
        assert_eq!(
            &a[5..15],
            ["4", "4", "0", "0", "3", "1.0", "4.0", "4.0", "3.0", "1.0"]
        );
        assert_eq!(
            &b[6..15],
            ["2", "0", "0", "0", "0.5", "0.5", "0.5", "0.5", ""]
        );
        assert_eq!(&a[17..], ["0", "10.0"]);
        assert_eq!(&b[17..], ["7", "20.0"]);
    }

    #[test]
    fn a_setting_that_differs_for_several_parameters_is_one_line() {
        let k = |s: &str| (s.to_string(), vec![Some("1".to_string()), None]);
        let c = Comparison {
            columns: Vec::new(),
            differences: vec![
                k("seed"),
                k("space.a.high"),
                k("space.b.high"),
                k("space.c.high"),
                k("space.c.low"),
            ],
        };
        let d = differences(&c, false);
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!(d[0].cells(), ["seed", "1", "-"]);
        assert_eq!(
            d[1],
            Difference::Space {
                setting: "high".into(),
                params: vec!["a".into(), "b".into(), "c".into()]
            }
        );
        assert_eq!(
            d[1].cells()[1],
            "differs for 3 parameters: a, b, c (--verbose lists each)"
        );
        // Only c's low differs: its own line, with the values.
        assert_eq!(d[2].cells(), ["space.c.low", "1", "-"]);
        assert_eq!(differences(&c, true).len(), 5);
        let many = Comparison {
            columns: Vec::new(),
            differences: (0..30).map(|i| k(&format!("space.x{i:02}.high"))).collect(),
        };
        let text = to_text(&many, false);
        assert!(
            text.contains(
                "space.*.high  differs for 30 parameters: x00, x01, x02, x03, x04, x05 and 24 more"
            ),
            "{text}"
        );
        let diff_lines = |t: &str| {
            t.split("differ in:\n")
                .nth(1)
                .map_or(0, |d| d.lines().count())
        };
        assert_eq!(diff_lines(&text), 1, "{text}");
        assert_eq!(diff_lines(&to_text(&many, true)), 30);
    }
}
