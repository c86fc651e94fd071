//! `[objective] warm_start`: `"none"` (the default) or `"path"`, warm
//! starts along a plain grid's regularisation path (what a trial computes
//! with it: `objective::models::logistic`, "Warm starts along the path").

use super::wire::ObjectiveWire;
use super::{one_of, ConfigError, Ctx, ModelInfo, WarmPath};
use crate::space::Space;
use crate::strategy::Spec;
use crate::value::Params;

/// The models with a path, and the parameter it runs along.
const PATHS: &[(&str, &str)] = &[("logistic_regression", "C")];

/// Resolve `[objective] warm_start` for `model`: `None` for `"none"` or
/// absent; for `"path"`, the path's axis and its values, ascending. The
/// path needs strategy grid over a plain `[space]` (no `[[grid]]`) in
/// which the path's parameter is an unconditional axis.
pub(super) fn resolve_warm_start(
    cx: &Ctx<'_>,
    model: &'static ModelInfo,
    o: &ObjectiveWire,
    strategy: &Spec,
    space: &Space,
    fixed: &Params,
) -> Result<Option<WarmPath>, ConfigError> {
    const KEY: &str = "objective.warm_start";
    match o.warm_start.as_deref() {
        None | Some("none") => return Ok(None),
        Some("path") => {}
        Some(other) => return Err(cx.err(KEY, one_of("warm_start", other, &["none", "path"]))),
    }
    let Some(&(_, param)) = PATHS.iter().find(|(m, _)| *m == model.name) else {
        return Err(cx.err(
            KEY,
            format!(
                "\"path\" is for models with a regularisation path ({}); model {} has none: \
                 remove warm_start",
                PATHS.iter().map(|(m, _)| *m).collect::<Vec<_>>().join(", "),
                model.name
            ),
        ));
    };
    if *strategy != Spec::Grid {
        return Err(cx.err(
            KEY,
            format!(
                "\"path\" needs strategy = \"grid\" (the path is the grid's {param} values; got \
                 \"{}\"): use a grid or remove warm_start",
                strategy.name()
            ),
        ));
    }
    if !space.grids.is_empty() {
        return Err(cx.err(
            KEY,
            "\"path\" needs one plain [space], not a list of [[grid]] tables: remove warm_start \
             or merge the grids",
        ));
    }
    if fixed.contains_key(param) {
        return Err(cx.err(
            KEY,
            format!(
                "\"path\" runs along {param}, fixed in [objective.params]: make {param} a grid \
                 axis of [space] or remove warm_start"
            ),
        ));
    }
    let Some(axis) = space.params.iter().find(|p| p.name == param) else {
        return Err(cx.err(
            KEY,
            format!(
                "\"path\" runs along {param}, which [space] does not search: add [space.{param}] \
                 (e.g. values = [0.01, 0.1, 1.0, 10.0]) or remove warm_start"
            ),
        ));
    };
    if axis.when.is_some() {
        return Err(cx.err(
            KEY,
            format!(
                "\"path\" needs {param} active in every trial; [space.{param}] has `when`: \
                 remove the condition or warm_start"
            ),
        ));
    }
    let points = axis
        .grid()
        .map_err(|e| cx.err(format!("space.{param}"), e))?;
    let mut values = Vec::with_capacity(points.len());
    for v in &points {
        match v.as_f64() {
            Some(x) => values.push(x),
            None => {
                return Err(cx.err(
                    format!("space.{param}"),
                    format!("\"path\" needs numbers (got {v:?})"),
                ))
            }
        }
    }
    values.sort_by(f64::total_cmp);
    values.dedup_by(|a, b| a.to_bits() == b.to_bits());
    Ok(Some(WarmPath { param, values }))
}
