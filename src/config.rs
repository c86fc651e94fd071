//! The search file: its TOML schema, validation, defaults and canonical
//! form (the input of the root hash).
//!
//! The file is read into plain "wire" structs that reject unknown keys, then
//! checked rule by rule into a [`Search`]; nothing downstream sees an
//! unchecked value. Every error names the file, the key path and what was
//! expected. Loading reads the data file (to hash it and check the target),
//! but never writes anything.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::metrics::Metric;
use crate::data::preprocess::{Impute, Scale};
use crate::data::{self, Column, Dataset, Target};
use crate::objective::function::Function;
use crate::objective::models::{self, ModelInfo, Task};
use crate::seed::RootHash;
use crate::space::{Domain, ParamWire, Space};
use crate::strategy::Spec;
use crate::value::{Params, Value};

/// Format tag of the canonical encoding; part of every root hash.
const CANONICAL_FORMAT: &str = "hpsearch-search/1";

/// A search file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the search file: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// TOML syntax, a wrong type or an unknown key; the message carries the
    /// line and column.
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    /// A rule broken at `key` (a path such as `space.alpha`).
    #[error("{file}: [{key}]: {message}")]
    Invalid {
        file: PathBuf,
        key: String,
        message: String,
    },
}

// ---------------------------------------------------------------- wire --

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWire {
    search: SearchWire,
    objective: ObjectiveWire,
    data: Option<DataWire>,
    cv: Option<CvWire>,
    space: Option<BTreeMap<String, ParamWire>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchWire {
    strategy: String,
    trials: Option<i64>,
    seed: Option<i64>,
    parallel: Option<i64>,
    tpe: Option<toml::Value>,
    gp: Option<toml::Value>,
    pruner: Option<PrunerWire>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrunerWire {
    kind: Option<String>,
    n_startup_trials: Option<i64>,
    n_warmup_steps: Option<i64>,
    interval_steps: Option<i64>,
    min_resource: Option<i64>,
    max_resource: Option<i64>,
    reduction_factor: Option<i64>,
    min_early_stopping_rate: Option<i64>,
    bootstrap_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectiveWire {
    model: Option<String>,
    function: Option<String>,
    command: Option<Vec<String>>,
    args: Option<bool>,
    timeout: Option<f64>,
    max_failures: Option<i64>,
    prune_grace: Option<f64>,
    max_step: Option<i64>,
    inputs: Option<Vec<String>>,
    columns: Option<Vec<String>>,
    volatile: Option<Vec<String>>,
    metric: Option<String>,
    direction: Option<String>,
    task: Option<String>,
    params: Option<BTreeMap<String, toml::Value>>,
    resource: Option<String>,
    min_resources: Option<i64>,
    max_resources: Option<i64>,
    factor: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataWire {
    path: String,
    target: Option<String>,
    impute: Option<String>,
    fill_value: Option<f64>,
    scale: Option<String>,
    text: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CvWire {
    folds: Option<i64>,
    kind: Option<String>,
    repeats: Option<i64>,
    stratify: Option<bool>,
    groups: Option<String>,
    order: Option<String>,
    gap: Option<i64>,
    max_train_size: Option<i64>,
    test_size: Option<f64>,
}

// ------------------------------------------------------------ resolved --

/// Whether lower or higher values are better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Minimize,
    Maximize,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        }
    }

    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }
}

/// What a trial evaluates.
#[derive(Clone, Debug)]
pub enum ObjectiveSpec {
    /// A built-in model trained with k-fold cross-validation.
    Model {
        model: &'static ModelInfo,
        task: Task,
        metric: Metric,
        /// `[objective.params]`: hyperparameters fixed for every trial.
        fixed: Params,
        /// `[objective] resource` and its ladder (multi-fidelity, with a
        /// pruner); `None` when not set.
        resource: Option<ResourceSpec>,
    },
    /// A built-in benchmark function of `dim` parameters.
    Function { function: Function, dim: usize },
    /// Any program, run once per trial (see `objective::command`).
    Command(Box<CommandSpec>),
}

/// `[objective] command = [...]` and its settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandSpec {
    /// The command as written: the program, then its arguments.
    pub argv: Vec<String>,
    /// The program to start: a path (made absolute) or a name on `PATH`.
    pub program: PathBuf,
    /// Where the program runs: the search file's folder, absolute.
    pub cwd: PathBuf,
    /// Whether the parameters are appended as `--name=value` (`args`,
    /// default true).
    pub args: bool,
    /// `timeout`, seconds; none by default.
    pub timeout: Option<f64>,
    /// `max_failures`: stop after this many failed trials in a row (in
    /// trial order, counted within one `hpsearch run`); 0 never stops.
    /// Default 10. Not part of the root hash: it stops a search, it never
    /// changes a trial.
    pub max_failures: u64,
    /// `prune_grace`: seconds between SIGTERM and SIGKILL when a trial is
    /// pruned (default 10). Not part of the root hash: it never changes
    /// a recorded value.
    pub prune_grace: f64,
    /// `max_step`: the largest step a program may report (only with a
    /// pruner); a step past it fails the trial.
    pub max_step: Option<u64>,
    /// `columns`: result keys given their own column in `trials.csv`.
    pub columns: Vec<String>,
    /// `volatile`: result keys that are measurements (a fit time), not
    /// results: recorded, but `replay` does not compare them. Default
    /// none; part of the root hash only when not empty.
    pub volatile: Vec<String>,
    /// `metric`: the name of what `value` measures (default "value").
    pub metric: String,
    /// `inputs`: files and folders whose content is part of the search.
    pub inputs: Vec<Input>,
}

/// One entry of `[objective] inputs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// As written in the search file (relative to its folder).
    pub name: String,
    /// Resolved.
    pub path: PathBuf,
    /// The content hash (`data::inputs::hash_input`).
    pub sha256: String,
}

/// The most grid points a grid search without a `trials` cap may have:
/// the largest budget the manifest can record (i64::MAX).
pub const MAX_GRID: u64 = i64::MAX as u64;

/// Default of `[objective] prune_grace`, seconds.
pub const DEFAULT_PRUNE_GRACE: f64 = 10.0;

/// `[search.pruner]`: stops trials early from their intermediate values
/// (see `crate::pruner`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PrunerSpec {
    /// Optuna's MedianPruner rule.
    Median {
        n_startup_trials: u64,
        n_warmup_steps: u64,
        interval_steps: u64,
    },
    /// Optuna's SuccessiveHalvingPruner rule (asynchronous successive
    /// halving).
    SuccessiveHalving {
        min_resource: u64,
        reduction_factor: u64,
        min_early_stopping_rate: u64,
        bootstrap_count: u64,
    },
    /// Optuna's HyperbandPruner rule, brackets from the trial index.
    Hyperband {
        min_resource: u64,
        max_resource: u64,
        reduction_factor: u64,
        bootstrap_count: u64,
    },
}

/// What a built-in model's trial grows by rung (`[objective] resource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    /// Training rows: a seeded, stratified, nested subsample of each
    /// training fold (every model).
    Samples,
    /// Trees of a `random_forest` (its `n_estimators`).
    Trees,
    /// Boosting iterations of a `gradient_boosting` (its `max_iter`).
    Iterations,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::Samples => "samples",
            Resource::Trees => "trees",
            Resource::Iterations => "iterations",
        }
    }
}

/// `[objective] resource`, `min_resources`, `max_resources` and `factor`,
/// resolved (defaults filled in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceSpec {
    pub resource: Resource,
    /// The first rung's resource (>= 1): rows, trees or iterations.
    /// Default scikit-learn's `"smallest"`: 2 x folds x classes rows for
    /// classification, 2 x folds for regression, 1 tree or iteration.
    pub min_resources: u64,
    /// The last rung's resource (>= `min_resources`). Default the largest
    /// training fold's rows (its cap), or [`DEFAULT_MAX_TREES`] trees or
    /// [`DEFAULT_MAX_ITERATIONS`] iterations (at most 100000).
    pub max_resources: u64,
    /// The ratio between rungs (>= 2), default [`DEFAULT_FACTOR`].
    pub factor: u64,
}

impl ResourceSpec {
    /// The ladder: `min_resources * factor^k` while below
    /// `max_resources`, then `max_resources` (scikit-learn's halving
    /// searches grow the same way; here the last rung is always exactly
    /// `max_resources`).
    pub fn ladder(&self) -> Vec<u64> {
        let mut out = Vec::new();
        let mut r = self.min_resources.max(1);
        while r < self.max_resources {
            out.push(r);
            match r.checked_mul(self.factor.max(2)) {
                Some(next) => r = next,
                None => break,
            }
        }
        out.push(self.max_resources);
        out
    }
}

