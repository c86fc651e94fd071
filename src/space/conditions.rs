//! Conditional parameters: `when = { parent = value }` (or a list of
//! values) on a `[space]` entry, as ConfigSpace's `InCondition` and
//! Optuna's define-by-run `if`s. This file owns the condition's checks,
//! which parameters a point activates, and the grid of distinct active
//! combinations; it never looks at strategies or results.
//!
//! # The rules (part of the results format)
//!
//! * A condition has one parent, a categorical or int parameter (never a
//!   float); the listed values are ones the parent can take, kept in the
//!   parent's own order (choices as written, ints ascending).
//! * A parameter is **active** when it has no condition, or when its
//!   parent is active and the parent's value is one of the listed ones.
//!   Parents may be conditional themselves (any depth); a cycle is an
//!   error.
//! * An inactive parameter is left out of the trial's `Params` (so out of
//!   the objective's arguments, and an empty cell in `trials.csv`).
//! * **Grid order** of a conditional space: the parameters form a forest
//!   (each child under its parent). The unconditional parameters are its
//!   roots and vary as an unconditional grid does (name order, the last
//!   fastest). Under a root, each of its values in order is followed by
//!   every combination of the children that value activates (children in
//!   name order, the last fastest; a grandchild likewise under its
//!   parent). Only distinct active combinations are enumerated: a value
//!   that activates no child is one point. Without any condition this is
//!   exactly the plain cartesian order.

use serde::{Deserialize, Serialize};

use super::{Domain, GridCount, Param, Space};
use crate::value::{Params, Value};

/// When a parameter is active: its parent's value is one of `values`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The parent parameter's name (categorical or int).
    pub parent: String,
    /// The parent's values that activate the parameter, in the parent's
    /// order (choices as written, ints ascending), no repeats.
    pub values: Vec<Value>,
}

