//! Seeing and comparing finished (or running) searches: `show`, `list`,
//! `compare` and the HTML `report` with its plots and parameter importance.
//!
//! Everything here reads a results folder and never writes into one: the
//! manifest through [`journal::read_manifest`] (its check verified), the
//! trials through [`journal::read_committed`] (every row's check verified,
//! and a journal shorter than the manifest records refused), the resolved
//! search from the manifest's `[search]` table, so nothing needs the data
//! file or the search file. The output for the same folders is the same,
//! byte for byte, run after run: it holds only what the folder records (the
//! start and end times are the manifest's); only `list` reads file
//! modification times, for its "last change" column.
//!
//! | module | owns |
//! | --- | --- |
//! | [`show`] | one search at a glance: text, JSON, CSV |
//! | [`list`] | one line per search in a folder of results |
//! | [`compare`] | several searches side by side |
//! | `importance` | fANOVA parameter importance on a random forest |
//! | `plot` | the SVG plots |
//! | [`report`] | the self-contained HTML report |
//!
//! # Example
//!
//! ```
//! # // Hidden set-up: run a 6-trial random search on Branin into `dir`
//! # // (what `hpsearch run` does).
//! # let tmp = tempfile::tempdir()?;
//! # let dir = tmp.path().join("branin");
//! # let text = r#"
//! # [search]
//! # strategy = "random"
//! # trials = 6
//! # seed = 0
//! # [objective]
//! # function = "branin"
//! # [space]
//! # x0 = { type = "float", low = -5.0, high = 10.0 }
//! # x1 = { type = "float", low = 0.0, high = 15.0 }
//! # "#;
//! # let engine = hpsearch::engine::Search::from_toml(text, tmp.path().join("branin.toml"))?;
//! # let options = hpsearch::engine::RunOptions { threads: Some(2), ..Default::default() };
//! # engine.run(&dir, options)?;
//! # let search = engine.spec();
//! use hpsearch::inspect::{self, show};
//!
//! // Read a results folder on its own (no search file, no data), as
//! // `hpsearch show DIR --top 3` does.
//! let folder = inspect::open(&dir)?;
//! assert_eq!(folder.rows.len(), 6);
//! let summary = show::summary(&folder, 3);
//! assert_eq!(summary.status, "finished");
//! assert_eq!(summary.top.len(), 3);
//! print!("{}", show::to_text(&summary));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Direction;
use crate::journal::{self, Columns, JournalError, Manifest, Row};
use crate::objective::Status;
use crate::space::{Condition, Domain, Param};
use crate::value::Value;

pub mod compare;
pub(crate) mod importance;
pub mod list;
pub(crate) mod plot;
pub mod report;
pub mod show;

/// Why a results folder could not be read or a report written.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The folder is missing, not a results folder, or damaged.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The manifest's resolved search lacks something hpsearch always writes.
    #[error("{path}: [search]: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is missing or wrong.
        message: String,
    },
    /// A folder to list does not exist or cannot be read.
    #[error("{path}: {message}")]
    NotFound {
        /// The folder.
        path: PathBuf,
        /// Why it cannot be read.
        message: String,
    },
    /// Writing an output file failed.
    #[error("{path}: {message}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// The I/O error, as text.
        message: String,
    },
}

impl InspectError {
    /// Whether the error is the user's input (exit 2) rather than a failed
    /// write (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, InspectError::Write { .. })
    }
}

/// How far a search got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchStatus {
    /// The manifest records an end and at least one trial succeeded.
    Finished,
    /// No end recorded: interrupted (resume it with `hpsearch run`) or
    /// still running.
    Unfinished,
    /// It ended and no trial succeeded (`hpsearch run` exited with 1).
    Failed,
}

impl SearchStatus {
    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SearchStatus::Finished => "finished",
            SearchStatus::Unfinished => "unfinished",
            SearchStatus::Failed => "failed",
        }
    }
}

