//! Built-in benchmark functions (minimisation) with known global minima:
//! the search-quality yardstick, evaluated without data.
//!
//! The formulas, constants, domains and minima are those of
//! `anchors/functions.py` (after Surjanovic & Bingham's "Virtual Library of
//! Simulation Experiments", <https://www.sfu.ca/~ssurjano/optimization.html>),
//! so regrets computed here compare with the Python harness's.
//!
//! Box functions take parameters named `x0 .. x{d-1}`; `mixed` (the
//! anchors' `mixed5`) takes `x1`, `x2`, `lr`, `n` and `act`. This module
//! owns the formulas and the parameter-name check; it never sees a search
//! file, a strategy or an RNG. It sits below `config`, which checks a
//! search file's `function = …` and its parameter names with it;
//! `objective` evaluates it (the path `objective::function` is kept). Every sum runs in index order, so a value is
//! the same bits on every run.

use std::f64::consts::{E, PI};

use crate::value::{Params, Value};

/// A built-in benchmark function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Function {
    /// Branin-Hoo, 2-D; three global minima, f* = 5 / (4 pi).
    Branin,
    /// Hartmann 6-D on [0, 1]^6; f* = -3.32237 (published value).
    Hartmann6,
    /// Rosenbrock, d >= 2; f* = 0 at (1, ..., 1).
    Rosenbrock,
    /// Ackley (a = 20, b = 0.2, c = 2 pi), d >= 2; f* = 0 at the origin.
    Ackley,
    /// Levy, d >= 2; f* = 0 at (1, ..., 1).
    Levy,
    /// Styblinski-Tang, d >= 2; f* = -39.16616570377... * d.
    StyblinskiTang,
    /// The anchors' `mixed5`: two floats, a log-scale float, an int and a
    /// categorical; f* = 0 at x1 = 1, x2 = -1, lr = 1e-3, n = 12, act = "relu".
    Mixed,
}

/// One parameter's range in a function's reference domain (the anchors').
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// A float in `[low, high]`, searched on a log scale when `log`.
    Float {
        /// The lower bound.
        low: f64,
        /// The upper bound.
        high: f64,
        /// Whether the reference searches it on a log scale.
        log: bool,
    },
    /// An integer in `[low, high]`.
    Int {
        /// The lower bound.
        low: i64,
        /// The upper bound.
        high: i64,
    },
    /// One of the listed words.
    Categorical(&'static [&'static str]),
}

/// Branin's minimum, 5 / (4 pi), as the anchors write it.
const BRANIN_MIN: f64 = 0.397_887_357_729_738_16;

/// Hartmann 6-D: weights, matrix A and matrix P (already scaled by 1e-4).
const HARTMANN6_ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const HARTMANN6_A: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const HARTMANN6_P: [[f64; 6]; 4] = [
    [1312.0, 1696.0, 5569.0, 124.0, 8283.0, 5886.0],
    [2329.0, 4135.0, 8307.0, 3736.0, 1004.0, 9991.0],
    [2348.0, 1451.0, 3522.0, 2883.0, 3047.0, 6650.0],
    [4047.0, 8828.0, 8732.0, 5743.0, 1091.0, 381.0],
];
/// Published minimum (used for regret); the true one is -3.322368011415514,
/// so regrets have a floor of about 2.0e-6, as in the anchors.
const HARTMANN6_MIN: f64 = -3.32237;
const HARTMANN6_ARGMIN: [f64; 6] = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573];

/// The categories of `mixed`'s `act`, in the anchors' order.
const MIXED_ACTS: &[&str] = &["relu", "tanh", "sigmoid"];
/// `mixed`'s parameter names, in the anchors' order.
const MIXED_NAMES: [&str; 5] = ["x1", "x2", "lr", "n", "act"];

