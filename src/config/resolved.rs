//! The validated search: what `parse` produces and every other module reads.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::benchmark::Function;
use crate::data::metrics::Metric;
use crate::data::preprocess::{Impute, Scale};
use crate::data::{Dataset, Task};
use crate::space::Space;
use crate::strategy::Spec;
use crate::value::Params;

use super::ModelInfo;

/// Whether lower or higher values are better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower values are better (losses, errors, the benchmark functions).
    Minimize,
    /// Higher values are better (accuracy, R²).
    Maximize,
}

impl Direction {
    /// The name as written in a search file: "minimize" or "maximize".
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

/// `[objective] warm_start = "path"`: on each fold, the candidates that
/// share every parameter but `param` are solved along `values` in
/// ascending order, each fit warm-started from the solution at the value
/// before it (see `objective::models::logistic`, "Warm starts along the
/// path", and Determinism in `docs/design.md`).
#[derive(Clone, Debug, PartialEq)]
pub struct WarmPath {
    /// The grid axis the path runs along (`C`).
    pub param: &'static str,
    /// The axis's distinct values, ascending (compared by their bits).
    pub values: Vec<f64>,
}

/// What a trial evaluates.
#[derive(Clone, Debug)]
pub enum ObjectiveSpec {
    /// A built-in model trained with k-fold cross-validation.
    Model {
        /// The model, from the catalogue (`[objective] model`).
        model: &'static ModelInfo,
        /// Classification or regression: `[objective] task`, or the model's
        /// only task, the metric's, or read from the target column.
        task: Task,
        /// `[objective] metric`, default the task's (accuracy for
        /// classification, R² for regression).
        metric: Metric,
        /// `[objective.params]`: hyperparameters fixed for every trial.
        fixed: Params,
        /// `[objective] resource` and its ladder (multi-fidelity, with a
        /// pruner); `None` when not set.
        resource: Option<ResourceSpec>,
        /// `[objective] warm_start = "path"`: the regularisation path a
        /// trial's fit follows on each fold; `None` for `"none"` (the
        /// default: every fit starts from zero).
        warm_start: Option<WarmPath>,
    },
    /// A built-in benchmark function of `dim` parameters.
    Function {
        /// `[objective] function`.
        function: Function,
        /// How many parameters it takes: the number of `[space]` entries.
        dim: usize,
    },
    /// Any program, run once per trial (see `objective::command`).
    Command(Box<CommandSpec>),
    /// Code the caller gives (a Rust closure, a Python function: see
    /// `engine`): the search cannot see it, so its `name` and `version`
    /// stand for it in the root hash. `hpsearch run` runs it only when
    /// the file also gives a `command` (`runner`).
    External {
        /// `[objective] external`: the objective's name.
        name: String,
        /// `[objective] version`: changed whenever the code changes what
        /// it returns, which makes it a different search.
        version: String,
        /// `[objective] metric`: what `value` measures (default "value").
        metric: String,
        /// `[objective] columns`: result keys given their own column in
        /// `trials.csv`, as for a command. Default none; part of the root
        /// hash only when not empty.
        columns: Vec<String>,
        /// `[objective] volatile`: result keys `replay` does not compare,
        /// as for a command. Default none; part of the root hash only
        /// when not empty.
        volatile: Vec<String>,
        /// `[objective] command` and its settings (`args`, `timeout`,
        /// `max_failures`, `prune_grace`, `max_step`): a program that
        /// computes the objective, so `hpsearch run` can run it with the
        /// command protocol. Not part of the root hash: the name and
        /// version are the identity, and the version is the user's
        /// promise that this program and any other code given for it
        /// agree. Its `columns`, `volatile` and `metric` are the
        /// objective's; it has no `inputs`. `None`: only a caller that
        /// gives the code can run the search.
        runner: Option<Box<CommandSpec>>,
    },
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

/// `[search.pruner]`: stops trials early from their intermediate values
/// (see `crate::pruner`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PrunerSpec {
    /// Optuna's MedianPruner rule.
    Median {
        /// Pruning waits until this many settled trials completed (default
        /// 5, >= 0).
        n_startup_trials: u64,
        /// No trial is pruned before this step (default 0).
        n_warmup_steps: u64,
        /// Steps between checks, counted from `n_warmup_steps` (default 1,
        /// >= 1).
        interval_steps: u64,
    },
    /// Optuna's SuccessiveHalvingPruner rule (asynchronous successive
    /// halving).
    SuccessiveHalving {
        /// The step of the first rung (default 1, >= 1); with a resource,
        /// its `min_resources`.
        min_resource: u64,
        /// Rung `k + 1` is this many times rung `k`, and the best
        /// `1 / reduction_factor` go on (default 4, >= 2); with a resource,
        /// its `factor`.
        reduction_factor: u64,
        /// Rung `k` is at `min_resource * reduction_factor ^
        /// (min_early_stopping_rate + k)` (default 0).
        min_early_stopping_rate: u64,
        /// A trial is pruned at a rung that at most this many trials
        /// (itself included) reached (default 0).
        bootstrap_count: u64,
    },
    /// Optuna's HyperbandPruner rule, brackets from the trial index.
    Hyperband {
        /// The first rung's step (default 1, >= 1); with a resource, its
        /// `min_resources`.
        min_resource: u64,
        /// The most steps a trial runs (required, above `min_resource`);
        /// with a resource, its `max_resources`.
        max_resource: u64,
        /// The ratio between rungs (default 3, >= 2); with a resource, its
        /// `factor`.
        reduction_factor: u64,
        /// As for successive halving (default 0).
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
    /// The name as written in a search file: "samples", "trees" or
    /// "iterations".
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
    /// What grows: rows, trees or iterations.
    pub resource: Resource,
    /// The first rung's resource (>= 1): rows, trees or iterations.
    /// Default scikit-learn's `"smallest"`: 2 x folds x classes rows for
    /// classification, 2 x folds for regression, 1 tree or iteration.
    pub min_resources: u64,
    /// The last rung's resource (>= `min_resources`). Default the largest
    /// training fold's rows (its cap), or [`DEFAULT_MAX_TREES`](super::DEFAULT_MAX_TREES) trees or
    /// [`DEFAULT_MAX_ITERATIONS`](super::DEFAULT_MAX_ITERATIONS) iterations (at most 100000).
    pub max_resources: u64,
    /// The ratio between rungs (>= 2), default [`DEFAULT_FACTOR`](super::DEFAULT_FACTOR).
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

/// The data file and how to prepare it.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    /// Resolved against the search file's folder.
    pub path: PathBuf,
    /// `target`: the target column (default "target"); never a feature.
    pub target: String,
    /// `impute`: how missing feature cells are filled (default none:
    /// missing cells are an error, except for models that take them).
    pub impute: Impute,
    /// `fill_value`: the value `impute = "constant"` fills in (default
    /// 0); unused otherwise.
    pub fill_value: f64,
    /// `scale`: how numeric features are scaled (default none).
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
    /// `[search] strategy`: the name, or a table of the name and its
    /// settings.
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
    /// What a trial evaluates.
    pub objective: ObjectiveSpec,
    /// `[objective] direction`, resolved: a model's is its metric's, a
    /// function's defaults to minimize, a command's must be written.
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
    /// `[space]`: the searched parameters, in name order.
    pub space: Space,
    /// The search file's text, kept in the results folder for replay.
    pub text: String,
}

/// A search file read and checked, with its data loaded.
pub struct Loaded {
    /// The validated search.
    pub search: Search,
    /// The data, loaded and prepared, for model objectives; `None`
    /// otherwise.
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
            ObjectiveSpec::External { metric, .. } => metric,
        }
    }