/// A results folder, read: its manifest, its parameters and its trials.
#[derive(Debug)]
pub struct Folder {
    /// The folder as the user named it.
    pub dir: PathBuf,
    /// `manifest.toml`.
    pub manifest: Manifest,
    /// The parameters, sorted by name (the order of `trials.csv`).
    pub params: Vec<Param>,
    /// Whether lower or higher values are better.
    pub direction: Direction,
    /// The name of what the value column holds (`accuracy`, `r2`, `value`).
    pub metric: String,
    /// The strategy's name (`grid`, `random`, `sobol`, `tpe`, `gp`).
    pub strategy: String,
    /// The strategy's settings as `key = value` text, sorted by key.
    pub strategy_settings: Vec<(String, String)>,
    /// A one-line description of the objective.
    pub objective: String,
    /// Cross-validation folds (0 for a function).
    pub n_folds: usize,
    /// Every committed trial, in trial order.
    pub rows: Vec<Row>,
    /// Whether the search has a pruner (`[search.pruner]`): its rows carry
    /// their intermediate values (`steps`).
    pub pruner: bool,
}

/// Read the results folder `dir`: its manifest and every committed row of
/// `trials.csv` (checks verified, a torn last line left out).
pub fn open(dir: &Path) -> Result<Folder, InspectError> {
    let manifest = journal::read_manifest(dir)?;
    let mpath = dir.join("manifest.toml");
    let bad = |message: String| InspectError::Manifest {
        path: mpath.clone(),
        message,
    };
    let search = manifest
        .search
        .as_table()
        .ok_or_else(|| bad("not a table".into()))?;
    let direction: Direction = search
        .get("direction")
        .cloned()
        .ok_or_else(|| bad("no direction".into()))?
        .try_into()
        .map_err(|e| bad(format!("direction: {e}")))?;
    let space = search
        .get("space")
        .and_then(|s| s.as_table())
        .ok_or_else(|| bad("no [search.space] table".into()))?;
    let mut params = Vec::with_capacity(space.len());
    for (name, v) in space {
        let domain: Domain = v
            .clone()
            .try_into()
            .map_err(|e| bad(format!("space.{name}: {e}")))?;
        // A conditional parameter's condition, as `Search::canonical`
        // writes it (`[search.when.<name>] parent = [values]`).
        let when = search
            .get("when")
            .and_then(|w| w.get(name))
            .and_then(|c| c.as_table())
            .and_then(|c| c.iter().next())
            .map(|(parent, values)| Condition {
                parent: parent.clone(),
                values: values
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::from_toml).collect())
                    .unwrap_or_default(),
            });
        params.push(Param {
            name: name.clone(),
            domain,
            when,
        });
    }
    // Why: the journal's columns are in name order; sort here rather than
    // trust the TOML map's order.
    params.sort_by(|a, b| a.name.cmp(&b.name));
    let (strategy, strategy_settings) = match search.get("strategy") {
        Some(toml::Value::String(s)) => (s.clone(), Vec::new()),
        Some(toml::Value::Table(t)) if t.len() == 1 => {
            let (name, settings) = t.iter().next().map_or(("?", None), |(k, v)| (k, Some(v)));
            let settings = settings
                .and_then(|s| s.as_table())
                .map(|s| s.iter().map(|(k, v)| (k.clone(), toml_text(v))).collect())
                .unwrap_or_default();
            (name.to_string(), settings)
        }
        _ => return Err(bad("no strategy".into())),
    };
    let objective_table = search.get("objective").and_then(|o| o.as_table());
    let get = |k: &str| {
        objective_table
            .and_then(|o| o.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let strings = |k: &str| -> Vec<String> {
        objective_table
            .and_then(|o| o.get(k))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let n_folds = search
        .get("cv")
        .and_then(|c| c.get("folds"))
        .and_then(|f| f.as_integer())
        .map_or(0, |f| f.max(0) as usize);
    // `[cv] kind = "repeated"`: a fold score per fold of each repeat.
    let n_folds = n_folds
        * search
            .get("cv")
            .and_then(|c| c.get("scheme"))
            .and_then(|s| s.get("repeats"))
            .and_then(|r| r.as_integer())
            .map_or(1, |r| r.max(1) as usize);
    let (metric, objective) = match (get("model"), get("function")) {
        (Some(model), _) => {
            let metric = get("metric").unwrap_or_else(|| "value".into());
            let task = get("task").unwrap_or_default();
            let fixed = objective_table
                .and_then(|o| o.get("params"))
                .and_then(|p| p.as_table())
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let kv: Vec<String> = p
                        .iter()
                        .map(|(k, v)| format!("{k} = {}", toml_text(v)))
                        .collect();
                    format!(" with {}", kv.join(", "))
                })
                .unwrap_or_default();
            let text = format!("{model} ({task}){fixed}, {n_folds}-fold cross-validated {metric}");
            (metric, text)
        }
        (None, Some(function)) => ("value".to_string(), format!("function {function}")),
        // A command: the program and its arguments.
        (None, None) => {
            let metric = get("metric").unwrap_or_else(|| "value".into());
            let argv = strings("command");
            let text = if argv.is_empty() {
                get("kind").unwrap_or_else(|| "objective".into())
            } else {
                format!("command `{}`", argv.join(" "))
            };
            (metric, text)
        }
    };
    // A command's or an external objective's result columns, then
    // `extra` (journal.rs, the format).
    let extra = if matches!(get("kind").as_deref(), Some("command" | "external")) {
        crate::objective::command::result_columns(&strings("columns"))
    } else {
        Vec::new()
    };
    let columns = Columns {
        params: params.iter().map(|p| p.name.clone()).collect(),
        n_folds,
        extra,
        // A search with a pruner records its intermediate values.
        steps: search.get("pruner").is_some(),
    };
    let rows = journal::read_committed(dir, &columns, &manifest)?;
    let pruner = columns.steps;
    Ok(Folder {
        dir: dir.to_path_buf(),
        manifest,
        params,
        direction,
        metric,
        strategy,
        strategy_settings,
        objective,
        n_folds,
        rows,
        pruner,
    })
}

