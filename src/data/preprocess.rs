//! STUB
use ndarray::Array2;

use super::{DataError, Dataset};

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impute {
    None,
    Mean,
    Median,
    MostFrequent,
    Constant,
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    None,
    Standard,
    Minmax,
}

/// What to fit: imputation, the constant for `Impute::Constant`, scaling.
#[derive(Clone, Debug, PartialEq)]
pub struct PreprocessSpec {
    pub impute: Impute,
    pub fill_value: f64,
    pub scale: Scale,
}

/// Imputation, one-hot encoding and scaling, fitted on training rows only.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Preprocessor {}

impl Preprocessor {
    pub fn fit(_ds: &Dataset, _rows: &[usize], _spec: &PreprocessSpec) -> Result<Self, DataError> {
        todo!()
    }
    pub fn transform(&self, _ds: &Dataset, _rows: &[usize]) -> Result<Array2<f64>, DataError> {
        todo!()
    }
    pub fn output_names(&self) -> Vec<String> {
        todo!()
    }
}
