//! The search space: parameter kinds, their validation, sampling from the
//! unit interval and grid enumeration.
//!
//! Parameters are kept sorted by name. The order is part of the results
//! format: a grid enumerates in it and a random proposal draws one number
//! per parameter in it, so reordering the keys of a search file changes
//! nothing.
//!
//! A parameter may be conditional (`when = { parent = value }`): the
//! rules, and the grid order of such a space, are in `conditions`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::value::{Params, Value};

mod conditions;
mod grids;

pub use conditions::Condition;

/// Column names the journal uses itself; a parameter may not take them.
pub const RESERVED: &[&str] = &[
    "trial", "seed", "status", "value", "error", "check", "extra",
];

/// The set of values one parameter may take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Domain {
    /// A real interval, optionally log-scaled, optionally discretised by a
    /// `step` or into `steps` points (log-spaced when `log`).
    Float {
        /// The lower bound, included; above 0 when `log`.
        low: f64,
        /// The upper bound, included; above `low`.
        high: f64,
        /// Sample (and space `steps` points) uniformly in `ln x`.
        log: bool,
        /// Grid spacing: the points are `low + k * step` up to `high` (never with
        /// `log`).
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<f64>,
        /// Grid size: this many points from `low` to `high` inclusive, 2 to
        /// 1,000,000 (never with `step`).
        #[serde(skip_serializing_if = "Option::is_none")]
        steps: Option<u64>,
    },
    /// An integer interval with a `step` (default 1), optionally sampled on
    /// a log scale.
    Int {
        /// The lower bound, included; at least 1 when `log`.
        low: i64,
        /// The upper bound, included when `high - low` is a multiple of `step`.
        high: i64,
        /// Sample log-uniformly (each integer gets the mass of its rounding
        /// interval); only with `step = 1`.
        log: bool,
        /// The spacing of the values `low, low + step, …`; at least 1.
        step: i64,
    },
    /// Unordered choices.
    Categorical {
        /// The choices, in the order written; no two equal.
        choices: Vec<Value>,
    },
    /// An explicit list of numbers (`values = [...]` on a float or int).
    Values {
        /// The numbers, in the order written.
        values: Vec<Value>,
    },
}

/// One named parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// The parameter's name (`[space.<name>]`), not one of [`RESERVED`].
    pub name: String,
    /// The values it may take.
    pub domain: Domain,
    /// `when`: the condition under which it is active; `None`: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

/// A validated search space, parameters sorted by name.
///
/// ```
/// use std::collections::BTreeMap;
/// use hpsearch::space::{ParamWire, Space};
/// use hpsearch::value::Value;
///
/// // The `[space]` table of a search file.
/// let wire: BTreeMap<String, ParamWire> = toml::from_str(
///     r#"
///     kernel = { type = "categorical", choices = ["rbf", "linear"] }
///     C = { type = "float", low = 0.001, high = 1000.0, log = true, steps = 7 }
///     "#,
/// )?;
/// let space = Space::from_wire(&wire).map_err(|(name, why)| format!("[space.{name}]: {why}"))?;
/// assert_eq!(space.names(), ["C", "kernel"]);
///
/// // Grid point 0, then 1: the last parameter in name order varies fastest.
/// assert_eq!(space.grid_size(), Ok(14));
/// let first = space.grid_point(0);
/// assert_eq!(first["kernel"], Value::Str("rbf".into()));
/// assert!((first["C"].as_f64().unwrap_or(0.0) - 0.001).abs() < 1e-15);
/// assert_eq!(space.grid_point(1)["kernel"], Value::Str("linear".into()));
///
/// // A strategy works in the unit cube; `from_unit` maps a point to values.
/// let params = space.from_unit(&[0.5, 0.9]);
/// assert_eq!(params["C"], Value::Float(1.0));
/// assert_eq!(params["kernel"], Value::Str("linear".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Space {
    /// The parameters, sorted by name (for a list of grids, the union of
    /// the sub-grids' parameters: see `grids`).
    pub params: Vec<Param>,
    /// A list of grids (`[[grid]]`, strategy grid only): the sub-grids in
    /// the order written, enumerated one after the other; empty for a
    /// plain `[space]`.
    pub grids: Vec<Space>,
}