    /// What the objective is called: the model or function name, the
    /// command's program, the external objective's name.
    pub fn objective_name(&self) -> &str {
        match &self.objective {
            ObjectiveSpec::Model { model, .. } => model.name,
            ObjectiveSpec::Function { function, .. } => function.name(),
            ObjectiveSpec::Command(c) => c.argv.first().map_or("", |s| s.as_str()),
            ObjectiveSpec::External { name, .. } => name,
        }
    }

    /// The command objective's settings, if that is the objective.
    pub fn command(&self) -> Option<&CommandSpec> {
        match &self.objective {
            ObjectiveSpec::Command(c) => Some(c),
            _ => None,
        }
    }

    /// The program that runs the objective with the command protocol: a
    /// command objective's, or an external objective's `command`.
    pub fn runner(&self) -> Option<&CommandSpec> {
        match &self.objective {
            ObjectiveSpec::Command(c) => Some(c),
            ObjectiveSpec::External { runner, .. } => runner.as_deref(),
            _ => None,
        }
    }

    /// The declared result columns (`[objective] columns`) of an objective
    /// that reports a result map (a command, an external objective), whose
    /// `trials.csv` holds them and then the `extra` column; `None` for a
    /// model or a function, which have neither.
    pub fn result_columns(&self) -> Option<&[String]> {
        match &self.objective {
            ObjectiveSpec::Command(c) => Some(&c.columns),
            ObjectiveSpec::External { columns, .. } => Some(columns),
            _ => None,
        }
    }

    /// The result keys `replay` does not compare (`[objective] volatile`);
    /// empty for a model or a function.
    pub fn volatile(&self) -> &[String] {
        match &self.objective {
            ObjectiveSpec::Command(c) => &c.volatile,
            ObjectiveSpec::External { volatile, .. } => volatile,
            _ => &[],
        }
    }
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
    Repeated {
        /// `[cv] repeats` (default 10, >= 1).
        repeats: usize,
        /// `[cv] stratify`: whether folds keep class proportions (default
        /// true for classification; regression cannot).
        stratify: bool,
    },
    /// scikit-learn's `GroupKFold`: the rows of one value of column
    /// `groups` are held out together; the column is not a feature.
    Group {
        /// `[cv] groups`: the column whose values are the groups.
        groups: String,
    },
    /// scikit-learn's `TimeSeriesSplit`, rows ordered by column `order`
    /// (not a feature) or in file order.
    TimeSeries {
        #[serde(skip_serializing_if = "Option::is_none")]
        /// `[cv] order`: the column the rows are sorted by; `None`: file
        /// order.
        order: Option<String>,
        /// `[cv] gap`: rows left out between each training and test part
        /// (default 0).
        gap: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        /// `[cv] max_train_size`: the most training rows a fold keeps
        /// (the latest ones); `None`: no cap.
        max_train_size: Option<usize>,
    },
    /// One split holding out `test_size` of the rows; stratified for
    /// classification unless `stratify = false`.
    Holdout {
        /// `[cv] test_size`: the share of rows held out, in (0, 1)
        /// (default 0.25).
        test_size: f64,
        /// `[cv] stratify`: whether folds keep class proportions (default
        /// true for classification; regression cannot).
        stratify: bool,
    },
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
