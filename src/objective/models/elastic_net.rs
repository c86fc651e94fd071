//! Stub: to be written.

use ndarray::ArrayView2;

use super::{FittedModel, HyperParam, ModelError, ModelInfo, Targets, Task};
use crate::value::Params;

pub const RIDGE_INFO: ModelInfo = ModelInfo {
    name: "ridge",
    ..INFO
};
pub const LASSO_INFO: ModelInfo = ModelInfo {
    name: "lasso",
    ..INFO
};

pub const INFO: ModelInfo = ModelInfo {
    name: "elastic_net",
    summary: "stub",
    tasks: &[Task::Classification, Task::Regression],
    probabilities: false,
    params: &[HyperParam::new("example", "1", "stub")],
};

pub fn fit(
    _x: ArrayView2<'_, f64>,
    _y: Targets<'_>,
    _params: &Params,
    _seed: u64,
    _l1_ratio: Option<f64>,
) -> Result<Box<dyn FittedModel>, ModelError> {
    Err(ModelError::Fit {
        model: "elastic_net",
        message: "not implemented".into(),
    })
}