/// One `[space.<name>]` entry as written in the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamWire {
    /// `type`: `"float"`, `"int"` or `"categorical"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `low`: a number (an integer for `int`).
    pub low: Option<toml::Value>,
    /// `high`: a number (an integer for `int`).
    pub high: Option<toml::Value>,
    /// `log` (default `false`).
    pub log: Option<bool>,
    /// `step`: a positive number (an integer for `int`, default 1).
    pub step: Option<toml::Value>,
    /// `steps`: how many grid points a float range has.
    pub steps: Option<i64>,
    /// `choices` of a categorical: strings, numbers or booleans, no duplicate.
    pub choices: Option<Vec<toml::Value>>,
    /// `values`: an explicit list of numbers instead of a range.
    pub values: Option<Vec<toml::Value>>,
    /// `when = { parent = value }` (or a list of values): the parameter
    /// is active only under that condition.
    pub when: Option<toml::Table>,
}

/// Largest grid hpsearch enumerates for one parameter (an int range with a
/// tiny step would otherwise exhaust memory).
const MAX_POINTS: u64 = 1_000_000;

impl Param {
    /// Validate one parameter. The error says what is wrong; the caller adds
    /// the file and `[space.<name>]`.
    pub fn from_wire(name: &str, w: &ParamWire) -> Result<Param, String> {
        check_name(name)?;
        let domain = match w.kind.as_str() {
            "float" => float_domain(w)?,
            "int" => int_domain(w)?,
            "categorical" => categorical_domain(w)?,
            other => {
                return Err(format!(
                    "unknown type \"{other}\"; expected \"float\", \"int\" or \"categorical\""
                ))
            }
        };
        let when = w.when.as_ref().map(conditions::from_wire).transpose()?;
        Ok(Param {
            name: name.to_string(),
            domain,
            when,
        })
    }

    /// Every grid point in order, or why the parameter has no grid.
    pub fn grid(&self) -> Result<Vec<Value>, String> {
        match &self.domain {
            Domain::Categorical { choices } => Ok(choices.clone()),
            Domain::Values { values } => Ok(values.clone()),
            Domain::Int { .. } => Ok((0..self.n_points().unwrap_or(0))
                .map(|k| self.point(k))
                .collect()),
            Domain::Float { step, steps, .. } => {
                if step.is_none() && steps.is_none() {
                    Err("a grid needs `steps` (or `step`, or explicit `values`) on a continuous float range".into())
                } else {
                    Ok((0..self.n_points().unwrap_or(0))
                        .map(|k| self.point(k))
                        .collect())
                }
            }
        }
    }

    /// The number of distinct values, or `None` for a continuous range.
    pub fn n_points(&self) -> Option<u64> {
        match &self.domain {
            Domain::Categorical { choices } => Some(choices.len() as u64),
            Domain::Values { values } => Some(values.len() as u64),
            Domain::Int {
                low, high, step, ..
            } => Some(((*high as i128 - *low as i128) / *step as i128) as u64 + 1),
            Domain::Float {
                low,
                high,
                step,
                steps,
                ..
            } => match (step, steps) {
                (_, Some(n)) => Some(*n),
                (Some(s), None) => Some(float_step_count(*low, *high, *s)),
                (None, None) => None,
            },
        }
    }

    /// The k-th discrete value (`k < n_points()`).
    fn point(&self, k: u64) -> Value {
        match &self.domain {
            Domain::Categorical { choices } => choices[k as usize].clone(),
            Domain::Values { values } => values[k as usize].clone(),
            Domain::Int { low, step, .. } => Value::Int(low + k as i64 * step),
            Domain::Float {
                low,
                high,
                log,
                step,
                steps,
            } => {
                if let Some(n) = steps {
                    Value::Float(spaced(*low, *high, *log, k, *n))
                } else {
                    // low + k*step, never accumulated, so no drift.
                    Value::Float((low + k as f64 * step.unwrap_or(0.0)).min(*high))
                }
            }
        }
    }

