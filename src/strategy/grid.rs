//! Grid search: trial `i` is grid point `i` of `Space::grid_point`
//! (parameters in name order, the last varying fastest).

use super::{History, Strategy};
use crate::space::Space;
use crate::value::Params;

/// Exhaustive search over the cartesian product of every parameter's grid.
pub struct Grid;

impl Strategy for Grid {
    fn propose(&self, space: &Space, index: u64, _seed: u64, _h: &History<'_>) -> Params {
        space.grid_point(index)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{contract, Kind};

    #[test]
    fn contract() {
        contract::check(Kind::Grid);
    }

    #[test]
    fn enumerates_every_point_once() {
        let s = contract::space();
        let n = s.grid_size().unwrap();
        assert_eq!(n, 5 * 12 * 2 * 3 * 4);
        let mut seen: Vec<String> = (0..n).map(|i| format!("{:?}", s.grid_point(i))).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len() as u64, n);
    }
}
