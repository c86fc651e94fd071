//! `[search.tpe]`: the settings, their defaults and checks.

use super::*;

/// `[search.tpe]` settings. The field names are part of the search's root
/// hash: renaming one changes every TPE search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TpeSettings {
    /// Trials taken from the Sobol design while fewer than this many trials
    /// have a result (failed trials do not count; pruned trials do, as in
    /// Optuna). Default 10.
    pub n_startup: u64,
    /// Candidates drawn from the good density per proposal. Default 8;
    /// 1 to 100 000.
    pub n_candidates: u64,
    /// Further candidates drawn from the best trial's own kernel (local
    /// refinement); of all candidates, the one with the best
    /// `log l - log g` is proposed. Default 24; 0 to 100 000 (0 with
    /// `n_candidates = 24` is Optuna's rule).
    pub n_local: u64,
    /// Fraction of the trials with a loss (or pruned) that form the good
    /// group: `min(ceil(gamma * n), 25)` of them. Default 0.1 (Optuna's
    /// `default_gamma`); in (0, 1].
    pub gamma: f64,
    /// Weight of the prior kernel in each mixture (and the pseudo-count of
    /// every categorical choice). Default 1.0; positive and finite, so
    /// every density stays positive.
    pub prior_weight: f64,
    /// Model all parameters jointly (true, the default) or each on its own.
    pub multivariate: bool,
    /// Let the gap to 0 and 1 widen the kernels of the outermost points
    /// (both modes; Optuna's `consider_endpoints`). Default false.
    pub consider_endpoints: bool,
    /// Treat the trials still running (the window's pending trials) as bad
    /// ones, so that parallel proposals avoid each other. Default true.
    pub constant_liar: bool,
}

impl Default for TpeSettings {
    fn default() -> Self {
        TpeSettings {
            n_startup: 10,
            n_candidates: 8,
            n_local: 24,
            gamma: 0.1,
            prior_weight: 1.0,
            multivariate: true,
            consider_endpoints: false,
            constant_liar: true,
        }
    }
}

/// The most good trials, whatever `gamma` says (Optuna's cap).
pub(super) const MAX_GOOD: usize = 25;
/// Trials with full weight in a group; older ones ramp down.
pub(super) const FLAT_WEIGHTS: usize = 25;
/// Largest `n_candidates` (and `n_local`) accepted: each costs a pass
/// over the history.
pub(super) const MAX_CANDIDATES: u64 = 100_000;

impl TpeSettings {
    /// Read `[search.tpe]` (absent: defaults) and check it.
    pub fn from_toml(v: Option<&toml::Value>) -> Result<Self, String> {
        let s: TpeSettings = crate::strategy::settings_from_toml(v)?;
        s.check()?;
        Ok(s)
    }

    /// Check the ranges; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_CANDIDATES).contains(&self.n_candidates) {
            return Err(format!(
                "n_candidates must be between 1 and {MAX_CANDIDATES} (got {})",
                self.n_candidates
            ));
        }
        if self.n_local > MAX_CANDIDATES {
            return Err(format!(
                "n_local must be between 0 and {MAX_CANDIDATES} (got {})",
                self.n_local
            ));
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(format!(
                "gamma must be in (0, 1] (got {}); it is the fraction of trials taken as good",
                self.gamma
            ));
        }
        if !(self.prior_weight > 0.0 && self.prior_weight.is_finite()) {
            return Err(format!(
                "prior_weight must be positive and finite (got {})",
                self.prior_weight
            ));
        }
        Ok(())
    }

    /// How many of `n` ranked trials (with a loss, or pruned) are good:
    /// `min(ceil(gamma * n), 25, n)`.
    pub fn n_good(&self, n: usize) -> usize {
        let g = (self.gamma * n as f64).ceil();
        (g as usize).min(MAX_GOOD).min(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::tpe::tests::*;

    #[test]
    fn absent_table_gives_the_defaults() {
        let s = TpeSettings::from_toml(None).unwrap();
        assert_eq!(s, TpeSettings::default());
        assert_eq!(
            (
                s.n_startup,
                s.n_candidates,
                s.n_local,
                s.gamma,
                s.prior_weight
            ),
            (10, 8, 24, 0.1, 1.0)
        );
        assert!(s.multivariate && s.constant_liar && !s.consider_endpoints);
    }

    #[test]
    fn settings_read_every_key() {
        let s = settings(
            "n_startup = 3\nn_candidates = 7\nn_local = 0\ngamma = 1\nprior_weight = 2.5\n\
             multivariate = false\nconsider_endpoints = true\nconstant_liar = false",
        )
        .unwrap();
        assert_eq!(
            s,
            TpeSettings {
                n_startup: 3,
                n_candidates: 7,
                n_local: 0,
                gamma: 1.0,
                prior_weight: 2.5,
                multivariate: false,
                consider_endpoints: true,
                constant_liar: false,
            }
        );
    }

    #[test]
    fn canonical_form_names_every_field() {
        let j = serde_json::to_string(&TpeSettings::default()).unwrap();
        assert_eq!(
            j,
            r#"{"n_startup":10,"n_candidates":8,"n_local":24,"gamma":0.1,"prior_weight":1.0,"multivariate":true,"consider_endpoints":false,"constant_liar":true}"#
        );
    }

    #[test]
    fn unknown_key_rejected() {
        let e = settings("n_ei_candidates = 5").unwrap_err();
        assert!(e.contains("n_ei_candidates"), "{e}");
    }

    #[test]
    fn n_candidates_must_be_positive() {
        let e = settings("n_candidates = 0").unwrap_err();
        assert!(e.contains("n_candidates must be between 1"), "{e}");
        assert!(settings("n_candidates = 100001").is_err());
        assert!(settings("n_candidates = -3").is_err());
        let e = settings("n_local = 100001").unwrap_err();
        assert!(e.contains("n_local must be between 0"), "{e}");
        assert!(settings("n_local = 0").is_ok());
    }

    #[test]
    fn gamma_must_be_a_fraction() {
        for g in ["0.0", "-0.1", "1.5", "nan"] {
            let e = settings(&format!("gamma = {g}")).unwrap_err();
            assert!(e.contains("gamma must be in (0, 1]"), "{g}: {e}");
        }
        assert!(settings("gamma = 0.25").is_ok());
    }

    #[test]
    fn prior_weight_must_be_positive_and_finite() {
        for w in ["0.0", "-1.0", "inf"] {
            let e = settings(&format!("prior_weight = {w}")).unwrap_err();
            assert!(e.contains("prior_weight must be positive"), "{w}: {e}");
        }
    }

    #[test]
    fn n_startup_must_be_a_count() {
        assert!(settings("n_startup = -1").is_err());
        assert_eq!(settings("n_startup = 0").unwrap().n_startup, 0);
    }
}
