//! The canonical form of a search and its root hash: everything that changes
//! results and nothing else (Determinism rule 1 in `docs/design.md`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::preprocess::{Impute, Scale};
use crate::data::Task;
use crate::seed::RootHash;
use crate::space::Domain;
use crate::strategy::Spec;
use crate::value::{Params, Value};

use super::{CvKind, Direction, ObjectiveSpec, PrunerSpec, ResourceSpec, Search};

/// Format tag of the canonical encoding; part of every root hash.
const CANONICAL_FORMAT: &str = "hpsearch-search/1";

impl Search {
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
                warm_start,
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
                        warm_start: warm_start.as_ref().map(|_| "path"),
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
            // Why the runner (`command` and its settings) is left out: it
            // is how one caller gives the code, and a Python function
            // given for the same name and version is the same search.
            ObjectiveSpec::External {
                name,
                version,
                metric,
                columns,
                volatile,
                runner: _,
            } => (
                CanonicalObjective::External {
                    external: name,
                    version,
                    metric,
                    columns,
                    volatile,
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
            when: self
                .space
                .params
                .iter()
                .filter_map(|p| {
                    let c = p.when.as_ref()?;
                    let parent: BTreeMap<&str, &[Value]> =
                        [(c.parent.as_str(), c.values.as_slice())].into();
                    Some((p.name.as_str(), parent))
                })
                .collect(),
            grids: self
                .space
                .grids
                .iter()
                .map(|g| {
                    g.params
                        .iter()
                        .map(|p| (p.name.as_str(), &p.domain))
                        .collect()
                })
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

/// The canonical form of a search (see [`Search::canonical`]); serialised
/// as compact JSON, it is the root hash's input. Its shape (field names,
/// their order, what is left out when) must not change: any change gives
/// every existing search a new root hash, and their results folders would
/// no longer resume.
#[derive(Debug, Serialize)]
pub struct Canonical<'a> {
    /// `hpsearch-search/1`: the encoding's version tag, so a future
    /// encoding cannot collide with this one.
    pub format: &'static str,
    /// The name, or a table of the name and its settings.
    pub strategy: &'a Spec,
    /// `[search] seed` (default 0).
    pub seed: u64,
    /// `[search] parallel`, the proposal window; left out for grid and
    /// random without a pruner (they never look at results).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
    /// Left out when there is none, so searches without a pruner keep
    /// the root hash they had before pruning existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruner: Option<&'a PrunerSpec>,
    /// `[objective] direction`: a model's is its metric's; a function's
    /// defaults to minimize.
    pub direction: Direction,
    /// What a trial evaluates.
    pub objective: CanonicalObjective<'a>,
    /// The data and its preparation; model objectives only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<CanonicalData<'a>>,
    /// The cross-validation scheme; model objectives only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cv: Option<CanonicalCv<'a>>,
    /// Each searched parameter's domain, by name (sorted).
    pub space: BTreeMap<&'a str, &'a Domain>,
    /// The conditional parameters' conditions (`when`), by name: the
    /// parent and the values that activate it, in the parent's order.
    /// Left out when no parameter has one, so every unconditional search
    /// keeps the root hash it had before conditions existed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<&'a str, BTreeMap<&'a str, &'a [Value]>>,
    /// A list of grids (`[[grid]]`): each sub-grid's domains by name, in
    /// the order written (`space` is then their union). Left out for a
    /// plain `[space]`, so every other search keeps its root hash.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grids: Vec<BTreeMap<&'a str, &'a Domain>>,
}

/// The objective part of [`Canonical`], tagged by `kind`. Part of the
/// root hash's input: its shape (variants, field names and order) must not
/// change, or every existing search gets a new root hash.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CanonicalObjective<'a> {
    /// A built-in model trained with cross-validation.
    Model {
        /// The model's name (`[objective] model`).
        model: &'static str,
        /// Classification or regression, as resolved.
        task: Task,
        /// The metric's name, as resolved (default the task's).
        metric: &'static str,
        /// `[objective.params]`: the hyperparameters fixed for every trial.
        params: &'a Params,
        /// Left out when not set, so searches without a resource keep
        /// the root hash they had before the key existed.
        #[serde(skip_serializing_if = "Option::is_none")]
        resource: Option<&'a ResourceSpec>,
        /// `"path"` with `[objective] warm_start = "path"` (it changes the
        /// fits); left out for `"none"`, so other searches keep their
        /// root hash.
        #[serde(skip_serializing_if = "Option::is_none")]
        warm_start: Option<&'static str>,
    },
    /// A built-in benchmark function.
    Function {
        /// The function's name (`[objective] function`).
        function: &'static str,
        /// How many parameters it takes: the number of `[space]` entries.
        dim: usize,
    },
    /// A program run once per trial.
    Command {
        /// The command as written: the program, then its arguments.
        command: &'a [String],
        /// Whether the parameters are appended as `--name=value`.
        args: bool,
        /// `timeout`, seconds; left out when not set.
        #[serde(skip_serializing_if = "Option::is_none")]
        timeout: Option<f64>,
        /// `max_step`, the largest step reported; left out when not set.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_step: Option<u64>,
        /// What `value` measures (default "value").
        metric: &'a str,
        /// Result keys given their own column in `trials.csv`.
        columns: &'a [String],
        /// Left out when empty, so searches without it keep the root
        /// hash they had before the key existed.
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        volatile: &'a [String],
        /// Each input as written, with its content hash.
        inputs: BTreeMap<&'a str, &'a str>,
    },
    /// Code the caller gives, which the search cannot see: its name and
    /// version stand for it. The `command` that may run it from the CLI
    /// is not part of it.
    External {
        /// `[objective] external`: the objective's name.
        external: &'a str,
        /// `[objective] version`: changed whenever the code changes what it
        /// returns.
        version: &'a str,
        /// What `value` measures (default "value").
        metric: &'a str,
        /// Result keys given their own column in `trials.csv`; left out
        /// when empty, so searches without it keep the root hash they had
        /// before the key existed.
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        columns: &'a [String],
        /// Left out when empty, as `columns`.
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        volatile: &'a [String],
    },
}

/// The `[data]` part of [`Canonical`]: the data by content, not by path.
/// Part of the root hash's input: its shape (field names and order) must
/// not change, or every existing search gets a new root hash.
#[derive(Debug, Serialize)]
pub struct CanonicalData<'a> {
    /// SHA-256 of the data file's bytes (hex).
    pub sha256: &'a str,
    /// `[data] target`: the target column (default "target").
    pub target: &'a str,
    /// `[data] impute` (default none).
    pub impute: Impute,
    /// `[data] fill_value`; only with `impute = "constant"`, left out
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fill_value: Option<f64>,
    /// `[data] scale` (default none).
    pub scale: Scale,
    /// Left out when empty, so searches that do not set `text` keep the
    /// root hash they had before the key existed.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub text: &'a [String],
}

/// The `[cv]` part of [`Canonical`]. Part of the root hash's input: its
/// shape (field names and order) must not change, or every existing search
/// gets a new root hash.
#[derive(Debug, Serialize)]
pub struct CanonicalCv<'a> {
    /// `[cv] folds` (default 5; 1 for a holdout).
    pub folds: usize,
    /// Whether the folds keep class proportions, as resolved: the default
    /// for classification, or what `[cv] kind` says.
    pub stratified: bool,
    /// Left out when `[cv] kind` is not set, so searches without it keep
    /// the root hash they had before the key existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<&'a CvKind>,
}
