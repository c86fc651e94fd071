//! A search from parts, for programs that do not keep a search file.
//!
//! Why it writes TOML: the builder produces the search file it stands
//! for and resolves it through `config`, the one place that checks a
//! search and computes its root hash. So a built search and the same
//! search written by hand are the same search (same root hash, same
//! `search.toml` in the results folder, same errors), and `replay` reads
//! the folder as it reads any other.

use std::path::PathBuf;

use toml::{Table, Value};

use super::{Error, Search};

/// One parameter of the space, as `[space.<name>]` writes it.
#[derive(Clone, Debug)]
pub struct ParamSpec(Table);

impl ParamSpec {
    fn of(kind: &str) -> ParamSpec {
        let mut t = Table::new();
        t.insert("type".into(), Value::String(kind.into()));
        ParamSpec(t)
    }

    /// A float in `[low, high]`.
    pub fn float(low: f64, high: f64) -> ParamSpec {
        ParamSpec::of("float").set("low", low).set("high", high)
    }

    /// An integer in `[low, high]`.
    pub fn int(low: i64, high: i64) -> ParamSpec {
        ParamSpec::of("int").set("low", low).set("high", high)
    }

    /// One of `choices` (strings).
    pub fn categorical<S: Into<String>>(choices: impl IntoIterator<Item = S>) -> ParamSpec {
        let list: Vec<Value> = choices
            .into_iter()
            .map(|c| Value::String(c.into()))
            .collect();
        ParamSpec::of("categorical").set("choices", list)
    }

    /// Sampled on a log scale (float or int ranges).
    pub fn log(self) -> ParamSpec {
        self.set("log", true)
    }

    /// Any other key of `[space.<name>]` (`step`, `steps`, `values`, …).
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> ParamSpec {
        self.0.insert(key.into(), value.into());
        self
    }
}

/// Builds a [`Search`] from parts; see the module doc. Every key not given
/// takes its search-file default (seed 0, window 4, …).
///
/// ```
/// use hpsearch::engine::{ParamSpec, RunOptions, Search};
///
/// let search = Search::builder()
///     .strategy("tpe")
///     .trials(20)
///     .seed(7)
///     .param("x", ParamSpec::float(-5.0, 5.0))
///     .param("n", ParamSpec::int(1, 4))
///     .external("quadratic", "1", "minimize")
///     .build()?
///     .with_fn(|p, _trial| {
///         let x = p["x"].as_f64().unwrap_or(0.0);
///         let n = p["n"].as_i64().unwrap_or(1) as f64;
///         x * x + n
///     })?;
/// let dir = tempfile::tempdir()?;
/// let done = search.run(dir.path(), RunOptions::default())?;
/// assert_eq!(done.rows.len(), 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    file: Option<PathBuf>,
    root: Table,
}

/// Set `key` in the table at `path` below `t`, making the tables on the way
/// (a value that is not a table is replaced).
fn set_in(t: &mut Table, path: &[&str], key: &str, value: Value) {
    match path.split_first() {
        None => {
            t.insert(key.to_string(), value);
        }
        Some((first, rest)) => {
            let mut sub = match t.remove(*first) {
                Some(Value::Table(s)) => s,
                _ => Table::new(),
            };
            set_in(&mut sub, rest, key, value);
            t.insert(first.to_string(), Value::Table(sub));
        }
    }
}

impl Builder {
    /// Set `key` of table `[section]` (a dotted section names a nested
    /// table: `"search.tpe"`). For what the typed methods do not cover.
    pub fn set(mut self, section: &str, key: &str, value: impl Into<Value>) -> Builder {
        let path: Vec<&str> = section.split('.').collect();
        set_in(&mut self.root, &path, key, value.into());
        self
    }

    /// The file name errors use, whose folder relative data paths are
    /// read from (default: `search.toml` in the current folder).
    pub fn file(mut self, file: impl Into<PathBuf>) -> Builder {
        self.file = Some(file.into());
        self
    }

    /// `[search] strategy`: grid, random, sobol, tpe or gp.
    pub fn strategy(self, name: &str) -> Builder {
        self.set("search", "strategy", name)
    }

    /// `[search] trials`: the budget.
    pub fn trials(self, n: u64) -> Builder {
        self.set("search", "trials", n as i64)
    }

    /// `[search] seed`.
    pub fn seed(self, seed: u64) -> Builder {
        self.set("search", "seed", seed as i64)
    }

    /// `[search] parallel`: the proposal window W.
    pub fn window(self, w: u64) -> Builder {
        self.set("search", "parallel", w as i64)
    }

    /// `[space.<name>]`.
    pub fn param(mut self, name: &str, p: ParamSpec) -> Builder {
        set_in(&mut self.root, &["space"], name, Value::Table(p.0));
        self
    }

    /// An objective written by the caller (see `Search::with_fn`): its
    /// `name` and `version` enter the root hash; `direction` is
    /// `minimize` or `maximize`.
    pub fn external(self, name: &str, version: &str, direction: &str) -> Builder {
        self.set("objective", "external", name)
            .set("objective", "version", version)
            .set("objective", "direction", direction)
    }

    /// A built-in benchmark function (`hpsearch models` lists them).
    pub fn function(self, name: &str) -> Builder {
        self.set("objective", "function", name)
    }

    /// A built-in model, scored by `metric` with cross-validation on the
    /// CSV file `data` (column `target`).
    pub fn model(self, model: &str, metric: &str, data: &str, target: &str) -> Builder {
        self.set("objective", "model", model)
            .set("objective", "metric", metric)
            .set("data", "path", data)
            .set("data", "target", target)
    }

    /// The search file this builder stands for.
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.root).unwrap_or_default()
    }

    /// Check and resolve the search (data loaded, folds prepared), as
    /// [`Search::from_toml`] does for the text of [`Builder::to_toml`].
    pub fn build(self) -> Result<Search, Error> {
        let file = match self.file.clone() {
            Some(f) => f,
            None => std::env::current_dir()
                .map_err(|e| Error::Input(format!("cannot read the current folder: {e}")))?
                .join("search.toml"),
        };
        Search::from_toml(&self.to_toml(), file)
    }
}
