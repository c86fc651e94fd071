//! `[objective] external = "name"`: an objective whose code the caller
//! gives (`engine`), identified in the root hash by its name and version.

use super::wire::ObjectiveWire;
use super::{one_of, ConfigError, Ctx, Direction, ObjectiveSpec};

/// Resolve `[objective] external = "name"` (code the caller gives).
pub(super) fn resolve_external(
    cx: &Ctx<'_>,
    o: &ObjectiveWire,
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
    let metric = o.metric.clone().unwrap_or_else(|| "value".to_string());
    Ok((
        ObjectiveSpec::External {
            name,
            version,
            metric,
        },
        direction,
    ))
}
