//! Strategies: what to try next. A strategy sees the space, the trial's
//! index and seeds, and the history the proposal window allows — never
//! threads, files or the clock — and keeps no state between calls that a
//! result depends on (gp's fit cache and tpe's buffers only save time), so
//! every proposal can be recomputed from the journal.

use rand::RngCore;
use serde::Serialize;

use crate::space::Space;
use crate::value::Params;

pub mod gp;
pub mod grid;
pub mod random;
pub mod sobol;
pub mod tpe;

/// A finished trial as a strategy sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The trial's parameters.
    pub params: Params,
    /// The objective value, oriented so that lower is better; `None` for a
    /// failed or a pruned trial.
    pub loss: Option<f64>,
    /// `params` in unit coordinates, one number per parameter in name
    /// order (0.5 for a missing one): computed once when the trial
    /// finishes, so strategies do not convert every row on every proposal.
    /// Must equal `space.to_unit(&params)` bit for bit; [`Observation::new`]
    /// guarantees it.
    pub unit: Vec<f64>,
    /// For a trial the pruner stopped (`[search.pruner]`): the last step
    /// it reached and its loss there. `None` for every other trial, and
    /// so for every trial of a search without a pruner. Its `loss` is
    /// `None`: a partial score is not a result, but tpe ranks pruned trials
    /// by how far they got ([`PrunedAt`]).
    pub pruned: Option<PrunedAt>,
}

/// Where a pruned trial stopped: what Optuna's TPE ranks pruned trials by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrunedAt {
    /// The last step the trial reported (the one it was pruned at).
    pub step: u64,
    /// Its intermediate value at that step, oriented so that lower is
    /// better (as [`Observation::loss`]).
    pub loss: f64,
}

impl Observation {
    /// A finished trial of `space` with its loss (lower is better; `None`
    /// for a failure), its unit coordinates computed here
    /// ([`Space::to_unit`]).
    pub fn new(space: &Space, params: Params, loss: Option<f64>) -> Observation {
        let unit = space.to_unit(&params);
        Observation {
            params,
            loss,
            unit,
            pruned: None,
        }
    }

    /// A trial of `space` the pruner stopped after reaching `at.step` with
    /// loss `at.loss` there: no loss of its own.
    pub fn pruned(space: &Space, params: Params, at: PrunedAt) -> Observation {
        Observation {
            pruned: Some(at),
            ..Observation::new(space, params, None)
        }
    }
}

/// What a proposal may look at (design.md, Determinism 3): the results of
/// trials `0 ..= i-W` and the parameters of trials `i-W+1 .. i-1`.
#[derive(Clone, Copy, Debug, Default)]
pub struct History<'a> {
    /// Trials `0 ..= i-W`, in trial order.
    pub observed: &'a [Observation],
    /// The parameters of trials `i-W+1 .. i-1`, in trial order: running or
    /// finished, but their results are not to be used.
    pub pending: &'a [Params],
}

/// The trial being proposed.
#[derive(Clone, Copy, Debug)]
pub struct Trial<'a> {
    /// The space to propose in.
    pub space: &'a Space,
    /// The trial's index `i`.
    pub index: u64,
    /// The trial's own seed (`RootHash::trial_seed(i)`).
    pub seed: u64,
    /// The search-wide seed (`RootHash::search_seed()`), for sequences
    /// addressed by index.
    pub search_seed: u64,
}

