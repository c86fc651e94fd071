//! `[objective] command = [...]` and its settings, checked; the names the
//! command protocol fixes (the `extra` column, each parameter's environment
//! variable) and how the program is found, which `objective::command` uses
//! to run it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::space::Space;

use super::wire::ObjectiveWire;
use super::{
    one_of, CommandSpec, ConfigError, Ctx, Direction, Input, DEFAULT_MAX_FAILURES,
    DEFAULT_PRUNE_GRACE,
};

/// Resolve `[objective] command = [...]` and its settings.
pub(super) fn resolve_command(
    cx: &Ctx<'_>,
    o: &ObjectiveWire,
    space: &Space,
) -> Result<(CommandSpec, Direction), ConfigError> {
    let (argv, program, cwd) = resolve_program_of(cx, o)?;
    let direction = match o.direction.as_deref() {
        Some("minimize") => Direction::Minimize,
        Some("maximize") => Direction::Maximize,
        Some(d) => {
            return Err(cx.err(
                "objective.direction",
                one_of("direction", d, &["minimize", "maximize"]),
            ))
        }
        None => {
            return Err(cx.err(
                "objective.direction",
                "missing: say whether the program's value is to be minimized or maximized, e.g. direction = \"maximize\"",
            ))
        }
    };
    let spec = command_settings(cx, o, space, argv, program, cwd)?;
    Ok((spec, direction))
}

/// A command that runs an external objective (`[objective] external` with
/// `command`): the program and its settings, without a direction (the
/// external objective's).
pub(super) fn resolve_runner(
    cx: &Ctx<'_>,
    o: &ObjectiveWire,
    space: &Space,
) -> Result<CommandSpec, ConfigError> {
    let (argv, program, cwd) = resolve_program_of(cx, o)?;
    command_settings(cx, o, space, argv, program, cwd)
}

/// The command's argument list, its program (found) and the folder it
/// runs in (the search file's, absolute).
fn resolve_program_of(
    cx: &Ctx<'_>,
    o: &ObjectiveWire,
) -> Result<(Vec<String>, PathBuf, PathBuf), ConfigError> {
    let argv = o.command.clone().unwrap_or_default();
    let Some(first) = argv.first() else {
        return Err(cx.err(
            "objective.command",
            "is empty; give the program and its arguments, e.g. [\"python3\", \"train.py\"]",
        ));
    };
    for (key, present) in [
        ("objective.task", o.task.is_some()),
        ("objective.params", o.params.is_some()),
    ] {
        if present {
            return Err(cx.err(key, "only for model objectives; remove it"));
        }
    }
    let base = cx.file.parent().unwrap_or(Path::new(""));
    let cwd = std::path::absolute(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    })
    .map_err(|e| {
        cx.err(
            "objective.command",
            format!("cannot resolve the search file's folder: {e}"),
        )
    })?;
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    let program = resolve_program(first, &cwd).ok_or_else(|| {
        if first.contains('/') {
            cx.err(
                "objective.command",
                format!(
                    "program `{first}` not found (looked for {}); paths are relative to the search file's folder",
                    cwd.join(first).display()
                ),
            )
        } else {
            cx.err(
                "objective.command",
                format!("program `{first}` is not an executable on PATH; give its path, or install it"),
            )
        }
    })?;
    Ok((argv, program, cwd))
}

