//! STUB (the Sobol helper replaces it): a scrambled Sobol sequence
//! addressed by trial index.

use super::{History, Strategy, Trial};
use crate::seed;
use crate::value::Params;

/// Point `index` of a `dim`-dimensional scrambled Sobol sequence in
/// [0, 1)^dim, scrambled with `seed`. STUB: uniform random for now.
pub fn point(index: u64, dim: usize, seed: u64) -> Vec<f64> {
    let mut rng = seed::stream(seed::sub_seed(seed, "sobol", index), "sobol");
    (0..dim).map(|_| super::unit(&mut rng)).collect()
}

/// Quasi-random search.
pub struct Sobol;

impl Strategy for Sobol {
    fn propose(&self, t: &Trial<'_>, _h: &History<'_>) -> Params {
        t.space
            .from_unit(&point(t.index, t.space.params.len(), t.search_seed))
    }
}