/// A way of choosing trials.
///
/// ```
/// use std::collections::BTreeMap;
/// use hpsearch::seed::RootHash;
/// use hpsearch::space::{ParamWire, Space};
/// use hpsearch::strategy::{History, Spec, Trial};
///
/// let wire: BTreeMap<String, ParamWire> =
///     toml::from_str(r#"x = { type = "float", low = -5.0, high = 5.0 }"#)?;
/// let space = Space::from_wire(&wire).map_err(|(name, why)| format!("{name}: {why}"))?;
/// let root = RootHash::of(b"my search");
/// let strategy = Spec::Random.build();
/// let trial = Trial {
///     space: &space,
///     index: 0,
///     seed: root.trial_seed(0),
///     search_seed: root.search_seed(),
/// };
/// // A proposal is a pure function of the trial and the history it is shown.
/// let a = strategy.propose(&trial, &History::default());
/// let b = strategy.propose(&trial, &History::default());
/// assert_eq!(a, b);
/// assert!(space.params[0].contains(&a["x"]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Strategy: Send + Sync {
    /// The parameters of trial `t.index`.
    fn propose(&self, t: &Trial<'_>, history: &History<'_>) -> Params;

    /// Whether proposals depend on results (and so on the window).
    fn uses_history(&self) -> bool {
        false
    }
}

/// A strategy as a search file names it, with its settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Spec {
    /// `grid`: every point of the grid, in order (see [`Space::grid_point`]).
    Grid,
    /// `random`: independent uniform draws.
    Random,
    /// `sobol`: a scrambled Sobol sequence.
    Sobol,
    /// `tpe`: the tree-structured Parzen estimator, with `[search.tpe]`.
    Tpe(tpe::TpeSettings),
    /// `gp`: Gaussian-process Bayesian optimisation, with `[search.gp]`.
    Gp(gp::GpSettings),
}

impl Spec {
    /// The names a search file may give `strategy`.
    pub const NAMES: &'static [&'static str] = &["grid", "random", "sobol", "tpe", "gp"];

    /// The strategy `name` with its settings table (`[search.tpe]`,
    /// `[search.gp]`); the error is (key, message).
    pub fn parse(
        name: &str,
        tpe: Option<&toml::Value>,
        gp: Option<&toml::Value>,
    ) -> Result<Spec, (String, String)> {
        let settings_for = |other: &str, v: Option<&toml::Value>| match v {
            Some(_) => Err((
                format!("search.{other}"),
                format!("settings for strategy \"{other}\", but the strategy is \"{name}\""),
            )),
            None => Ok(()),
        };
        match name {
            "grid" | "random" | "sobol" => {
                settings_for("tpe", tpe)?;
                settings_for("gp", gp)?;
                Ok(match name {
                    "grid" => Spec::Grid,
                    "random" => Spec::Random,
                    _ => Spec::Sobol,
                })
            }
            "tpe" => {
                settings_for("gp", gp)?;
                let s = tpe::TpeSettings::from_toml(tpe).map_err(|m| ("search.tpe".into(), m))?;
                Ok(Spec::Tpe(s))
            }
            "gp" => {
                settings_for("tpe", tpe)?;
                let s = gp::GpSettings::from_toml(gp).map_err(|m| ("search.gp".into(), m))?;
                Ok(Spec::Gp(s))
            }
            other => Err((
                "search.strategy".into(),
                format!(
                    "unknown strategy \"{other}\"; expected one of: {}",
                    Spec::NAMES.join(", ")
                ),
            )),
        }
    }

    /// The name, as a search file writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Spec::Grid => "grid",
            Spec::Random => "random",
            Spec::Sobol => "sobol",
            Spec::Tpe(_) => "tpe",
            Spec::Gp(_) => "gp",
        }
    }

    /// The strategy object.
    pub fn build(&self) -> Box<dyn Strategy> {
        match self {
            Spec::Grid => Box::new(grid::Grid),
            Spec::Random => Box::new(random::Random),
            Spec::Sobol => Box::new(sobol::Sobol),
            Spec::Tpe(s) => Box::new(tpe::Tpe::new(s.clone())),
            Spec::Gp(s) => Box::new(gp::Gp::new(s.clone())),
        }
    }
}

/// Read a settings table into `T`, rejecting unknown keys; an absent
/// table gives the defaults.
pub(crate) fn settings_from_toml<T>(v: Option<&toml::Value>) -> Result<T, String>
where
    T: Default + serde::de::DeserializeOwned,
{
    match v {
        None => Ok(T::default()),
        Some(v) => v.clone().try_into::<T>().map_err(|e| e.to_string()),
    }
}