impl Function {
    /// Every built-in function, in the order `hpsearch` lists them.
    pub const ALL: &'static [Function] = &[
        Function::Branin,
        Function::Hartmann6,
        Function::Rosenbrock,
        Function::Ackley,
        Function::Levy,
        Function::StyblinskiTang,
        Function::Mixed,
    ];

    /// The name used in search files (`function = "branin"`).
    pub fn name(self) -> &'static str {
        match self {
            Function::Branin => "branin",
            Function::Hartmann6 => "hartmann6",
            Function::Rosenbrock => "rosenbrock",
            Function::Ackley => "ackley",
            Function::Levy => "levy",
            Function::StyblinskiTang => "styblinski_tang",
            Function::Mixed => "mixed",
        }
    }

    /// Look a function up by its [`name`](Function::name).
    pub fn parse(name: &str) -> Option<Function> {
        Function::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The dimension a box function is fixed to (branin 2, hartmann6 6);
    /// `None` where any `d >= 2` is accepted, and for `mixed`.
    pub fn fixed_dim(self) -> Option<usize> {
        match self {
            Function::Branin => Some(2),
            Function::Hartmann6 => Some(6),
            _ => None,
        }
    }

    /// The dimension the anchors benchmark at (rosenbrock 4, ackley 5,
    /// levy 10, styblinski_tang 8; mixed has 5 parameters).
    pub fn default_dim(self) -> usize {
        match self {
            Function::Branin => 2,
            Function::Hartmann6 => 6,
            Function::Rosenbrock => 4,
            Function::Ackley => 5,
            Function::Levy => 10,
            Function::StyblinskiTang => 8,
            Function::Mixed => 5,
        }
    }

    /// Check a search space's parameter names (in any order) and return the
    /// dimension. Box functions take `x0 .. x{d-1}`, with `d` fixed for
    /// branin (2) and hartmann6 (6) and `d = names.len() >= 2` for the
    /// others; `mixed` takes exactly `x1, x2, lr, n, act` (dimension 5).
    /// The error says which names are expected and which are missing or
    /// extra.
    pub fn check_params(self, names: &[&str]) -> Result<usize, String> {
        let (expected, wanted): (Vec<String>, String) = match self {
            Function::Mixed => (
                MIXED_NAMES.iter().map(|s| s.to_string()).collect(),
                MIXED_NAMES.join(", "),
            ),
            _ => match self.fixed_dim() {
                Some(d) => (box_names(d), box_names(d).join(", ")),
                None => {
                    let d = names.len();
                    let shown = if d >= 2 {
                        format!("x0 .. x{}", d - 1)
                    } else {
                        "x0 .. x{d-1}".to_string()
                    };
                    (box_names(d), format!("{shown} (a dimension d >= 2)"))
                }
            },
        };
        // Sets, not nested scans: 200,000 parameters checked pairwise took
        // minutes.
        let given: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        let wanted_set: std::collections::BTreeSet<&str> =
            expected.iter().map(String::as_str).collect();
        let missing: Vec<&str> = expected
            .iter()
            .map(String::as_str)
            .filter(|e| !given.contains(e))
            .collect();
        // Report extras in the caller's order, each once.
        let mut extra: Vec<&str> = Vec::new();
        let mut repeated: Vec<&str> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut reported = std::collections::BTreeSet::new();
        for n in names {
            let first = seen.insert(*n);
            if !wanted_set.contains(n) {
                if first {
                    extra.push(n);
                }
            } else if !first && reported.insert(*n) {
                repeated.push(n);
            }
        }
        let too_few = self.fixed_dim().is_none() && self != Function::Mixed && names.len() < 2;
        if missing.is_empty() && extra.is_empty() && repeated.is_empty() && !too_few {
            return Ok(expected.len());
        }
        let mut msg = format!("function `{}` takes parameters {wanted}", self.name());
        if too_few {
            msg.push_str(&format!("; got {} parameter(s)", names.len()));
        }
        if !missing.is_empty() {
            msg.push_str(&format!("; missing: {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            msg.push_str(&format!("; not a parameter of it: {}", extra.join(", ")));
        }
        if !repeated.is_empty() {
            msg.push_str(&format!("; given twice: {}", repeated.join(", ")));
        }
        Err(msg)
    }

    /// Evaluate the function at `params` (lower is better). The names are
    /// checked as by [`check_params`](Function::check_params); numbers may be
    /// ints or floats and must be finite; `mixed`'s `n` must be a whole
    /// number, `lr` positive and `act` one of "relu", "tanh", "sigmoid".
    pub fn evaluate(self, params: &Params) -> Result<f64, String> {
        let names: Vec<&str> = params.keys().map(String::as_str).collect();
        let d = self.check_params(&names)?;
        let f: fn(&[f64]) -> f64 = match self {
            Function::Branin => branin,
            Function::Hartmann6 => hartmann6,
            Function::Rosenbrock => rosenbrock,
            Function::Ackley => ackley,
            Function::Levy => levy,
            Function::StyblinskiTang => styblinski_tang,
            Function::Mixed => return mixed(params),
        };
        // Read x0, x1, ... by index: the BTreeMap's own order would put
        // x10 before x2.
        let mut x = Vec::with_capacity(d);
        for i in 0..d {
            x.push(number(params, &format!("x{i}"))?);
        }
        Ok(f(&x))
    }

    /// The global minimum f* used for regret, as in the anchors: branin
    /// 5 / (4 pi), hartmann6 the published -3.32237, styblinski_tang
    /// `-39.16616570377... * dim`, 0 for the others. `dim` matters only for
    /// styblinski_tang.
    pub fn minimum(self, dim: usize) -> f64 {
        match self {
            Function::Branin => BRANIN_MIN,
            Function::Hartmann6 => HARTMANN6_MIN,
            Function::StyblinskiTang => stybtang_min_1d() * dim as f64,
            Function::Rosenbrock | Function::Ackley | Function::Levy | Function::Mixed => 0.0,
        }
    }

    /// A known global minimiser (branin: `(pi, 2.275)`; hartmann6: the
    /// published point). `dim` is ignored by the fixed-dimension functions
    /// and by `mixed`.
    pub fn minimiser(self, dim: usize) -> Params {
        let fill = |v: f64| -> Params {
            (0..dim)
                .map(|i| (format!("x{i}"), Value::Float(v)))
                .collect()
        };
        match self {
            Function::Branin => [
                ("x0".to_string(), Value::Float(PI)),
                ("x1".to_string(), Value::Float(2.275)),
            ]
            .into_iter()
            .collect(),
            Function::Hartmann6 => HARTMANN6_ARGMIN
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("x{i}"), Value::Float(*v)))
                .collect(),
            Function::Rosenbrock | Function::Levy => fill(1.0),
            Function::Ackley => fill(0.0),
            Function::StyblinskiTang => fill(stybtang_argmin_1d()),
            Function::Mixed => [
                ("x1".to_string(), Value::Float(1.0)),
                ("x2".to_string(), Value::Float(-1.0)),
                ("lr".to_string(), Value::Float(1e-3)),
                ("n".to_string(), Value::Int(12)),
                ("act".to_string(), Value::Str("relu".to_string())),
            ]
            .into_iter()
            .collect(),
        }
    }

    /// The anchors' search domain, parameter by parameter in the order a
    /// search file would list them: branin `x0 in [-5, 10]`,
    /// `x1 in [0, 15]`; hartmann6 `[0, 1]^6`; rosenbrock `[-5, 10]^d`;
    /// ackley `[-32.768, 32.768]^d`; levy `[-10, 10]^d`; styblinski_tang
    /// `[-5, 5]^d`; mixed as in [`Function::Mixed`]. `dim` is ignored by
    /// the fixed-dimension functions and by `mixed`.
    pub fn default_domain(self, dim: usize) -> Vec<(String, Domain)> {
        let cube = |low: f64, high: f64| -> Vec<(String, Domain)> {
            box_names(dim)
                .into_iter()
                .map(|n| {
                    (
                        n,
                        Domain::Float {
                            low,
                            high,
                            log: false,
                        },
                    )
                })
                .collect()
        };
        let float = |low: f64, high: f64| Domain::Float {
            low,
            high,
            log: false,
        };
        match self {
            Function::Branin => vec![
                ("x0".to_string(), float(-5.0, 10.0)),
                ("x1".to_string(), float(0.0, 15.0)),
            ],
            Function::Hartmann6 => box_names(6)
                .into_iter()
                .map(|n| (n, float(0.0, 1.0)))
                .collect(),
            Function::Rosenbrock => cube(-5.0, 10.0),
            Function::Ackley => cube(-32.768, 32.768),
            Function::Levy => cube(-10.0, 10.0),
            Function::StyblinskiTang => cube(-5.0, 5.0),
            Function::Mixed => vec![
                ("x1".to_string(), float(-5.0, 5.0)),
                ("x2".to_string(), float(-5.0, 5.0)),
                (
                    "lr".to_string(),
                    Domain::Float {
                        low: 1e-5,
                        high: 1e-1,
                        log: true,
                    },
                ),
                ("n".to_string(), Domain::Int { low: 1, high: 32 }),
                ("act".to_string(), Domain::Categorical(MIXED_ACTS)),
            ],
        }
    }
}

