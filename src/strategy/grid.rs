//! Grid search: trial `i` is grid point `i` of `Space::grid_point`
//! (parameters in name order, the last varying fastest; a conditional
//! space's distinct active combinations; a list of grids' sub-grids in
//! the order written).

use super::{History, Strategy, Trial};
use crate::value::Params;

/// Exhaustive search over the cartesian product of every parameter's grid.
pub struct Grid;

impl Strategy for Grid {
    fn propose(&self, t: &Trial<'_>, _h: &History<'_>) -> Params {
        t.space.grid_point(t.index)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{contract, Spec};
    use crate::space::Space;
    use crate::value::Value;

    #[test]
    fn enumerates_every_point_once() {
        let s = contract::space();
        // The contract space has continuous parameters: use its grid part.
        let grid: Space = Space {
            params: s.params.into_iter().filter(|p| p.grid().is_ok()).collect(),
            ..Space::default()
        };
        let n = grid.grid_size().unwrap();
        assert_eq!(n, 5 * 12 * 2 * 3 * 4 * 1000);
        let mut seen: Vec<String> = (0..2000)
            .map(|i| format!("{:?}", grid.grid_point(i * 997)))
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 2000);
        let last = grid.grid_point(n - 1);
        assert_eq!(last["a"], Value::Float(10.0));
        assert_eq!(last["g"], Value::Int(1000));
    }

    #[test]
    fn same_proposals_whatever_the_history() {
        let s = contract::space();
        let grid: Space = Space {
            params: s.params.into_iter().filter(|p| p.grid().is_ok()).collect(),
            ..Space::default()
        };
        let a = contract::run(Spec::Grid.build().as_ref(), &grid, 30, 1, 1);
        let b = contract::run(Spec::Grid.build().as_ref(), &grid, 30, 4, 2);
        assert_eq!(a, b);
        // Pruned trials in the history change nothing either.
        let c = contract::run_with(Spec::Grid.build().as_ref(), &grid, 30, 4, 2, true);
        assert_eq!(a, c);
        assert_eq!(a[7], grid.grid_point(7));
    }
}