    /// Map `u` in [0, 1) to a value: uniform over the points of a discrete
    /// parameter, uniform (or log-uniform) over a continuous range.
    pub fn from_unit(&self, u: f64) -> Value {
        if let Some(n) = self.n_points() {
            if let Domain::Int {
                low,
                high,
                log: true,
                step: 1,
            } = self.domain
            {
                // Log-uniform over [low - 0.5, high + 0.5], rounded: each
                // integer gets the mass of its rounding interval.
                let (a, b) = ((low as f64 - 0.5).ln(), (high as f64 + 0.5).ln());
                let x = (a + u * (b - a)).exp().round() as i64;
                return Value::Int(x.clamp(low, high));
            }
            let k = ((u * n as f64) as u64).min(n - 1);
            return self.point(k);
        }
        match self.domain {
            Domain::Float { low, high, log, .. } => {
                let x = if log {
                    (low.ln() + u * (high.ln() - low.ln())).exp()
                } else {
                    low + u * (high - low)
                };
                Value::Float(x.clamp(low, high))
            }
            // Every other domain is discrete and returned above.
            _ => self.point(0),
        }
    }

    /// The inverse of [`Param::from_unit`]: where `v` sits in [0, 1]. A
    /// discrete value maps to the middle of its cell, `(k + 0.5) / n`; a
    /// value outside the parameter maps to 0.5.
    pub fn to_unit(&self, v: &Value) -> f64 {
        if let Domain::Int {
            low,
            high,
            log: true,
            step: 1,
        } = self.domain
        {
            let (a, b) = ((low as f64 - 0.5).ln(), (high as f64 + 0.5).ln());
            return v
                .as_f64()
                .map_or(0.5, |x| ((x.ln() - a) / (b - a)).clamp(0.0, 1.0));
        }
        if let Domain::Categorical { choices: list } | Domain::Values { values: list } =
            &self.domain
        {
            let n = list.len() as f64;
            return list
                .iter()
                .position(|c| c == v)
                .map_or(0.5, |k| (k as f64 + 0.5) / n);
        }
        if let Some(n) = self.n_points() {
            // The cell computed directly (strategies call this for every
            // observed trial), checked with `point`; a search otherwise.
            let guess = match (&self.domain, v) {
                (Domain::Int { low, step, .. }, Value::Int(i)) => {
                    Some((*i as i128 - *low as i128) / *step as i128)
                }
                (
                    Domain::Float {
                        low,
                        step: Some(st),
                        ..
                    },
                    Value::Float(x),
                ) => Some(((x - low) / st).round() as i128),
                _ => None,
            };
            if let Some(k) = guess.filter(|k| (0..n as i128).contains(k)) {
                if self.point(k as u64) == *v {
                    return (k as f64 + 0.5) / n as f64;
                }
            }
            return (0..n)
                .find(|&k| self.point(k) == *v)
                .map_or(0.5, |k| (k as f64 + 0.5) / n as f64);
        }
        match (&self.domain, v.as_f64()) {
            (Domain::Float { low, high, log, .. }, Some(x)) => {
                let u = if *log {
                    (x.ln() - low.ln()) / (high.ln() - low.ln())
                } else {
                    (x - low) / (high - low)
                };
                u.clamp(0.0, 1.0)
            }
            _ => 0.5,
        }
    }

    /// Whether `v` is a value of this parameter (on its grid or step).
    pub fn contains(&self, v: &Value) -> bool {
        match &self.domain {
            Domain::Categorical { choices } => choices.contains(v),
            Domain::Values { values } => values.contains(v),
            Domain::Int {
                low, high, step, ..
            } => v
                .as_i64()
                .is_some_and(|i| i >= *low && i <= *high && (i - low) % step == 0),
            Domain::Float {
                low, high, steps, ..
            } => match v {
                Value::Float(x) if *x >= *low && *x <= *high => match (steps, self.n_points()) {
                    (None, None) => true,
                    (_, Some(n)) => (0..n).any(|k| self.point(k) == *v),
                    (Some(_), None) => false,
                },
                _ => false,
            },
        }
    }
}

