//! Lists of grids (`[[grid]]`, issue 19 point 2): a grid search over
//! several sub-grids, as scikit-learn's `GridSearchCV(param_grid=[{…},
//! {…}])`. This file owns the union of their parameters and the
//! enumeration; it never looks at strategies or results.
//!
//! # The rules (part of the results format)
//!
//! * Sub-grids are enumerated in the order written, each in the plain
//!   grid order (name order, the last name fastest): trial `i` is point
//!   `i - (sizes of the sub-grids before)` of its sub-grid.
//! * A parameter a sub-grid does not name is inactive in its trials:
//!   absent from the trial's parameters, an empty cell in `trials.csv`.
//! * A combination two sub-grids share runs once in each (GridSearchCV
//!   keeps such duplicates too), each with its own trial seed.
//! * The search's `params` (the journal's columns, what a model checks)
//!   are the union: a parameter named with the same domain everywhere
//!   keeps it; otherwise its points are merged, in the order first met,
//!   into the choices of a categorical (when it is categorical in every
//!   sub-grid) or into explicit `values` (when it is an int, or a float,
//!   in every sub-grid).

use std::collections::BTreeMap;

use super::{Domain, GridCount, Param, ParamWire, Space};
use crate::value::{Params, Value};

impl Space {
    /// A list of grids from `[[grid]]`, each table like `[space]`. The
    /// error is (`<k>.<name>` or `<k>`, why), sub-grids numbered from 1.
    pub fn from_grids(list: &[BTreeMap<String, ParamWire>]) -> Result<Space, (String, String)> {
        if list.is_empty() {
            return Err((
                String::new(),
                "an empty list; give at least one [[grid]] table of parameters".into(),
            ));
        }
        let mut grids = Vec::with_capacity(list.len());
        for (k, wire) in list.iter().enumerate() {
            let at = |name: &str| format!("{}.{name}", k + 1);
            if wire.is_empty() {
                return Err((
                    (k + 1).to_string(),
                    "no parameters; a sub-grid names at least one".into(),
                ));
            }
            if let Some((name, _)) = wire.iter().find(|(_, w)| w.when.is_some()) {
                return Err((
                    at(name),
                    "`when` cannot be used in a list of grids: each sub-grid already says \
                     which parameters go together (or use one [space] with conditions)"
                        .into(),
                ));
            }
            let sub = Space::from_wire(wire).map_err(|(name, m)| (at(&name), m))?;
            for p in &sub.params {
                p.grid().map_err(|m| (at(&p.name), m))?;
            }
            grids.push(sub);
        }
        let mut union: Vec<Param> = Vec::new();
        for (k, sub) in grids.iter().enumerate() {
            for p in &sub.params {
                match union.iter_mut().find(|q| q.name == p.name) {
                    None => union.push(p.clone()),
                    Some(q) => {
                        q.domain = merged(&q.domain, p)
                            .map_err(|m| (format!("{}.{}", k + 1, p.name), m))?;
                    }
                }
            }
        }
        union.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Space {
            params: union,
            grids,
        })
    }

    /// [`Space::grid_count`] of a list of grids: the sum of the sub-grids'.
    pub(super) fn grids_count(&self) -> Result<GridCount, (String, String)> {
        let mut exact = Some(0u128);
        let mut total = 0.0f64;
        for (k, sub) in self.grids.iter().enumerate() {
            let n = sub
                .grid_count()
                .map_err(|(name, m)| (format!("{}.{name}", k + 1), m))?;
            exact = exact.zip(n.exact).and_then(|(a, b)| a.checked_add(b));
            total += 10f64.powf(n.log10).min(f64::MAX);
        }
        Ok(GridCount {
            exact,
            log10: total.clamp(1.0, f64::MAX).log10(),
        })
    }

    /// The size of each sub-grid of a list of grids, in order (empty for
    /// a plain space).
    pub fn grid_sizes(&self) -> Vec<GridCount> {
        self.grids
            .iter()
            .filter_map(|g| g.grid_count().ok())
            .collect()
    }

    /// [`Space::grid_point`] of a list of grids (the module doc's order).
    pub(super) fn grids_point(&self, index: u64) -> Params {
        let sizes: Vec<u64> = self
            .grids
            .iter()
            .map(|g| g.grid_size().unwrap_or(u64::MAX).max(1))
            .collect();
        let total = sizes.iter().fold(0u64, |a, &b| a.saturating_add(b)).max(1);
        let mut index = index % total;
        for (g, n) in self.grids.iter().zip(sizes) {
            if index < n {
                return g.grid_point(index);
            }
            index -= n;
        }
        Params::new()
    }
}

