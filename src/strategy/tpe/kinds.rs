//! How each parameter is modelled (continuous, discrete cells,
//! categorical) and a trial's coordinates in the unit cube.

use super::*;

/// How one parameter is modelled.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kind {
    /// A continuous range.
    Continuous,
    /// Ordered points; each owns a cell of the unit interval.
    Discrete(Cells),
    /// Unordered choices.
    Categorical(usize),
}

/// The cells of a discrete numeric parameter in the unit interval, as
/// [`Param::from_unit`] assigns them.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Cells {
    /// `n` equal cells.
    Uniform(u64),
    /// A log-scaled int range: integer `x` owns `[ln(x - 0.5), ln(x + 0.5)]`
    /// rescaled from `[ln(low - 0.5), ln(high + 0.5)]`.
    LogInt { a: f64, b: f64, low: i64, high: i64 },
}

impl Kind {
    pub(super) fn of(p: &Param) -> Kind {
        match &p.domain {
            Domain::Categorical { choices } => Kind::Categorical(choices.len()),
            Domain::Values { values } => {
                let x: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
                let up = x.windows(2).all(|w| w[0] < w[1]);
                let down = x.windows(2).all(|w| w[0] > w[1]);
                if x.len() == values.len() && (up || down) {
                    Kind::Discrete(Cells::Uniform(values.len() as u64))
                } else {
                    Kind::Categorical(values.len())
                }
            }
            Domain::Int {
                low,
                high,
                log: true,
                step: 1,
            } => Kind::Discrete(Cells::LogInt {
                a: (*low as f64 - 0.5).ln(),
                b: (*high as f64 + 0.5).ln(),
                low: *low,
                high: *high,
            }),
            _ => match p.n_points() {
                Some(n) => Kind::Discrete(Cells::Uniform(n)),
                None => Kind::Continuous,
            },
        }
    }
}

impl Cells {
    /// The cell `[lo, hi]` holding unit coordinate `u`.
    pub(super) fn cell(&self, u: f64) -> (f64, f64) {
        match *self {
            Cells::Uniform(n) => {
                // The same index as `Param::from_unit` picks.
                let k = ((u * n as f64) as u64).min(n.saturating_sub(1));
                (k as f64 / n as f64, (k + 1) as f64 / n as f64)
            }
            Cells::LogInt { a, b, low, high } => {
                let x = (a + u * (b - a)).exp().round() as i64;
                let x = x.clamp(low, high) as f64;
                let lo = ((x - 0.5).ln() - a) / (b - a);
                let hi = ((x + 0.5).ln() - a) / (b - a);
                (lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0))
            }
        }
    }
}

/// Append a trial's coordinates to `out`: unit coordinates for numeric
/// parameters, the choice's index for categorical ones.
pub(super) fn push_coordinates(space: &Space, kinds: &[Kind], p: &Params, out: &mut Vec<f64>) {
    // Both the space and `Params` are sorted by name: walk them together
    // instead of looking each name up; in the usual case (the same names)
    // that is one short comparison a parameter.
    let mut values = p.iter().peekable();
    for (q, k) in space.params.iter().zip(kinds) {
        let v = match values.next_if(|(name, _)| same_name(name, &q.name)) {
            Some((_, v)) => Some(v),
            None => {
                while values.next_if(|(name, _)| **name < q.name).is_some() {}
                values.next_if(|(name, _)| **name == q.name).map(|(_, v)| v)
            }
        };
        let u = match (v, &q.domain) {
            // `Param::to_unit` for a plain float range, without its checks
            // for the other domains (one call per trial and parameter on
            // every proposal): the same operations in the same order, so
            // the same bits (a test compares them).
            (
                Some(Value::Float(x)),
                Domain::Float {
                    low,
                    high,
                    log: false,
                    step: None,
                    steps: None,
                },
            ) => ((x - low) / (high - low)).clamp(0.0, 1.0),
            (Some(v), _) => q.to_unit(v),
            // As `Space::to_unit`: an inactive conditional parameter at 0.
            (None, _) if q.when.is_some() => 0.0,
            (None, _) => 0.5,
        };
        out.push(coordinate(k, u));
    }
}