/// `x0 .. x{d-1}`.
fn box_names(d: usize) -> Vec<String> {
    (0..d).map(|i| format!("x{i}")).collect()
}

/// A finite number (int or float) named `name`.
fn number(params: &Params, name: &str) -> Result<f64, String> {
    let v = params
        .get(name)
        .ok_or_else(|| format!("parameter `{name}` is missing"))?;
    let x = v
        .as_f64()
        .ok_or_else(|| format!("parameter `{name}` must be a number (got {v})"))?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("parameter `{name}` must be finite (got {x})"))
    }
}

/// Branin-Hoo: `a (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos(x1) + s`.
fn branin(x: &[f64]) -> f64 {
    let (x1, x2) = (x[0], x[1]);
    let a = 1.0;
    let b = 5.1 / (4.0 * (PI * PI));
    let c = 5.0 / PI;
    let r = 6.0;
    let s = 10.0;
    let t = 1.0 / (8.0 * PI);
    let inner = x2 - b * (x1 * x1) + c * x1 - r;
    a * (inner * inner) + s * (1.0 - t) * x1.cos() + s
}

/// Hartmann 6-D: `-sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2)`.
fn hartmann6(x: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..4 {
        let mut inner = 0.0;
        for j in 0..6 {
            let diff = x[j] - 1e-4 * HARTMANN6_P[i][j];
            inner += HARTMANN6_A[i][j] * (diff * diff);
        }
        total += HARTMANN6_ALPHA[i] * (-inner).exp();
    }
    -total
}