/// Default of `[objective] factor` (scikit-learn's halving searches).
pub const DEFAULT_FACTOR: u64 = 3;

/// Default of `[objective] max_resources` for `resource = "trees"`
/// (scikit-learn's default `n_estimators`).
pub const DEFAULT_MAX_TREES: u64 = 100;

/// Default of `[objective] max_resources` for `resource = "iterations"`
/// (scikit-learn's default `max_iter`).
pub const DEFAULT_MAX_ITERATIONS: u64 = 100;

/// Default of `[objective] max_failures`.
pub const DEFAULT_MAX_FAILURES: u64 = 10;

/// The data file and how to prepare it.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    /// Resolved against the search file's folder.
    pub path: PathBuf,
    pub target: String,
    pub impute: Impute,
    pub fill_value: f64,
    pub scale: Scale,
    /// `[data] text`: feature columns read as text (categorical) whatever
    /// their cells, sorted by name. Empty by default.
    pub text: Vec<String>,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// A validated search.
#[derive(Clone, Debug)]
pub struct Search {
    /// The search file it came from.
    pub file: PathBuf,
    pub strategy: Spec,
    /// `[search] trials` as written (for grid: an optional cap).
    pub trials: Option<u64>,
    /// `[search] seed`, default 0.
    pub seed: u64,
    /// `[search] parallel`, the proposal window W (default 4): how many
    /// trials a model-based strategy keeps in flight. 1 is strictly
    /// sequential.
    pub window: u64,
    /// `[search.pruner]`; `None` for `kind = "none"` (the default).
    pub pruner: Option<PrunerSpec>,
    pub objective: ObjectiveSpec,
    pub direction: Direction,
    /// `[data]`, for model objectives.
    pub data: Option<DataSpec>,
    /// `[cv] folds`, default 5, for model objectives (1 for a holdout).
    pub folds: Option<usize>,
    /// `[cv] kind` when set (with its settings); `None`: the default,
    /// stratified k-fold for classification and shuffled k-fold for
    /// regression, and no entry in the root hash.
    pub cv_kind: Option<CvKind>,
    /// What `cv_kind` read from its column (never a feature): for `group`,
    /// each row's group (numbered by first appearance); for `time_series`
    /// with `order`, the rows sorted by it. Empty otherwise.
    pub cv_keys: Vec<usize>,
    pub space: Space,
    /// The search file's text, kept in the results folder for replay.
    pub text: String,
}

/// A search file read and checked, with its data loaded.
pub struct Loaded {
    pub search: Search,
    pub dataset: Option<Dataset>,
}

impl Search {
    /// The number of trials to run: `trials`, or for grid the grid size
    /// capped by `trials`.
    pub fn budget(&self) -> u64 {
        let grid = self.space.grid_size().unwrap_or(u64::MAX);
        match (&self.strategy, self.trials) {
            (Spec::Grid, Some(t)) => t.min(grid),
            (Spec::Grid, None) => grid,
            (_, t) => t.unwrap_or(0),
        }
    }

    /// Fold scores per trial: `[cv] folds` times the repeats of
    /// `kind = "repeated"`; 0 without cross-validation.
    pub fn fold_scores(&self) -> usize {
        self.folds.unwrap_or(0) * self.cv_kind.as_ref().map_or(1, CvKind::repeats)
    }

    /// The metric name the value column holds.
    pub fn metric_name(&self) -> &str {
        match &self.objective {
            ObjectiveSpec::Model { metric, .. } => metric.name(),
            ObjectiveSpec::Function { .. } => "value",
            ObjectiveSpec::Command(c) => &c.metric,
        }
    }

    /// The command objective's settings, if that is the objective.
    pub fn command(&self) -> Option<&CommandSpec> {
        match &self.objective {
            ObjectiveSpec::Command(c) => Some(c),
            _ => None,
        }
    }

    /// The canonical form: everything that changes results and nothing
    /// else (no path, no budget, no formatting), with parameters and keys in
    /// a fixed order and floats in shortest round-trip form.
    pub fn canonical(&self) -> Canonical<'_> {
        let (objective, data, cv) = match &self.objective {
            ObjectiveSpec::Model {
                model,
                task,
                metric,
                fixed,
                resource,
            } => {
                let d = self.data.as_ref().map(|d| CanonicalData {
                    sha256: &d.sha256,
                    target: &d.target,
                    impute: d.impute,
                    fill_value: (d.impute == Impute::Constant).then_some(d.fill_value),
                    scale: d.scale,
                    text: &d.text,
                });
                (
                    CanonicalObjective::Model {
                        model: model.name,
                        task: *task,
                        metric: metric.name(),
                        params: fixed,
                        resource: resource.as_ref(),
                    },
                    d,
                    self.folds.map(|folds| CanonicalCv {
                        folds,
                        stratified: match &self.cv_kind {
                            None => *task == Task::Classification,
                            Some(k) => k.stratified(),
                        },
                        scheme: self.cv_kind.as_ref(),
                    }),
                )
            }
            ObjectiveSpec::Function { function, dim } => (
                CanonicalObjective::Function {
                    function: function.name(),
                    dim: *dim,
                },
                None,
                None,
            ),
            ObjectiveSpec::Command(c) => (
                CanonicalObjective::Command {
                    command: &c.argv,
                    args: c.args,
                    timeout: c.timeout,
                    max_step: c.max_step,
                    metric: &c.metric,
                    columns: &c.columns,
                    volatile: &c.volatile,
                    inputs: c
                        .inputs
                        .iter()
                        .map(|i| (i.name.as_str(), i.sha256.as_str()))
                        .collect(),
                },
                None,
                None,
            ),
        };
        let strategy = self.strategy.build();
        Canonical {
            format: CANONICAL_FORMAT,
            strategy: &self.strategy,
            seed: self.seed,
            // Why: grid and random never look at results, so the window
            // cannot change them and is left out of their hash.
            // With a pruner the window holds back every strategy, so it
            // is part of every pruned search's hash.
            window: (strategy.uses_history() || self.pruner.is_some()).then_some(self.window),
            pruner: self.pruner.as_ref(),
            objective,
            direction: self.direction,
            data,
            cv,
            space: self
                .space
                .params
                .iter()
                .map(|p| (p.name.as_str(), &p.domain))
                .collect(),
        }
    }

    /// The root hash: SHA-256 of the canonical form as compact JSON.
    pub fn root(&self) -> RootHash {
        // Serialising plain structs and BTreeMaps cannot fail.
        let bytes = serde_json::to_vec(&self.canonical()).unwrap_or_default();
        RootHash::of(&bytes)
    }
}

/// The canonical form of a search (see [`Search::canonical`]).
#[derive(Debug, Serialize)]
pub struct Canonical<'a> {
    pub format: &'static str,
    /// The name, or a table of the name and its settings.
    pub strategy: &'a Spec,
    pub seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
    /// Left out when there is none, so searches without a pruner keep
    /// the root hash they had before pruning existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruner: Option<&'a PrunerSpec>,
    pub direction: Direction,
    pub objective: CanonicalObjective<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<CanonicalData<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cv: Option<CanonicalCv<'a>>,
    pub space: BTreeMap<&'a str, &'a Domain>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CanonicalObjective<'a> {
    Model {
        model: &'static str,
        task: Task,
        metric: &'static str,
        params: &'a Params,
        /// Left out when not set, so searches without a resource keep
        /// the root hash they had before the key existed.
        #[serde(skip_serializing_if = "Option::is_none")]
        resource: Option<&'a ResourceSpec>,
    },
    Function {
        function: &'static str,
        dim: usize,
    },
    Command {
        command: &'a [String],
        args: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        timeout: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max_step: Option<u64>,
        metric: &'a str,
        columns: &'a [String],
        /// Left out when empty, so searches without it keep the root
        /// hash they had before the key existed.
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        volatile: &'a [String],
        /// Each input as written, with its content hash.
        inputs: BTreeMap<&'a str, &'a str>,
    },
}

#[derive(Debug, Serialize)]
pub struct CanonicalData<'a> {
    pub sha256: &'a str,
    pub target: &'a str,
    pub impute: Impute,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fill_value: Option<f64>,
    pub scale: Scale,
    /// Left out when empty, so searches that do not set `text` keep the
    /// root hash they had before the key existed.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub text: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct CanonicalCv<'a> {
    pub folds: usize,
    pub stratified: bool,
    /// Left out when `[cv] kind` is not set, so searches without it keep
    /// the root hash they had before the key existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<&'a CvKind>,
}

