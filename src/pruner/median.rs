//! The median rule.
//!
//! `kind = "median"` follows Optuna's `MedianPruner` (a
//! `PercentilePruner` at the 50th percentile, `optuna/pruners/_percentile.py`)
//! step for step. Trial `i`, having just reported step `s`, is pruned when
//! all of these hold:
//!
//! 1. at least `n_startup_trials` (and at least one) of the settled trials
//!    completed (status `ok`; pruned and failed trials do not count, as
//!    Optuna counts only `COMPLETE` trials);
//! 2. `s >= n_warmup_steps`;
//! 3. `s` is the first step trial `i` reported in its interval: with
//!    `lower = n_warmup_steps + (s - n_warmup_steps) / interval_steps *
//!    interval_steps`, the step it reported before `s` (if any) is below
//!    `lower` (so a program that skips the exact check step is still
//!    checked once in each interval, as in Optuna);
//! 4. at least one completed settled trial reported step `s`, and trial
//!    `i`'s **best** intermediate value so far (the lowest when
//!    minimizing, the highest when maximizing; Optuna compares the best,
//!    not the latest) is worse than the median of those trials' values at
//!    step `s`: strictly above it when minimizing, strictly below it when
//!    maximizing. The median is numpy's `nanpercentile(…, 50)` with linear
//!    interpolation: the middle value, or for an even count `b - (b - a) *
//!    0.5` of the two middle values `a <= b`.
//!
//! The one difference from Optuna is which trials are "settled": Optuna
//! looks at whatever trials happened to finish, hpsearch at trials
//! `0 ..= i-W` only (design.md, Determinism 7), so the decision is the same
//! for any thread count and after a resume.

use super::Curve;
use crate::config::Direction;
use crate::objective::Status;

/// Optuna's `MedianPruner` over the settled curves (see the module doc).
pub(super) fn should_prune(
    (n_startup_trials, n_warmup_steps, interval_steps): (u64, u64, u64),
    direction: Direction,
    settled: &[Curve],
    own: &[(u64, f64)],
) -> bool {
    let complete: Vec<&[(u64, f64)]> = settled
        .iter()
        .filter(|c| c.status == Status::Ok)
        .map(|c| &c.steps[..])
        .collect();
    let n = complete.len() as u64;
    if n == 0 || n < n_startup_trials {
        return false;
    }
    let Some(&(step, _)) = own.last() else {
        return false;
    };
    if step < n_warmup_steps {
        return false;
    }
    let interval = interval_steps.max(1);
    let lower = n_warmup_steps + (step - n_warmup_steps) / interval * interval;
    if own.len() >= 2 && own[own.len() - 2].0 >= lower {
        return false;
    }
    let minimize = direction == Direction::Minimize;
    let best = own
        .iter()
        .map(|&(_, v)| v)
        .reduce(|a, b| if minimize { a.min(b) } else { a.max(b) });
    let Some(best) = best else {
        return false;
    };
    let mut at: Vec<f64> = complete
        .iter()
        .filter_map(|c| c.iter().find(|&&(s, _)| s == step).map(|&(_, v)| v))
        .collect();
    let Some(median) = median(&mut at) else {
        return false;
    };
    if minimize {
        best > median
    } else {
        best < median
    }
}

/// numpy's `percentile(values, 50)` (linear interpolation); `None` when
/// empty.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        return Some(values[n / 2]);
    }
    let (a, b) = (values[n / 2 - 1], values[n / 2]);
    Some(b - (b - a) * 0.5)
}

#[cfg(test)]
mod tests {
    use super::super::{Curve, Pruner};
    use crate::config::{Direction, PrunerSpec};
    use crate::objective::Status;

    fn median_pruner(startup: u64, warmup: u64, interval: u64) -> PrunerSpec {
        PrunerSpec::Median {
            n_startup_trials: startup,
            n_warmup_steps: warmup,
            interval_steps: interval,
        }
    }

