//! Step 2 of the rule: ranking the finished trials (pruned ones
//! included) and splitting them into the good and bad groups, and the
//! mixtures' trial weights.

use super::*;

/// Whether a finished trial counts as a result: it has a loss that is a
/// number (NaN is a failure too).
pub(super) fn has_loss(o: &Observation) -> bool {
    o.loss.is_some_and(|l| !l.is_nan())
}

/// The two groups as indices into `observed ++ pending`, each ascending
/// (trial order), and the best trial's position in `good` (none when
/// `good` is empty).
#[derive(Debug, PartialEq)]
pub(super) struct Groups {
    pub(super) good: Vec<usize>,
    pub(super) bad: Vec<usize>,
    pub(super) best: Option<usize>,
}

/// Where a trial ranks in step 2 of the module doc (lower is better),
/// before ties are broken by index; `None` for a trial that is not ranked
/// (failed). Complete trials: `(0, 0, loss)`; pruned trials:
/// `(1, u64::MAX - last step, loss there)`, so every complete trial comes
/// first and a pruned trial that got further comes before one that
/// stopped earlier (Optuna's `_get_pruned_trial_score`).
pub(super) fn rank_key(o: &Observation) -> Option<(u8, u64, u64)> {
    if has_loss(o) {
        return Some((0, 0, total_key(o.loss.unwrap_or(f64::INFINITY))));
    }
    o.pruned.map(|at| {
        let loss = if at.loss.is_nan() {
            f64::INFINITY
        } else {
            at.loss
        };
        (1, u64::MAX - at.step, total_key(loss))
    })
}

/// Step 2 of the module doc.
pub(super) fn split(observed: &[Observation], pending: &[Params], s: &TpeSettings) -> Groups {
    // Total order on (rank key, index): equal keys rank by trial index.
    let mut ranked: Vec<((u8, u64, u64), usize)> = observed
        .iter()
        .enumerate()
        .filter_map(|(i, o)| rank_key(o).map(|k| (k, i)))
        .collect();
    let n_good = s.n_good(ranked.len());
    let mut is_good = vec![false; observed.len()];
    let mut best_trial = None;
    if n_good > 0 {
        // Only the set of the `n_good` first keys matters, not their
        // order; the keys are unique, so that set is the same whatever
        // algorithm picks it, and a selection is cheaper than a sort.
        ranked.select_nth_unstable(n_good - 1);
        for &(_, i) in &ranked[..n_good] {
            is_good[i] = true;
        }
        best_trial = ranked[..n_good].iter().min().map(|&(_, i)| i);
    }
    let good: Vec<usize> = (0..observed.len()).filter(|&i| is_good[i]).collect();
    let best = best_trial.and_then(|b| good.iter().position(|&i| i == b));
    let mut bad: Vec<usize> = (0..observed.len()).filter(|&i| !is_good[i]).collect();
    if s.constant_liar {
        bad.extend(observed.len()..observed.len() + pending.len());
    }
    Groups { good, bad, best }
}

/// Optuna's `default_weights(m)`: ones below 25 trials; above, the oldest
/// `m - 25` ramp linearly from `1/m` to 1 and the newest 25 weigh 1.
#[cfg(test)]
pub(super) fn trial_weights(m: usize) -> Vec<f64> {
    let mut w = Vec::new();
    trial_weights_into(m, &mut w);
    w
}

/// [`trial_weights`] appended to `w`, with room for the prior's weight,
/// which `Mixture::build` appends.
pub(super) fn trial_weights_into(m: usize, w: &mut Vec<f64>) {
    w.reserve(m + 1);
    if m < FLAT_WEIGHTS {
        w.resize(w.len() + m, 1.0);
        return;
    }
    let ramp = m - FLAT_WEIGHTS;
    let lo = 1.0 / m as f64;
    w.extend((0..ramp).map(|i| {
        if ramp == 1 {
            lo
        } else if i + 1 == ramp {
            1.0
        } else {
            lo + i as f64 * ((1.0 - lo) / (ramp - 1) as f64)
        }
    }));
    w.extend(std::iter::repeat_n(1.0, FLAT_WEIGHTS));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::tpe::tests::*;

    #[test]
    fn gamma_rule_matches_optuna() {
        let s = TpeSettings::default();
        let got: Vec<usize> = [0, 1, 9, 10, 11, 30, 100, 249, 251, 1000]
            .iter()
            .map(|&n| s.n_good(n))
            .collect();
        // ceil(0.1 n), capped at 25.
        assert_eq!(got, vec![0, 1, 1, 1, 2, 3, 10, 25, 25, 25]);
        let all = TpeSettings {
            gamma: 1.0,
            ..TpeSettings::default()
        };
        assert_eq!(all.n_good(7), 7);
    }

    #[test]
    fn weights_ramp_for_old_trials() {
        assert_eq!(trial_weights(0), Vec::<f64>::new());
        assert_eq!(trial_weights(24), vec![1.0; 24]);
        assert_eq!(trial_weights(25), vec![1.0; 25]);
        let w = trial_weights(26);
        assert_eq!(w[0], 1.0 / 26.0);
        assert_eq!(&w[1..], &[1.0; 25]);
        // linspace(1/30, 1, 5) then 25 ones.
        let w = trial_weights(30);
        let want = [
            1.0 / 30.0,
            0.275,
            0.516_666_666_666_666_7,
            0.758_333_333_333_333_3,
            1.0,
        ];
        for (a, b) in w[..5].iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{a} {b}");
        }
        assert_eq!(&w[5..], &[1.0; 25]);
    }

    #[test]
    fn pruned_trials_rank_by_last_step_then_value() {
        // Trial 0 complete (a poor loss); 1..=20 pruned; 21 failed.
        let mut observed: Vec<Observation> = (1..=20)
            .map(|i| pruned_obs(i as f64 / 40.0, 1, 0.0))
            .collect();
        observed.insert(0, obs(0.99, Some(50.0)));
        observed[3] = pruned_obs(0.3, 9, 2.0);
        observed[8] = pruned_obs(0.4, 9, 1.0);
        observed[5] = pruned_obs(0.5, 9, 1.0); // ties with 8: the earlier first
        observed[12] = pruned_obs(0.6, 4, -100.0); // better value, earlier step
        observed[15] = pruned_obs(0.7, 9, f64::NAN); // NaN ranks as +inf
        observed.push(obs(0.8, None));
        let s = TpeSettings {
            gamma: 0.25,
            ..TpeSettings::default()
        };
        // n = 21 ranked (the failed one is not): ceil(0.25 * 21) = 6 good:
        // the complete trial, then the pruned by step, then by value.
        let g = split(&observed, &[], &s);
        assert_eq!(g.good, vec![0, 3, 5, 8, 12, 15]);
        assert_eq!(g.best, Some(0), "a complete trial is the incumbent");
        assert!(g.bad.contains(&21), "the failed trial is bad");
        assert_eq!(g.good.len() + g.bad.len(), observed.len());
        // Fewer good places than complete trials: no pruned trial is good.
        let s = TpeSettings {
            gamma: 0.04,
            ..TpeSettings::default()
        };
        assert_eq!(split(&observed, &[], &s).good, vec![0]);
        // No complete trial: the one that got furthest leads.
        let only_pruned: Vec<Observation> = observed[1..21].to_vec();
        let s = TpeSettings {
            gamma: 0.1,
            ..TpeSettings::default()
        };
        let g = split(&only_pruned, &[], &s);
        assert_eq!(g.good, vec![4, 7]);
        assert_eq!(g.best.map(|b| g.good[b]), Some(4));
    }
}