/// A parameter's coordinate from its unit coordinate `u`: `u` itself for a
/// numeric parameter, the choice's index for a categorical one.
#[inline]
pub(super) fn coordinate(k: &Kind, u: f64) -> f64 {
    match k {
        Kind::Categorical(n) => ((u * *n as f64) as usize).min(n - 1) as f64,
        _ => u,
    }
}

/// [`push_coordinates`] from a trial's stored unit coordinates
/// ([`Observation::unit`], one per parameter of the space): the same
/// numbers without a name lookup.
pub(super) fn push_units(kinds: &[Kind], unit: &[f64], out: &mut Vec<f64>) {
    out.extend(kinds.iter().zip(unit).map(|(k, &u)| coordinate(k, u)));
}

/// `a == b`, inlined: parameter names are short, and a library call per
/// comparison cost more than the comparison (thousands a proposal).
#[inline]
pub(super) fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::tpe::tests::*;

    #[test]
    fn values_are_ordinal_only_when_monotone() {
        let s = space(
            "a = { type = 'float', values = [0.1, 1.0, 10.0] }\n\
             b = { type = 'int', values = [3, 1, 2] }\n\
             c = { type = 'categorical', choices = [1, 2] }",
        );
        let k: Vec<Kind> = s.params.iter().map(Kind::of).collect();
        assert_eq!(
            k,
            vec![
                Kind::Discrete(Cells::Uniform(3)),
                Kind::Categorical(3),
                Kind::Categorical(2)
            ]
        );
    }

    #[test]
    fn stored_units_give_the_coordinates_of_the_general_path() {
        // The contract space: log float with steps, int, categorical,
        // monotone values, int with a step, plain float, log int.
        let s = contract::space();
        let kinds: Vec<Kind> = s.params.iter().map(Kind::of).collect();
        assert!(kinds.contains(&Kind::Categorical(2)));
        assert!(kinds
            .iter()
            .any(|k| matches!(k, Kind::Discrete(Cells::LogInt { .. }))));
        assert!(kinds.contains(&Kind::Continuous));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(41);
        let bits = |v: &[f64]| v.iter().map(|u| u.to_bits()).collect::<Vec<_>>();
        for k in 0..2000 {
            let u: Vec<f64> = (0..s.params.len()).map(|_| unit(&mut rng)).collect();
            let mut p = s.from_unit(&u);
            // Every so often a parameter is missing or holds a value
            // outside its domain: both paths give 0.5 there.
            if k % 5 == 1 {
                p.remove("c");
            }
            if k % 7 == 2 {
                p.insert("b".to_string(), Value::Str("x".to_string()));
            }
            if k % 11 == 3 {
                p.insert("f".to_string(), Value::Int(1));
            }
            let o = Observation::new(&s, p.clone(), Some(1.0));
            let (mut fast, mut slow) = (vec![9.0], vec![9.0]);
            push_units(&kinds, &o.unit, &mut fast);
            push_coordinates(&s, &kinds, &p, &mut slow);
            assert_eq!(bits(&fast), bits(&slow), "at {k}: {p:?}");
        }
        // The categorical coordinate is the choice's index.
        let mut out = Vec::new();
        push_units(&[Kind::Categorical(2)], &[0.75], &mut out);
        push_units(&[Kind::Categorical(3)], &[1.0], &mut out);
        assert_eq!(out, vec![1.0, 2.0]);
    }

    #[test]
    fn coordinates_equal_param_to_unit() {
        let s = space(
            "a = { type = 'float', low = -3.0, high = 7.0 }\n\
             b = { type = 'float', low = 1e-3, high = 10.0, log = true }\n\
             c = { type = 'int', low = 1, high = 9 }",
        );
        let kinds: Vec<Kind> = s.params.iter().map(Kind::of).collect();
        for x in [-3.0, -2.9999, 0.1, 1.0 / 3.0, 6.9, 7.0, 8.0, -4.0] {
            let p: Params = [
                ("a".to_string(), Value::Float(x)),
                ("b".to_string(), Value::Float(x.abs() + 1e-3)),
                ("c".to_string(), Value::Int(x.abs() as i64 + 1)),
            ]
            .into_iter()
            .collect();
            let mut out = Vec::new();
            push_coordinates(&s, &kinds, &p, &mut out);
            let want = s.to_unit(&p);
            assert_eq!(
                out.iter().map(|u| u.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|u| u.to_bits()).collect::<Vec<_>>(),
                "at {x}"
            );
        }
    }
}