/// Rosenbrock: `sum_{i<d-1} 100 (x_{i+1} - x_i^2)^2 + (x_i - 1)^2`.
fn rosenbrock(x: &[f64]) -> f64 {
    let mut total = 0.0;
    for w in x.windows(2) {
        let a = w[1] - w[0] * w[0];
        let b = w[0] - 1.0;
        total += 100.0 * (a * a) + b * b;
    }
    total
}

/// Ackley with a = 20, b = 0.2, c = 2 pi.
fn ackley(x: &[f64]) -> f64 {
    let (a, b, c) = (20.0, 0.2, 2.0 * PI);
    let d = x.len() as f64;
    let mut sq = 0.0;
    let mut cos = 0.0;
    for &xi in x {
        sq += xi * xi;
        cos += (c * xi).cos();
    }
    -a * (-b * (sq / d).sqrt()).exp() - (cos / d).exp() + a + E
}

/// Levy, with `w_i = 1 + (x_i - 1) / 4`.
fn levy(x: &[f64]) -> f64 {
    let w: Vec<f64> = x.iter().map(|xi| 1.0 + (xi - 1.0) / 4.0).collect();
    let sin_sq = |v: f64| {
        let s = v.sin();
        s * s
    };
    let term1 = sin_sq(PI * w[0]);
    let mut term2 = 0.0;
    for &wi in &w[..w.len() - 1] {
        term2 += (wi - 1.0) * (wi - 1.0) * (1.0 + 10.0 * sin_sq(PI * wi + 1.0));
    }
    let wd = w[w.len() - 1];
    let term3 = (wd - 1.0) * (wd - 1.0) * (1.0 + sin_sq(2.0 * PI * wd));
    term1 + term2 + term3
}

