//! The successive-halving rule.
//!
//! `kind = "successive_halving"` follows Optuna's `SuccessiveHalvingPruner`
//! (asynchronous successive halving, ASHA; `optuna/pruners/
//! _successive_halving.py`) step for step. Rung `k` is reached at step
//! `min_resource * reduction_factor ^ (min_early_stopping_rate + k)`.
//!
//! Trial `i`, having just reported step `s` with value `v`, starts at the
//! first rung it has not passed yet (the rungs at or below the step it
//! reported before `s` are passed) and, while `s` reaches the rung:
//!
//! 1. its value at the rung is `v` (so a trial that skips a rung's exact
//!    step is judged at the first step it reports past it, possibly at
//!    several rungs at once, as in Optuna);
//! 2. the competitors are the values at that rung of the settled trials
//!    that reached it, plus `v` itself. A settled trial's value at a rung
//!    is its value at the first step it reported at or past the rung; a
//!    pruned trial reached every rung before its last step and the first
//!    rung its last step reached (the one it was pruned at, unless it
//!    skipped several rungs in one step);
//! 3. if there are at most `bootstrap_count` competitors, the trial is
//!    pruned (Optuna's rule: `len(competing) <= bootstrap_count`);
//! 4. it is promoted when `v` is among the best `n / reduction_factor` of
//!    the `n` competitors (at least the best one): sorted best first, `v`
//!    is no worse than the value at position `max(n / reduction_factor,
//!    1)`. A value equal to that one is promoted (Optuna's `<=`): trial
//!    `i` ranks ahead of settled trials with the same value, so a tie is
//!    decided by index, the same way every time;
//! 5. not promoted: pruned; promoted: the next rung.
//!
//! `min_resource` is an integer (default 1): Optuna's `"auto"` waits for
//! a completed trial's step count, which would make the rule depend on
//! timing. Competitors are the settled trials `0 ..= i-W` only, where
//! Optuna compares with whatever trials have reported so far.

use super::Curve;
use crate::config::Direction;
use crate::objective::Status;

/// The settings of one successive-halving rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rungs {
    /// The scale of the rungs: rung `k` is at `min_resource *
    /// reduction_factor ^ (min_early_stopping_rate + k)`; at least 1
    /// (default 1).
    pub min_resource: u64,
    /// Each rung is this many times the step of the one before, and about
    /// `1 / reduction_factor` of a rung's competitors are promoted; at
    /// least 2 (default 4).
    pub reduction_factor: u64,
    /// How many rungs the ladder skips at its start (default 0).
    pub min_early_stopping_rate: u64,
    /// A trial with at most this many competitors at a rung is pruned
    /// (default 0).
    pub bootstrap_count: u64,
}

impl Rungs {
    /// The step of rung `k`; `None` past `u64` (a rung never reached).
    pub fn step(&self, k: u64) -> Option<u64> {
        let power = self.min_early_stopping_rate.checked_add(k)?;
        let power = u32::try_from(power).ok()?;
        self.reduction_factor
            .checked_pow(power)?
            .checked_mul(self.min_resource)
    }

    /// The number of rungs at or below `step`.
    fn passed(&self, step: u64) -> u64 {
        let mut k = 0;
        while self.step(k).is_some_and(|at| at <= step) {
            k += 1;
        }
        k
    }

    /// The value settled trial `c` recorded at rung `k`, if it reached it.
    fn recorded(&self, c: &Curve, k: u64) -> Option<f64> {
        let at = self.step(k)?;
        let t = c.steps.iter().position(|&(s, _)| s >= at)?;
        if c.status == Status::Pruned && t + 1 == c.steps.len() && k > 0 {
            // Its last step: only the first rung it reached there counts.
            let before = if t == 0 { None } else { Some(c.steps[t - 1].0) };
            let first = before.map_or(0, |p| self.passed(p));
            if k != first {
                return None;
            }
        }
        Some(c.steps[t].1)
    }

    /// Whether a trial whose values so far are `own` stops now, competing
    /// with `settled`.
    pub fn should_prune(
        &self,
        direction: Direction,
        settled: &[Curve],
        own: &[(u64, f64)],
    ) -> bool {
        let Some(&(step, value)) = own.last() else {
            return false;
        };
        let mut rung = match own.len() {
            0 | 1 => 0,
            n => self.passed(own[n - 2].0),
        };
        loop {
            let Some(at) = self.step(rung) else {
                return false;
            };
            if step < at {
                return false;
            }
            let mut competing: Vec<f64> = settled
                .iter()
                .filter_map(|c| self.recorded(c, rung))
                .collect();
            competing.push(value);
            if competing.len() as u64 <= self.bootstrap_count {
                return true;
            }
            if !promotable(value, &mut competing, self.reduction_factor, direction) {
                return true;
            }
            rung += 1;
        }
    }
}