/// `[cv] kind`, as set, with its settings (see README, "Cross-validation").
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CvKind {
    /// Stratified k-fold (classification).
    Stratified,
    /// Shuffled k-fold, not stratified.
    Kfold,
    /// k-fold `repeats` times, each with its own shuffle; stratified for
    /// classification unless `stratify = false`.
    Repeated { repeats: usize, stratify: bool },
    /// scikit-learn's `GroupKFold`: the rows of one value of column
    /// `groups` are held out together; the column is not a feature.
    Group { groups: String },
    /// scikit-learn's `TimeSeriesSplit`, rows ordered by column `order`
    /// (not a feature) or in file order.
    TimeSeries {
        #[serde(skip_serializing_if = "Option::is_none")]
        order: Option<String>,
        gap: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        max_train_size: Option<usize>,
    },
    /// One split holding out `test_size` of the rows; stratified for
    /// classification unless `stratify = false`.
    Holdout { test_size: f64, stratify: bool },
}

impl CvKind {
    /// Whether the folds keep class proportions.
    pub fn stratified(&self) -> bool {
        match self {
            CvKind::Stratified => true,
            CvKind::Repeated { stratify, .. } | CvKind::Holdout { stratify, .. } => *stratify,
            CvKind::Kfold | CvKind::Group { .. } | CvKind::TimeSeries { .. } => false,
        }
    }

    /// Folds per row in `folds.csv` (the repeats).
    pub fn repeats(&self) -> usize {
        match self {
            CvKind::Repeated { repeats, .. } => *repeats,
            _ => 1,
        }
    }

    /// The data column the scheme reads (never a feature).
    pub fn column(&self) -> Option<&str> {
        match self {
            CvKind::Group { groups } => Some(groups),
            CvKind::TimeSeries { order, .. } => order.as_deref(),
            _ => None,
        }
    }
}

// ---------------------------------------------------------- validation --

struct Ctx<'a> {
    file: &'a Path,
    /// Where the data file is, when the caller knows better than the
    /// search file (replaying from a results folder).
    data_path: Option<&'a Path>,
}