/// A TOML value as short text: strings without quotes, floats in shortest
/// round-trip form, arrays and tables inline.
fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => crate::value::fmt_f64(*f),
        other => other.to_string(),
    }
}

impl Folder {
    /// A short name: the folder's last component.
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.dir.display().to_string())
    }

    /// The trial budget the manifest records.
    pub fn budget(&self) -> u64 {
        self.manifest.budget
    }

    /// Trials that did not succeed and were neither killed at their
    /// time-out nor pruned (counted apart, by [`Folder::n_timed_out`] and
    /// [`Folder::n_pruned`], as `run` counts them).
    pub fn n_failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| !is_ok(r) && !matches!(r.status, Status::Timeout | Status::Pruned))
            .count()
    }

    /// Command trials stopped early by the pruner.
    pub fn n_pruned(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == Status::Pruned)
            .count()
    }

    /// Command trials killed at their `timeout`.
    pub fn n_timed_out(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == Status::Timeout)
            .count()
    }

    /// Finished, unfinished or failed; see [`SearchStatus`].
    pub fn status(&self) -> SearchStatus {
        match (&self.manifest.finished, self.best()) {
            (None, _) => SearchStatus::Unfinished,
            (Some(_), None) => SearchStatus::Failed,
            (Some(_), Some(_)) => SearchStatus::Finished,
        }
    }

    /// The best trial (the earliest among equals), as `run` reports it.
    pub fn best(&self) -> Option<&Row> {
        journal::best_row(self.direction, &self.rows)
    }

    /// The successful trials, best first; equal values in trial order.
    pub fn ranked(&self) -> Vec<&Row> {
        let mut ok: Vec<&Row> = self.rows.iter().filter(|r| is_ok(r)).collect();
        let dir = self.direction;
        // Why: a stable sort on a total order, so ties keep trial order and
        // the ranking never depends on anything but the journal.
        ok.sort_by(|a, b| {
            let (x, y) = (a.value.unwrap_or(f64::NAN), b.value.unwrap_or(f64::NAN));
            match dir {
                Direction::Minimize => x.total_cmp(&y),
                Direction::Maximize => y.total_cmp(&x),
            }
        });
        ok
    }

    /// The best value among the first `n` trials, for each `n` from 1 to
    /// the number of rows (`None` until a trial succeeded).
    pub fn best_so_far(&self) -> Vec<Option<f64>> {
        let mut best: Option<f64> = None;
        self.rows
            .iter()
            .map(|r| {
                if let Some(v) = ok_value(r) {
                    if best.is_none_or(|b| self.direction.better(v, b)) {
                        best = Some(v);
                    }
                }
                best
            })
            .collect()
    }

    /// The value of parameter `k` of `row`, parsed by its domain.
    pub fn value_of(&self, row: &Row, k: usize) -> Option<Value> {
        let p = self.params.get(k)?;
        let text = row.params.get(k).map(|(_, v)| v.as_str())?;
        parse_value(&p.domain, text)
    }

    /// The unit-cube coordinates of `row` (see [`Param::to_unit`]); 0.5
    /// for a value the domain does not know.
    pub fn unit_of(&self, row: &Row) -> Vec<f64> {
        (0..self.params.len())
            .map(|k| {
                self.value_of(row, k)
                    .map_or(0.5, |v| self.params[k].to_unit(&v))
            })
            .collect()
    }

    /// The time the manifest records for the start, and for the end when
    /// there is one.
    pub fn times(&self) -> (&str, Option<&str>) {
        (&self.manifest.started, self.manifest.finished.as_deref())
    }
}