/// A uniform draw in [0, 1) from the top 53 bits: written out rather than
/// taken from `rand`'s distributions, whose algorithms may change between
/// versions and would silently change every proposal.
pub(crate) fn unit(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
pub(crate) mod contract {
    //! The contract every strategy meets.
    use super::*;
    use crate::space::ParamWire;
    use std::collections::BTreeMap;

    pub fn space() -> Space {
        let src = r#"
            a = { type = "float", low = 1e-4, high = 10.0, log = true, steps = 5 }
            b = { type = "int", low = 1, high = 12 }
            c = { type = "categorical", choices = ["rbf", "linear"] }
            d = { type = "float", values = [0.1, 1.0, 10.0] }
            e = { type = "int", low = 0, high = 30, step = 10 }
            f = { type = "float", low = -2.0, high = 3.0 }
            g = { type = "int", low = 1, high = 1000, log = true }
        "#;
        let w: BTreeMap<String, ParamWire> = toml::from_str(src).unwrap();
        Space::from_wire(&w).unwrap()
    }

    /// A toy loss on the contract space, so model-based strategies have
    /// results to learn from.
    fn loss(s: &Space, p: &Params) -> f64 {
        s.to_unit(p).iter().map(|u| (u - 0.3) * (u - 0.3)).sum()
    }

    /// Proposals 0..n with window `w`, search seed `search_seed`.
    pub fn run(
        strategy: &dyn Strategy,
        s: &Space,
        n: u64,
        w: usize,
        search_seed: u64,
    ) -> Vec<Params> {
        run_with(strategy, s, n, w, search_seed, false)
    }

    /// [`run`], and with `pruning` every fifth trial is stopped by a
    /// pruner at step `i % 4` (a history a search with `[search.pruner]`
    /// gives).
    pub fn run_with(
        strategy: &dyn Strategy,
        s: &Space,
        n: u64,
        w: usize,
        search_seed: u64,
        pruning: bool,
    ) -> Vec<Params> {
        let mut props: Vec<Params> = Vec::new();
        let mut obs: Vec<Observation> = Vec::new();
        for i in 0..n {
            let seen = (i as usize + 1).saturating_sub(w);
            let t = Trial {
                space: s,
                index: i,
                seed: search_seed.wrapping_mul(31).wrapping_add(i * 7919),
                search_seed,
            };
            let h = History {
                observed: &obs[..seen],
                pending: &props[seen..],
            };
            let p = strategy.propose(&t, &h);
            // Failed trials happen: every seventh is one.
            let l = (i % 7 != 3).then(|| loss(s, &p));
            let o = match l {
                Some(l) if pruning && i % 5 == 1 => {
                    let step = i % 4;
                    let at = PrunedAt {
                        step,
                        loss: l + 1.0 / (1 + step) as f64,
                    };
                    Observation::pruned(s, p.clone(), at)
                }
                _ => Observation::new(s, p.clone(), l),
            };
            obs.push(o);
            props.push(p);
        }
        props
    }

    /// Every check on a history of complete and failed trials, and on one
    /// with pruned trials too.
    pub fn check(spec: Spec) {
        let s = space();
        let strat = spec.build();
        let n = 40;
        for (w, pruning) in [(1, false), (4, false), (1, true), (4, true)] {
            let a = run_with(strat.as_ref(), &s, n, w, 11, pruning);
            // Same inputs, same proposals (and a fresh object: no hidden state).
            assert_eq!(a, run_with(spec.build().as_ref(), &s, n, w, 11, pruning));
            // Another seed, other proposals.
            assert_ne!(a, run_with(strat.as_ref(), &s, n, w, 12, pruning));
            // Every proposal inside the space and on its grid.
            for p in &a {
                assert_eq!(p.len(), s.params.len());
                for q in &s.params {
                    assert!(q.contains(&p[&q.name]), "{} {:?}", q.name, p[&q.name]);
                }
            }
            assert!(a.iter().any(|p| p != &a[0]));
        }
    }
}
