//! The TOML schema: plain "wire" structs, read with `deny_unknown_fields`
//! so a misspelt key is an error with its line and column. Nothing here is
//! checked; `parse` turns them into a [`super::Search`].

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::space::ParamWire;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileWire {
    pub(super) search: SearchWire,
    pub(super) objective: ObjectiveWire,
    pub(super) data: Option<DataWire>,
    pub(super) cv: Option<CvWire>,
    pub(super) space: Option<BTreeMap<String, ParamWire>>,
    /// `[[grid]]`: a list of grids (strategy grid only), instead of `[space]`.
    pub(super) grid: Option<Vec<BTreeMap<String, ParamWire>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchWire {
    pub(super) strategy: String,
    pub(super) trials: Option<i64>,
    pub(super) seed: Option<i64>,
    pub(super) parallel: Option<i64>,
    pub(super) tpe: Option<toml::Value>,
    pub(super) gp: Option<toml::Value>,
    pub(super) pruner: Option<PrunerWire>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PrunerWire {
    pub(super) kind: Option<String>,
    pub(super) n_startup_trials: Option<i64>,
    pub(super) n_warmup_steps: Option<i64>,
    pub(super) interval_steps: Option<i64>,
    pub(super) min_resource: Option<i64>,
    pub(super) max_resource: Option<i64>,
    pub(super) reduction_factor: Option<i64>,
    pub(super) min_early_stopping_rate: Option<i64>,
    pub(super) bootstrap_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ObjectiveWire {
    pub(super) model: Option<String>,
    pub(super) function: Option<String>,
    pub(super) command: Option<Vec<String>>,
    pub(super) external: Option<String>,
    pub(super) version: Option<String>,
    pub(super) args: Option<bool>,
    pub(super) timeout: Option<f64>,
    pub(super) max_failures: Option<i64>,
    pub(super) prune_grace: Option<f64>,
    pub(super) max_step: Option<i64>,
    pub(super) inputs: Option<Vec<String>>,
    pub(super) columns: Option<Vec<String>>,
    pub(super) volatile: Option<Vec<String>>,
    pub(super) metric: Option<String>,
    pub(super) direction: Option<String>,
    pub(super) task: Option<String>,
    pub(super) params: Option<BTreeMap<String, toml::Value>>,
    pub(super) resource: Option<String>,
    pub(super) min_resources: Option<i64>,
    pub(super) max_resources: Option<i64>,
    pub(super) factor: Option<i64>,
    pub(super) warm_start: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DataWire {
    pub(super) path: String,
    pub(super) target: Option<String>,
    pub(super) impute: Option<String>,
    pub(super) fill_value: Option<f64>,
    pub(super) scale: Option<String>,
    pub(super) text: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CvWire {
    pub(super) folds: Option<i64>,
    pub(super) kind: Option<String>,
    pub(super) repeats: Option<i64>,
    pub(super) stratify: Option<bool>,
    pub(super) groups: Option<String>,
    pub(super) order: Option<String>,
    pub(super) gap: Option<i64>,
    pub(super) max_train_size: Option<i64>,
    pub(super) test_size: Option<f64>,
}
