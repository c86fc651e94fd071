//! `[objective] resource` (the rungs of a model trial) and `[search.pruner]`.

use crate::data::{Dataset, Target};
use crate::space::Space;
use crate::value::Params;

use super::wire::{ObjectiveWire, PrunerWire};
use super::{
    one_of, ConfigError, Ctx, ModelInfo, PrunerSpec, Resource, ResourceSpec, DEFAULT_FACTOR,
    DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TREES,
};

/// Resolve `[objective] resource`, `min_resources`, `max_resources` and
/// `factor` for a model search with `folds` folds of `ds`; `None` when
/// `resource` is not set (then the other three are refused).
pub(super) fn resolve_resource(
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
pub(super) fn resolve_pruner(
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
