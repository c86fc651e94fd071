//! The search file: its TOML schema, validation, defaults and canonical
//! form (the input of the root hash).
//!
//! The file is read into plain "wire" structs that reject unknown keys, then
//! checked rule by rule into a [`Search`]; nothing downstream sees an
//! unchecked value. Every error names the file, the key path and what was
//! expected. Loading reads the data file (to hash it and check the target),
//! but never writes anything. It sits below `objective` (design.md,
//! "Layers"): the list of built-in models a search may name is an argument
//! of [`load`] (`objective::models::MODELS`).
//!
//! | file | holds |
//! | --- | --- |
//! | `wire.rs` | the TOML schema: plain structs that reject unknown keys |
//! | `parse.rs` | `load`, `parse`: TOML to a checked [`Search`], section by section |
//! | `resolved.rs` | the validated types: [`Search`] and what it holds |
//! | `defaults.rs` | the documented defaults and limits |
//! | `catalog.rs` | what a built-in model accepts (`ModelInfo`, `HyperParam`); the list of models is passed in |
//! | `canonical.rs` | the canonical form and the root hash |
//! | `external.rs` | the check of `[objective] external` (code the caller gives), its result `columns`, and the `command` that may run it (not hashed) |
//! | `command.rs` | `[objective] command`, and the names the command protocol fixes |
//! | `model.rs`, `cv.rs`, `pruner.rs` | the checks of a model's `[data]` and parameters, `[cv]`, `[objective] resource` and `[search.pruner]` |
//! | `warm.rs` | the check of `[objective] warm_start` (warm starts along a grid's regularisation path) |

use std::fmt;
use std::path::{Path, PathBuf};

mod canonical;
mod catalog;
mod command;
mod cv;
mod defaults;
mod external;
mod model;
mod parse;
mod pruner;
mod resolved;
#[cfg(test)]
mod tests;
mod warm;
mod wire;

pub use canonical::{Canonical, CanonicalCv, CanonicalData, CanonicalObjective};
pub use catalog::{HyperParam, ModelInfo, POSITIVE};
pub use command::{env_name, resolve_program, EXTRA_COLUMN};
pub use defaults::{
    DEFAULT_FACTOR, DEFAULT_MAX_FAILURES, DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TREES,
    DEFAULT_PRUNE_GRACE, MAX_GRID,
};
pub use parse::{load, parse, parse_with_data};
pub use resolved::{
    CommandSpec, CvKind, DataSpec, Direction, Input, Loaded, ObjectiveSpec, PrunerSpec, Resource,
    ResourceSpec, Search, WarmPath,
};

/// A search file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The search file cannot be read (missing, a folder, no permission).
    #[error("{file}: cannot read the search file: {source}")]
    Read {
        /// The search file, as given.
        file: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// TOML syntax, a wrong type or an unknown key; the message carries the
    /// line and column.
    #[error("{file}: {message}")]
    Parse {
        /// The search file, as given.
        file: PathBuf,
        /// What is wrong, with the line and column.
        message: String,
    },
    /// A rule broken at `key` (a path such as `space.alpha`).
    #[error("{file}: [{key}]: {message}")]
    Invalid {
        /// The search file, as given.
        file: PathBuf,
        /// Where: a dotted key path such as `space.alpha` or
        /// `search.pruner.max_resource`.
        key: String,
        /// What is wrong and what to do about it.
        message: String,
    },
}

struct Ctx<'a> {
    file: &'a Path,
    /// Where the data file is, when the caller knows better than the
    /// search file (replaying from a results folder).
    data_path: Option<&'a Path>,
}

impl Ctx<'_> {
    fn err(&self, key: impl fmt::Display, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_path_buf(),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

fn one_of(what: &str, got: &str, names: &[&str]) -> String {
    format!(
        "unknown {what} \"{got}\"; expected one of: {}",
        names.join(", ")
    )
}