impl Ctx<'_> {
    fn err(&self, key: impl fmt::Display, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_path_buf(),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

fn one_of(what: &str, got: &str, names: &[&str]) -> String {
    format!(
        "unknown {what} \"{got}\"; expected one of: {}",
        names.join(", ")
    )
}

/// Read, check and resolve a search file, loading its data.
pub fn load(file: &Path) -> Result<Loaded, ConfigError> {
    // A FIFO or a device would block or never end.
    data::check_regular(file).map_err(|e| match e {
        data::DataError::Io { source, .. } => ConfigError::Read {
            file: file.to_path_buf(),
            source,
        },
        data::DataError::Invalid { message, .. } => ConfigError::Parse {
            file: file.to_path_buf(),
            message,
        },
    })?;
    let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    parse(file, &text)
}

/// Check and resolve the text of a search file named `file` (relative data
/// paths are resolved against its folder).
pub fn parse(file: &Path, text: &str) -> Result<Loaded, ConfigError> {
    parse_with_data(file, text, None)
}

/// [`parse`], with the data file at `data_path` instead of the path the
/// search file gives (for replaying a search from its results folder).
pub fn parse_with_data(
    file: &Path,
    text: &str,
    data_path: Option<&Path>,
) -> Result<Loaded, ConfigError> {
    let wire: FileWire = toml::from_str(text).map_err(|e| ConfigError::Parse {
        file: file.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let cx = Ctx { file, data_path };

    // [search]
    let s = &wire.search;
    let strategy = Spec::parse(&s.strategy, s.tpe.as_ref(), s.gp.as_ref())
        .map_err(|(key, msg)| cx.err(key, msg))?;
    let trials = match s.trials {
        None => None,
        Some(t) if t >= 1 => Some(t as u64),
        Some(t) => return Err(cx.err("search.trials", format!("must be at least 1 (got {t})"))),
    };
    if trials.is_none() && strategy != Spec::Grid {
        return Err(cx.err(
            "search.trials",
            format!(
                "missing: strategy \"{}\" needs a budget, e.g. trials = 100",
                strategy.name()
            ),
        ));
    }
    let seed = match s.seed {
        None => 0,
        Some(v) if v >= 0 => v as u64,
        Some(v) => return Err(cx.err("search.seed", format!("must be >= 0 (got {v})"))),
    };
    let window = match s.parallel {
        None => 4,
        Some(w) if w >= 1 => w as u64,
        Some(w) => return Err(cx.err("search.parallel", format!("must be at least 1 (got {w})"))),
    };

    // [space]
    let space_wire = wire.space.unwrap_or_default();
    if space_wire.is_empty() {
        return Err(cx.err("space", "no parameters; add at least one under [space]"));
    }
    let space = Space::from_wire(&space_wire)
        .map_err(|(name, msg)| cx.err(format!("space.{name}"), msg))?;
    if strategy == Spec::Grid {
        let count = space
            .grid_count()
            .map_err(|(name, msg)| cx.err(format!("space.{name}"), msg))?;
        // Why: the budget is recorded in the manifest as a TOML integer
        // (i64); refusing here keeps a too-large grid from writing a folder.
        if trials.is_none() && count.at_most(MAX_GRID).is_none() {
            return Err(cx.err(
                "space",
                format!(
                    "the grid has {count} points, more than the {MAX_GRID} a search can \
                     record; cap it with trials = N under [search], or give the \
                     parameters fewer values"
                ),
            ));
        }
    }

    // [objective]
    let o = &wire.objective;
    let given = [o.model.is_some(), o.function.is_some(), o.command.is_some()];
    if given.iter().filter(|&&g| g).count() > 1 {
        return Err(cx.err(
            "objective",
            "give one of `model`, `function` or `command`, not several",
        ));
    }
    if o.model.is_none() {
        for (key, present) in [
            ("objective.resource", o.resource.is_some()),
            ("objective.min_resources", o.min_resources.is_some()),
            ("objective.max_resources", o.max_resources.is_some()),
            ("objective.factor", o.factor.is_some()),
        ] {
            if present {
                return Err(cx.err(
                    key,
                    "only for built-in models (`model = …`); a command reports its own steps; remove it",
                ));
            }
        }
    }
    if o.command.is_none() {
        for (key, present) in [
            ("objective.args", o.args.is_some()),
            ("objective.timeout", o.timeout.is_some()),
            ("objective.max_failures", o.max_failures.is_some()),
            ("objective.prune_grace", o.prune_grace.is_some()),
            ("objective.max_step", o.max_step.is_some()),
            ("objective.inputs", o.inputs.is_some()),
            ("objective.columns", o.columns.is_some()),
            ("objective.volatile", o.volatile.is_some()),
        ] {
            if present {
                return Err(cx.err(key, "only for command objectives; remove it"));
            }
        }
    }
    let (objective, direction, data, dataset, folds, cv_kind, cv_keys) = match (
        &o.model,
        &o.function,
    ) {
        (None, None) if o.command.is_some() => {
            if let Some(key) = [("data", wire.data.is_some()), ("cv", wire.cv.is_some())]
                .iter()
                .find_map(|(k, p)| p.then_some(*k))
            {
                return Err(cx.err(
                    key,
                    "only for model objectives; a command reads its own data (list it under `inputs`)",
                ));
            }
            let (spec, direction) = resolve_command(&cx, o, &space)?;
            (
                ObjectiveSpec::Command(Box::new(spec)),
                direction,
                None,
                None,
                None,
                None,
                Vec::new(),
            )
        }
        // Caught above with the other combinations; kept for the match.
        (Some(_), Some(_)) => {
            return Err(cx.err(
                "objective",
                "give one of `model`, `function` or `command`, not several",
            ))
        }
        (None, None) => {
            return Err(cx.err(
                "objective",
                "missing: name a `model` (see `hpsearch models`), a `function` or a `command`",
            ))
        }
        (None, Some(name)) => {
            let function = Function::parse(name).ok_or_else(|| {
                let names: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
                cx.err("objective.function", one_of("function", name, &names))
            })?;
            for (key, present) in [
                ("objective.metric", o.metric.is_some()),
                ("objective.task", o.task.is_some()),
                ("objective.params", o.params.is_some()),
                ("data", wire.data.is_some()),
                ("cv", wire.cv.is_some()),
            ] {
                if present {
                    return Err(cx.err(key, "only for model objectives; remove it"));
                }
            }
            let dim = function
                .check_params(&space.names())
                .map_err(|m| cx.err("space", format!("function {name}: {m}")))?;
            let direction = match o.direction.as_deref() {
                None | Some("minimize") => Direction::Minimize,
                Some("maximize") => Direction::Maximize,
                Some(d) => {
                    return Err(cx.err(
                        "objective.direction",
                        one_of("direction", d, &["minimize", "maximize"]),
                    ))
                }
            };
            (
                ObjectiveSpec::Function { function, dim },
                direction,
                None,
                None,
                None,
                None,
                Vec::new(),
            )
        }
        (Some(name), None) => {
            let model = models::info(name).ok_or_else(|| {
                let names: Vec<&str> = models::MODELS.iter().map(|m| m.name).collect();
                cx.err("objective.model", one_of("model", name, &names))
            })?;
            let dw = wire.data.as_ref().ok_or_else(|| {
                cx.err(
                    "data",
                    format!("missing: model {name} needs a [data] table with `path` and `target`"),
                )
            })?;
            let (spec, dataset, task, metric) = resolve_model_data(&cx, model, o, dw)?;
            check_model_space(&cx, model, &space, task)?;
            let fixed = fixed_params(&cx, model, o, &space, task)?;
            let direction = match o.direction.as_deref() {
                None => direction_of(metric),
                Some(d) => {
                    let want = direction_of(metric);
                    if d != want.name() {
                        return Err(cx.err(
                            "objective.direction",
                            format!(
                                "metric {} is to {}, got \"{d}\"; remove `direction`",
                                metric.name(),
                                want.name()
                            ),
                        ));
                    }
                    want
                }
            };
            let cv_kind = resolve_cv_kind(&cx, wire.cv.as_ref(), &spec.target, task)?;
            let folds = match (wire.cv.as_ref().and_then(|c| c.folds), &cv_kind) {
                (Some(k), Some(CvKind::Holdout { .. })) => {
                    return Err(cx.err(
                        "cv.folds",
                        format!(
                            "a holdout is one split (set by test_size); remove folds (got {k})"
                        ),
                    ))
                }
                (None, Some(CvKind::Holdout { .. })) => 1,
                (None, _) => 5,
                (Some(k), _) if k >= 2 && (k as u64) <= dataset.n_rows as u64 => k as usize,
                (Some(k), _) => {
                    return Err(cx.err(
                        "cv.folds",
                        format!(
                            "must be between 2 and the number of rows ({}), got {k}",
                            dataset.n_rows
                        ),
                    ))
                }
            };
            let (dataset, cv_keys) = match &cv_kind {
                Some(kind) => check_cv_data(&cx, kind, dataset, folds)?,
                None => (dataset, Vec::new()),
            };
            if let (
                Some(r),
                Some(
                    kind @ (CvKind::Group { .. }
                    | CvKind::TimeSeries { .. }
                    | CvKind::Holdout { .. }),
                ),
            ) = (&o.resource, &cv_kind)
            {
                let name = match kind {
                    CvKind::Group { .. } => "group",
                    CvKind::TimeSeries { .. } => "time_series",
                    _ => "holdout",
                };
                return Err(cx.err(
                    "objective.resource",
                    format!(
                        "resource = \"{r}\" is not supported with [cv] kind = \"{name}\": its rungs \
                         subsample k-fold training folds (a stratified random subsample would mix \
                         up the order of a time series); use kind = \"stratified\", \"kfold\" or \
                         \"repeated\", or remove resource"
                    ),
                ));
            }
            let resource = resolve_resource(&cx, model, o, &space, &fixed, &dataset, folds)?;
            (
                ObjectiveSpec::Model {
                    model,
                    task,
                    metric,
                    fixed,
                    resource,
                },
                direction,
                Some(spec),
                Some(dataset),
                Some(folds),
                cv_kind,
                cv_keys,
            )
        }
    };

    let resource = match &objective {
        ObjectiveSpec::Model { resource, .. } => *resource,
        _ => None,
    };
    let pruner = match &s.pruner {
        None => None,
        Some(p) => resolve_pruner(&cx, p, resource.as_ref())?,
    };
    if pruner.is_some() {
        match &objective {
            ObjectiveSpec::Command(_) => {}
            ObjectiveSpec::Model {
                resource: Some(_), ..
            } => {}
            ObjectiveSpec::Model {
                resource: None,
                model,
                ..
            } => {
                return Err(cx.err(
                    "search.pruner",
                    format!(
                        "model {} reports intermediate values only with a resource: set \
                         [objective] resource = \"samples\" (training rows, every model){}, \
                         or remove [search.pruner]",
                        model.name,
                        match model.name {
                            "random_forest" => " or resource = \"trees\"",
                            "gradient_boosting" => " or resource = \"iterations\"",
                            _ => "",
                        }
                    ),
                ))
            }
            ObjectiveSpec::Function { .. } => {
                return Err(cx.err(
                    "search.pruner",
                    "pruning needs a command objective that prints its steps \
                     ({\"step\": 3, \"value\": 0.41}) or a built-in model with \
                     [objective] resource; benchmark functions report none: remove \
                     [search.pruner] or set kind = \"none\"",
                ))
            }
        }
    } else {
        if let Some(c) = o.max_step.filter(|_| o.command.is_some()) {
            return Err(cx.err(
                "objective.max_step",
                format!("only with a pruner ([search.pruner]); remove it (got {c})"),
            ));
        }
        if let Some(r) = &resource {
            return Err(cx.err(
                "objective.resource",
                format!(
                    "only with a pruner: resource = \"{}\" grows each trial by rung for \
                     [search.pruner] to stop the bad ones; add [search.pruner] \
                     (e.g. kind = \"successive_halving\") or remove it",
                    r.resource.name()
                ),
            ));
        }
    }

    Ok(Loaded {
        search: Search {
            file: file.to_path_buf(),
            strategy,
            trials,
            seed,
            window,
            pruner,
            objective,
            direction,
            data,
            folds,
            cv_kind,
            cv_keys,
            space,
            text: text.to_string(),
        },
        dataset,
    })
}

/// Resolve `[objective] command = [...]` and its settings.
fn resolve_command(
    cx: &Ctx<'_>,
    o: &ObjectiveWire,
    space: &Space,
) -> Result<(CommandSpec, Direction), ConfigError> {
    let argv = o.command.clone().unwrap_or_default();
    let Some(first) = argv.first() else {
        return Err(cx.err(
            "objective.command",
            "is empty; give the program and its arguments, e.g. [\"python3\", \"train.py\"]",
        ));
    };
    for (key, present) in [
        ("objective.task", o.task.is_some()),
        ("objective.params", o.params.is_some()),
    ] {
        if present {
            return Err(cx.err(key, "only for model objectives; remove it"));
        }
    }
    let base = cx.file.parent().unwrap_or(Path::new(""));
    let cwd = std::path::absolute(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    })
    .map_err(|e| {
        cx.err(
            "objective.command",
            format!("cannot resolve the search file's folder: {e}"),
        )
    })?;
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    let program = crate::objective::command::resolve_program(first, &cwd).ok_or_else(|| {
        if first.contains('/') {
            cx.err(
                "objective.command",
                format!(
                    "program `{first}` not found (looked for {}); paths are relative to the search file's folder",
                    cwd.join(first).display()
                ),
            )
        } else {
            cx.err(
                "objective.command",
                format!("program `{first}` is not an executable on PATH; give its path, or install it"),
            )
        }
    })?;
    let direction = match o.direction.as_deref() {
        Some("minimize") => Direction::Minimize,
        Some("maximize") => Direction::Maximize,
        Some(d) => {
            return Err(cx.err(
                "objective.direction",
                one_of("direction", d, &["minimize", "maximize"]),
            ))
        }
        None => {
            return Err(cx.err(
                "objective.direction",
                "missing: say whether the program's value is to be minimized or maximized, e.g. direction = \"maximize\"",
            ))
        }
    };
    let timeout = match o.timeout {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 => Some(t),
        Some(t) => {
            return Err(cx.err(
                "objective.timeout",
                format!("must be a positive number of seconds (got {t})"),
            ))
        }
    };
    let max_failures = match o.max_failures {
        None => DEFAULT_MAX_FAILURES,
        Some(m) if m >= 0 => m as u64,
        Some(m) => {
            return Err(cx.err(
                "objective.max_failures",
                format!("must be >= 0 (0: never stop); got {m}"),
            ))
        }
    };
    let prune_grace = match o.prune_grace {
        None => DEFAULT_PRUNE_GRACE,
        Some(t) if t.is_finite() && t > 0.0 => t,
        Some(t) => {
            return Err(cx.err(
                "objective.prune_grace",
                format!("must be a positive number of seconds (got {t})"),
            ))
        }
    };
    let max_step = match o.max_step {
        None => None,
        Some(m) if m >= 0 => Some(m as u64),
        Some(m) => return Err(cx.err("objective.max_step", format!("must be >= 0 (got {m})"))),
    };
    let metric = o.metric.clone().unwrap_or_else(|| "value".to_string());
    if metric.trim().is_empty() {
        return Err(cx.err("objective.metric", "must not be empty"));
    }
    // Parameters reach the program as HPSEARCH_PARAM_<NAME>: names that
    // differ only in case would share a variable.
    let mut upper: BTreeMap<String, &str> = BTreeMap::new();
    for name in space.names() {
        if let Some(other) = upper.insert(name.to_ascii_uppercase(), name) {
            return Err(cx.err(
                format!("space.{name}"),
                format!("`{name}` and `{other}` differ only in case, so they would share the environment variable {}; rename one", crate::objective::command::env_name(name)),
            ));
        }
    }
    let mut columns: Vec<String> = Vec::new();
    for c in o.columns.clone().unwrap_or_default() {
        let key = format!("objective.columns.{c}");
        crate::space::check_name(&c)
            .map_err(|m| cx.err(&key, m.replace("parameter name", "column name")))?;
        if c == crate::objective::command::EXTRA_COLUMN {
            return Err(cx.err(
                &key,
                "`extra` is the column of the keys not listed here; remove it",
            ));
        }
        if space.names().contains(&c.as_str()) {
            return Err(cx.err(
                &key,
                format!("`{c}` is also a parameter; a column needs its own name"),
            ));
        }
        if columns.contains(&c) {
            return Err(cx.err(&key, "listed twice"));
        }
        columns.push(c);
    }
    let mut volatile: Vec<String> = Vec::new();
    for v in o.volatile.clone().unwrap_or_default() {
        let key = format!("objective.volatile.{v}");
        if v == "value" {
            return Err(cx.err(
                &key,
                "`value` is the result the search optimises; it cannot be volatile",
            ));
        }
        if v.is_empty() {
            return Err(cx.err("objective.volatile", "an empty key name; remove it"));
        }
        if volatile.contains(&v) {
            return Err(cx.err(&key, "listed twice"));
        }
        volatile.push(v);
    }
    let mut inputs: Vec<Input> = Vec::new();
    for name in o.inputs.clone().unwrap_or_default() {
        let key = format!("objective.inputs.{name}");
        if inputs.iter().any(|i| i.name == name) {
            return Err(cx.err(&key, "listed twice"));
        }
        let path = cwd.join(&name);
        let sha256 = crate::data::inputs::hash_input(&path).map_err(|m| {
            cx.err(
                &key,
                format!(
                    "cannot hash the input ({m}); paths are relative to the search file's folder"
                ),
            )
        })?;
        inputs.push(Input { name, path, sha256 });
    }
    Ok((
        CommandSpec {
            argv,
            program,
            cwd,
            args: o.args.unwrap_or(true),
            timeout,
            max_failures,
            prune_grace,
            max_step,
            columns,
            volatile,
            metric,
            inputs,
        },
        direction,
    ))
}

/// Resolve `[cv] kind` and the keys that go with it; `None` when `kind`
/// is not set (the keys of other kinds are refused then too).
fn resolve_cv_kind(
    cx: &Ctx<'_>,
    cv: Option<&CvWire>,
    target: &str,
    task: Task,
) -> Result<Option<CvKind>, ConfigError> {
    let Some(cv) = cv else { return Ok(None) };
    let kind = cv.kind.as_deref();
    const KINDS: &[&str] = &[
        "stratified",
        "kfold",
        "repeated",
        "group",
        "time_series",
        "holdout",
    ];
    let only = |key: &str, present: bool, kinds: &str| -> Result<(), ConfigError> {
        if present {
            Err(cx.err(
                format!("cv.{key}"),
                format!(
                    "only with kind = {kinds}; remove it (kind is {})",
                    kind.map_or("not set".to_string(), |k| format!("\"{k}\""))
                ),
            ))
        } else {
            Ok(())
        }
    };
    let is = |k: &str| kind == Some(k);
    only(
        "repeats",
        cv.repeats.is_some() && !is("repeated"),
        "\"repeated\"",
    )?;
    only("groups", cv.groups.is_some() && !is("group"), "\"group\"")?;
    for (key, present) in [
        ("order", cv.order.is_some()),
        ("gap", cv.gap.is_some()),
        ("max_train_size", cv.max_train_size.is_some()),
    ] {
        only(key, present && !is("time_series"), "\"time_series\"")?;
    }
    only(
        "test_size",
        cv.test_size.is_some() && !is("holdout"),
        "\"holdout\"",
    )?;
    if cv.stratify == Some(true) && (is("time_series") || is("group") || is("kfold")) {
        return Err(cx.err(
            "cv.stratify",
            format!(
                "kind = \"{}\" does not stratify (it keeps {}); remove stratify, or use kind = \"stratified\"",
                kind.unwrap_or_default(),
                match kind {
                    Some("time_series") => "the rows in time order, unshuffled",
                    Some("group") => "each group's rows together",
                    _ => "the rows' shuffled order",
                }
            ),
        ));
    }
    only(
        "stratify",
        cv.stratify.is_some()
            && !(is("repeated")
                || is("holdout")
                || is("time_series")
                || is("group")
                || is("kfold")),
        "\"repeated\" or \"holdout\"",
    )?;
    let classes = task == Task::Classification;
    let stratify = match cv.stratify {
        Some(true) if !classes => {
            return Err(cx.err(
                "cv.stratify",
                "stratifying needs classes, but this search does regression; remove it",
            ))
        }
        Some(s) => s,
        None => classes,
    };
    let column = |key: &str, name: &str| -> Result<String, ConfigError> {
        if name == target {
            return Err(cx.err(
                format!("cv.{key}"),
                format!("`{name}` is the target column; name another column"),
            ));
        }
        Ok(name.to_string())
    };
    let kind = match kind {
        None => return Ok(None),
        Some("stratified") => {
            if !classes {
                return Err(cx.err(
                    "cv.kind",
                    "\"stratified\" needs classes, but this search does regression; use kind = \"kfold\"",
                ));
            }
            CvKind::Stratified
        }
        Some("kfold") => CvKind::Kfold,
        Some("repeated") => {
            let repeats = match cv.repeats {
                None => 10,
                Some(r) if r >= 1 => r as usize,
                Some(r) => return Err(cx.err("cv.repeats", format!("must be at least 1, got {r}"))),
            };
            CvKind::Repeated { repeats, stratify }
        }
        Some("group") => {
            let Some(g) = &cv.groups else {
                return Err(cx.err(
                    "cv.groups",
                    "missing: kind = \"group\" needs groups = \"<column>\", the column whose values are the groups",
                ));
            };
            CvKind::Group {
                groups: column("groups", g)?,
            }
        }
        Some("time_series") => {
            let gap = match cv.gap {
                None => 0,
                Some(g) if g >= 0 => g as usize,
                Some(g) => return Err(cx.err("cv.gap", format!("must be 0 or more, got {g}"))),
            };
            let max_train_size = match cv.max_train_size {
                None => None,
                Some(m) if m >= 1 => Some(m as usize),
                Some(m) => {
                    return Err(cx.err("cv.max_train_size", format!("must be at least 1, got {m}")))
                }
            };
            let order = cv
                .order
                .as_deref()
                .map(|o| column("order", o))
                .transpose()?;
            CvKind::TimeSeries {
                order,
                gap,
                max_train_size,
            }
        }
        Some("holdout") => {
            let test_size = cv.test_size.unwrap_or(0.25);
            if !(test_size > 0.0 && test_size < 1.0) {
                return Err(cx.err(
                    "cv.test_size",
                    format!(
                        "must be a share of the rows strictly between 0 and 1, got {test_size}"
                    ),
                ));
            }
            CvKind::Holdout {
                test_size,
                stratify,
            }
        }
        Some(other) => return Err(cx.err("cv.kind", one_of("cross-validation kind", other, KINDS))),
    };
    Ok(Some(kind))
}

/// Take the column `kind` reads out of the features, and check that the
/// data allow its folds (enough groups, rows, a holdout with rows on both
/// sides).
fn check_cv_data(
    cx: &Ctx<'_>,
    kind: &CvKind,
    mut ds: Dataset,
    folds: usize,
) -> Result<(Dataset, Vec<usize>), ConfigError> {
    let n = ds.n_rows;
    let mut keys = Vec::new();
    if let Some(name) = kind.column() {
        let key = match kind {
            CvKind::Group { .. } => "cv.groups",
            _ => "cv.order",
        };
        let Some(i) = ds.column_index(name) else {
            return Err(cx.err(
                key,
                format!(
                    "`{name}` is not a column of {}; its columns are: {}",
                    ds.path.display(),
                    ds.feature_names.join(", ")
                ),
            ));
        };
        if let Some(row) = (0..n).find(|&r| ds.columns[i].is_missing(r)) {
            return Err(cx.err(
                key,
                format!(
                    "{}: line {}, column `{name}` is missing a value; every row needs one",
                    ds.path.display(),
                    ds.line(row)
                ),
            ));
        }
        if ds.feature_names.len() == 1 {
            return Err(cx.err(
                key,
                format!("`{name}` is the only feature column; the model would have nothing to learn from"),
            ));
        }
        ds.feature_names.remove(i);
        let column = ds.columns.remove(i);
        keys = match kind {
            CvKind::Group { .. } => group_indices(&column, n),
            _ => time_order(&column, n),
        };
    }
    match kind {
        CvKind::Group { groups } => {
            let count = keys.iter().max().map_or(0, |m| m + 1);
            if count < folds {
                return Err(cx.err(
                    "cv.groups",
                    format!(
                        "column `{groups}` has {count} distinct value(s), fewer than the {folds} folds; \
                         lower folds or group by another column"
                    ),
                ));
            }
        }
        CvKind::TimeSeries { gap, .. } => {
            let test_size = n / (folds + 1);
            if test_size == 0 || n <= gap + folds * test_size {
                return Err(cx.err(
                    "cv.folds",
                    format!(
                        "{n} rows are too few for a time-series split into {folds} folds with gap {gap} \
                         (each fold tests n / (folds + 1) = {test_size} rows, and the first needs training rows before the gap); \
                         lower folds or gap"
                    ),
                ));
            }
        }
        CvKind::Holdout { test_size, .. } => {
            let held = (test_size * n as f64).ceil() as usize;
            if held >= n {
                return Err(cx.err(
                    "cv.test_size",
                    format!("holds out all {n} rows ({test_size}); lower it"),
                ));
            }
        }
        _ => {}
    }
    Ok((ds, keys))
}

/// Each row's group: its value's index in order of first appearance.
fn group_indices(column: &Column, n: usize) -> Vec<usize> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    (0..n)
        .map(|r| {
            let key = match column {
                Column::Numeric(v) => v[r].map_or(String::new(), crate::value::fmt_f64),
                Column::Text(v) => v[r].clone().unwrap_or_default(),
            };
            let next = seen.len();
            *seen.entry(key).or_insert(next)
        })
        .collect()
}

/// The rows sorted by `column` ascending (numbers by value, text by its
/// bytes, as ISO dates sort), ties in file order.
fn time_order(column: &Column, n: usize) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..n).collect();
    match column {
        Column::Numeric(v) => rows.sort_by(|&a, &b| {
            v[a].unwrap_or(f64::NAN)
                .total_cmp(&v[b].unwrap_or(f64::NAN))
        }),
        Column::Text(v) => rows.sort_by(|&a, &b| v[a].cmp(&v[b])),
    }
    rows
}

