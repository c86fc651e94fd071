//! The canonical form of a search and its root hash: everything that changes
//! results and nothing else (Determinism rule 1 in `docs/design.md`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::preprocess::{Impute, Scale};
use crate::data::Task;
use crate::seed::RootHash;
use crate::space::Domain;
use crate::strategy::Spec;
use crate::value::Params;

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
            ObjectiveSpec::External {
                name,
                version,
                metric,
            } => (
                CanonicalObjective::External {
                    external: name,
                    version,
                    metric,
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
    External {
        external: &'a str,
        version: &'a str,
        metric: &'a str,
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