/// `n` points from `low` to `high` inclusive, evenly spaced (in log10 when
/// `log`, as numpy's `logspace`), the last one exactly `high`.
fn spaced(low: f64, high: f64, log: bool, k: u64, n: u64) -> f64 {
    if k + 1 >= n {
        return high;
    }
    let t = k as f64 / (n - 1) as f64;
    if log {
        let (a, b) = (low.log10(), high.log10());
        10f64.powf(a + t * (b - a))
    } else {
        low + t * (high - low)
    }
}

fn float_step_count(low: f64, high: f64, step: f64) -> u64 {
    // A tolerance of 1e-9 steps keeps `high` when (high-low)/step is whole
    // but rounds to just below an integer.
    ((high - low) / step + 1e-9).floor() as u64 + 1
}

pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !ok_start || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "parameter name `{name}` must start with an ASCII letter (a-z, A-Z) or `_` and hold \
             only ASCII letters, digits and `_`"
        ));
    }
    if RESERVED.contains(&name) || name.starts_with("fold_") {
        return Err(format!(
            "parameter name `{name}` is reserved for a column of trials.csv ({}, fold_<k>); rename it",
            RESERVED.join(", ")
        ));
    }
    Ok(())
}

fn forbid(w: &ParamWire, keys: &[&str], kind: &str) -> Result<(), String> {
    for key in keys {
        let present = match *key {
            "low" => w.low.is_some(),
            "high" => w.high.is_some(),
            "log" => w.log.is_some(),
            "step" => w.step.is_some(),
            "steps" => w.steps.is_some(),
            "choices" => w.choices.is_some(),
            "values" => w.values.is_some(),
            _ => false,
        };
        if present {
            return Err(format!("`{key}` cannot be used {kind}"));
        }
    }
    Ok(())
}

fn number(v: &toml::Value, key: &str) -> Result<f64, String> {
    match v {
        toml::Value::Float(f) if f.is_finite() => Ok(*f),
        toml::Value::Integer(i) => Ok(*i as f64),
        other => Err(format!("`{key}` must be a finite number, got {other}")),
    }
}

fn integer(v: &toml::Value, key: &str) -> Result<i64, String> {
    match v {
        toml::Value::Integer(i) => Ok(*i),
        other => Err(format!("`{key}` must be an integer, got {other}")),
    }
}

fn required<'a>(v: &'a Option<toml::Value>, key: &str) -> Result<&'a toml::Value, String> {
    v.as_ref().ok_or_else(|| {
        format!("missing `{key}`: a range needs `low` and `high` (or give explicit `values`)")
    })
}

/// A key equal for two values exactly when they are `==` (so `0.0` and
/// `-0.0` share one), ordered, for finding repeats in O(n log n): a list
/// of 80,000 values checked pairwise took seconds.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum RepeatKey<'a> {
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(&'a str),
}

fn repeat_key(v: &Value) -> RepeatKey<'_> {
    match v {
        Value::Bool(b) => RepeatKey::Bool(*b),
        Value::Int(i) => RepeatKey::Int(*i),
        // Finite (checked by the callers); +0.0 stands for both zeros.
        Value::Float(f) => RepeatKey::Float(if *f == 0.0 { 0 } else { f.to_bits() }),
        Value::Str(s) => RepeatKey::Str(s),
    }
}

/// The first value of `list` that an earlier one equals.
fn first_repeat(list: &[Value]) -> Option<&Value> {
    let mut seen = std::collections::BTreeSet::new();
    list.iter().find(|v| !seen.insert(repeat_key(v)))
}

fn explicit_values(values: &[toml::Value], int: bool) -> Result<Domain, String> {
    if values.is_empty() {
        return Err("`values` is empty; list at least one value".into());
    }
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for v in values {
        out.push(if int {
            Value::Int(integer(v, "values")?)
        } else {
            Value::Float(number(v, "values")?)
        });
    }
    if let Some(val) = first_repeat(&out) {
        return Err(format!("`values` lists {val} twice"));
    }
    Ok(Domain::Values { values: out })
}