/// Resolve `[objective] resource`, `min_resources`, `max_resources` and
/// `factor` for a model search with `folds` folds of `ds`; `None` when
/// `resource` is not set (then the other three are refused).
fn resolve_resource(
    cx: &Ctx<'_>,
    model: &'static ModelInfo,
    o: &ObjectiveWire,
    space: &Space,
    fixed: &Params,
    ds: &Dataset,
    folds: usize,
) -> Result<Option<ResourceSpec>, ConfigError> {
    let Some(name) = o.resource.as_deref() else {
        for (key, present) in [
            ("objective.min_resources", o.min_resources.is_some()),
            ("objective.max_resources", o.max_resources.is_some()),
            ("objective.factor", o.factor.is_some()),
        ] {
            if present {
                return Err(cx.err(
                    key,
                    "only with a resource: set [objective] resource = \"samples\" (or \
                     \"trees\" for random_forest, \"iterations\" for gradient_boosting), \
                     or remove it",
                ));
            }
        }
        return Ok(None);
    };
    let resource = match name {
        "samples" => Resource::Samples,
        "trees" => Resource::Trees,
        "iterations" => Resource::Iterations,
        other => {
            return Err(cx.err(
                "objective.resource",
                one_of("resource", other, &["samples", "trees", "iterations"]),
            ))
        }
    };
    if resource == Resource::Trees {
        if model.name != "random_forest" {
            return Err(cx.err(
                "objective.resource",
                format!(
                    "\"trees\" is only for random_forest; model {} has no trees: use \
                     resource = \"samples\"",
                    model.name
                ),
            ));
        }
        if space.names().contains(&"n_estimators") {
            return Err(cx.err(
                "space.n_estimators",
                "cannot be searched with [objective] resource = \"trees\": the resource \
                 is the number of trees (max_resources at the last rung); remove one",
            ));
        }
        if fixed.contains_key("n_estimators") {
            return Err(cx.err(
                "objective.params.n_estimators",
                "cannot be set with [objective] resource = \"trees\": the number of trees \
                 is max_resources; remove it",
            ));
        }
    }
    if resource == Resource::Iterations {
        if model.name != "gradient_boosting" {
            return Err(cx.err(
                "objective.resource",
                format!(
                    "\"iterations\" is only for gradient_boosting; model {} has no boosting \
                     iterations: use resource = \"samples\"{}",
                    model.name,
                    if model.name == "random_forest" {
                        " or \"trees\""
                    } else {
                        ""
                    }
                ),
            ));
        }
        if space.names().contains(&"max_iter") {
            return Err(cx.err(
                "space.max_iter",
                "cannot be searched with [objective] resource = \"iterations\": the \
                 resource is the number of iterations (max_resources at the last rung); \
                 remove one",
            ));
        }
        if fixed.contains_key("max_iter") {
            return Err(cx.err(
                "objective.params.max_iter",
                "cannot be set with [objective] resource = \"iterations\": the number of \
                 iterations is max_resources; remove it",
            ));
        }
    }
    let factor = match o.factor {
        None => DEFAULT_FACTOR,
        Some(f) if f >= 2 => f as u64,
        Some(f) => return Err(cx.err("objective.factor", format!("must be at least 2 (got {f})"))),
    };
    // The largest training fold: k_fold's test folds hold floor(n/k) or
    // ceil(n/k) rows.
    let largest = (ds.n_rows - ds.n_rows / folds.max(1)) as u64;
    let (max_default, max_limit, limit_says) = match resource {
        Resource::Samples => (
            largest,
            largest,
            format!(
                "the largest training fold ({largest} rows: {} rows, {folds} folds)",
                ds.n_rows
            ),
        ),
        Resource::Trees => (
            DEFAULT_MAX_TREES,
            100_000,
            "100000 trees (n_estimators' limit)".to_string(),
        ),
        Resource::Iterations => (
            DEFAULT_MAX_ITERATIONS,
            100_000,
            "100000 iterations (max_iter's limit)".to_string(),
        ),
    };
    let max_resources = match o.max_resources {
        None => max_default,
        Some(m) if m < 1 => {
            return Err(cx.err(
                "objective.max_resources",
                format!("must be at least 1 (got {m})"),
            ))
        }
        Some(m) if m as u64 > max_limit => {
            return Err(cx.err(
                "objective.max_resources",
                format!("must be at most {limit_says} (got {m})"),
            ))
        }
        Some(m) => m as u64,
    };
    // scikit-learn's min_resources = "smallest": 2 x n_splits (x n_classes
    // for a classifier) rows; 1 for any other resource.
    let n_classes = match &ds.target {
        Target::Classes { labels, .. } => labels.len() as u64,
        Target::Values(_) => 1,
    };
    let (min_resources, said) = match o.min_resources {
        None => (
            match resource {
                Resource::Samples => 2 * folds as u64 * n_classes,
                Resource::Trees | Resource::Iterations => 1,
            },
            "the default ",
        ),
        Some(m) if m < 1 => {
            return Err(cx.err(
                "objective.min_resources",
                format!("must be at least 1 (got {m})"),
            ))
        }
        Some(m) => (m as u64, ""),
    };
    if min_resources > max_resources {
        return Err(cx.err(
            "objective.min_resources",
            format!(
                "must be at most max_resources ({max_resources}); got {said}{min_resources}: \
                 set min_resources lower{}",
                if o.max_resources.is_none() {
                    ""
                } else {
                    " or max_resources higher"
                }
            ),
        ));
    }
    Ok(Some(ResourceSpec {
        resource,
        min_resources,
        max_resources,
        factor,
    }))
}

