//! Reading a search file: TOML into the wire structs, then each section
//! checked and resolved into a [`Search`].

use std::path::Path;

use crate::benchmark::Function;
use crate::data;
use crate::space::Space;
use crate::strategy::Spec;

use super::command::resolve_command;
use super::cv::{check_cv_data, resolve_cv_kind};
use super::external::{minimize_unless, resolve_external};
use super::model::{check_model_space, direction_of, fixed_params, resolve_model_data};
use super::pruner::{resolve_pruner, resolve_resource};
use super::warm::resolve_warm_start;
use super::wire::FileWire;
use super::{one_of, ConfigError, Ctx, CvKind, Loaded, ModelInfo, ObjectiveSpec, Search, MAX_GRID};

/// Read, check and resolve a search file, loading its data. `models` is
/// the list of built-in models a search may name
/// (`objective::models::MODELS`; given, so `config` never depends on
/// `objective`).
pub fn load(file: &Path, models: &'static [ModelInfo]) -> Result<Loaded, ConfigError> {
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
    parse(file, &text, models)
}

/// Check and resolve the text of a search file named `file` (relative data
/// paths are resolved against its folder).
pub fn parse(file: &Path, text: &str, models: &'static [ModelInfo]) -> Result<Loaded, ConfigError> {
    parse_with_data(file, text, None, models)
}

/// [`parse`], with the data file at `data_path` instead of the path the
/// search file gives (for replaying a search from its results folder).
pub fn parse_with_data(
    file: &Path,
    text: &str,
    data_path: Option<&Path>,
    models: &'static [ModelInfo],
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

    // [space], or [[grid]]: a list of grids
    let (space, table) = match wire.grid {
        Some(list) => {
            if wire.space.is_some() {
                return Err(cx.err(
                    "grid",
                    "give either [space] or a list of grids ([[grid]] tables), not both",
                ));
            }
            if strategy != Spec::Grid {
                return Err(cx.err(
                    "grid",
                    format!(
                        "a list of grids is for strategy = \"grid\" (got \"{}\"); use one                          [space], with `when = {{ … }}` for conditional parameters",
                        strategy.name()
                    ),
                ));
            }
            let space = Space::from_grids(&list).map_err(|(at, msg)| {
                cx.err(format!("grid.{at}").trim_end_matches('.').to_string(), msg)
            })?;
            (space, "grid")
        }
        None => {
            let space_wire = wire.space.unwrap_or_default();
            if space_wire.is_empty() {
                return Err(cx.err("space", "no parameters; add at least one under [space]"));
            }
            let space = Space::from_wire(&space_wire)
                .map_err(|(name, msg)| cx.err(format!("space.{name}"), msg))?;
            (space, "space")
        }
    };
    if strategy == Spec::Grid {
        let count = space
            .grid_count()
            .map_err(|(name, msg)| cx.err(format!("{table}.{name}"), msg))?;
        // Why: the budget is recorded in the manifest as a TOML integer
        // (i64); refusing here keeps a too-large grid from writing a folder.
        if trials.is_none() && count.at_most(MAX_GRID).is_none() {
            return Err(cx.err(
                table,
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
    // Why `command` beside `external` is not a second objective: it is
    // the program that runs the external objective from the CLI.
    let given = [
        o.model.is_some(),
        o.function.is_some(),
        o.command.is_some() && o.external.is_none(),
        o.external.is_some(),
    ];
    if given.iter().filter(|&&g| g).count() > 1 {
        return Err(cx.err(
            "objective",
            "give one of `model`, `function` or `command`, not several (or only `external` \
             for code the caller gives: see the README's \"Use it from Rust\")",
        ));
    }
    if o.external.is_none() && o.version.is_some() {
        return Err(cx.err(
            "objective.version",
            "only for an external objective (`external = \"name\"`); remove it",
        ));
    }
    if o.model.is_none() {
        for (key, present) in [
            ("objective.resource", o.resource.is_some()),
            ("objective.min_resources", o.min_resources.is_some()),
            ("objective.max_resources", o.max_resources.is_some()),
            ("objective.factor", o.factor.is_some()),
            ("objective.warm_start", o.warm_start.is_some()),
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
        let external = o.external.is_some();
        for (key, present) in [
            ("objective.args", o.args.is_some()),
            ("objective.timeout", o.timeout.is_some()),
            ("objective.max_failures", o.max_failures.is_some()),
            ("objective.prune_grace", o.prune_grace.is_some()),
            ("objective.max_step", o.max_step.is_some()),
            // An external objective refuses it with its own reason.
            ("objective.inputs", o.inputs.is_some() && !external),
        ] {
            if present && external {
                return Err(cx.err(
                    key,
                    "only with `command = [...]`, the program that runs an external objective \
                     from the CLI; give the command or remove it",
                ));
            }
            if present {
                return Err(cx.err(key, "only for command objectives; remove it"));
            }
        }
        for (key, present) in [
            ("objective.columns", o.columns.is_some()),
            ("objective.volatile", o.volatile.is_some()),
        ] {
            if present && !external {
                return Err(cx.err(
                    key,
                    "only for command objectives (and external ones); remove it",
                ));
            }
        }
    }
    let (objective, direction, data, dataset, folds, cv_kind, cv_keys) = match (
        &o.model,
        &o.function,
    ) {
        _ if o.external.is_some() => {
            let (spec, direction) =
                resolve_external(&cx, o, &space, wire.data.is_some(), wire.cv.is_some())?;
            (spec, direction, None, None, None, None, Vec::new())
        }
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
            let direction = minimize_unless(&cx, o.direction.as_deref())?;
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
            let model = models.iter().find(|m| m.name == *name).ok_or_else(|| {
                let names: Vec<&str> = models.iter().map(|m| m.name).collect();
                cx.err("objective.model", one_of("model", name, &names))
            })?;
            let dw = wire.data.as_ref().ok_or_else(|| {
                cx.err(
                    "data",
                    format!("missing: model {name} needs a [data] table with `path` and `target`"),
                )
            })?;
            let (spec, dataset, task, metric) = resolve_model_data(&cx, model, o, dw, models)?;
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
            let warm_start = resolve_warm_start(&cx, model, o, &strategy, &space, &fixed)?;
            if let (Some(_), Some(_)) = (&warm_start, &resource) {
                return Err(cx.err(
                    "objective.warm_start",
                    "\"path\" is not supported with [objective] resource (a rung's subsample \
                     would need its own path); remove one",
                ));
            }
            (
                ObjectiveSpec::Model {
                    model,
                    task,
                    metric,
                    fixed,
                    resource,
                    warm_start,
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
            // A closure reports through `engine::Trial::report`.
            ObjectiveSpec::Command(_) | ObjectiveSpec::External { .. } => {}
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