/// Read `when` as written (one key, a value or a non-empty list); the
/// checks against the parent come in [`resolve`].
pub(super) fn from_wire(t: &toml::Table) -> Result<Condition, String> {
    let mut keys = t.iter();
    let (parent, raw) = match (keys.next(), keys.next()) {
        (Some(kv), None) => kv,
        (None, _) => {
            return Err(
                "`when` is empty; name the parent parameter and its values, e.g. \
                 when = { kernel = \"rbf\" }"
                    .into(),
            )
        }
        (Some(_), Some(_)) => {
            let names: Vec<&str> = t.keys().map(String::as_str).collect();
            return Err(format!(
                "`when` names {} parameters ({}); a condition has one parent",
                names.len(),
                names.join(", ")
            ));
        }
    };
    let list: Vec<&toml::Value> = match raw {
        toml::Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    if list.is_empty() {
        return Err(format!(
            "`when.{parent}` is an empty list; give at least one value of `{parent}`"
        ));
    }
    let mut values = Vec::with_capacity(list.len());
    for v in list {
        values.push(
            Value::from_toml(v).ok_or_else(|| {
                format!("`when.{parent}`: {v} is not a string, number or boolean")
            })?,
        );
    }
    Ok(Condition {
        parent: parent.clone(),
        values,
    })
}

fn shown(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Check every condition of `params` (sorted by name) against its parent
/// and put its values in the parent's order; then refuse cycles. The
/// error is (`<name>.when`, why).
pub(super) fn resolve(params: &mut [Param]) -> Result<(), (String, String)> {
    let names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
    let domains: Vec<Domain> = params.iter().map(|p| p.domain.clone()).collect();
    for p in params.iter_mut() {
        let Some(c) = &mut p.when else { continue };
        let key = format!("{}.when", p.name);
        let err = |m: String| (key.clone(), m);
        let Ok(at) = names.binary_search(&c.parent) else {
            return Err(err(format!(
                "`{}` is not a parameter of [space]; a condition names another [space] entry",
                c.parent
            )));
        };
        if c.parent == p.name {
            return Err(err(format!("a cycle: `{}` depends on itself", p.name)));
        }
        let parent = &domains[at];
        let order = |v: &Value| -> Option<i128> {
            match parent {
                Domain::Categorical { choices: list } => {
                    list.iter().position(|x| x == v).map(|k| k as i128)
                }
                Domain::Values { values: list } if matches!(list.first(), Some(Value::Int(_))) => {
                    list.iter().position(|x| x == v).map(|k| k as i128)
                }
                Domain::Int {
                    low, high, step, ..
                } => match v {
                    Value::Int(i) if i >= low && i <= high && (i - low) % step == 0 => {
                        Some(*i as i128)
                    }
                    _ => None,
                },
                _ => None,
            }
        };
        let continuous = match parent {
            Domain::Float { .. } => true,
            Domain::Values { values } => !matches!(values.first(), Some(Value::Int(_))),
            _ => false,
        };
        if continuous {
            return Err(err(format!(
                "`{}` is a float parameter; a condition's parent must be categorical or int",
                c.parent
            )));
        }
        let mut keyed: Vec<(i128, Value)> = Vec::with_capacity(c.values.len());
        for v in &c.values {
            let Some(k) = order(v) else {
                return Err(err(format!(
                    "`{}` cannot take {}; list values `{}` takes ({})",
                    c.parent,
                    shown(v),
                    c.parent,
                    describe(parent)
                )));
            };
            if keyed.iter().any(|(j, _)| *j == k) {
                return Err(err(format!("lists {} twice", shown(v))));
            }
            keyed.push((k, v.clone()));
        }
        keyed.sort_by_key(|(k, _)| *k);
        c.values = keyed.into_iter().map(|(_, v)| v).collect();
    }
    // Each parameter has at most one parent: follow the chain from each
    // one; meeting the start again is a cycle.
    for (i, p) in params.iter().enumerate() {
        let mut path = vec![p.name.as_str()];
        let mut at = i;
        while let Some(c) = &params[at].when {
            let Ok(next) = names.binary_search(&c.parent) else {
                break;
            };
            path.push(params[next].name.as_str());
            if next == i {
                return Err((
                    format!("{}.when", p.name),
                    format!(
                        "a cycle: {}; a condition's parent must not depend on the parameter",
                        path.join(" → ")
                    ),
                ));
            }
            if path.len() > params.len() + 1 {
                // A cycle further up the chain: reported at its own members.
                break;
            }
            at = next;
        }
    }
    Ok(())
}

/// What a parent can take, for an error message.
fn describe(d: &Domain) -> String {
    match d {
        Domain::Categorical { choices: list } | Domain::Values { values: list } => {
            let shown: Vec<String> = list.iter().map(shown).collect();
            shown.join(", ")
        }
        Domain::Int {
            low, high, step, ..
        } if *step == 1 => format!("integers {low} to {high}"),
        Domain::Int {
            low, high, step, ..
        } => format!("integers {low} to {high} in steps of {step}"),
        Domain::Float { .. } => "a float range".into(),
    }
}

impl Space {
    /// Whether any parameter has a condition.
    pub fn is_conditional(&self) -> bool {
        self.params.iter().any(|p| p.when.is_some())
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Which parameters `params` activates, one flag per parameter in
    /// name order (every flag true without conditions). A parameter whose
    /// parent has no value in `params` is inactive.
    pub fn active(&self, params: &Params) -> Vec<bool> {
        let mut memo: Vec<Option<bool>> = vec![None; self.params.len()];
        (0..self.params.len())
            .map(|i| self.active_at(i, params, &mut memo, 0))
            .collect()
    }

    fn active_at(
        &self,
        i: usize,
        params: &Params,
        memo: &mut Vec<Option<bool>>,
        depth: usize,
    ) -> bool {
        if let Some(a) = memo[i] {
            return a;
        }
        let a = match &self.params[i].when {
            None => true,
            // Why the depth bound: a space built by hand (not through
            // `from_wire`, which refuses cycles) must not loop forever.
            Some(_) if depth > self.params.len() => false,
            Some(c) => match (self.index_of(&c.parent), params.get(&c.parent)) {
                (Some(j), Some(v)) => {
                    c.values.contains(v) && self.active_at(j, params, memo, depth + 1)
                }
                _ => false,
            },
        };
        memo[i] = Some(a);
        a
    }

    /// Remove the parameters `params` does not activate (nothing without
    /// conditions).
    pub fn drop_inactive(&self, params: &mut Params) {
        if !self.is_conditional() {
            return;
        }
        let active = self.active(params);
        for (p, a) in self.params.iter().zip(active) {
            if !a {
                params.remove(&p.name);
            }
        }
    }

    /// The forest of a conditional space: the roots (unconditional
    /// parameters) and each parameter's children, all in name order.
    fn forest(&self) -> (Vec<usize>, Vec<Vec<usize>>) {
        let mut roots = Vec::new();
        let mut children = vec![Vec::new(); self.params.len()];
        for (i, p) in self.params.iter().enumerate() {
            match p.when.as_ref().and_then(|c| self.index_of(&c.parent)) {
                Some(j) => children[j].push(i),
                None => roots.push(i),
            }
        }
        (roots, children)
    }

    /// The number of distinct active combinations of parameter `i`'s
    /// subtree when `i` is active: exact (`None` past `u128`) and as an
    /// `f64`. Memoised in `memo`.
    fn subtree_count(
        &self,
        i: usize,
        children: &[Vec<usize>],
        memo: &mut Vec<Option<(Option<u128>, f64)>>,
    ) -> (Option<u128>, f64) {
        if let Some(c) = memo[i] {
            return c;
        }
        let p = &self.params[i];
        let n = p.n_points().unwrap_or(1).max(1);
        let mut exact: Option<u128> = Some(0);
        let mut approx = 0.0f64;
        if children[i].is_empty() {
            exact = Some(u128::from(n));
            approx = n as f64;
        } else {
            let counts: Vec<(Option<u128>, f64)> = children[i]
                .iter()
                .map(|&c| self.subtree_count(c, children, memo))
                .collect();
            for k in 0..n {
                let (e, a) = self.block(i, k, children, &counts);
                exact = exact.zip(e).and_then(|(x, y)| x.checked_add(y));
                approx += a;
            }
        }
        memo[i] = Some((exact, approx));
        (exact, approx)
    }

    /// The number of combinations under value `k` of parameter `i`: the
    /// product of the subtree counts of the children it activates
    /// (`counts`, in the order of `children[i]`).
    fn block(
        &self,
        i: usize,
        k: u64,
        children: &[Vec<usize>],
        counts: &[(Option<u128>, f64)],
    ) -> (Option<u128>, f64) {
        let v = self.params[i].point(k);
        let mut exact = Some(1u128);
        let mut approx = 1.0f64;
        for (&c, &(e, a)) in children[i].iter().zip(counts) {
            let on = self.params[c]
                .when
                .as_ref()
                .is_some_and(|w| w.values.contains(&v));
            if on {
                exact = exact.zip(e).and_then(|(x, y)| x.checked_mul(y));
                approx *= a;
            }
        }
        (exact, approx)
    }

    /// [`Space::grid_count`] of a conditional space: the distinct active
    /// combinations (every parameter must have a grid).
    pub(super) fn conditional_grid_count(&self) -> GridCount {
        let (roots, children) = self.forest();
        let mut memo = vec![None; self.params.len()];
        let mut exact = Some(1u128);
        let mut log10 = 0.0f64;
        for &r in &roots {
            let (e, a) = self.subtree_count(r, &children, &mut memo);
            exact = exact.zip(e).and_then(|(x, y)| x.checked_mul(y));
            // Why the clamp: past f64's range the count is only shown.
            log10 += a.clamp(1.0, f64::MAX).log10();
        }
        GridCount { exact, log10 }
    }

    /// [`Space::grid_point`] of a conditional space (the module doc's
    /// order).
    pub(super) fn conditional_grid_point(&self, index: u64) -> Params {
        let (roots, children) = self.forest();
        let mut memo = vec![None; self.params.len()];
        let mut out = Params::new();
        let mut index = u128::from(index);
        for &r in roots.iter().rev() {
            let n = self
                .subtree_count(r, &children, &mut memo)
                .0
                .unwrap_or(u128::MAX)
                .max(1);
            self.decode(r, index % n, &children, &mut memo, &mut out);
            index /= n;
        }
        out
    }

    /// Write combination `index` of parameter `i`'s subtree into `out`.
    fn decode(
        &self,
        i: usize,
        mut index: u128,
        children: &[Vec<usize>],
        memo: &mut Vec<Option<(Option<u128>, f64)>>,
        out: &mut Params,
    ) {
        let p = &self.params[i];
        let n = p.n_points().unwrap_or(1).max(1);
        let counts: Vec<(Option<u128>, f64)> = children[i]
            .iter()
            .map(|&c| self.subtree_count(c, children, memo))
            .collect();
        for k in 0..n {
            let block = self
                .block(i, k, children, &counts)
                .0
                .unwrap_or(u128::MAX)
                .max(1);
            if index >= block && k + 1 < n {
                index -= block;
                continue;
            }
            let v = p.point(k);
            // The children this value activates, the last varying fastest.
            for (&c, &(e, _)) in children[i].iter().zip(&counts).rev() {
                let on = self.params[c]
                    .when
                    .as_ref()
                    .is_some_and(|w| w.values.contains(&v));
                if on {
                    let m = e.unwrap_or(u128::MAX).max(1);
                    self.decode(c, index % m, children, memo, out);
                    index /= m;
                }
            }
            out.insert(p.name.clone(), v);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ParamWire;
    use super::*;
    use std::collections::BTreeMap;

    fn space(src: &str) -> Result<Space, (String, String)> {
        let w: BTreeMap<String, ParamWire> = toml::from_str(src).unwrap();
        Space::from_wire(&w)
    }

    const SVM: &str = r#"
        C = { type = "float", low = 0.001, high = 1000.0, log = true, steps = 11 }
        gamma = { type = "float", low = 1e-4, high = 1.0, log = true, steps = 9, when = { kernel = "rbf" } }
        kernel = { type = "categorical", choices = ["rbf", "linear"] }
    "#;

    #[test]
    fn svm_grid_has_110_distinct_points() {
        let s = space(SVM).unwrap();
        assert_eq!(s.grid_count().unwrap().exact, Some(110));
        assert_eq!(s.grid_size(), Ok(110));
        let pts: Vec<Params> = (0..110).map(|i| s.grid_point(i)).collect();
        let mut seen: Vec<String> = pts.iter().map(|p| format!("{p:?}")).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 110);
        // C outermost; under it kernel = rbf with its 9 gammas, then linear.
        assert_eq!(pts[0]["kernel"], Value::Str("rbf".into()));
        assert_eq!(pts[8]["gamma"], Value::Float(1.0));
        assert_eq!(pts[9]["kernel"], Value::Str("linear".into()));
        assert!(!pts[9].contains_key("gamma"));
        assert_eq!(pts[10]["C"], s.grid_point(10)["C"]);
        assert_ne!(pts[10]["C"], pts[9]["C"]);
        assert_eq!(pts.iter().filter(|p| p.contains_key("gamma")).count(), 99);
    }

    #[test]
    fn unconditional_order_is_unchanged() {
        let s = space(
            r#"
            a = { type = "int", low = 0, high = 2 }
            b = { type = "categorical", choices = ["x", "y"] }
            c = { type = "float", values = [0.5, 1.5] }
            "#,
        )
        .unwrap();
        assert!(!s.is_conditional());
        for i in 0..12 {
            assert_eq!(s.conditional_grid_point(i), s.grid_point(i));
        }
        assert_eq!(s.conditional_grid_count(), s.grid_count().unwrap());
    }

    #[test]
    fn two_levels_of_nesting() {
        let s = space(
            r#"
            kernel = { type = "categorical", choices = ["rbf", "poly", "linear"] }
            degree = { type = "int", low = 2, high = 4, when = { kernel = "poly" } }
            coef0 = { type = "float", values = [0.0, 1.0], when = { degree = [3, 4] } }
            "#,
        )
        .unwrap();
        // rbf: 1; poly: degree 2 (1) + degree 3 (2) + degree 4 (2); linear: 1.
        assert_eq!(s.grid_size(), Ok(7));
        let pts: Vec<Params> = (0..7).map(|i| s.grid_point(i)).collect();
        assert_eq!(pts[0].len(), 1);
        assert_eq!(pts[1].len(), 2);
        assert_eq!(pts[2]["coef0"], Value::Float(0.0));
        assert_eq!(pts[3]["coef0"], Value::Float(1.0));
        assert_eq!(pts[5]["degree"], Value::Int(4));
        assert_eq!(pts[6]["kernel"], Value::Str("linear".into()));
        // Inactive when the grandparent switches the parent off.
        let mut p = s.from_unit(&[0.9, 0.9, 0.9]);
        assert_eq!(p.len(), 1, "{p:?}");
        p.insert("kernel".into(), Value::Str("poly".into()));
        // degree is active (its parent is poly), coef0 has no degree.
        assert_eq!(s.active(&p), [false, true, true]);
        p.insert("degree".into(), Value::Int(2));
        assert_eq!(s.active(&p), [false, true, true]);
        p.insert("degree".into(), Value::Int(3));
        assert_eq!(s.active(&p), [true, true, true]);
        p.insert("kernel".into(), Value::Str("rbf".into()));
        assert_eq!(s.active(&p), [false, false, true]);
    }

    #[test]
    fn when_list_is_kept_in_the_parents_order() {
        let s = space(
            r#"
            k = { type = "categorical", choices = ["a", "b", "c"] }
            x = { type = "float", low = 0.0, high = 1.0, when = { k = ["c", "a"] } }
            "#,
        )
        .unwrap();
        let c = s.params[1].when.as_ref().unwrap();
        assert_eq!(c.values, [Value::Str("a".into()), Value::Str("c".into())]);
    }

    fn error(src: &str) -> (String, String) {
        space(src).unwrap_err()
    }

    #[test]
    fn condition_on_unknown_parameter() {
        let (k, m) = error("x = { type = 'int', low = 0, high = 3, when = { kernal = 'rbf' } }");
        assert_eq!(k, "x.when");
        assert!(m.contains("`kernal` is not a parameter"), "{m}");
    }

    #[test]
    fn condition_on_float_parameter() {
        let (k, m) = error(
            "a = { type = 'float', low = 0.0, high = 1.0 }\n\
             x = { type = 'int', low = 0, high = 3, when = { a = 0.5 } }",
        );
        assert_eq!(k, "x.when");
        assert!(m.contains("float parameter"), "{m}");
    }

    #[test]
    fn condition_value_the_parent_cannot_take() {
        let (k, m) = error(
            "a = { type = 'categorical', choices = ['rbf', 'linear'] }\n\
             x = { type = 'int', low = 0, high = 3, when = { a = 'sigmoid' } }",
        );
        assert_eq!(k, "x.when");
        assert!(m.contains("cannot take \"sigmoid\""), "{m}");
        let (_, m) = error(
            "a = { type = 'int', low = 0, high = 10, step = 5 }\n\
             x = { type = 'int', low = 0, high = 3, when = { a = 3 } }",
        );
        assert!(m.contains("cannot take 3"), "{m}");
    }

    #[test]
    fn condition_with_empty_list() {
        let w: BTreeMap<String, ParamWire> = toml::from_str(
            "a = { type = 'categorical', choices = ['p', 'q'] }\n\
             x = { type = 'int', low = 0, high = 3, when = { a = [] } }",
        )
        .unwrap();
        let (k, m) = Space::from_wire(&w).unwrap_err();
        assert_eq!(k, "x");
        assert!(m.contains("empty list"), "{m}");
    }

    #[test]
    fn condition_cycle() {
        let (k, m) = error(
            "a = { type = 'categorical', choices = ['p', 'q'], when = { b = 1 } }\n\
             b = { type = 'int', low = 0, high = 3, when = { a = 'p' } }",
        );
        assert_eq!(k, "a.when");
        assert!(m.contains("a cycle: a → b → a"), "{m}");
        let (_, m) = error("a = { type = 'int', low = 0, high = 3, when = { a = 1 } }");
        assert!(m.contains("cycle"), "{m}");
    }
}