/// Optuna's `_is_trial_promotable_to_next_rung`: `value` is no worse than
/// the competitor at position `max(n / factor, 1)`, best first.
fn promotable(value: f64, competing: &mut [f64], factor: u64, direction: Direction) -> bool {
    let n = competing.len();
    let idx = ((n as u64 / factor.max(1)).max(1) - 1) as usize;
    competing.sort_by(f64::total_cmp);
    match direction {
        Direction::Minimize => value <= competing[idx],
        Direction::Maximize => value >= competing[n - 1 - idx],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rungs(min: u64, rf: u64, rate: u64, boot: u64) -> Rungs {
        Rungs {
            min_resource: min,
            reduction_factor: rf,
            min_early_stopping_rate: rate,
            bootstrap_count: boot,
        }
    }

    fn curve(status: Status, steps: &[(u64, f64)]) -> Curve {
        Curve {
            status,
            steps: steps.into(),
        }
    }

    fn ok(steps: &[(u64, f64)]) -> Curve {
        curve(Status::Ok, steps)
    }

    #[test]
    fn rung_steps_follow_the_formula() {
        let r = rungs(2, 3, 1, 0);
        assert_eq!(r.step(0), Some(6));
        assert_eq!(r.step(1), Some(18));
        assert_eq!(rungs(1, 2, 0, 0).step(64), None, "past u64");
        assert_eq!(r.passed(5), 0);
        assert_eq!(r.passed(6), 1);
        assert_eq!(r.passed(20), 2);
    }

    #[test]
    fn top_fraction_is_promoted_by_direction() {
        // Rung 0 at step 1. Settled values there: 1, 2, 3, 5, 8, 9, 10.
        let settled: Vec<Curve> = [1.0, 2.0, 3.0, 5.0, 8.0, 9.0, 10.0]
            .iter()
            .map(|&v| ok(&[(0, 0.0), (1, v)]))
            .collect();
        let r = rungs(1, 4, 0, 0);
        // 8 competitors with itself, 8 / 4 = 2: the best two survive.
        // Minimizing, the threshold is the second best of all eight.
        assert!(!r.should_prune(Direction::Minimize, &settled, &[(0, 7.0), (1, 1.5)]));
        assert!(
            !r.should_prune(Direction::Minimize, &settled, &[(0, 7.0), (1, 2.0)]),
            "a tie with the threshold is promoted"
        );
        assert!(r.should_prune(Direction::Minimize, &settled, &[(0, 7.0), (1, 2.5)]));
        assert!(!r.should_prune(Direction::Maximize, &settled, &[(1, 9.0)]));
        assert!(r.should_prune(Direction::Maximize, &settled, &[(1, 8.5)]));
        // Before the rung nothing is decided, however bad.
        assert!(!r.should_prune(Direction::Minimize, &settled, &[(0, 99.0)]));
    }

    #[test]
    fn few_competitors_keep_only_the_best() {
        // 3 competitors with itself, 3 / 4 = 0: only the best survives.
        let settled = [ok(&[(1, 1.0)]), ok(&[(1, 2.0)])];
        let r = rungs(1, 4, 0, 0);
        assert!(!r.should_prune(Direction::Minimize, &settled, &[(1, 0.5)]));
        assert!(!r.should_prune(Direction::Minimize, &settled, &[(1, 1.0)]));
        assert!(r.should_prune(Direction::Minimize, &settled, &[(1, 1.1)]));
        // Alone, it is the best.
        assert!(!r.should_prune(Direction::Minimize, &[], &[(1, 9.0)]));
    }

    #[test]
    fn bootstrap_prunes_until_enough_competitors() {
        let settled = [ok(&[(1, 5.0)]), ok(&[(1, 6.0)])];
        // 3 competitors with itself <= 3: pruned, even the best.
        let r = rungs(1, 2, 0, 3);
        assert!(r.should_prune(Direction::Minimize, &settled, &[(1, 0.0)]));
        let r = rungs(1, 2, 0, 2);
        assert!(!r.should_prune(Direction::Minimize, &settled, &[(1, 0.0)]));
    }

    #[test]
    fn later_rungs_and_skipped_steps() {
        // Rungs at steps 1, 2, 4 (factor 2). Settled trials at step 2: 1, 4.
        let settled = [
            ok(&[(1, 3.0), (2, 1.0), (4, 1.0)]),
            ok(&[(1, 3.0), (2, 4.0), (4, 4.0)]),
        ];
        let r = rungs(1, 2, 0, 0);
        // Step 3 is past rung 1 (step 2), already judged at step 2.
        assert!(!r.should_prune(
            Direction::Minimize,
            &settled,
            &[(1, 3.0), (2, 1.0), (3, 9.0)]
        ));
        // Reporting step 3 first: judged at rungs 0 and 1 with value 2.0.
        // Rung 0: {3, 3, 2}, 3 / 2 = 1: best is 2, promoted. Rung 1:
        // {1, 4, 2}: best is 1, pruned.
        assert!(r.should_prune(Direction::Minimize, &settled, &[(0, 0.0), (3, 2.0)]));
        assert!(!r.should_prune(Direction::Minimize, &settled, &[(0, 0.0), (3, 0.5)]));
    }

    #[test]
    fn which_settled_trials_reached_a_rung() {
        let r = rungs(1, 2, 0, 0);
        // Pruned at step 1 (rung 0): no value at rung 1.
        let pruned = curve(Status::Pruned, &[(0, 0.0), (1, 9.0)]);
        assert_eq!(r.recorded(&pruned, 0), Some(9.0));
        assert_eq!(r.recorded(&pruned, 1), None);
        // Pruned at step 4 after skipping from 1: rung 1 (step 2) was the
        // first it reached there; rung 2 (step 4) it never reached.
        let skipped = curve(Status::Pruned, &[(1, 5.0), (4, 6.0)]);
        assert_eq!(r.recorded(&skipped, 1), Some(6.0));
        assert_eq!(r.recorded(&skipped, 2), None);
        // A failed trial keeps the rungs it passed.
        let failed = curve(Status::Failed, &[(1, 5.0), (2, 7.0)]);
        assert_eq!(r.recorded(&failed, 1), Some(7.0));
        assert_eq!(r.recorded(&failed, 2), None);
    }
}
