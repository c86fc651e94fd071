//! Cross-validation folds: shuffled k-fold, stratified by class when asked.
//!
//! This module owns the assignment of rows to folds and the shuffle behind
//! it. The algorithm is part of hpsearch's reproducibility contract: the
//! folds decide every cross-validated score, so changing a single step
//! changes every result. It is written out here (not borrowed from `rand`'s
//! `shuffle`, whose algorithm may change between versions) and pinned by a
//! test.

use rand::RngCore;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// One cross-validation split: row indices, each sorted ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    /// Rows to fit on: every row not in `test`.
    pub train: Vec<usize>,
    /// Rows to score on.
    pub test: Vec<usize>,
}

/// k folds over `n` rows, shuffled with `seed`; stratified by `strata`
/// (class indices) when given.
///
/// Preconditions (the caller checks them): `2 <= k <= n`, and `strata`, when
/// given, has length `n`.
///
/// # Algorithm (part of the format)
///
/// 1. `rng = Xoshiro256PlusPlus::seed_from_u64(seed)`.
/// 2. Groups: without `strata`, one group `[0, 1, .., n-1]`. With `strata`,
///    one group per distinct class value in ascending class order, each
///    holding its rows in ascending order.
/// 3. Each group, in that order, is shuffled in place with the same `rng` by
///    Fisher–Yates: for `i` from `len-1` down to `1`, draw `j` uniform in
///    `0..=i` with `bounded` and swap positions `i` and `j`.
/// 4. The shuffled groups are concatenated, and the row at position `p` of
///    that sequence goes to the test set of fold `p % k`. Dealing continues
///    round-robin across group boundaries (the next class starts at the
///    fold after the one where the previous class stopped), so fold sizes
///    differ by at most one overall, and each class's count differs by at
///    most one between folds.
/// 5. Each fold's `test` is sorted ascending; `train` is every other row,
///    ascending. The test sets partition `0..n`.
pub fn k_fold(n: usize, k: usize, strata: Option<&[usize]>, seed: u64) -> Vec<Fold> {
    let k = k.max(1);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let groups: Vec<Vec<usize>> = match strata {
        None => vec![(0..n).collect()],
        Some(classes) => {
            let n_classes = classes.iter().take(n).max().map_or(0, |m| m + 1);
            let mut groups = vec![Vec::new(); n_classes];
            for (row, &class) in classes.iter().enumerate().take(n) {
                groups[class].push(row);
            }
            groups.retain(|g| !g.is_empty());
            groups
        }
    };
    let mut fold_of = vec![0usize; n];
    let mut position = 0usize;
    for mut group in groups {
        shuffle(&mut group, &mut rng);
        for row in group {
            fold_of[row] = position % k;
            position += 1;
        }
    }
    (0..k)
        .map(|f| {
            let (test, train) = (0..n).partition(|&row| fold_of[row] == f);
            Fold { train, test }
        })
        .collect()
}

/// scikit-learn's `GroupKFold` (no shuffling): `k` folds whose test sets
/// hold whole groups. `groups[row]` is the row's group index; groups are
/// taken largest first (ties: the smaller group index, i.e. the group
/// seen first in the file), each into the fold with the fewest rows so
/// far (ties: the lowest fold). The seed plays no part, as in
/// scikit-learn.
///
/// Preconditions (the caller checks them): `2 <= k <=` the number of
/// groups.
pub fn group_k_fold(groups: &[usize], k: usize) -> Vec<Fold> {
    let k = k.max(1);
    let n_groups = groups.iter().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; n_groups];
    for &g in groups {
        sizes[g] += 1;
    }
    let mut order: Vec<usize> = (0..n_groups).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut load = vec![0usize; k];
    let mut fold_of_group = vec![0usize; n_groups];
    for g in order {
        let mut best = 0;
        for f in 1..k {
            if load[f] < load[best] {
                best = f;
            }
        }
        load[best] += sizes[g];
        fold_of_group[g] = best;
    }
    (0..k)
        .map(|f| {
            let (test, train) = (0..groups.len()).partition(|&r| fold_of_group[groups[r]] == f);
            Fold { train, test }
        })
        .collect()
}