/// The settings of a command beside its program: `args`, `timeout`,
/// `max_failures`, `prune_grace`, `max_step`, `metric`, `columns`,
/// `volatile` and `inputs`.
fn command_settings(
    cx: &Ctx<'_>,
    o: &ObjectiveWire,
    space: &Space,
    argv: Vec<String>,
    program: PathBuf,
    cwd: PathBuf,
) -> Result<CommandSpec, ConfigError> {
    let timeout = match o.timeout {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 => Some(t),
        Some(t) => {
            return Err(cx.err(
                "objective.timeout",
                format!("must be a positive number of seconds (got {t})"),
            ))
        }
    };
    let max_failures = match o.max_failures {
        None => DEFAULT_MAX_FAILURES,
        Some(m) if m >= 0 => m as u64,
        Some(m) => {
            return Err(cx.err(
                "objective.max_failures",
                format!("must be >= 0 (0: never stop); got {m}"),
            ))
        }
    };
    let prune_grace = match o.prune_grace {
        None => DEFAULT_PRUNE_GRACE,
        Some(t) if t.is_finite() && t > 0.0 => t,
        Some(t) => {
            return Err(cx.err(
                "objective.prune_grace",
                format!("must be a positive number of seconds (got {t})"),
            ))
        }
    };
    let max_step = match o.max_step {
        None => None,
        Some(m) if m >= 0 => Some(m as u64),
        Some(m) => return Err(cx.err("objective.max_step", format!("must be >= 0 (got {m})"))),
    };
    let metric = o.metric.clone().unwrap_or_else(|| "value".to_string());
    if metric.trim().is_empty() {
        return Err(cx.err("objective.metric", "must not be empty"));
    }
    // Parameters reach the program as HPSEARCH_PARAM_<NAME>: names that
    // differ only in case would share a variable.
    let mut upper: BTreeMap<String, &str> = BTreeMap::new();
    for name in space.names() {
        if let Some(other) = upper.insert(name.to_ascii_uppercase(), name) {
            return Err(cx.err(
                format!("space.{name}"),
                format!("`{name}` and `{other}` differ only in case, so they would share the environment variable {}; rename one", env_name(name)),
            ));
        }
    }
    let (columns, volatile) = result_keys(cx, o, space)?;
    let mut inputs: Vec<Input> = Vec::new();
    for name in o.inputs.clone().unwrap_or_default() {
        let key = format!("objective.inputs.{name}");
        if inputs.iter().any(|i| i.name == name) {
            return Err(cx.err(&key, "listed twice"));
        }
        let path = cwd.join(&name);
        let sha256 = crate::data::inputs::hash_input(&path).map_err(|m| {
            cx.err(
                &key,
                format!(
                    "cannot hash the input ({m}); paths are relative to the search file's folder"
                ),
            )
        })?;
        inputs.push(Input { name, path, sha256 });
    }
    Ok(CommandSpec {
        argv,
        program,
        cwd,
        args: o.args.unwrap_or(true),
        timeout,
        max_failures,
        prune_grace,
        max_step,
        columns,
        volatile,
        metric,
        inputs,
    })
}

/// `[objective] columns` and `volatile` (a command's, or an external
/// objective's), checked: column names are valid, not `extra`, not a
/// parameter, and listed once; volatile keys are not `value`, not empty,
/// and listed once.
pub(super) fn result_keys(
    cx: &Ctx<'_>,
    o: &ObjectiveWire,
    space: &Space,
) -> Result<(Vec<String>, Vec<String>), ConfigError> {
    let mut columns: Vec<String> = Vec::new();
    for c in o.columns.clone().unwrap_or_default() {
        let key = format!("objective.columns.{c}");
        crate::space::check_name(&c)
            .map_err(|m| cx.err(&key, m.replace("parameter name", "column name")))?;
        if c == EXTRA_COLUMN {
            return Err(cx.err(
                &key,
                "`extra` is the column of the keys not listed here; remove it",
            ));
        }
        if space.names().contains(&c.as_str()) {
            return Err(cx.err(
                &key,
                format!("`{c}` is also a parameter; a column needs its own name"),
            ));
        }
        if columns.contains(&c) {
            return Err(cx.err(&key, "listed twice"));
        }
        columns.push(c);
    }
    let mut volatile: Vec<String> = Vec::new();
    for v in o.volatile.clone().unwrap_or_default() {
        let key = format!("objective.volatile.{v}");
        if v == "value" {
            return Err(cx.err(
                &key,
                "`value` is the result the search optimises; it cannot be volatile",
            ));
        }
        if v.is_empty() {
            return Err(cx.err("objective.volatile", "an empty key name; remove it"));
        }
        if volatile.contains(&v) {
            return Err(cx.err(&key, "listed twice"));
        }
        volatile.push(v);
    }
    Ok((columns, volatile))
}

/// The name of the column holding the result keys not given a column.
pub const EXTRA_COLUMN: &str = "extra";

/// The environment variable that carries parameter `name`.
pub fn env_name(name: &str) -> String {
    format!("HPSEARCH_PARAM_{}", name.to_ascii_uppercase())
}

/// Resolve the program of a command: a name with a `/` is a path relative
/// to `cwd`; a bare name is looked up on `PATH`. `None` when there is no
/// such executable file.
pub fn resolve_program(name: &str, cwd: &Path) -> Option<PathBuf> {
    if name.contains('/') {
        let p = cwd.join(name);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
        // Why keep the bare name: the OS resolves it the same way at spawn,
        // and the manifest should say what the user wrote.
        .map(|_| PathBuf::from(name))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    p.is_file()
}