fn float_domain(w: &ParamWire) -> Result<Domain, String> {
    forbid(
        w,
        &["choices"],
        "with type = \"float\" (use type = \"categorical\")",
    )?;
    if let Some(values) = &w.values {
        forbid(
            w,
            &["low", "high", "log", "step", "steps"],
            "together with `values`",
        )?;
        return explicit_values(values, false);
    }
    let low = number(required(&w.low, "low")?, "low")?;
    let high = number(required(&w.high, "high")?, "high")?;
    if low >= high {
        return Err(format!("low must be below high (got {low} >= {high})"));
    }
    let log = w.log.unwrap_or(false);
    if log && low <= 0.0 {
        return Err(format!(
            "log = true needs low > 0 (got low = {low}); use a positive lower bound"
        ));
    }
    let step = match &w.step {
        None => None,
        Some(s) => {
            let s = number(s, "step")?;
            if s <= 0.0 {
                return Err(format!("step must be positive (got {s})"));
            }
            if log {
                return Err(
                    "step cannot be combined with log = true; use `steps` for log-spaced points"
                        .into(),
                );
            }
            if float_step_count(low, high, s) > MAX_POINTS {
                return Err(format!("step {s} gives more than {MAX_POINTS} points"));
            }
            Some(s)
        }
    };
    let steps = match w.steps {
        None => None,
        Some(n) => {
            if step.is_some() {
                return Err("give either `step` or `steps`, not both".into());
            }
            if !(2..=MAX_POINTS as i64).contains(&n) {
                return Err(format!(
                    "steps must be between 2 and {MAX_POINTS} (got {n})"
                ));
            }
            Some(n as u64)
        }
    };
    Ok(Domain::Float {
        low,
        high,
        log,
        step,
        steps,
    })
}

fn int_domain(w: &ParamWire) -> Result<Domain, String> {
    forbid(
        w,
        &["choices"],
        "with type = \"int\" (use type = \"categorical\")",
    )?;
    forbid(
        w,
        &["steps"],
        "with type = \"int\": an int range's grid is every `step`",
    )?;
    if let Some(values) = &w.values {
        forbid(w, &["low", "high", "log", "step"], "together with `values`")?;
        return explicit_values(values, true);
    }
    let low = integer(required(&w.low, "low")?, "low")?;
    let high = integer(required(&w.high, "high")?, "high")?;
    if low >= high {
        return Err(format!("low must be below high (got {low} >= {high})"));
    }
    let log = w.log.unwrap_or(false);
    if log && low < 1 {
        return Err(format!("log = true needs low >= 1 (got low = {low})"));
    }
    let step = match &w.step {
        None => 1,
        Some(s) => {
            let s = integer(s, "step")?;
            if s < 1 {
                return Err(format!("step must be at least 1 (got {s})"));
            }
            if log && s != 1 {
                return Err("step cannot be combined with log = true".into());
            }
            s
        }
    };
    if ((high as i128 - low as i128) / step as i128) as u64 >= MAX_POINTS {
        return Err(format!(
            "the range has more than {MAX_POINTS} values; raise `step` or use a float range"
        ));
    }
    Ok(Domain::Int {
        low,
        high,
        log,
        step,
    })
}