/// Resolve `[search.pruner]`; `None` for `kind = "none"`. With a
/// `resource`, the halving pruners' `min_resource`, `reduction_factor`
/// (and hyperband's `max_resource`) default to the ladder's
/// `min_resources`, `factor` (and `max_resources`), and a value that
/// differs is refused, so the rungs fall on the ladder.
fn resolve_pruner(
    cx: &Ctx<'_>,
    p: &PrunerWire,
    resource: Option<&ResourceSpec>,
) -> Result<Option<PrunerSpec>, ConfigError> {
    let kind = p.kind.as_deref().unwrap_or("none");
    // Every key, and the kinds it belongs to.
    let settings: [(&str, Option<i64>, &[&str]); 8] = [
        ("n_startup_trials", p.n_startup_trials, &["median"]),
        ("n_warmup_steps", p.n_warmup_steps, &["median"]),
        ("interval_steps", p.interval_steps, &["median"]),
        (
            "min_resource",
            p.min_resource,
            &["successive_halving", "hyperband"],
        ),
        ("max_resource", p.max_resource, &["hyperband"]),
        (
            "reduction_factor",
            p.reduction_factor,
            &["successive_halving", "hyperband"],
        ),
        (
            "min_early_stopping_rate",
            p.min_early_stopping_rate,
            &["successive_halving"],
        ),
        (
            "bootstrap_count",
            p.bootstrap_count,
            &["successive_halving", "hyperband"],
        ),
    ];
    const KINDS: [&str; 4] = ["none", "median", "successive_halving", "hyperband"];
    if !KINDS.contains(&kind) {
        return Err(cx.err("search.pruner.kind", one_of("pruner", kind, &KINDS)));
    }
    for (key, value, kinds) in settings {
        if value.is_some() && !kinds.contains(&kind) {
            let only = kinds
                .iter()
                .map(|k| format!("kind = \"{k}\""))
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(cx.err(
                format!("search.pruner.{key}"),
                format!("only for {only}, not kind = \"{kind}\"; remove it"),
            ));
        }
    }
    let get = |key: &str, v: Option<i64>, default: u64, min: i64| match v {
        None => Ok(default),
        Some(n) if n >= min => Ok(n as u64),
        Some(n) => Err(cx.err(
            format!("search.pruner.{key}"),
            format!("must be at least {min} (got {n})"),
        )),
    };
    // With a resource: the ladder's value, and an explicit one must agree.
    let ladder = |key: &str,
                  v: Option<i64>,
                  default: u64,
                  min: i64,
                  objective_key: &str,
                  of: fn(&ResourceSpec) -> u64| match resource {
        None => get(key, v, default, min),
        Some(r) => {
            let want = of(r);
            match v {
                None => Ok(want),
                Some(n) if n == want as i64 => Ok(want),
                Some(n) => Err(cx.err(
                    format!("search.pruner.{key}"),
                    format!(
                        "{n} differs from [objective] {objective_key} ({want}); with a resource \
                         the pruner's rungs are the ladder's: remove search.pruner.{key}"
                    ),
                )),
            }
        }
    };
    match kind {
        "median" => Ok(Some(PrunerSpec::Median {
            n_startup_trials: get("n_startup_trials", p.n_startup_trials, 5, 0)?,
            n_warmup_steps: get("n_warmup_steps", p.n_warmup_steps, 0, 0)?,
            interval_steps: get("interval_steps", p.interval_steps, 1, 1)?,
        })),
        "successive_halving" => Ok(Some(PrunerSpec::SuccessiveHalving {
            min_resource: ladder("min_resource", p.min_resource, 1, 1, "min_resources", |r| {
                r.min_resources
            })?,
            reduction_factor: ladder(
                "reduction_factor",
                p.reduction_factor,
                4,
                2,
                "factor",
                |r| r.factor,
            )?,
            min_early_stopping_rate: get(
                "min_early_stopping_rate",
                p.min_early_stopping_rate,
                0,
                0,
            )?,
            bootstrap_count: get("bootstrap_count", p.bootstrap_count, 0, 0)?,
        })),
        "hyperband" => {
            let min_resource =
                ladder("min_resource", p.min_resource, 1, 1, "min_resources", |r| {
                    r.min_resources
                })?;
            let reduction_factor = ladder(
                "reduction_factor",
                p.reduction_factor,
                3,
                2,
                "factor",
                |r| r.factor,
            )?;
            let bootstrap_count = get("bootstrap_count", p.bootstrap_count, 0, 0)?;
            let max_resource = match resource {
                Some(r) => Some(ladder(
                    "max_resource",
                    p.max_resource,
                    r.max_resources,
                    1,
                    "max_resources",
                    |r| r.max_resources,
                )? as i64),
                None => p.max_resource,
            };
            let Some(max) = max_resource else {
                return Err(cx.err(
                    "search.pruner.max_resource",
                    "missing: hyperband needs the most steps a trial runs, \
                     an integer above min_resource (Optuna's \"auto\" is not supported)",
                ));
            };
            if max <= min_resource as i64 {
                return Err(cx.err(
                    "search.pruner.max_resource",
                    format!("must be above min_resource ({min_resource}) (got {max})"),
                ));
            }
            Ok(Some(PrunerSpec::Hyperband {
                min_resource,
                max_resource: max as u64,
                reduction_factor,
                bootstrap_count,
            }))
        }
        _ => Ok(None),
    }
}