/// Whether a row is a successful trial; a status this version does not know
/// counts as not successful.
pub(crate) fn is_ok(r: &Row) -> bool {
    r.status == Status::Ok && r.value.is_some()
}

/// The value of a successful row.
pub(crate) fn ok_value(r: &Row) -> Option<f64> {
    r.value.filter(|_| is_ok(r))
}

/// A parameter value as written in `trials.csv`, read back by its domain.
pub(crate) fn parse_value(domain: &Domain, text: &str) -> Option<Value> {
    match domain {
        Domain::Float { .. } => text.parse::<f64>().ok().map(Value::Float),
        Domain::Int { .. } => text.parse::<i64>().ok().map(Value::Int),
        Domain::Categorical { choices: list } | Domain::Values { values: list } => {
            list.iter().find(|c| c.to_string() == text).cloned()
        }
    }
}

/// How a parameter is drawn on an axis.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Axis {
    /// A number between `low` and `high`, on a log scale when `log`.
    Numeric {
        /// The axis's lower end.
        low: f64,
        /// The axis's upper end.
        high: f64,
        /// Whether the axis is logarithmic.
        log: bool,
    },
    /// Named choices at positions 0, 1, 2, ...
    Choices(Vec<String>),
}

/// The axis of a parameter: float and int ranges on their range (log when
/// the domain is log); categorical choices and explicit value lists by
/// position, evenly spaced (a list is a handful of hand-picked points, often
/// log-spaced, which a linear axis would crowd together).
pub(crate) fn axis_of(p: &Param) -> Axis {
    match &p.domain {
        Domain::Float { low, high, log, .. } => Axis::Numeric {
            low: *low,
            high: *high,
            log: *log,
        },
        Domain::Int { low, high, log, .. } => Axis::Numeric {
            low: *low as f64,
            high: *high as f64,
            log: *log,
        },
        Domain::Values { values: list } | Domain::Categorical { choices: list } => {
            Axis::Choices(list.iter().map(|v| v.to_string()).collect())
        }
    }
}

/// Where `v` sits on `axis`: the number itself, or the choice's position.
pub(crate) fn axis_position(axis: &Axis, v: &Value) -> Option<f64> {
    match axis {
        Axis::Numeric { .. } => v.as_f64(),
        Axis::Choices(names) => {
            let s = v.to_string();
            names.iter().position(|n| *n == s).map(|k| k as f64)
        }
    }
}