    fn ok(steps: &[(u64, f64)]) -> Curve {
        Curve {
            status: Status::Ok,
            steps: steps.into(),
        }
    }

    #[test]
    fn median_of_settled_values_decides_by_direction() {
        // At step 1 the complete trials have 1, 2, 4: the median is 2.
        let settled = [
            ok(&[(0, 5.0), (1, 1.0)]),
            ok(&[(0, 5.0), (1, 2.0)]),
            ok(&[(0, 5.0), (1, 4.0)]),
        ];
        let min = Pruner::new(median_pruner(3, 0, 1), Direction::Minimize, 99, &settled);
        assert!(min.should_prune(&[(0, 9.0), (1, 2.5)]));
        assert!(!min.should_prune(&[(0, 9.0), (1, 2.0)]), "equal is kept");
        // The best so far counts, not the latest: 1.5 at step 0.
        assert!(!min.should_prune(&[(0, 1.5), (1, 3.0)]));
        let max = Pruner::new(median_pruner(3, 0, 1), Direction::Maximize, 99, &settled);
        assert!(max.should_prune(&[(0, 0.0), (1, 1.9)]));
        assert!(!max.should_prune(&[(0, 0.0), (1, 2.0)]));
    }

    #[test]
    fn an_even_count_interpolates_as_numpy_does() {
        let settled = [
            ok(&[(2, 1.0)]),
            ok(&[(2, 2.0)]),
            ok(&[(2, 4.0)]),
            ok(&[(2, 8.0)]),
        ];
        // numpy.percentile([1, 2, 4, 8], 50) == 3.0
        let p = Pruner::new(median_pruner(1, 0, 1), Direction::Minimize, 99, &settled);
        assert!(p.should_prune(&[(2, 3.0000001)]));
        assert!(!p.should_prune(&[(2, 3.0)]));
    }

    #[test]
    fn startup_counts_only_complete_trials() {
        let mut settled = vec![ok(&[(0, 1.0)]), ok(&[(0, 1.0)])];
        settled.push(Curve {
            status: Status::Pruned,
            steps: [(0, 0.0)].as_slice().into(),
        });
        settled.push(Curve {
            status: Status::Failed,
            steps: [(0, 0.0)].as_slice().into(),
        });
        let p = Pruner::new(median_pruner(3, 0, 1), Direction::Minimize, 99, &settled);
        assert!(!p.should_prune(&[(0, 100.0)]), "2 complete < 3");
        let p = Pruner::new(median_pruner(2, 0, 1), Direction::Minimize, 99, &settled);
        // Pruned and failed curves are not in the median either: it is 1.
        assert!(p.should_prune(&[(0, 1.5)]));
        let none = Pruner::new(median_pruner(0, 0, 1), Direction::Minimize, 99, &[]);
        assert!(!none.should_prune(&[(0, 100.0)]), "no settled trial");
    }

    #[test]
    fn warmup_interval_and_missing_steps() {
        let settled: Vec<Curve> = (0..3)
            .map(|_| ok(&(0..10).map(|s| (s, 1.0)).collect::<Vec<_>>()))
            .collect();
        let p = Pruner::new(median_pruner(1, 2, 3), Direction::Minimize, 99, &settled);
        let bad = |upto: u64| -> Vec<(u64, f64)> { (0..=upto).map(|s| (s, 5.0)).collect() };
        assert!(!p.should_prune(&bad(1)), "in warm-up");
        assert!(p.should_prune(&bad(2)), "first check: step 2");
        assert!(!p.should_prune(&bad(3)), "between checks");
        assert!(!p.should_prune(&bad(4)));
        assert!(p.should_prune(&bad(5)), "second check: step 5");
        // Skipping step 5, step 6 is the first reported in its interval.
        assert!(p.should_prune(&[(4, 5.0), (6, 5.0)]));
        // No complete trial reported step 20: no median, no pruning.
        assert!(!p.should_prune(&[(20, 5.0)]));
    }
}