fn direction_of(metric: Metric) -> Direction {
    if metric.maximize() {
        Direction::Maximize
    } else {
        Direction::Minimize
    }
}

/// Resolve `[data]`, the task and the metric, loading the data file.
fn resolve_model_data(
    cx: &Ctx<'_>,
    model: &'static ModelInfo,
    o: &ObjectiveWire,
    dw: &DataWire,
) -> Result<(DataSpec, Dataset, Task, Metric), ConfigError> {
    let metric = match &o.metric {
        None => None,
        Some(m) => Some(Metric::parse(m).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            cx.err("objective.metric", one_of("metric", m, &names))
        })?),
    };
    let tasks: Vec<&str> = model.tasks.iter().map(|t| t.name()).collect();
    let explicit = match o.task.as_deref() {
        None => None,
        Some("classification") => Some(Task::Classification),
        Some("regression") => Some(Task::Regression),
        Some(t) => {
            return Err(cx.err(
                "objective.task",
                one_of("task", t, &["classification", "regression"]),
            ))
        }
    };
    if let Some(t) = explicit {
        if !model.tasks.contains(&t) {
            return Err(cx.err(
                "objective.task",
                format!(
                    "model {} does {}, not {}",
                    model.name,
                    tasks.join(" and "),
                    t.name()
                ),
            ));
        }
    }
    // The task: given, or the model's only one, or the metric's, or
    // inferred from the target column by the data module; with what set it,
    // for the error messages.
    let (hint, task_from) = if let Some(t) = explicit {
        (Some(t), format!("set by task = \"{}\"", t.name()))
    } else if model.tasks.len() == 1 {
        let t = model.tasks[0];
        (
            Some(t),
            format!("model {} does only {}", model.name, t.name()),
        )
    } else if let Some(m) = metric {
        let t = m.task();
        (Some(t), format!("metric {} is for {}", m.name(), t.name()))
    } else {
        (
            None,
            format!(
                "read from the target column `{}`",
                dw.target.as_deref().unwrap_or("target")
            ),
        )
    };

    let impute = match dw.impute.as_deref().unwrap_or("none") {
        "none" => Impute::None,
        "mean" => Impute::Mean,
        "median" => Impute::Median,
        "most_frequent" => Impute::MostFrequent,
        "constant" => Impute::Constant,
        other => {
            return Err(cx.err(
                "data.impute",
                one_of(
                    "imputation",
                    other,
                    &["none", "mean", "median", "most_frequent", "constant"],
                ),
            ))
        }
    };
    if dw.fill_value.is_some() && impute != Impute::Constant {
        return Err(cx.err("data.fill_value", "only used with impute = \"constant\""));
    }
    let scale = match dw.scale.as_deref().unwrap_or("none") {
        "none" => Scale::None,
        "standard" => Scale::Standard,
        "minmax" => Scale::Minmax,
        other => {
            return Err(cx.err(
                "data.scale",
                one_of("scaling", other, &["none", "standard", "minmax"]),
            ))
        }
    };
    let target = dw.target.clone().unwrap_or_else(|| "target".to_string());
    let base = cx.file.parent().unwrap_or(Path::new(""));
    // Absolute when the file exists, so the manifest points at it from any
    // working directory.
    let path = match cx.data_path {
        Some(p) => p.to_path_buf(),
        None => {
            let p = base.join(&dw.path);
            std::fs::canonicalize(&p).unwrap_or(p)
        }
    };
    let mut text = dw.text.clone().unwrap_or_default();
    text.sort();
    if let Some(w) = text.windows(2).find(|w| w[0] == w[1]) {
        return Err(cx.err("data.text", format!("lists `{}` twice", w[0])));
    }
    let options = data::ReadOptions {
        text: &text,
        task_from: hint.map(|_| task_from.as_str()),
    };
    let dataset = data::load_with(&path, &target, hint, &options)
        .map_err(|e| cx.err("data.path", e.to_string()))?;
    if let Some(name) = text.iter().find(|n| dataset.column_index(n).is_none()) {
        let why = if *name == target {
            "is the target column, not a feature".to_owned()
        } else {
            format!(
                "is not a column of {}; the feature columns are: {}",
                path.display(),
                dataset.feature_names.join(", ")
            )
        };
        return Err(cx.err("data.text", format!("`{name}` {why}")));
    }
    if dataset.feature_names.is_empty() {
        return Err(cx.err(
            "data.path",
            format!(
                "{}: no feature column: the file holds only the target column `{target}`, \
                 and model {} needs at least one feature to learn from; add feature columns \
                 to the file",
                path.display(),
                model.name
            ),
        ));
    }
    // A model that takes NaN natively gets the missing cells as NaN.
    if impute == Impute::None && !model.takes_missing() {
        if let Some((line, column)) = dataset.first_missing() {
            return Err(cx.err(
                "data.impute",
                format!(
                    "{}: line {line}, column `{column}` is missing a value; set impute = \"median\" (or mean, most_frequent, constant) or fix the file; model {} cannot take missing values (only {} can, with impute = \"none\")",
                    path.display(),
                    model.name,
                    models::TAKE_MISSING.join(", ")
                ),
            ));
        }
    }
    let task = match &dataset.target {
        Target::Classes { .. } => Task::Classification,
        Target::Values(_) => Task::Regression,
    };
    if !model.tasks.contains(&task) {
        return Err(cx.err(
            "objective.model",
            format!(
                "model {} does {}, but the target `{target}` reads as {} ({task_from}); choose another model or set task",
                model.name,
                tasks.join(" and "),
                task.name()
            ),
        ));
    }
    let metric = metric.unwrap_or(match task {
        Task::Classification => Metric::Accuracy,
        Task::Regression => Metric::R2,
    });
    if metric.task() != task {
        return Err(cx.err(
            "objective.metric",
            format!(
                "metric {} is for {}, but this search does {} ({task_from})",
                metric.name(),
                metric.task().name(),
                task.name()
            ),
        ));
    }
    if metric.needs_proba() && !model.probabilities {
        return Err(cx.err(
            "objective.metric",
            format!(
                "metric {} needs class probabilities, which model {} does not give",
                metric.name(),
                model.name
            ),
        ));
    }
    if metric.binary_only() {
        if let Target::Classes { labels, .. } = &dataset.target {
            if labels.len() != 2 {
                let instead = match metric {
                    Metric::F1 => "f1_macro",
                    Metric::Precision => "precision_macro",
                    Metric::Recall => "recall_macro",
                    Metric::RocAuc | Metric::AveragePrecision => "roc_auc_ovr",
                    _ => "log_loss",
                };
                return Err(cx.err(
                    "objective.metric",
                    format!(
                        "metric {} is binary, but the target has {} classes; use {instead}",
                        metric.name(),
                        labels.len()
                    ),
                ));
            }
        }
    }
    let spec = DataSpec {
        path,
        target,
        impute,
        fill_value: dw.fill_value.unwrap_or(0.0),
        scale,
        text,
        sha256: dataset.sha256.clone(),
    };
    Ok((spec, dataset, task, metric))
}