/// The union of domain `a` (the sub-grids before) and parameter `p`'s.
fn merged(a: &Domain, p: &Param) -> Result<Domain, String> {
    if *a == p.domain {
        return Ok(a.clone());
    }
    let kind = |d: &Domain| match d {
        Domain::Categorical { .. } => "categorical",
        Domain::Int { .. } => "int",
        Domain::Values { values } if matches!(values.first(), Some(Value::Int(_))) => "int",
        Domain::Float { .. } | Domain::Values { .. } => "float",
    };
    let (ka, kb) = (kind(a), kind(&p.domain));
    if ka != kb {
        return Err(format!(
            "`{}` is {kb} here and {ka} in an earlier sub-grid; give it one type",
            p.name
        ));
    }
    let points = |d: &Domain| {
        Param {
            name: p.name.clone(),
            domain: d.clone(),
            when: None,
        }
        .grid()
    };
    let mut all = points(a)?;
    for v in p.grid()? {
        if !all.contains(&v) {
            all.push(v);
        }
    }
    Ok(if ka == "categorical" {
        Domain::Categorical { choices: all }
    } else {
        Domain::Values { values: all }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grids(src: &str) -> Result<Space, (String, String)> {
        #[derive(serde::Deserialize)]
        struct W {
            grid: Vec<BTreeMap<String, ParamWire>>,
        }
        let w: W = toml::from_str(src).unwrap();
        Space::from_grids(&w.grid)
    }

    const SVM: &str = r#"
        [[grid]]
        kernel = { type = "categorical", choices = ["linear"] }
        C = { type = "float", values = [1.0, 10.0, 100.0] }

        [[grid]]
        kernel = { type = "categorical", choices = ["rbf"] }
        C = { type = "float", values = [1.0, 10.0] }
        gamma = { type = "float", values = [0.001, 0.0001] }
    "#;

    #[test]
    fn sub_grids_in_the_order_written() {
        let s = grids(SVM).unwrap();
        assert_eq!(s.names(), ["C", "gamma", "kernel"]);
        assert_eq!(s.grid_count().unwrap().exact, Some(7));
        assert_eq!(s.grid_size(), Ok(7));
        let sizes: Vec<Option<u128>> = s.grid_sizes().iter().map(|n| n.exact).collect();
        assert_eq!(sizes, [Some(3), Some(4)]);
        let p: Vec<Params> = (0..7).map(|i| s.grid_point(i)).collect();
        assert_eq!(p[0].len(), 2);
        assert_eq!(p[2]["C"], Value::Float(100.0));
        assert_eq!(p[3]["kernel"], Value::Str("rbf".into()));
        assert_eq!(p[3]["gamma"], Value::Float(0.001));
        assert_eq!(p[6]["C"], Value::Float(10.0));
        // The union: C's values merged in the order first met.
        assert_eq!(
            s.params[0].domain,
            Domain::Values {
                values: vec![Value::Float(1.0), Value::Float(10.0), Value::Float(100.0)]
            }
        );
        assert_eq!(
            s.params[2].domain,
            Domain::Categorical {
                choices: vec![Value::Str("linear".into()), Value::Str("rbf".into())]
            }
        );
    }

    #[test]
    fn duplicates_across_sub_grids_are_kept() {
        let s = grids(
            "[[grid]]\nk = { type = 'int', low = 1, high = 3 }\n\
             [[grid]]\nk = { type = 'int', low = 2, high = 4 }",
        )
        .unwrap();
        let p: Vec<Params> = (0..6).map(|i| s.grid_point(i)).collect();
        assert_eq!(p[1], p[3]);
        assert_eq!(s.grid_size(), Ok(6));
    }

    #[test]
    fn a_sub_grid_needs_a_grid() {
        let e = grids("[[grid]]\nx = { type = 'float', low = 0.0, high = 1.0 }").unwrap_err();
        assert_eq!(e.0, "1.x");
        assert!(e.1.contains("steps"), "{}", e.1);
    }

    #[test]
    fn one_type_a_parameter() {
        let e = grids(
            "[[grid]]\nx = { type = 'int', values = [1, 2] }\n\
             [[grid]]\nx = { type = 'float', values = [0.5] }",
        )
        .unwrap_err();
        assert_eq!(e.0, "2.x");
        assert!(e.1.contains("one type"), "{}", e.1);
    }

    #[test]
    fn no_when_and_no_empty_sub_grid() {
        let e = grids(
            "[[grid]]\nk = { type = 'categorical', choices = ['a'] }\n\
             x = { type = 'int', values = [1], when = { k = 'a' } }",
        )
        .unwrap_err();
        assert_eq!(e.0, "1.x");
        let e = grids("[[grid]]\n[[grid]]\nx = { type = 'int', values = [1] }").unwrap_err();
        assert_eq!(e.0, "1");
    }
}