fn categorical_domain(w: &ParamWire) -> Result<Domain, String> {
    forbid(
        w,
        &["low", "high", "log", "step", "steps", "values"],
        "with type = \"categorical\" (it takes `choices`)",
    )?;
    let choices = w
        .choices
        .as_ref()
        .ok_or("missing `choices`: list the values to choose from")?;
    if choices.is_empty() {
        return Err("`choices` is empty; list at least one value".into());
    }
    let mut out: Vec<Value> = Vec::with_capacity(choices.len());
    for c in choices {
        let v = Value::from_toml(c)
            .ok_or_else(|| format!("choice {c} is not a string, number or boolean"))?;
        if let Value::Float(f) = v {
            if !f.is_finite() {
                return Err(format!("choice {f} is not finite"));
            }
        }
        out.push(v);
    }
    if let Some(v) = first_repeat(&out) {
        let shown = match v {
            Value::Str(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        return Err(format!("`choices` lists {shown} twice"));
    }
    Ok(Domain::Categorical { choices: out })
}

/// The size of a grid, which can exceed any machine integer (four
/// parameters of a million points each make 10^24).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridCount {
    /// The exact count, `None` beyond `u128::MAX`.
    pub exact: Option<u128>,
    /// log10 of the count.
    pub log10: f64,
}

impl GridCount {
    /// The count when it is at most `limit`.
    pub fn at_most(&self, limit: u64) -> Option<u64> {
        self.exact
            .and_then(|n| u64::try_from(n).ok())
            .filter(|&n| n <= limit)
    }
}

/// The exact count up to 2^64, else "more than 2^64 (about 1.0e24)".
impl std::fmt::Display for GridCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at_most(u64::MAX) {
            Some(n) => write!(f, "{n}"),
            None => {
                let exponent = self.log10.floor();
                let mantissa = 10f64.powf(self.log10 - exponent);
                write!(f, "more than 2^64 (about {mantissa:.1}e{exponent})")
            }
        }
    }
}

impl Space {
    /// Build a space from `[space]`, sorted by name.
    pub fn from_wire(wire: &BTreeMap<String, ParamWire>) -> Result<Space, (String, String)> {
        let mut params = Vec::with_capacity(wire.len());
        for (name, w) in wire {
            params.push(Param::from_wire(name, w).map_err(|e| (name.clone(), e))?);
        }
        conditions::resolve(&mut params)?;
        Ok(Space {
            params,
            grids: Vec::new(),
        })
    }

