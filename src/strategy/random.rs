//! Random search: trial `i` draws one uniform number per parameter (in name
//! order) from its own `proposal` stream, so trial `i` is the same whatever
//! the budget, the thread count or the trials before it.

use super::{unit, History, Strategy};
use crate::seed;
use crate::space::Space;
use crate::value::Params;

/// Independent uniform (or log-uniform) draws.
pub struct Random;

impl Strategy for Random {
    fn propose(&self, space: &Space, _index: u64, seed: u64, _h: &History<'_>) -> Params {
        let mut rng = seed::stream(seed, "proposal");
        let u: Vec<f64> = space.params.iter().map(|_| unit(&mut rng)).collect();
        space.from_unit(&u)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{contract, Kind};
    use super::*;

    #[test]
    fn contract() {
        contract::check(Kind::Random);
    }

    #[test]
    fn other_seed_other_proposal() {
        let s = contract::space();
        let h = History::default();
        let a: Vec<_> = (0..20).map(|i| Random.propose(&s, i, i, &h)).collect();
        let b: Vec<_> = (0..20)
            .map(|i| Random.propose(&s, i, i + 100, &h))
            .collect();
        assert_ne!(a, b);
    }

    #[test]
    fn log_float_is_log_uniform() {
        // Half the draws of a log-uniform on [1e-4, 1] fall below 1e-2.
        let src = "x = { type = 'float', low = 1e-4, high = 1.0, log = true }";
        let w = toml::from_str(src).unwrap();
        let s = Space::from_wire(&w).unwrap();
        let h = History::default();
        let below = (0..4000)
            .filter(|&i| Random.propose(&s, i, i, &h)["x"].as_f64().unwrap() < 1e-2)
            .count();
        assert!((1800..2200).contains(&below), "{below}");
    }
}
