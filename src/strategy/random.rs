//! Random search: trial `i` draws one uniform number per parameter (in name
//! order) from its own `proposal` stream, so trial `i` is the same whatever
//! the budget, the thread count or the trials before it.

use super::{unit, History, Strategy, Trial};
use crate::seed;
use crate::value::Params;

/// Independent uniform (or log-uniform) draws.
pub struct Random;

impl Strategy for Random {
    fn propose(&self, t: &Trial<'_>, _h: &History<'_>) -> Params {
        let mut rng = seed::stream(t.seed, seed::streams::PROPOSAL);
        let u: Vec<f64> = t.space.params.iter().map(|_| unit(&mut rng)).collect();
        t.space.from_unit(&u)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{contract, Spec};
    use super::*;
    use crate::space::Space;

    #[test]
    fn contract() {
        contract::check(Spec::Random);
    }

    #[test]
    fn log_float_is_log_uniform() {
        // Half the draws of a log-uniform on [1e-4, 1] fall below 1e-2.
        let src = "x = { type = 'float', low = 1e-4, high = 1.0, log = true }";
        let w = toml::from_str(src).unwrap();
        let s = Space::from_wire(&w).unwrap();
        let h = History::default();
        let below = (0..4000)
            .filter(|&i| {
                let t = Trial {
                    space: &s,
                    index: i,
                    seed: i,
                    search_seed: 0,
                };
                Random.propose(&t, &h)["x"].as_f64().unwrap() < 1e-2
            })
            .count();
        assert!((1800..2200).contains(&below), "{below}");
    }
}
