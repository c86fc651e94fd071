//! `[objective] external = "name"`: an objective whose code the caller
//! gives (`engine`), identified in the root hash by its name and version;
//! with `command = [...]`, also a program the CLI runs for it.

use crate::space::Space;

use super::command::{resolve_runner, result_keys};
use super::wire::ObjectiveWire;
use super::{one_of, ConfigError, Ctx, Direction, ObjectiveSpec};

/// `[objective] direction` of an objective without a metric that implies
/// one (a function, an external objective): minimize unless told.
pub(super) fn minimize_unless(cx: &Ctx<'_>, given: Option<&str>) -> Result<Direction, ConfigError> {
    match given {
        None | Some("minimize") => Ok(Direction::Minimize),
        Some("maximize") => Ok(Direction::Maximize),
        Some(d) => Err(cx.err(
            "objective.direction",
            one_of("direction", d, &["minimize", "maximize"]),
        )),
    }
}

/// Resolve `[objective] external = "name"` (code the caller gives), with
/// its result `columns` and `volatile` keys and, when given, the
/// `command` that runs it from the CLI.
pub(super) fn resolve_external(
    cx: &Ctx<'_>,
    o: &ObjectiveWire,
    space: &Space,
    has_data: bool,
    has_cv: bool,
) -> Result<(ObjectiveSpec, Direction), ConfigError> {
    let name = o.external.clone().unwrap_or_default();
    if name.trim().is_empty() {
        return Err(cx.err(
            "objective.external",
            "is empty; name the objective, e.g. external = \"train_resnet\"",
        ));
    }
    let version = match &o.version {
        Some(v) if !v.trim().is_empty() => v.clone(),
        _ => {
            return Err(cx.err(
                "objective.version",
                "missing: an external objective needs a version, e.g. version = \"1\"; change \
                 it whenever the code changes what it returns (it is part of the search's \
                 identity)",
            ))
        }
    };
    for (key, present) in [
        ("objective.task", o.task.is_some()),
        ("objective.params", o.params.is_some()),
        ("data", has_data),
        ("cv", has_cv),
    ] {
        if present {
            return Err(cx.err(key, "only for model objectives; remove it"));
        }
    }
    if o.inputs.is_some() {
        return Err(cx.err(
            "objective.inputs",
            "only for command objectives: an external objective's name and version stand for \
             its code and whatever it reads, so change the version when they change, and \
             remove `inputs`",
        ));
    }
    let direction = minimize_unless(cx, o.direction.as_deref())?;
    let metric = o.metric.clone().unwrap_or_else(|| "value".to_string());
    // Why the runner is resolved here but left out of the root hash: it is
    // how this caller gives the code; the name and version are what the
    // code is (see `canonical`).
    let runner = match &o.command {
        Some(_) => Some(Box::new(resolve_runner(cx, o, space)?)),
        None => None,
    };
    let (columns, volatile) = match &runner {
        Some(r) => (r.columns.clone(), r.volatile.clone()),
        None => result_keys(cx, o, space)?,
    };
    Ok((
        ObjectiveSpec::External {
            name,
            version,
            metric,
            columns,
            volatile,
            runner,
        },
        direction,
    ))
}
