//! A built-in model's `[data]`, task, metric, searched and fixed parameters.

use std::path::Path;

use crate::data::metrics::Metric;
use crate::data::preprocess::{Impute, Scale};
use crate::data::{self, Dataset, Target, Task};
use crate::space::{Domain, Space};
use crate::value::{Params, Value};

use super::wire::{DataWire, ObjectiveWire};
use super::{one_of, ConfigError, Ctx, DataSpec, Direction, ModelInfo};

pub(super) fn direction_of(metric: Metric) -> Direction {
    if metric.maximize() {
        Direction::Maximize
    } else {
        Direction::Minimize
    }
}

/// Resolve `[data]`, the task and the metric, loading the data file.
pub(super) fn resolve_model_data(
    cx: &Ctx<'_>,
    model: &'static ModelInfo,
    o: &ObjectiveWire,
    dw: &DataWire,
    models: &'static [ModelInfo],
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
    if impute == Impute::None && !model.missing_values {
        if let Some((line, column)) = dataset.first_missing() {
            let native: Vec<&str> = models
                .iter()
                .filter(|m| m.missing_values)
                .map(|m| m.name)
                .collect();
            return Err(cx.err(
                "data.impute",
                format!(
                    "{}: line {line}, column `{column}` is missing a value; set impute = \"median\" (or mean, most_frequent, constant) or fix the file; model {} cannot take missing values (only {} can, with impute = \"none\")",
                    path.display(),
                    model.name,
                    native.join(", ")
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
pub(super) fn check_model_space(
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
pub(super) fn fixed_params(
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
