//! TPE on a conditional space (`when` in `[space]`): each parameter's
//! densities are fitted only on the trials where it was active.
//!
//! The rule, after the start-up (which is the plain one: a Sobol point,
//! its inactive coordinates ignored):
//!
//! * **Groups.** Parameters with the same condition (none, or the same
//!   parent and values) are active in exactly the same trials; each such
//!   set is a group, taken in the order of its first name. This is
//!   Optuna's group decomposition (`TPESampler(group=True)`, which finds
//!   the sets of parameters that always occur together in the trials),
//!   read from the conditions instead of the history.
//! * **Split.** The good and bad groups of trials are the plain rule's
//!   (step 2 of the module doc, over every trial), as Optuna splits
//!   before it looks at which parameters a trial has.
//! * **Densities and choice.** For each group in turn: its good and bad
//!   mixtures are built from the good and bad trials where the group was
//!   active (a group no such trial reached has only the prior kernel),
//!   over the group's parameters alone (multivariate: jointly; univariate:
//!   one at a time), and its candidates are drawn and scored as in step 4;
//!   the local candidates come from the best-ranked good trial where the
//!   group was active. The candidate's coordinates are the group's part of
//!   the proposal; `Space::from_unit` then leaves out the parameters the
//!   chosen values switch off.
//! * **Determinism.** One `tpe` stream, drawn group by group in that
//!   order; everything else is the plain rule's.
//!
//! An unconditional space never comes here: its proposals are the plain
//! rule's, bit for bit.

use super::*;
use crate::space::Condition;

/// The groups of parameters that share a condition, in the order of their
/// first name; each group's indices ascending.
fn param_groups(space: &Space) -> Vec<Vec<usize>> {
    let mut keys: Vec<Option<&Condition>> = Vec::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, p) in space.params.iter().enumerate() {
        let key = p.when.as_ref();
        match keys.iter().position(|k| *k == key) {
            Some(g) => out[g].push(i),
            None => {
                keys.push(key);
                out.push(vec![i]);
            }
        }
    }
    out
}

/// The proposal for a conditional space (the file doc), after start-up.
pub(super) fn propose(tpe: &Tpe, t: &Trial<'_>, history: &History<'_>) -> Params {
    let space = t.space;
    let d = space.params.len();
    let s = &tpe.settings;
    let kinds: Vec<Kind> = space.params.iter().map(Kind::of).collect();
    let groups = split(history.observed, history.pending, s);
    let mut sc = Scratch::default();
    let mut rng = seed::stream(t.seed, seed::streams::TPE);
    let n_obs = history.observed.len();
    let params_of = |i: usize| -> &Params {
        match history.observed.get(i) {
            Some(o) => &o.params,
            None => &history.pending[i - n_obs],
        }
    };
    let mut u = vec![0.0; d];
    for dims in param_groups(space) {
        let active = |i: &usize| {
            let p = params_of(*i);
            dims.iter().all(|&j| p.contains_key(&space.params[j].name))
        };
        let good: Vec<usize> = groups.good.iter().copied().filter(active).collect();
        let bad: Vec<usize> = groups.bad.iter().copied().filter(active).collect();
        // The best-ranked good trial of this group (ties by index).
        let best = good
            .iter()
            .enumerate()
            .filter_map(|(k, &i)| Some(((rank_key(history.observed.get(i)?)?, i), k)))
            .min()
            .map(|(_, k)| k);
        let rows = |idx: &[usize], sc: &mut Scratch| -> Vec<f64> {
            let mut out = sc.take(idx.len() * d);
            for &i in idx {
                push_coordinates(space, &kinds, params_of(i), &mut out);
            }
            out
        };
        let (good_buf, bad_buf) = (rows(&good, &mut sc), rows(&bad, &mut sc));
        let plans: Vec<Vec<usize>> = if s.multivariate {
            vec![dims.clone()]
        } else {
            dims.iter().map(|&j| vec![j]).collect()
        };
        for plan in plans {
            let l = Mixture::build(&good_buf, &[], &plan, &kinds, s, &mut sc);
            let g = Mixture::build(&bad_buf, &[], &plan, &kinds, s, &mut sc);
            let chosen = best_candidate(&l, &g, &kinds, s, best, &mut sc, &mut rng);
            for (&j, c) in plan.iter().zip(&chosen) {
                u[j] = c.unit(&kinds[j]);
            }
            l.recycle(&mut sc);
            g.recycle(&mut sc);
        }
        sc.give(good_buf);
        sc.give(bad_buf);
    }
    space.from_unit(&u)
}

