//! STUB
/// One cross-validation split: row indices, each sorted ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// k folds over `n` rows, shuffled with `seed`; stratified by `strata`
/// (class indices) when given.
pub fn k_fold(_n: usize, _k: usize, _strata: Option<&[usize]>, _seed: u64) -> Vec<Fold> {
    todo!()
}