/// Mean and (population) standard deviation of fold scores, summed in fold
/// order; `None` when there are none.
pub(crate) fn fold_stats(folds: &[f64]) -> Option<(f64, f64)> {
    if folds.is_empty() {
        return None;
    }
    let n = folds.len() as f64;
    let mean = folds.iter().sum::<f64>() / n;
    let var = folds.iter().map(|f| (f - mean) * (f - mean)).sum::<f64>() / n;
    Some((mean, var.sqrt()))
}

/// CSV text with `\n` line ends: the header row, then `rows`.
pub(crate) fn csv_text(header: &[String], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(&r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A number with `digits` significant digits, without trailing zeros, in
/// exponent form outside 1e-4 .. 1e6 (for tables; files keep every bit).
pub fn fmt_sig(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    let mag = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&mag) {
        let s = format!("{:.*e}", digits - 1, x);
        // 1.50000e-5 -> 1.5e-5
        return match s.split_once('e') {
            Some((m, e)) if m.contains('.') => {
                format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => s,
        };
    }
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC), the form
/// the manifest uses.
pub(crate) fn fmt_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from a day count (proleptic Gregorian, 400-year eras).
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Flatten a TOML value into `dotted.key -> text` pairs (arrays kept whole),
/// for comparing resolved searches.
pub(crate) fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) if !t.is_empty() => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), toml_text(other));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A results folder written by hand: `rows` are (status, value,
    /// params..., folds...) fields, checks computed as the journal does.
    pub(crate) fn write_folder(
        dir: &Path,
        manifest_search: &str,
        header: &[&str],
        rows: &[Vec<String>],
        finished: bool,
    ) {
        use sha2::{Digest, Sha256};
        let root = "ab".repeat(32);
        let finished = if finished {
            "finished = \"2026-01-01T00:10:00Z\"\n"
        } else {
            ""
        };
        let mut text = format!("trial,seed,status,value,{},error,check\n", header.join(","));
        let mut chain = root.clone();
        for (i, r) in rows.iter().enumerate() {
            let mut fields = vec![i.to_string(), (100 + i).to_string()];
            fields.extend(r.iter().cloned());
            fields.push(String::new());
            let mut h = Sha256::new();
            h.update(chain.as_bytes());
            for f in &fields {
                h.update([0x1f]);
                h.update(f.as_bytes());
            }
            chain = crate::seed::hex(&h.finalize()[..8]);
            fields.push(chain.clone());
            text.push_str(&fields.join(","));
            text.push('\n');
        }
        let manifest = format!(
            "format = 2\nhpsearch_version = \"0.1.0\"\nroot_hash = \"{root}\"\n\
             search_file = \"s.toml\"\nbudget = {}\nrows = {}\nlast_check = \"{chain}\"\nstarted = \"2026-01-01T00:00:00Z\"\n{finished}\
             host = \"h\"\ndata = []\n\n[search]\n{manifest_search}",
            rows.len().max(4),
            rows.len()
        );
        // The check over the manifest's text (journal.rs, the format).
        let check = crate::seed::hex(&Sha256::digest(manifest.as_bytes()));
        let manifest = format!("check = \"{check}\"\n{manifest}");
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("manifest.toml"), manifest).unwrap();
        std::fs::write(dir.join("trials.csv"), text).unwrap();
        std::fs::write(dir.join("timings.csv"), "trial,seconds,thread\n").unwrap();
    }

    pub(crate) const BRANIN_SEARCH: &str = "direction = \"minimize\"\nseed = 0\n\
        strategy = \"random\"\n[search.objective]\nkind = \"function\"\nfunction = \"branin\"\ndim = 2\n\
        [search.space.x]\ntype = \"float\"\nlow = 0.001\nhigh = 10.0\nlog = true\n\
        [search.space.c]\ntype = \"categorical\"\nchoices = [\"a\", \"b\"]\n";

    fn row(status: &str, value: &str, c: &str, x: &str) -> Vec<String> {
        vec![status.into(), value.into(), c.into(), x.into()]
    }

    #[test]
    fn open_reads_params_in_name_order_and_ranks_ok_trials() {
        let d = tempfile::tempdir().unwrap();
        write_folder(
            d.path(),
            BRANIN_SEARCH,
            &["c", "x"],
            &[
                row("ok", "3.0", "a", "0.1"),
                row("failed", "", "b", "1.0"),
                row("ok", "1.5", "b", "5.0"),
                row("ok", "1.5", "a", "2.0"),
            ],
            true,
        );
        let f = open(d.path()).unwrap();
        assert_eq!(f.strategy, "random");
        assert_eq!(f.metric, "value");
        assert_eq!(f.objective, "function branin");
        assert_eq!(f.params[0].name, "c");
        assert_eq!(f.n_failed(), 1);
        assert_eq!(f.status(), SearchStatus::Finished);
        let ranked: Vec<u64> = f.ranked().iter().map(|r| r.trial).collect();
        assert_eq!(ranked, vec![2, 3, 0]);
        assert_eq!(f.best().map(|r| r.trial), Some(2));
        assert_eq!(
            f.best_so_far(),
            vec![Some(3.0), Some(3.0), Some(1.5), Some(1.5)]
        );
        assert_eq!(f.value_of(&f.rows[2], 0), Some(Value::Str("b".into())));
        assert_eq!(f.value_of(&f.rows[2], 1), Some(Value::Float(5.0)));
        // c = b is the second of two choices: cell middle 0.75; x = 10^-3..10^1
        // on a log scale, 5.0 at log10(5)+3 of 4 decades.
        let u = f.unit_of(&f.rows[2]);
        assert_eq!(u[0], 0.75);
        assert!((u[1] - (5f64.log10() + 3.0) / 4.0).abs() < 1e-12, "{u:?}");
    }

    #[test]
    fn status_unfinished_and_failed() {
        let d = tempfile::tempdir().unwrap();
        write_folder(
            d.path(),
            BRANIN_SEARCH,
            &["c", "x"],
            &[row("ok", "3.0", "a", "0.1")],
            false,
        );
        assert_eq!(open(d.path()).unwrap().status(), SearchStatus::Unfinished);
        let d = tempfile::tempdir().unwrap();
        write_folder(
            d.path(),
            BRANIN_SEARCH,
            &["c", "x"],
            &[row("failed", "", "a", "0.1")],
            true,
        );
        assert_eq!(open(d.path()).unwrap().status(), SearchStatus::Failed);
    }

    #[test]
    fn not_a_results_folder_is_named() {
        let d = tempfile::tempdir().unwrap();
        let e = open(d.path()).unwrap_err();
        assert!(e.is_bad_input());
        let msg = e.to_string();
        assert!(msg.contains("not an hpsearch results folder"), "{msg}");
        assert!(msg.contains(&d.path().display().to_string()), "{msg}");
    }

    #[test]
    fn sig_formatting() {
        assert_eq!(fmt_sig(0.982425089271852, 6), "0.982425");
        assert_eq!(fmt_sig(1.5, 6), "1.5");
        assert_eq!(fmt_sig(1234.5678, 6), "1234.57");
        assert_eq!(fmt_sig(0.00012346789, 3), "0.000123");
        assert_eq!(fmt_sig(1.5e-5, 4), "1.5e-5");
        assert_eq!(fmt_sig(-2e7, 3), "-2e7");
        assert_eq!(fmt_sig(0.0, 3), "0");
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(fmt_utc(0), "1970-01-01T00:00:00Z");
        // 2024-02-29 12:34:56 UTC
        assert_eq!(fmt_utc(1_709_210_096), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn fold_stats_population_std() {
        assert_eq!(fold_stats(&[1.0, 3.0]), Some((2.0, 1.0)));
        assert_eq!(fold_stats(&[]), None);
    }

    #[test]
    fn flatten_dotted_keys() {
        let v: toml::Value = toml::from_str("a = 1\n[b]\nc = \"x\"\nd = [1, 2]\n").unwrap();
        let mut m = BTreeMap::new();
        flatten("", &v, &mut m);
        let got: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, vec![("a", "1"), ("b.c", "x"), ("b.d", "[1, 2]")]);
    }
}