    /// Parameter names in order.
    pub fn names(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.name.as_str()).collect()
    }

    /// The number of grid points (saturating), or the first parameter
    /// that has no grid and why.
    pub fn grid_size(&self) -> Result<u64, (String, String)> {
        if self.is_conditional() || !self.grids.is_empty() {
            let n = self.grid_count()?;
            return Ok(n
                .exact
                .map_or(u64::MAX, |e| u64::try_from(e).unwrap_or(u64::MAX)));
        }
        let mut n: u64 = 1;
        for p in &self.params {
            p.grid().map_err(|e| (p.name.clone(), e))?;
            n = n.saturating_mul(p.n_points().unwrap_or(1));
        }
        Ok(n)
    }

    /// The number of grid points, exactly up to 2^128 and approximately
    /// beyond, or the first parameter that has no grid and why.
    pub fn grid_count(&self) -> Result<GridCount, (String, String)> {
        if !self.grids.is_empty() {
            return self.grids_count();
        }
        if self.is_conditional() {
            for p in &self.params {
                p.grid().map_err(|e| (p.name.clone(), e))?;
            }
            return Ok(self.conditional_grid_count());
        }
        let mut exact: Option<u128> = Some(1);
        let mut log10 = 0.0f64;
        for p in &self.params {
            p.grid().map_err(|e| (p.name.clone(), e))?;
            let n = p.n_points().unwrap_or(1);
            exact = exact.and_then(|e| e.checked_mul(u128::from(n)));
            log10 += (n.max(1) as f64).log10();
        }
        Ok(GridCount { exact, log10 })
    }

    /// Grid point `index` in the documented order: the cartesian product
    /// with parameters in name order, the **last** parameter varying
    /// fastest (like nested loops, first name outermost). A conditional
    /// space enumerates its distinct active combinations instead, in the
    /// order `conditions` documents (the same order without a condition),
    /// and a list of grids its sub-grids one after the other (`grids`).
    pub fn grid_point(&self, mut index: u64) -> Params {
        if !self.grids.is_empty() {
            return self.grids_point(index);
        }
        if self.is_conditional() {
            return self.conditional_grid_point(index);
        }
        let mut out = Params::new();
        for p in self.params.iter().rev() {
            let n = p.n_points().unwrap_or(1).max(1);
            out.insert(p.name.clone(), p.point(index % n));
            index /= n;
        }
        out
    }

    /// The unit-cube coordinates of `params`, one per parameter in name
    /// order: 0.5 for a missing parameter, 0 for a conditional one that is
    /// missing (inactive: the fixed value a model-based strategy sees).
    pub fn to_unit(&self, params: &Params) -> Vec<f64> {
        self.params
            .iter()
            .map(|p| match params.get(&p.name) {
                Some(v) => p.to_unit(v),
                None if p.when.is_some() => 0.0,
                None => 0.5,
            })
            .collect()
    }

    /// Values for a vector of unit-interval numbers, one per parameter in
    /// name order; the coordinates of parameters the values leave
    /// inactive are ignored (the parameters are left out).
    pub fn from_unit(&self, u: &[f64]) -> Params {
        let mut out: Params = self
            .params
            .iter()
            .zip(u)
            .map(|(p, &x)| (p.name.clone(), p.from_unit(x)))
            .collect();
        self.drop_inactive(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(src: &str) -> ParamWire {
        toml::from_str(src).unwrap()
    }

    fn param(src: &str) -> Result<Param, String> {
        Param::from_wire("p", &wire(src))
    }

    #[test]
    fn low_must_be_below_high() {
        let e = param("type = 'float'\nlow = 10.0\nhigh = 1.0").unwrap_err();
        assert!(e.contains("low must be below high (got 10 >= 1)"), "{e}");
    }

    #[test]
    fn log_needs_positive_low() {
        assert!(param("type='float'\nlow=0.0\nhigh=1.0\nlog=true")
            .unwrap_err()
            .contains("low > 0"));
    }

    #[test]
    fn grid_over_steps_is_logspace() {
        let p = param("type='float'\nlow=0.001\nhigh=1000.0\nlog=true\nsteps=7").unwrap();
        let g: Vec<f64> = p
            .grid()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let want = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0];
        for (a, b) in g.iter().zip(want) {
            assert!((a - b).abs() <= 1e-12 * b, "{a} vs {b}");
        }
        assert_eq!(g[6], 1000.0);
    }

    #[test]
    fn continuous_range_has_no_grid() {
        let p = param("type='float'\nlow=0.0\nhigh=1.0").unwrap();
        assert!(p.grid().unwrap_err().contains("steps"));
    }

    #[test]
    fn int_grid_honours_step() {
        let p = param("type='int'\nlow=2\nhigh=16\nstep=4").unwrap();
        let g: Vec<i64> = p
            .grid()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(g, vec![2, 6, 10, 14]);
        assert!(p.contains(&Value::Int(10)) && !p.contains(&Value::Int(11)));
    }

    #[test]
    fn grid_order_last_parameter_fastest() {
        let mut w = BTreeMap::new();
        w.insert("a".to_string(), wire("type='int'\nlow=0\nhigh=1"));
        w.insert(
            "b".to_string(),
            wire("type='categorical'\nchoices=['x','y','z']"),
        );
        let s = Space::from_wire(&w).unwrap();
        assert_eq!(s.grid_size().unwrap(), 6);
        let p = s.grid_point(1);
        assert_eq!(p["a"], Value::Int(0));
        assert_eq!(p["b"], Value::Str("y".into()));
        let p = s.grid_point(3);
        assert_eq!(p["a"], Value::Int(1));
        assert_eq!(p["b"], Value::Str("x".into()));
    }

    #[test]
    fn duplicate_choices_rejected() {
        assert!(param("type='categorical'\nchoices=['a','a']")
            .unwrap_err()
            .contains("twice"));
        assert!(param("type='categorical'\nchoices=[]")
            .unwrap_err()
            .contains("empty"));
    }

    #[test]
    fn name_rules_say_ascii() {
        let w = wire("type='int'\nlow=0\nhigh=1");
        for n in ["λ", "é1", "1x", "a-b"] {
            let e = Param::from_wire(n, &w).unwrap_err();
            assert!(e.contains("must start with an ASCII letter"), "{n}: {e}");
            assert!(e.contains("only ASCII letters, digits and `_`"), "{n}: {e}");
        }
    }

    #[test]
    fn repeats_found_in_long_lists() {
        let list: Vec<String> = (0..100_000).map(|i| format!("{i}.5")).collect();
        let ok = format!("type='float'\nvalues=[{}]", list.join(","));
        assert!(param(&ok).is_ok());
        let e = param(&format!("type='float'\nvalues=[{}, 77.5]", list.join(","))).unwrap_err();
        assert_eq!(e, "`values` lists 77.5 twice");
        let e = param("type='float'\nvalues=[0.0, 1.0, -0.0]").unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = param("type='categorical'\nchoices=['a', 1, 1.0, true, 'a']").unwrap_err();
        assert_eq!(e, "`choices` lists \"a\" twice");
        assert!(param("type='categorical'\nchoices=[1, 1.0, '1', true]").is_ok());
    }

    #[test]
    fn grid_count_beyond_u64() {
        let mut w = BTreeMap::new();
        for name in ["a", "b", "c", "d"] {
            w.insert(name.to_string(), wire("type='int'\nlow=1\nhigh=1000000"));
        }
        let s = Space::from_wire(&w).unwrap();
        let n = s.grid_count().unwrap();
        assert_eq!(n.exact, Some(10u128.pow(24)));
        assert_eq!(n.at_most(u64::MAX), None);
        assert_eq!(n.to_string(), "more than 2^64 (about 1.0e24)");
        w.remove("d");
        let n = Space::from_wire(&w).unwrap().grid_count().unwrap();
        assert_eq!(n.to_string(), "1000000000000000000");
        assert_eq!(n.at_most(u64::MAX), Some(10u64.pow(18)));
    }

    #[test]
    fn reserved_names_rejected() {
        let w = wire("type='int'\nlow=0\nhigh=1");
        for n in ["value", "seed", "fold_0", "1x", "a-b"] {
            assert!(Param::from_wire(n, &w).is_err(), "{n}");
        }
    }

    #[test]
    fn from_unit_stays_inside_and_on_the_grid() {
        let ps = [
            param("type='float'\nlow=1e-4\nhigh=10.0\nlog=true").unwrap(),
            param("type='float'\nlow=-1.0\nhigh=2.0\nstep=0.5").unwrap(),
            param("type='int'\nlow=1\nhigh=100\nlog=true").unwrap(),
            param("type='int'\nlow=-3\nhigh=9\nstep=3").unwrap(),
            param("type='categorical'\nchoices=['a', 1, true]").unwrap(),
        ];
        for p in &ps {
            for k in 0..1000 {
                let u = k as f64 / 1000.0;
                let v = p.from_unit(u);
                assert!(p.contains(&v), "{:?} {u} -> {v:?}", p.domain);
            }
            assert!(p.contains(&p.from_unit(1.0 - f64::EPSILON)));
        }
    }

    #[test]
    fn to_unit_inverts_from_unit() {
        let ps = [
            param("type='float'\nlow=1e-4\nhigh=10.0\nlog=true").unwrap(),
            param("type='float'\nlow=-1.0\nhigh=2.0").unwrap(),
            param("type='float'\nlow=-1.0\nhigh=2.0\nstep=0.5").unwrap(),
            param("type='int'\nlow=1\nhigh=100\nlog=true").unwrap(),
            param("type='int'\nlow=-3\nhigh=9\nstep=3").unwrap(),
            param("type='categorical'\nchoices=['a', 1, true]").unwrap(),
        ];
        for p in &ps {
            for k in 0..200 {
                let v = p.from_unit(k as f64 / 200.0);
                let back = p.from_unit(p.to_unit(&v));
                assert_eq!(back, v, "{:?}", p.domain);
            }
        }
        let cat = &ps[5];
        assert_eq!(cat.to_unit(&Value::Int(1)), 0.5);
        assert!((ps[1].to_unit(&Value::Float(0.5)) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn values_reject_wrong_keys() {
        assert!(param("type='float'\nvalues=[1.0]\nlow=0.0")
            .unwrap_err()
            .contains("together with `values`"));
        assert!(param("type='int'\nvalues=[1.5]").is_err());
        assert!(param("type='float'\nlow=0.0\nhigh=1.0\nchoices=[1]").is_err());
        assert!(param("type='float'\nlow=0.0\nhigh=1.0\nstep=0.1\nsteps=3").is_err());
    }
}