/// Every searched parameter must be a hyperparameter of the model, and every
/// value it can take must be one the model accepts.
fn check_model_space(
    cx: &Ctx<'_>,
    model: &'static ModelInfo,
    space: &Space,
    task: Task,
) -> Result<(), ConfigError> {
    for p in &space.params {
        let key = format!("space.{}", p.name);
        let hp = model.param(&p.name).ok_or_else(|| {
            let names: Vec<&str> = model.params.iter().map(|h| h.name).collect();
            cx.err(
                &key,
                format!(
                    "model {} has no hyperparameter `{}`; it has: {}",
                    model.name,
                    p.name,
                    names.join(", ")
                ),
            )
        })?;
        let probes: Vec<Value> = match &p.domain {
            Domain::Float { low, high, .. } => vec![Value::Float(*low), Value::Float(*high)],
            Domain::Int { low, high, .. } => vec![Value::Int(*low), Value::Int(*high)],
            Domain::Categorical { choices } => choices.clone(),
            Domain::Values { values } => values.clone(),
        };
        for v in &probes {
            hp.check(v).map_err(|m| cx.err(&key, m))?;
            hp.check_task(v, task).map_err(|m| cx.err(&key, m))?;
        }
    }
    Ok(())
}

/// `[objective.params]`: fixed hyperparameters, checked like the space.
fn fixed_params(
    cx: &Ctx<'_>,
    model: &'static ModelInfo,
    o: &ObjectiveWire,
    space: &Space,
    task: Task,
) -> Result<Params, ConfigError> {
    let mut out = Params::new();
    for (name, raw) in o.params.iter().flatten() {
        let key = format!("objective.params.{name}");
        let hp = model.param(name).ok_or_else(|| {
            cx.err(
                &key,
                format!("model {} has no hyperparameter `{name}`", model.name),
            )
        })?;
        if space.params.iter().any(|p| &p.name == name) {
            return Err(cx.err(&key, "is also searched in [space]; keep one"));
        }
        let v = Value::from_toml(raw)
            .ok_or_else(|| cx.err(&key, "must be a string, number or boolean"))?;
        hp.check(&v).map_err(|m| cx.err(&key, m))?;
        hp.check_task(&v, task).map_err(|m| cx.err(&key, m))?;
        out.insert(name.clone(), v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_fn(text: &str) -> Result<Search, ConfigError> {
        parse(Path::new("t.toml"), text).map(|l| l.search)
    }

    const BASE: &str = r#"
[search]
strategy = "random"
trials = 10
seed = 3

[objective]
function = "branin"

[space]
x0 = { type = "float", low = -5.0, high = 10.0 }
x1 = { type = "float", low = 0.0, high = 15.0 }
"#;

    #[test]
    fn the_ladder_grows_by_factor_and_ends_at_max_resources() {
        let spec = |min, max, factor| ResourceSpec {
            resource: Resource::Samples,
            min_resources: min,
            max_resources: max,
            factor,
        };
        assert_eq!(spec(60, 1437, 3).ladder(), [60, 180, 540, 1437]);
        assert_eq!(spec(1, 27, 3).ladder(), [1, 3, 9, 27]);
        assert_eq!(spec(1, 100, 3).ladder(), [1, 3, 9, 27, 81, 100]);
        assert_eq!(spec(5, 5, 2).ladder(), [5]);
        assert_eq!(
            spec(u64::MAX / 2, u64::MAX, 4).ladder(),
            [u64::MAX / 2, u64::MAX]
        );
    }

    #[test]
    fn root_ignores_order_comments_and_budget() {
        let a = parse_fn(BASE).unwrap().root();
        let reordered = r#"
# a comment
[space]
x1 = { high = 15.0, low = 0.0, type = "float" }   # swapped
x0 = { type = "float", low = -5, high = 10 }

[objective]
function = "branin"

[search]
seed = 3
trials = 500
strategy = "random"
"#;
        assert_eq!(parse_fn(reordered).unwrap().root(), a);
        let other_seed = BASE.replace("seed = 3", "seed = 4");
        assert_ne!(parse_fn(&other_seed).unwrap().root(), a);
        let other_space = BASE.replace("high = 15.0", "high = 14.0");
        assert_ne!(parse_fn(&other_space).unwrap().root(), a);
    }

    #[test]
    fn unknown_key_rejected_with_line() {
        let e = parse_fn(&BASE.replace("seed = 3", "seed = 3\nsed = 4")).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("unknown field `sed`") && m.contains("line"),
            "{m}"
        );
    }

    #[test]
    fn trials_zero_rejected() {
        let e = parse_fn(&BASE.replace("trials = 10", "trials = 0")).unwrap_err();
        assert!(
            e.to_string()
                .contains("[search.trials]: must be at least 1"),
            "{e}"
        );
    }

    #[test]
    fn grid_needs_steps() {
        let e = parse_fn(&BASE.replace("\"random\"", "\"grid\"")).unwrap_err();
        assert!(
            e.to_string().contains("[space.x0]: a grid needs `steps`"),
            "{e}"
        );
    }
}
