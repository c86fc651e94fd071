//! The Hyperband rule.
//!
//! `kind = "hyperband"` follows Optuna's `HyperbandPruner`
//! (`optuna/pruners/_hyperband.py`): several successive-halving rules
//! ("brackets") side by side, bracket `b` with `min_early_stopping_rate =
//! b`, and each trial judged by its bracket's rule against the trials of
//! its bracket only.
//!
//! - The number of brackets `n` is Optuna's
//!   `floor(log_f(max_resource / min_resource)) + 1` with
//!   `f = reduction_factor`, computed exactly in integers: the count of
//!   `s >= 0` with `min_resource * f^s <= max_resource` (Optuna's
//!   floating-point `math.log` can land one below, e.g. for 1000 / 1 and
//!   a factor of 10).
//! - Bracket `b`'s budget is `ceil(n * f^s / (s + 1))`, `s = n - 1 - b`,
//!   as in Optuna.
//! - Trial `i`'s bracket: `r = i mod (sum of budgets)`, then the first
//!   bracket whose running sum of budgets exceeds `r`. Optuna draws `r`
//!   from a CRC32 of the study name and trial number; hpsearch uses the
//!   index itself, so the brackets are a pure function of `i` (trials
//!   0, 1, … fill bracket 0's budget, then bracket 1's, and so on, and
//!   the cycle repeats).
//! - `max_resource` is a required integer: Optuna's `"auto"` waits for a
//!   completed trial's step count, which would depend on timing.

/// The brackets of a Hyperband rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brackets {
    budgets: Vec<u128>,
    total: u128,
}

impl Brackets {
    /// Needs `1 <= min_resource <= max_resource` and `reduction_factor >= 2`
    /// (config checks it); anything else gives one bracket.
    pub fn new(min_resource: u64, max_resource: u64, reduction_factor: u64) -> Brackets {
        let f = u128::from(reduction_factor.max(2));
        let (min, max) = (u128::from(min_resource.max(1)), u128::from(max_resource));
        let mut n: u32 = 0;
        let mut r = min;
        while r <= max {
            n += 1;
            r *= f;
        }
        let n = n.max(1);
        let budgets: Vec<u128> = (0..n)
            .map(|b| {
                let s = n - 1 - b;
                (u128::from(n) * f.pow(s)).div_ceil(u128::from(s) + 1)
            })
            .collect();
        let total = budgets.iter().sum();
        Brackets { budgets, total }
    }

    /// How many brackets.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.budgets.len() as u64
    }

    /// Trial `i`'s bracket.
    pub fn of(&self, i: u64) -> u64 {
        let mut r = u128::from(i) % self.total.max(1);
        for (b, &budget) in self.budgets.iter().enumerate() {
            if r < budget {
                return b as u64;
            }
            r -= budget;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Curve, Pruner};
    use super::*;
    use crate::config::{Direction, PrunerSpec};
    use crate::objective::Status;

    #[test]
    fn brackets_and_budgets_as_optuna_computes_them() {
        // min 1, max 9, factor 3: 3 brackets; budgets ceil(3*9/3) = 9,
        // ceil(3*3/2) = 5, ceil(3*1/1) = 3.
        let b = Brackets::new(1, 9, 3);
        assert_eq!(b.budgets, vec![9, 5, 3]);
        assert_eq!(b.len(), 3);
        let of: Vec<u64> = (0..19).map(|i| b.of(i)).collect();
        assert_eq!(
            of,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 0, 0]
        );
        // Exact in integers: 1000 / 1 with factor 10 is 4 brackets.
        assert_eq!(Brackets::new(1, 1000, 10).len(), 4);
        assert_eq!(Brackets::new(1, 999, 10).len(), 3);
        // Huge settings do not overflow.
        assert_eq!(Brackets::new(1, u64::MAX, 2).len(), 64);
    }

    #[test]
    fn a_trial_competes_only_within_its_bracket() {
        let spec = PrunerSpec::Hyperband {
            min_resource: 1,
            max_resource: 9,
            reduction_factor: 3,
            bootstrap_count: 0,
        };
        let ok = |v: f64| Curve {
            status: Status::Ok,
            steps: (0..10).map(|s| (s, v)).collect(),
        };
        // Trials 0..=8 (bracket 0) are all good; 9..=13 (bracket 1) bad.
        let mut settled: Vec<Curve> = (0..9).map(|_| ok(0.0)).collect();
        settled.extend((9..14).map(|_| ok(10.0)));
        // Trial 14 is in bracket 2 (first rung at step 9): alone there,
        // it is promoted whatever its value.
        let p = Pruner::new(spec, Direction::Minimize, 14, &settled);
        let bad: Vec<(u64, f64)> = (0..10).map(|s| (s, 50.0)).collect();
        assert!(!p.should_prune(&bad));
        // Trial 12 (bracket 1, first rung at step 3) against 9..=11 only.
        let p = Pruner::new(spec, Direction::Minimize, 12, &settled[..12]);
        assert!(!p.should_prune(&[(3, 5.0)]));
        assert!(p.should_prune(&[(3, 10.5)]));
        // Trial 17 is in bracket 0 (rung at step 1) against 0..=8.
        let p = Pruner::new(spec, Direction::Minimize, 17, &settled);
        assert!(p.should_prune(&[(1, 5.0)]));
        assert!(!p.should_prune(&[(0, 5.0)]), "before its first rung");
    }
}
