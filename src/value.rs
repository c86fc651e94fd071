//! Parameter values and parameter maps, shared by every module.
//!
//! A trial's parameters are a `BTreeMap`, so iteration is in name order
//! everywhere: the journal's columns, the canonical hash and the order in
//! which models read their settings never depend on a hash seed.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One parameter value as written in a search file or proposed by a strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A boolean (a categorical choice `true` or `false`).
    Bool(bool),
    /// An integer (an `int` parameter, or an integer choice).
    Int(i64),
    /// A float (a `float` parameter, or a float choice).
    Float(f64),
    /// A string (a categorical choice).
    Str(String),
}

/// A trial's parameters, ordered by name.
///
/// ```
/// use hpsearch::value::{Params, Value};
///
/// let mut params = Params::new();
/// params.insert("max_depth".into(), Value::Int(4));
/// params.insert("C".into(), Value::Float(0.5));
/// params.insert("kernel".into(), Value::Str("rbf".into()));
/// // Iteration is in name order (uppercase sorts first), whatever the
/// // insertion order.
/// let names: Vec<&str> = params.keys().map(String::as_str).collect();
/// assert_eq!(names, ["C", "kernel", "max_depth"]);
/// assert_eq!(params["C"].as_f64(), Some(0.5));
/// assert_eq!(params["max_depth"].to_string(), "4");
/// ```
pub type Params = BTreeMap<String, Value>;

impl Value {
    /// The value as a float, for ints and floats.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as an integer; a float is accepted only when it is whole.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }

    /// The value as a string, for strings only.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a boolean, for booleans only.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Convert a TOML value; tables, arrays and dates are not parameter values.
    pub fn from_toml(v: &toml::Value) -> Option<Value> {
        match v {
            toml::Value::Boolean(b) => Some(Value::Bool(*b)),
            toml::Value::Integer(i) => Some(Value::Int(*i)),
            toml::Value::Float(f) => Some(Value::Float(*f)),
            toml::Value::String(s) => Some(Value::Str(s.clone())),
            _ => None,
        }
    }
}

/// A float in shortest round-trip form, with an exponent for very large or
/// small magnitudes (`1e-12`, `0.1`, `1.0`, as Python's `repr`): parsing
/// the text back gives the same bits, which the journal relies on.
pub fn fmt_f64(x: f64) -> String {
    format!("{x:?}")
}

/// Floats print as [`fmt_f64`].
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_display_round_trips() {
        for x in [0.1, 1e-5, 1.0 / 3.0, 123456.789, 1e300, -2.5e-300, 7.0] {
            let s = Value::Float(x).to_string();
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{s}");
        }
    }

    #[test]
    fn float_text_is_short() {
        assert_eq!(Value::Float(1e-12).to_string(), "1e-12");
        assert_eq!(Value::Float(0.5).to_string(), "0.5");
        assert_eq!(Value::Float(2.0).to_string(), "2.0");
        assert_eq!(fmt_f64(f64::NAN).parse::<f64>().map(f64::is_nan), Ok(true));
    }

    #[test]
    fn whole_floats_read_as_ints() {
        assert_eq!(Value::Float(3.0).as_i64(), Some(3));
        assert_eq!(Value::Float(3.5).as_i64(), None);
        assert_eq!(Value::Str("3".into()).as_i64(), None);
    }
}