/// scikit-learn's `TimeSeriesSplit(n_splits=k, gap, max_train_size)` over
/// the rows in `order` (earliest first): `test_size = n / (k + 1)`
/// (integer division); fold `i`'s test rows are the `test_size` rows from
/// position `n - (k - i) test_size`, its training rows every earlier row
/// but the last `gap` before the test rows, at most the latest
/// `max_train_size`. The first positions are in no test fold.
///
/// `None` when the rows are too few: a fold with no test row or no
/// training row.
pub fn time_series_split(
    order: &[usize],
    k: usize,
    gap: usize,
    max_train_size: Option<usize>,
) -> Option<Vec<Fold>> {
    let n = order.len();
    let test_size = n / (k + 1);
    if test_size == 0 || n <= gap + k * test_size {
        return None;
    }
    let first = n - k * test_size;
    let mut folds = Vec::with_capacity(k);
    for i in 0..k {
        let start = first + i * test_size;
        let train_end = start - gap;
        let train_start = max_train_size.map_or(0, |m| train_end.saturating_sub(m));
        let mut train = order[train_start..train_end].to_vec();
        let mut test = order[start..start + test_size].to_vec();
        train.sort_unstable();
        test.sort_unstable();
        folds.push(Fold { train, test });
    }
    Some(folds)
}

/// One train/test split holding out `ceil(test_size * n)` rows: the rows
/// are dealt as [`k_fold`] deals them (each stratum shuffled with `seed`,
/// strata in class order), and position `p` of that sequence is a test
/// row when `ceil((p + 1) t) > ceil(p t)`, which spreads the test rows
/// evenly over it, so with `strata` each class is held out in proportion
/// (within one row).
pub fn holdout(n: usize, test_size: f64, strata: Option<&[usize]>, seed: u64) -> Fold {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let groups: Vec<Vec<usize>> = match strata {
        None => vec![(0..n).collect()],
        Some(classes) => {
            let n_classes = classes.iter().take(n).max().map_or(0, |m| m + 1);
            let mut groups = vec![Vec::new(); n_classes];
            for (row, &class) in classes.iter().enumerate().take(n) {
                groups[class].push(row);
            }
            groups.retain(|g| !g.is_empty());
            groups
        }
    };
    let mut is_test = vec![false; n];
    let mut position = 0usize;
    for mut group in groups {
        shuffle(&mut group, &mut rng);
        for row in group {
            let (a, b) = (
                position as f64 * test_size,
                (position + 1) as f64 * test_size,
            );
            is_test[row] = b.ceil() > a.ceil();
            position += 1;
        }
    }
    let (test, train) = (0..n).partition(|&r| is_test[r]);
    Fold { train, test }
}

