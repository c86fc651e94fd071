//! What a built-in model accepts: its description ([`ModelInfo`]) and
//! each tunable hyperparameter ([`HyperParam`]), with the check of a value
//! against it. The models themselves (and the list of them,
//! `objective::models::MODELS`) are the objective layer's; `load` and
//! `parse` are given that list, so `config` never depends on `objective`.

use crate::data::Task;
use crate::value::Value;

/// One tunable hyperparameter: its scikit-learn name, what it accepts and
/// its default. Used to validate search files and by `hpsearch models`.
#[derive(Clone, Copy, Debug)]
pub struct HyperParam {
    /// The name, as scikit-learn spells it (`C`, `max_depth`, …).
    pub name: &'static str,
    /// Accepted integers (inclusive), if any.
    pub ints: Option<(i64, i64)>,
    /// Accepted floats (inclusive), if any; ints inside it are accepted too.
    pub floats: Option<(f64, f64)>,
    /// Accepted strings.
    pub choices: &'static [&'static str],
    /// Strings of `choices` that only one task accepts (see
    /// [`HyperParam::check_task`]); the others suit every task.
    pub task_choices: &'static [(&'static str, Task)],
    /// Whether `true`/`false` are accepted.
    pub boolean: bool,
    /// The default, as a user would write it.
    pub default: &'static str,
    /// One line on what it does, for `hpsearch models`.
    pub help: &'static str,
}

/// Smallest positive float: the lower bound for "must be > 0".
pub const POSITIVE: f64 = f64::MIN_POSITIVE;

impl HyperParam {
    /// An empty description, to fill with struct update syntax.
    pub const fn new(name: &'static str, default: &'static str, help: &'static str) -> Self {
        HyperParam {
            name,
            ints: None,
            floats: None,
            choices: &[],
            task_choices: &[],
            boolean: false,
            default,
            help,
        }
    }

    /// Whether `v` is a value this parameter accepts; the error says what is.
    pub fn check(&self, v: &Value) -> Result<(), String> {
        let ok = match v {
            Value::Int(i) => {
                self.ints.is_some_and(|(lo, hi)| (lo..=hi).contains(i))
                    || self
                        .floats
                        .is_some_and(|(lo, hi)| (*i as f64) >= lo && (*i as f64) <= hi)
            }
            Value::Float(f) => self.floats.is_some_and(|(lo, hi)| *f >= lo && *f <= hi),
            Value::Str(s) => self.choices.contains(&s.as_str()),
            Value::Bool(_) => self.boolean,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("got {}, expected {}", show(v), self.accepts()))
        }
    }

    /// Whether `v`, already accepted by [`HyperParam::check`], suits
    /// `task`; the error says which choices do.
    pub fn check_task(&self, v: &Value, task: Task) -> Result<(), String> {
        let Value::Str(s) = v else { return Ok(()) };
        match self.task_choices.iter().find(|(c, _)| c == s) {
            Some((_, t)) if *t != task => {
                let fits: Vec<String> = self
                    .task_choices
                    .iter()
                    .filter(|(_, t)| *t == task)
                    .map(|(c, _)| format!("\"{c}\""))
                    .collect();
                Err(format!(
                    "\"{s}\" is for {}, but this search does {}; use {}",
                    t.name(),
                    task.name(),
                    fits.join(" or ")
                ))
            }
            _ => Ok(()),
        }
    }

    /// What the parameter accepts, in words.
    pub fn accepts(&self) -> String {
        let mut parts = Vec::new();
        if let Some((lo, hi)) = self.floats {
            parts.push(format!("a number in [{}, {}]", bound(lo), bound(hi)));
        } else if let Some((lo, hi)) = self.ints {
            if hi == i64::MAX {
                parts.push(format!("an integer >= {lo}"));
            } else {
                parts.push(format!("an integer in [{lo}, {hi}]"));
            }
        }
        if !self.choices.is_empty() {
            let c: Vec<String> = self.choices.iter().map(|c| format!("\"{c}\"")).collect();
            parts.push(format!("one of {}", c.join(", ")));
        }
        if self.boolean {
            parts.push("true or false".into());
        }
        parts.join(" or ")
    }
}

fn bound(x: f64) -> String {
    if x == POSITIVE {
        "0 (exclusive)".into()
    } else if x == f64::MAX {
        "inf".into()
    } else {
        x.to_string()
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// A built-in model: its name in search files, the tasks it serves and its
/// tunable hyperparameters.
#[derive(Clone, Copy, Debug)]
pub struct ModelInfo {
    /// The name search files use (`knn`, `svm`, …).
    pub name: &'static str,
    /// One line on what it is, for `hpsearch models`.
    pub summary: &'static str,
    /// The tasks it serves.
    pub tasks: &'static [Task],
    /// Whether it predicts class probabilities (needed by `log_loss`).
    pub probabilities: bool,
    /// Whether it takes missing feature values (NaN) natively, so that
    /// `impute = "none"` passes missing cells on to it instead of refusing
    /// them (gradient boosting: a learned direction at each split).
    pub missing_values: bool,
    /// Its tunable hyperparameters.
    pub params: &'static [HyperParam],
}

impl ModelInfo {
    /// The hyperparameter called `name`, if the model has one.
    pub fn param(&self, name: &str) -> Option<&'static HyperParam> {
        self.params.iter().find(|p| p.name == name)
    }
}
