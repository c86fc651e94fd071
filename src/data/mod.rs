//! CSV data: loading and hashing, preprocessing fitted inside each fold,
//! cross-validation folds and metrics.
//!
//! STUB INTERFACE: the data helper replaces the bodies; the signatures are
//! the contract the rest of the crate calls.

use std::path::{Path, PathBuf};

use crate::objective::models::Task;

pub mod folds;
pub mod metrics;
pub mod preprocess;

/// Errors about the data file. Each names the file and, where there is one,
/// the line (1-based, as an editor shows it) and the column.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One feature column, as read from the file.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numbers; `None` where the cell is empty or a missing marker.
    Numeric(Vec<Option<f64>>),
    /// Text (categorical) values; `None` where the cell is empty.
    Text(Vec<Option<String>>),
}

/// The target column.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Class indices into `labels` (sorted, so the order is the file's
    /// content, not the order of first appearance).
    Classes { labels: Vec<String>, y: Vec<usize> },
    Values(Vec<f64>),
}

/// A loaded CSV file.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Feature columns in file order (the target column removed).
    pub feature_names: Vec<String>,
    pub columns: Vec<Column>,
    pub target: Target,
    pub n_rows: usize,
}

impl Dataset {
    /// The first missing feature value as (file line, column name).
    pub fn first_missing(&self) -> Option<(usize, String)> {
        todo!()
    }
}

/// Load `path` with `target` as the target column; `task` decides how the
/// target is read (`None`: infer, see the implementation's doc).
pub fn load(_path: &Path, _target: &str, _task: Option<Task>) -> Result<Dataset, DataError> {
    todo!()
}

/// SHA-256 of a file's bytes, lowercase hex.
pub fn sha256_file(_path: &Path) -> Result<String, DataError> {
    todo!()
}