#[cfg(test)]
mod tests {
    use super::super::super::{contract, Observation, Spec};
    use super::*;
    use crate::space::ParamWire;
    use std::collections::BTreeMap;

    fn svm() -> Space {
        let w: BTreeMap<String, ParamWire> = toml::from_str(
            r#"
            C = { type = "float", low = 1e-3, high = 1e3, log = true }
            gamma = { type = "float", low = 1e-4, high = 1.0, log = true, when = { kernel = "rbf" } }
            kernel = { type = "categorical", choices = ["rbf", "linear"] }
            "#,
        )
        .unwrap();
        Space::from_wire(&w).unwrap()
    }

    #[test]
    fn groups_follow_conditions() {
        assert_eq!(param_groups(&svm()), [vec![0, 2], vec![1]]);
    }

    #[test]
    fn proposals_are_reproducible_and_leave_gamma_out_for_linear() {
        let s = svm();
        for multivariate in [true, false] {
            let spec = Spec::Tpe(TpeSettings {
                multivariate,
                ..TpeSettings::default()
            });
            let a = contract::run(spec.build().as_ref(), &s, 40, 2, 5);
            assert_eq!(a, contract::run(spec.build().as_ref(), &s, 40, 2, 5));
            assert_ne!(a, contract::run(spec.build().as_ref(), &s, 40, 2, 6));
            for p in &a {
                let rbf = p["kernel"] == Value::Str("rbf".into());
                assert_eq!(p.contains_key("gamma"), rbf, "{p:?}");
            }
            assert!(a[20..].iter().any(|p| p.contains_key("gamma")));
        }
    }

    #[test]
    fn gamma_densities_use_only_rbf_trials() {
        // Good rbf trials all have gamma 1e-2, the bad rbf ones 0.5;
        // linear trials carry no gamma. The proposals are rbf, with gammas
        // on the good side.
        let s = svm();
        let tpe = Tpe::new(TpeSettings::default());
        let mut obs = Vec::new();
        for i in 0..40u64 {
            let mut p = Params::new();
            p.insert("C".into(), Value::Float(1.0 + i as f64));
            let rbf = i % 2 == 0;
            p.insert(
                "kernel".into(),
                Value::Str(if rbf { "rbf" } else { "linear" }.into()),
            );
            let loss = if rbf {
                let g = if i % 4 == 0 { 1e-2 } else { 0.5 };
                p.insert("gamma".into(), Value::Float(g));
                if i % 4 == 0 {
                    0.0
                } else {
                    1.0
                }
            } else {
                2.0
            };
            obs.push(Observation::new(&s, p, Some(loss)));
        }
        let mut near = 0;
        let mut with_gamma = 0;
        for i in 0..20 {
            let t = Trial {
                space: &s,
                index: 40 + i,
                seed: 1000 + i,
                search_seed: 3,
            };
            let h = History {
                observed: &obs,
                pending: &[],
            };
            let p = tpe.propose(&t, &h);
            if let Some(g) = p.get("gamma").and_then(Value::as_f64) {
                with_gamma += 1;
                if g < 0.1 {
                    near += 1;
                }
            }
        }
        assert!(with_gamma >= 15, "{with_gamma}");
        assert_eq!(near, with_gamma);
    }
}