/// In-place Fisher–Yates shuffle: for `i` from `len-1` down to 1, swap `i`
/// with `bounded(rng, i + 1)`.
pub(crate) fn shuffle<T>(items: &mut [T], rng: &mut Xoshiro256PlusPlus) {
    for i in (1..items.len()).rev() {
        let j = bounded(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// A uniform integer in `0..range` (`range >= 1`), without bias.
///
/// Multiply-and-reject (Lemire 2019): draw `x = rng.next_u64()`, form the
/// 128-bit product `m = x * range`; reject while the low 64 bits are below
/// `2^64 mod range`; return the high 64 bits. Each draw consumes one or more
/// `next_u64` outputs, a fixed function of the RNG stream. `range == 0`
/// returns 0 without drawing.
pub(crate) fn bounded(rng: &mut Xoshiro256PlusPlus, range: u64) -> u64 {
    if range == 0 {
        return 0;
    }
    // 2^64 mod range, computed in 64 bits: (2^64 - range) mod range.
    let threshold = range.wrapping_neg() % range;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(range);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// The held-out folds of the data rows, for `folds.csv`.
#[derive(Clone, Copy, Debug)]
pub struct FoldsOf<'a> {
    /// Folds per row: 1, or the repeats of `[cv] kind = "repeated"`.
    pub width: usize,
    /// Row after row, `width` entries each: the fold (numbered over all
    /// repeats) that holds the row out, or [`NO_FOLD`].
    pub folds: &'a [usize],
}

/// A row no fold holds out (time series' first rows, a holdout's training
/// rows); written `-1`, as scikit-learn's `PredefinedSplit` reads it.
pub const NO_FOLD: usize = usize::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    fn check_partition(folds: &[Fold], n: usize) {
        let mut seen = vec![0usize; n];
        for fold in folds {
            assert!(fold.test.windows(2).all(|w| w[0] < w[1]));
            assert!(fold.train.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(fold.train.len() + fold.test.len(), n);
            for &r in &fold.test {
                seen[r] += 1;
                assert!(fold.train.binary_search(&r).is_err());
            }
        }
        assert!(
            seen.iter().all(|&c| c == 1),
            "test sets must partition 0..n"
        );
    }

    fn sizes_within_one(sizes: &[usize]) -> bool {
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1
    }

    #[test]
    fn folds_partition_rows_with_near_equal_sizes() {
        for (n, k) in [(10, 3), (7, 7), (100, 5), (11, 2), (569, 10)] {
            let folds = k_fold(n, k, None, 42);
            assert_eq!(folds.len(), k);
            check_partition(&folds, n);
            let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
            assert!(sizes_within_one(&sizes), "{n} {k}: {sizes:?}");
            assert_eq!(sizes.iter().sum::<usize>(), n);
        }
    }

    #[test]
    fn stratified_folds_balance_an_unbalanced_three_class_vector() {
        // 24 of class 0, 8 of class 1, 4 of class 2, interleaved unevenly:
        // class 2 at i = 4, 13, 22, 31; class 1 at i = 1 (mod 4) except 13.
        let mut strata = Vec::new();
        for i in 0..36 {
            strata.push(if i % 9 == 4 {
                2
            } else if i % 4 == 1 {
                1
            } else {
                0
            });
        }
        let counts: Vec<usize> = (0..3)
            .map(|c| strata.iter().filter(|&&s| s == c).count())
            .collect();
        assert_eq!(counts, vec![24, 8, 4]);
        let k = 5;
        let folds = k_fold(strata.len(), k, Some(&strata), 7);
        check_partition(&folds, strata.len());
        let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
        assert!(sizes_within_one(&sizes), "{sizes:?}");
        for (c, &count) in counts.iter().enumerate() {
            let per_fold: Vec<usize> = folds
                .iter()
                .map(|f| f.test.iter().filter(|&&r| strata[r] == c).count())
                .collect();
            assert!(sizes_within_one(&per_fold), "class {c}: {per_fold:?}");
            assert_eq!(per_fold.iter().sum::<usize>(), count);
        }
    }

    #[test]
    fn same_seed_same_folds_other_seed_other_folds() {
        let strata: Vec<usize> = (0..50).map(|i| i % 3).collect();
        assert_eq!(k_fold(50, 5, None, 3), k_fold(50, 5, None, 3));
        assert_ne!(k_fold(50, 5, None, 3), k_fold(50, 5, None, 4));
        assert_eq!(
            k_fold(50, 5, Some(&strata), 3),
            k_fold(50, 5, Some(&strata), 3)
        );
        assert_ne!(
            k_fold(50, 5, Some(&strata), 3),
            k_fold(50, 5, Some(&strata), 4)
        );
    }

    #[test]
    fn pinned_first_fold_n10_k3_seed0() {
        // Regression pin: if this changes, every cross-validated score
        // changes. The values were cross-checked against an independent
        // Python implementation of the documented algorithm (SplitMix64
        // seeding, xoshiro256++, multiply-and-reject, Fisher-Yates).
        let folds = k_fold(10, 3, None, 0);
        assert_eq!(folds[0].test, vec![0, 1, 3, 8]);
        assert_eq!(folds[0].train, vec![2, 4, 5, 6, 7, 9]);
        assert_eq!(folds[1].test, vec![2, 4, 6]);
        assert_eq!(folds[2].test, vec![5, 7, 9]);
    }

    #[test]
    fn pinned_stratified_folds() {
        // Same independent cross-check as above.
        let strata = [0, 1, 2, 0, 1, 2, 0, 0, 0, 1, 0, 2];
        let tests: Vec<Vec<usize>> = k_fold(12, 3, Some(&strata), 5)
            .into_iter()
            .map(|f| f.test)
            .collect();
        assert_eq!(
            tests,
            vec![vec![0, 4, 6, 11], vec![1, 5, 7, 10], vec![2, 3, 8, 9]]
        );
    }

    #[test]
    fn bounded_stays_in_range_and_hits_every_value() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut hits = [0usize; 7];
        for _ in 0..7000 {
            let v = bounded(&mut rng, 7) as usize;
            hits[v] += 1;
        }
        // Expected 1000 each; 5 sigma is about 150.
        assert!(hits.iter().all(|&h| (850..1150).contains(&h)), "{hits:?}");
        assert_eq!(bounded(&mut rng, 1), 0);
        assert_eq!(bounded(&mut rng, 0), 0);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut v: Vec<usize> = (0..20).collect();
        shuffle(&mut v, &mut rng);
        assert_ne!(v, (0..20).collect::<Vec<_>>());
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
    }
    #[test]
    fn group_k_fold_keeps_groups_whole_and_balances_sizes() {
        // Group sizes 5, 1, 3, 3, 2 (groups by first appearance 0..4).
        let groups = [0, 0, 1, 2, 0, 2, 3, 3, 2, 0, 4, 4, 3, 0];
        let folds = group_k_fold(&groups, 2);
        check_partition(&folds, groups.len());
        // Largest first: g0 (5) -> fold 0; g2 (3) -> fold 1; g3 (3) -> fold 1
        // (3 < 5); g4 (2) -> fold 0 (5 < 6); g1 (1) -> fold 1 (6 < 7).
        let fold_of = |g: usize| {
            let row = groups.iter().position(|&x| x == g).unwrap();
            folds.iter().position(|f| f.test.contains(&row)).unwrap()
        };
        assert_eq!((0..5).map(fold_of).collect::<Vec<_>>(), vec![0, 1, 1, 1, 0]);
        for f in &folds {
            for &r in &f.test {
                assert!(f.train.iter().all(|&t| groups[t] != groups[r]));
            }
        }
    }

    #[test]
    fn time_series_split_as_scikit_learn() {
        // TimeSeriesSplit(n_splits=3, gap=1) on 10 rows: test_size 2,
        // tests [4,5], [6,7], [8,9]; trains [0..3), [0..5), [0..7).
        let order: Vec<usize> = (0..10).collect();
        let folds = time_series_split(&order, 3, 1, None).unwrap();
        assert_eq!(folds[0].test, vec![4, 5]);
        assert_eq!(folds[0].train, vec![0, 1, 2]);
        assert_eq!(folds[2].test, vec![8, 9]);
        assert_eq!(folds[2].train, (0..7).collect::<Vec<_>>());
        // max_train_size keeps the latest rows.
        let folds = time_series_split(&order, 3, 0, Some(2)).unwrap();
        assert_eq!(folds[2].train, vec![6, 7]);
        // The order is given: positions map back to rows.
        let reversed: Vec<usize> = (0..10).rev().collect();
        let folds = time_series_split(&reversed, 3, 0, None).unwrap();
        assert_eq!(folds[2].test, vec![0, 1]);
        // Too few rows for the gap.
        assert!(time_series_split(&order, 3, 4, None).is_none());
        assert!(time_series_split(&order[..3], 3, 0, None).is_none());
    }

    #[test]
    fn holdout_holds_out_ceil_of_the_share_per_class_in_proportion() {
        let strata: Vec<usize> = (0..40).map(|i| usize::from(i % 4 == 0)).collect();
        let f = holdout(40, 0.25, Some(&strata), 3);
        assert_eq!(f.test.len(), 10);
        assert_eq!(f.train.len() + f.test.len(), 40);
        let ones = f.test.iter().filter(|&&r| strata[r] == 1).count();
        assert!((2..=3).contains(&ones), "{ones}");
        assert_eq!(holdout(10, 0.33, None, 1).test.len(), 4);
        assert_eq!(f, holdout(40, 0.25, Some(&strata), 3));
    }
}
