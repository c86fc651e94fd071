//! Strategies: what to try next. A strategy sees the space, the trial's
//! index and seed, and the history the proposal window allows — never
//! threads, files or the clock — and keeps no state between calls, so every
//! proposal can be recomputed from the journal.

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::space::Space;
use crate::value::Params;

pub mod grid;
pub mod random;

/// A finished trial as a strategy sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub params: Params,
    /// The objective value, oriented so that lower is better; `None` for a
    /// failed trial.
    pub loss: Option<f64>,
}

/// What a proposal may look at (design.md, Determinism 3): the results of
/// trials `0 ..= i-W` and the parameters of trials `i-W+1 .. i-1`.
#[derive(Clone, Copy, Debug, Default)]
pub struct History<'a> {
    pub observed: &'a [Observation],
    pub pending: &'a [Params],
}

/// A way of choosing trials.
pub trait Strategy: Send + Sync {
    /// The parameters of trial `index`, whose seed is `seed`.
    fn propose(&self, space: &Space, index: u64, seed: u64, history: &History<'_>) -> Params;

    /// Whether proposals depend on results (and so on the window).
    fn uses_history(&self) -> bool {
        false
    }
}

/// The strategies a search file can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Grid,
    Random,
}

impl Kind {
    pub const NAMES: &'static [&'static str] = &["grid", "random"];

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "grid" => Some(Kind::Grid),
            "random" => Some(Kind::Random),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Grid => "grid",
            Kind::Random => "random",
        }
    }

    /// The strategy object.
    pub fn build(self) -> Box<dyn Strategy> {
        match self {
            Kind::Grid => Box::new(grid::Grid),
            Kind::Random => Box::new(random::Random),
        }
    }
}

/// A uniform draw in [0, 1) from the top 53 bits: written out rather than
/// taken from `rand`'s distributions, whose algorithms may change between
/// versions and would silently change every proposal.
pub fn unit(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
pub(crate) mod contract {
    //! The contract every strategy meets.
    use super::*;
    use crate::space::ParamWire;
    use crate::value::Value;
    use std::collections::BTreeMap;

    pub fn space() -> Space {
        let src = r#"
            a = { type = "float", low = 1e-4, high = 10.0, log = true, steps = 5 }
            b = { type = "int", low = 1, high = 12 }
            c = { type = "categorical", choices = ["rbf", "linear"] }
            d = { type = "float", values = [0.1, 1.0, 10.0] }
            e = { type = "int", low = 0, high = 30, step = 10 }
        "#;
        let w: BTreeMap<String, ParamWire> = toml::from_str(src).unwrap();
        Space::from_wire(&w).unwrap()
    }

    pub fn check(kind: Kind) {
        let s = space();
        let strat = kind.build();
        let h = History::default();
        let seeds: Vec<u64> = (0..40).map(|i| 1000 + i * 7919).collect();
        let a: Vec<Params> = (0..40)
            .map(|i| strat.propose(&s, i, seeds[i as usize], &h))
            .collect();
        // Same inputs, same proposals.
        let b: Vec<Params> = (0..40)
            .map(|i| strat.propose(&s, i, seeds[i as usize], &h))
            .collect();
        assert_eq!(a, b);
        // Every proposal inside the space and on its grid.
        for p in &a {
            assert_eq!(p.len(), s.params.len());
            for q in &s.params {
                assert!(q.contains(&p[&q.name]), "{} {:?}", q.name, p[&q.name]);
            }
        }
        // Not all the same.
        assert!(a.iter().any(|p| p != &a[0]));
        // Order of evaluation does not matter (no hidden state).
        let rev: Vec<Params> = (0..40)
            .rev()
            .map(|i| strat.propose(&s, i, seeds[i as usize], &h))
            .collect();
        assert!(rev.into_iter().rev().eq(a.into_iter()));
        let _ = Value::Int(0);
    }
}