/// Styblinski-Tang: `1/2 sum_i (x_i^4 - 16 x_i^2 + 5 x_i)`.
fn styblinski_tang(x: &[f64]) -> f64 {
    let mut total = 0.0;
    for &xi in x {
        let sq = xi * xi;
        total += sq * sq - 16.0 * sq + 5.0 * xi;
    }
    0.5 * total
}

/// Styblinski-Tang's 1-D minimiser: 50 Newton steps on
/// `4x^3 - 32x + 5 = 0` from -2.9, as the anchors compute it
/// (-2.903534027771178).
fn stybtang_argmin_1d() -> f64 {
    let mut x: f64 = -2.9;
    for _ in 0..50 {
        let g = 4.0 * (x * x * x) - 32.0 * x + 5.0;
        let dg = 12.0 * (x * x) - 32.0;
        x -= g / dg;
    }
    x
}

/// Styblinski-Tang's minimum per dimension (-39.16616570377...).
fn stybtang_min_1d() -> f64 {
    let x = stybtang_argmin_1d();
    let sq = x * x;
    0.5 * (sq * sq - 16.0 * sq + 5.0 * x)
}

/// The anchors' `mixed5`: `q + u^2 + m + offset(act)` with
/// `q = d1^2 + d2^2 + d1 d2` around centre(act), `u = log10(lr) + 3`,
/// `m = ((n - 12) / 4)^2`.
fn mixed(params: &Params) -> Result<f64, String> {
    let x1 = number(params, "x1")?;
    let x2 = number(params, "x2")?;
    let lr = number(params, "lr")?;
    if lr <= 0.0 {
        return Err(format!("parameter `lr` must be positive (got {lr})"));
    }
    let n_value = params
        .get("n")
        .ok_or_else(|| "parameter `n` is missing".to_string())?;
    let n = n_value
        .as_i64()
        .ok_or_else(|| format!("parameter `n` must be an integer (got {n_value})"))?;
    let act_value = params
        .get("act")
        .ok_or_else(|| "parameter `act` is missing".to_string())?;
    let ((a, b), offset) = match act_value.as_str() {
        Some("relu") => ((1.0, -1.0), 0.0),
        Some("tanh") => ((-2.0, 2.0), 0.5),
        Some("sigmoid") => ((3.0, 3.0), 1.0),
        _ => {
            return Err(format!(
                "parameter `act` must be one of \"relu\", \"tanh\", \"sigmoid\" (got {act_value})"
            ))
        }
    };
    let d1 = x1 - a;
    let d2 = x2 - b;
    let q = d1 * d1 + d2 * d2 + d1 * d2;
    let u = lr.log10() + 3.0;
    let m = n.saturating_sub(12) as f64 / 4.0;
    Ok(q + u * u + m * m + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(xs: &[f64]) -> Params {
        xs.iter()
            .enumerate()
            .map(|(i, v)| (format!("x{i}"), Value::Float(*v)))
            .collect()
    }

    fn mixed_point(x1: f64, x2: f64, lr: f64, n: i64, act: &str) -> Params {
        [
            ("x1", Value::Float(x1)),
            ("x2", Value::Float(x2)),
            ("lr", Value::Float(lr)),
            ("n", Value::Int(n)),
            ("act", Value::Str(act.to_string())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Relative agreement to 1e-12 with a value printed by functions.py.
    fn assert_close(got: f64, want: f64) {
        let scale = want.abs().max(1e-300);
        assert!(
            ((got - want) / scale).abs() <= 1e-12,
            "got {got:?}, want {want:?}"
        );
    }

    #[test]
    fn names_round_trip() {
        for f in Function::ALL {
            assert_eq!(Function::parse(f.name()), Some(*f));
        }
        assert_eq!(
            Function::parse("styblinski_tang"),
            Some(Function::StyblinskiTang)
        );
        assert_eq!(Function::parse("mixed5"), None);
        assert_eq!(Function::parse("Branin"), None);
        assert_eq!(Function::ALL.len(), 7);
    }

    #[test]
    fn each_function_reaches_its_minimum_at_its_minimiser() {
        for f in Function::ALL {
            let dim = f.default_dim();
            let x = f.minimiser(dim);
            let names: Vec<&str> = x.keys().map(String::as_str).collect();
            assert_eq!(f.check_params(&names), Ok(dim), "{}", f.name());
            let v = f.evaluate(&x).unwrap();
            let tol = if *f == Function::Hartmann6 {
                1e-4
            } else {
                1e-9
            };
            assert!(
                (v - f.minimum(dim)).abs() <= tol,
                "{}: f(argmin) = {v}, f* = {}",
                f.name(),
                f.minimum(dim)
            );
        }
    }

    #[test]
    fn minimisers_hold_in_other_dimensions() {
        for f in [
            Function::Rosenbrock,
            Function::Ackley,
            Function::Levy,
            Function::StyblinskiTang,
        ] {
            for dim in [2, 3, 17] {
                let v = f.evaluate(&f.minimiser(dim)).unwrap();
                assert!(
                    (v - f.minimum(dim)).abs() <= 1e-9,
                    "{} d={dim}: {v}",
                    f.name()
                );
            }
        }
    }

    #[test]
    fn minima_match_the_anchors() {
        assert_eq!(Function::Branin.minimum(2), 0.397_887_357_729_738_16);
        assert_close(Function::Branin.minimum(2), 5.0 / (4.0 * PI));
        assert_eq!(Function::Hartmann6.minimum(6), -3.32237);
        assert_close(stybtang_argmin_1d(), -2.903534027771177);
        assert_close(Function::StyblinskiTang.minimum(1), -39.16616570377141);
        assert_close(Function::StyblinskiTang.minimum(8), -313.3293256301713);
        // The true Hartmann minimum sits just below the published one.
        assert_close(
            Function::Hartmann6
                .evaluate(&Function::Hartmann6.minimiser(6))
                .unwrap(),
            -3.322368011391339,
        );
    }

    #[test]
    fn branin_has_three_minimisers() {
        for (x0, x1) in [(-PI, 12.275), (PI, 2.275), (9.42478, 2.475)] {
            let v = Function::Branin.evaluate(&point(&[x0, x1])).unwrap();
            assert!((v - BRANIN_MIN).abs() < 1e-5, "({x0}, {x1}): {v}");
        }
        // The first two are exact; the third is rounded in the source.
        let v = Function::Branin.evaluate(&point(&[-PI, 12.275])).unwrap();
        assert!((v - BRANIN_MIN).abs() <= 1e-9);
    }

    #[test]
    fn values_match_functions_py() {
        let cases: &[(Function, &[f64], f64)] = &[
            (Function::Branin, &[1.0, 2.0], 21.62763539206238),
            (Function::Branin, &[-2.5, 7.3], 14.46145440434479),
            (
                Function::Hartmann6,
                &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                -1.4069105761385297,
            ),
            (
                Function::Hartmann6,
                &[0.9, 0.05, 0.5, 0.33, 0.71, 0.2],
                -0.008502057966623911,
            ),
            (
                Function::Rosenbrock,
                &[0.5, -1.2, 2.0, 0.3],
                1616.7000000000003,
            ),
            (Function::Rosenbrock, &[1.5, 2.0], 6.5),
            (
                Function::Ackley,
                &[1.5, -0.5, 2.0, 0.1, -3.0],
                7.480565013906919,
            ),
            (Function::Ackley, &[0.3, -0.2], 2.7125220698330463),
            (
                Function::Levy,
                &[0.5, -1.2, 2.0, 0.3, 3.3, -7.5, 9.1, 0.0, 1.0, -4.4],
                61.564670645449944,
            ),
            (Function::Levy, &[2.0, -3.0, 0.25], 9.30505361500678),
            (
                Function::StyblinskiTang,
                &[0.5, -1.2, 2.0, 0.3, 3.3, -4.5, 4.1, 0.0],
                -3.902550000000055,
            ),
            (Function::StyblinskiTang, &[-2.9, 1.0], -44.16595),
        ];
        for (f, x, want) in cases {
            let got = f.evaluate(&point(x)).unwrap();
            assert_close(got, *want);
        }
        let got = Function::Mixed
            .evaluate(&mixed_point(0.5, 0.25, 1e-2, 7, "tanh"))
            .unwrap();
        assert_close(got, 8.0);
        let got = Function::Mixed
            .evaluate(&mixed_point(-1.0, 4.0, 3e-5, 30, "sigmoid"))
            .unwrap();
        assert_close(got, 36.569159672826615);
    }

    #[test]
    fn ten_dimensions_read_x10_after_x9() {
        // A BTreeMap orders x10 before x2; the vector must follow the index.
        let mut x = vec![0.0; 11];
        x[10] = 1.0;
        let mut y = vec![0.0; 11];
        y[2] = 1.0;
        // Rosenbrock is not symmetric in its coordinates: a 1 in the last
        // place gives 9 * 1 + (100 + 1) = 110; a 1 in place 2 (where x10
        // would land if read in name order) gives 1 + 101 + 100 + 7 = 209.
        let fx = Function::Rosenbrock.evaluate(&point(&x)).unwrap();
        let fy = Function::Rosenbrock.evaluate(&point(&y)).unwrap();
        assert_eq!(fx, 110.0);
        assert_eq!(fy, 209.0);
    }

    #[test]
    fn mixed_offsets_per_activation() {
        for (act, (a, b), off) in [
            ("relu", (1.0, -1.0), 0.0),
            ("tanh", (-2.0, 2.0), 0.5),
            ("sigmoid", (3.0, 3.0), 1.0),
        ] {
            let v = Function::Mixed
                .evaluate(&mixed_point(a, b, 1e-3, 12, act))
                .unwrap();
            assert_eq!(v, off, "{act}");
        }
    }

    #[test]
    fn mixed_accepts_whole_float_n_and_int_floats() {
        let mut p = mixed_point(0.5, 0.25, 1e-2, 7, "tanh");
        p.insert("n".into(), Value::Float(7.0));
        p.insert("x1".into(), Value::Float(0.5));
        p.insert("x2".into(), Value::Int(0));
        let v = Function::Mixed.evaluate(&p).unwrap();
        // q = 2.5^2 + 2^2 - 5 = 5.25, u = 1, m = 25/16, off = 0.5
        assert_close(v, 5.25 + 1.0 + 1.5625 + 0.5);
    }

    #[test]
    fn mixed_rejects_bad_values() {
        let bad = |k: &str, v: Value| {
            let mut p = mixed_point(0.0, 0.0, 1e-3, 12, "relu");
            p.insert(k.into(), v);
            Function::Mixed.evaluate(&p).unwrap_err()
        };
        assert!(bad("act", Value::Str("gelu".into())).contains("act"));
        assert!(bad("act", Value::Int(1)).contains("relu"));
        assert!(bad("n", Value::Float(12.5)).contains("integer"));
        assert!(bad("n", Value::Str("12".into())).contains("`n`"));
        assert!(bad("lr", Value::Float(0.0)).contains("positive"));
        assert!(bad("x1", Value::Str("1".into())).contains("number"));
        assert!(bad("x2", Value::Bool(true)).contains("`x2`"));
        assert!(bad("x2", Value::Float(f64::NAN)).contains("finite"));
    }

    #[test]
    fn box_functions_reject_non_numbers() {
        let mut p = point(&[1.0, 2.0]);
        p.insert("x1".into(), Value::Str("2".into()));
        let err = Function::Branin.evaluate(&p).unwrap_err();
        assert!(err.contains("`x1` must be a number"), "{err}");
        let p = point(&[1.0, f64::INFINITY, 0.0]);
        let err = Function::Levy.evaluate(&p).unwrap_err();
        assert!(err.contains("finite"), "{err}");
        // Ints are numbers.
        let mut p = point(&[1.0, 2.0]);
        p.insert("x0".into(), Value::Int(1));
        assert_close(Function::Branin.evaluate(&p).unwrap(), 21.62763539206238);
    }

    #[test]
    fn check_params_accepts_any_order() {
        assert_eq!(Function::Branin.check_params(&["x1", "x0"]), Ok(2));
        let names = ["x5", "x0", "x4", "x1", "x3", "x2"];
        assert_eq!(Function::Hartmann6.check_params(&names), Ok(6));
        assert_eq!(Function::Ackley.check_params(&["x0", "x1"]), Ok(2));
        let ten: Vec<String> = (0..10).rev().map(|i| format!("x{i}")).collect();
        let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
        assert_eq!(Function::Levy.check_params(&ten), Ok(10));
        let m = ["act", "n", "lr", "x2", "x1"];
        assert_eq!(Function::Mixed.check_params(&m), Ok(5));
    }

    #[test]
    fn check_params_names_missing_parameters() {
        let err = Function::Branin.check_params(&["x0"]).unwrap_err();
        assert_eq!(
            err,
            "function `branin` takes parameters x0, x1; missing: x1"
        );
        let err = Function::Mixed
            .check_params(&["x1", "x2", "lr", "n"])
            .unwrap_err();
        assert_eq!(
            err,
            "function `mixed` takes parameters x1, x2, lr, n, act; missing: act"
        );
    }

    #[test]
    fn check_params_names_extra_parameters() {
        let err = Function::Branin
            .check_params(&["x0", "x1", "x2"])
            .unwrap_err();
        assert_eq!(
            err,
            "function `branin` takes parameters x0, x1; not a parameter of it: x2"
        );
        let err = Function::Rosenbrock
            .check_params(&["x0", "y", "x1"])
            .unwrap_err();
        assert_eq!(
            err,
            "function `rosenbrock` takes parameters x0 .. x2 (a dimension d >= 2); \
             missing: x2; not a parameter of it: y"
        );
    }

    #[test]
    fn check_params_names_a_gap_in_the_indices() {
        let err = Function::Ackley
            .check_params(&["x0", "x1", "x3"])
            .unwrap_err();
        assert!(err.contains("missing: x2"), "{err}");
        assert!(err.contains("not a parameter of it: x3"), "{err}");
    }

    #[test]
    fn check_params_needs_two_dimensions() {
        let err = Function::StyblinskiTang.check_params(&["x0"]).unwrap_err();
        assert_eq!(
            err,
            "function `styblinski_tang` takes parameters x0 .. x{d-1} (a dimension d >= 2); \
             got 1 parameter(s)"
        );
        assert!(Function::Levy.check_params(&[]).is_err());
        assert!(Function::Mixed
            .check_params(&[])
            .unwrap_err()
            .contains("missing: x1, x2, lr, n, act"));
    }

    #[test]
    fn check_params_reports_repeats() {
        let err = Function::Branin
            .check_params(&["x0", "x1", "x1"])
            .unwrap_err();
        assert!(err.contains("given twice: x1"), "{err}");
    }

    #[test]
    fn evaluate_checks_names_first() {
        let err = Function::Hartmann6.evaluate(&point(&[0.5; 5])).unwrap_err();
        assert!(err.contains("missing: x5"), "{err}");
    }

    #[test]
    fn default_domains_contain_the_minimisers() {
        for f in Function::ALL {
            let dim = f.default_dim();
            let domain = f.default_domain(dim);
            assert_eq!(domain.len(), dim, "{}", f.name());
            let best = f.minimiser(dim);
            for (name, d) in &domain {
                let v = &best[name];
                let inside = match d {
                    Domain::Float { low, high, .. } => {
                        let x = v.as_f64().unwrap();
                        *low <= x && x <= *high
                    }
                    Domain::Int { low, high } => (*low..=*high).contains(&v.as_i64().unwrap()),
                    Domain::Categorical(c) => c.contains(&v.as_str().unwrap()),
                };
                assert!(inside, "{}: {name} = {v}", f.name());
            }
        }
        assert_eq!(
            Function::Ackley.default_domain(3)[2],
            (
                "x2".to_string(),
                Domain::Float {
                    low: -32.768,
                    high: 32.768,
                    log: false
                }
            )
        );
    }

    #[test]
    fn evaluation_is_bit_identical() {
        let x = point(&[0.5, -1.2, 2.0, 0.3, 3.3, -7.5, 9.1, 0.0, 1.0, -4.4]);
        for f in [Function::Levy, Function::Ackley, Function::StyblinskiTang] {
            let a = f.evaluate(&x).unwrap();
            let b = f.evaluate(&x.clone()).unwrap();
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }
}
