//! Continuous kernels' bandwidths: the neighbour-gap rule, the magic
//! clip, and the bucketed shortcut for large groups (`clip_sigmas`)
//! that gives the sorted computation's bits.

use super::*;

/// The inverse of [`total_key`].
pub(super) fn from_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// A key whose unsigned order is `f64::total_cmp`'s order, so sorts can
/// compare plain integers.
pub(super) fn total_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// The bandwidth of the point of rank `r` among `m` sorted points (`at`
/// gives a rank's value): the larger gap to its neighbours, with 0 and 1
/// as outer neighbours when `endpoints` (otherwise the outermost points
/// use their inner gap). The one rule behind [`sigmas_in_order`] and the
/// memo's [`Memo::sigmas`].
#[inline]
pub(super) fn gap_at(at: impl Fn(usize) -> f64, r: usize, m: usize, endpoints: bool) -> f64 {
    if !endpoints && m >= 2 {
        if r == 0 {
            return at(1) - at(0);
        }
        if r == m - 1 {
            return at(m - 1) - at(m - 2);
        }
    }
    let cur = at(r);
    let prev = if r == 0 { 0.0 } else { at(r - 1) };
    let next = if r + 1 < m { at(r + 1) } else { 1.0 };
    (cur - prev).max(next - cur)
}

/// Bandwidths, into `out`, from the points' [`sorted_keys`] (`order`):
/// [`gap_at`] for each point (the prior is not a neighbour).
pub(super) fn sigmas_in_order(order: &[(u64, u32)], endpoints: bool, out: &mut Vec<f64>) {
    let m = order.len();
    // Room for the prior kernel's bandwidth, which `Mixture::build` appends.
    out.clear();
    out.reserve(m + 1);
    out.resize(m, 0.0);
    if m == 0 {
        return;
    }
    // The sorted values from their keys (the key is invertible): no
    // lookup in the points at a scattered index.
    let at = |r: usize| from_key(order[r].0);
    for (r, &(_, i)) in order.iter().enumerate() {
        out[i as usize] = gap_at(at, r, m, endpoints);
    }
}

/// Clipped bandwidths of `locs` into `out` from a sort (which leaves the
/// points' order in `sc.keys`).
pub(super) fn sorted_sigmas(
    locs: &[f64],
    endpoints: bool,
    min_sigma: f64,
    sc: &mut Scratch,
    out: &mut Vec<f64>,
) {
    sorted_keys_into(locs, sc);
    sigmas_in_order(&sc.keys, endpoints, out);
    for sg in out.iter_mut() {
        *sg = sg.clamp(min_sigma, 1.0);
    }
}

/// [`sigmas_in_order`] for the points `locs`.
#[cfg(test)]
pub(super) fn neighbour_sigmas(locs: &[f64], endpoints: bool) -> Vec<f64> {
    let mut out = Vec::new();
    sigmas_in_order(&sorted_keys(locs), endpoints, &mut out);
    out
}

/// [`sigmas_in_order`] for many points, each bandwidth as it is after the
/// clip to `[min_sigma, 1]`, without sorting most of them; returns false,
/// with `out` unchanged, where this does not pay (few points, or points
/// outside `[0, 1]`).
///
/// The points go into buckets of width below `min_sigma / 2.5`. A point
/// whose neighbouring buckets on both sides hold points has both gaps
/// below two widths (plus the rounding of the bucket index, far
/// smaller), so below `min_sigma`: its clipped bandwidth is `min_sigma`
/// whatever its exact neighbours. Only the other buckets are
/// sorted, and their points' gaps are computed exactly as in
/// [`sigmas_in_order`] (the same subtractions of the same values), their
/// outer neighbours being the extreme points of the nearest non-empty
/// buckets. A test compares the two on clustered, tied and edge points.
pub(super) fn clip_sigmas(
    locs: &[f64],
    endpoints: bool,
    min_sigma: f64,
    sc: &mut Scratch,
    out: &mut Vec<f64>,
) -> bool {
    let m = locs.len();
    let nb = (2.5 / min_sigma).ceil() + 1.0;
    if m < 64 || nb.is_nan() || nb >= m as f64 || !locs.iter().all(|v| (0.0..=1.0).contains(v)) {
        return false;
    }
    let nb = nb as usize;
    // `v * nb` is in [0, nb] and `nb < m` fits in u32: the narrower
    // conversion is the same number, with fewer instructions.
    let bucket = |v: f64| ((v * nb as f64) as u32 as usize).min(nb - 1);
    // Per bucket: how many points, and the smallest and largest key.
    let counts = &mut sc.counts;
    counts.clear();
    counts.resize(nb, 0);
    let (lo, hi) = (&mut sc.lo, &mut sc.hi);
    lo.clear();
    lo.resize(nb, u64::MAX);
    hi.clear();
    hi.resize(nb, 0);
    let of = &mut sc.buckets;
    of.clear();
    for &v in locs {
        let b = bucket(v);
        let k = total_key(v);
        of.push(b as u32);
        counts[b] += 1;
        lo[b] = lo[b].min(k);
        hi[b] = hi[b].max(k);
    }
    // Each bucket's state, worked out once: empty, dense or sparse.
    const EMPTY: u8 = 0;
    const DENSE: u8 = 1;
    let state = &mut sc.state;
    state.clear();
    state.extend((0..nb).map(|b| {
        let full = |b: usize| counts[b] > 0;
        if !full(b) {
            EMPTY
        } else if b > 0 && b + 1 < nb && full(b - 1) && full(b + 1) {
            DENSE
        } else {
            2
        }
    }));
    let full = |b: usize| state[b] != EMPTY;
    let dense = |b: usize| state[b] == DENSE;
    // The other points, bucket by bucket, each bucket sorted.
    let keyed = &mut sc.keys;
    keyed.clear();
    let (starts, ends) = (&mut sc.starts, &mut sc.ends);
    starts.clear();
    ends.clear();
    let mut at = 0u32;
    for (b, &c) in counts.iter().enumerate() {
        starts.push(at);
        if c > 0 && !dense(b) {
            at += c;
        }
        ends.push(at);
    }
    keyed.resize(at as usize, (0, 0));
    out.clear();
    out.resize(m, min_sigma);
    // `starts[b]` moves on as bucket `b` fills, to `ends[b]`.
    for (i, (&v, &b)) in locs.iter().zip(of.iter()).enumerate() {
        let b = b as usize;
        if !dense(b) {
            keyed[starts[b] as usize] = (total_key(v), i as u32);
            starts[b] += 1;
        }
    }
    let first = (0..nb).find(|&b| full(b));
    let last = (0..nb).rev().find(|&b| full(b));
    // The largest key of the nearest non-empty bucket on the left, as
    // the scan goes (None before the first).
    let mut left: Option<u64> = None;
    for b in 0..nb {
        if !full(b) {
            continue;
        }
        if !dense(b) {
            let run = &mut keyed[(ends[b] - counts[b]) as usize..ends[b] as usize];
            match run.len() {
                0 | 1 => {}
                2..=32 => insertion_by_key(run),
                _ => run.sort_unstable(),
            }
            let right = (b + 1..nb).find(|&r| full(r)).map(|r| lo[r]);
            for r in 0..run.len() {
                let cur = from_key(run[r].0);
                let prev = match r {
                    0 => left.map_or(0.0, from_key),
                    _ => from_key(run[r - 1].0),
                };
                let next = match run.get(r + 1) {
                    Some(&(k, _)) => from_key(k),
                    None => right.map_or(1.0, from_key),
                };
                let sg = (cur - prev).max(next - cur);
                out[run[r].1 as usize] = sg.clamp(min_sigma, 1.0);
            }
            if !endpoints && m >= 2 {
                // The outermost points use their inner gap.
                if Some(b) == first {
                    let (k0, i0) = run[0];
                    let k1 = run.get(1).map_or(right.unwrap_or(k0), |&(k, _)| k);
                    out[i0 as usize] = (from_key(k1) - from_key(k0)).clamp(min_sigma, 1.0);
                }
                if Some(b) == last {
                    let (kl, il) = run[run.len() - 1];
                    let k2 = match run.len() {
                        1 => left.unwrap_or(kl),
                        n => run[n - 2].0,
                    };
                    out[il as usize] = (from_key(kl) - from_key(k2)).clamp(min_sigma, 1.0);
                }
            }
        }
        left = Some(hi[b]);
    }
    true
}

/// `(total_key(x[i]), i)` for every `i`, sorted: the points in a total,
/// deterministic order (by value, ties by index). The pairs are unique, so
/// every correct sort gives this one order; which algorithm runs only
/// changes the time.
#[cfg(test)]
pub(super) fn sorted_keys(x: &[f64]) -> Vec<(u64, u32)> {
    let mut sc = Scratch::default();
    sorted_keys_into(x, &mut sc);
    sc.keys
}

/// [`sorted_keys`] into `sc.keys`, with `sc`'s buffers.
pub(super) fn sorted_keys_into(x: &[f64], sc: &mut Scratch) {
    let m = x.len();
    let keyed = &mut sc.keys;
    keyed.clear();
    if m < 64 || !x.iter().all(|v| (0.0..=1.0).contains(v)) {
        keyed.extend(x.iter().enumerate().map(|(i, &v)| (total_key(v), i as u32)));
        keyed.sort_unstable();
        return;
    }
    // Unit coordinates (the usual case): a bucket sort, `m` equal buckets
    // of [0, 1], then a sort inside each (a handful of points, unless
    // they cluster). The bucket is monotone in the value (-0 and +0 share
    // bucket 0), so buckets in order, each sorted, are the sorted order.
    // `v * m` is in [0, m] and `m` fits in u32 (trial indices do): the
    // narrower conversion is the same number, with fewer instructions
    // than the saturating one to usize.
    let bucket = |v: f64| ((v * m as f64) as u32 as usize).min(m - 1);
    let end = &mut sc.counts;
    end.clear();
    end.resize(m + 1, 0);
    // Each point's bucket, computed once for both passes.
    let of = &mut sc.buckets;
    of.clear();
    for &v in x {
        let b = bucket(v);
        of.push(b as u32);
        end[b + 1] += 1;
    }
    let mut acc = 0;
    for e in end.iter_mut() {
        acc += *e;
        *e = acc;
    }
    keyed.resize(m, (0, 0));
    for (i, (&v, &b)) in x.iter().zip(of.iter()).enumerate() {
        let b = b as usize;
        keyed[end[b] as usize] = (total_key(v), i as u32);
        end[b] += 1;
    }
    // Now `end[b]` is where bucket `b` ends (and `b + 1` starts).
    let mut start = 0;
    for &e in &end[..m] {
        let e = e as usize;
        match e - start {
            0 | 1 => {}
            2..=32 => insertion_by_key(&mut keyed[start..e]),
            _ => keyed[start..e].sort_unstable(),
        }
        start = e;
    }
}

/// Sort `run`, given in ascending index order, by the key alone, stably:
/// equal keys keep their index order, so this is the `(key, index)` order
/// (one integer comparison a step instead of a pair's). For a bucket's few
/// points.
pub(super) fn insertion_by_key(run: &mut [(u64, u32)]) {
    for i in 1..run.len() {
        let cur = run[i];
        let mut j = i;
        while j > 0 && run[j - 1].0 > cur.0 {
            run[j] = run[j - 1];
            j -= 1;
        }
        run[j] = cur;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucketed bandwidths equal the sorted ones after the clip, bit
    /// for bit: uniform, clustered, tied (a discrete grid) and edge points,
    /// with and without the endpoints.
    #[test]
    fn bucketed_bandwidths_equal_the_sorted_ones() {
        let mut rng = seed::stream(9, "sigmas");
        let mut sc = Scratch::default();
        let mut cases: Vec<Vec<f64>> = Vec::new();
        for m in [64, 300, 1000, 2000] {
            cases.push((0..m).map(|_| unit(&mut rng)).collect());
            cases.push(
                (0..m)
                    .map(|_| 0.3 + 0.05 * (unit(&mut rng) - 0.5))
                    .collect(),
            );
            cases.push(
                (0..m)
                    .map(|_| (unit(&mut rng) * 7.0).floor() / 6.0)
                    .collect(),
            );
            // A few points far apart beside a dense cluster, and the edges.
            let mut v: Vec<f64> = (0..m).map(|_| 0.6 + 0.1 * unit(&mut rng)).collect();
            v[0] = 0.0;
            v[1] = 1.0;
            v[2] = -0.0;
            v[3] = 0.05;
            v[4] = 0.97;
            v[5] = 0.6;
            v[6] = 0.6;
            cases.push(v);
            cases.push((0..m).map(|i| i as f64 / m as f64).collect());
        }
        let mut fast_used = 0;
        for locs in &cases {
            let m = locs.len();
            for min_sigma in [1.0 / (m as f64 + 2.0).min(100.0), 0.003, 0.05] {
                for endpoints in [false, true] {
                    let mut want = neighbour_sigmas(locs, endpoints);
                    for sg in &mut want {
                        *sg = sg.clamp(min_sigma, 1.0);
                    }
                    let mut got = Vec::new();
                    if clip_sigmas(locs, endpoints, min_sigma, &mut sc, &mut got) {
                        fast_used += 1;
                        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&got), bits(&want), "m {m} min {min_sigma} {endpoints}");
                    }
                }
            }
        }
        // The fast path ran on most cases (it declines few points).
        assert!(fast_used >= 40, "{fast_used}");
    }

    #[test]
    fn bucket_sort_gives_the_sorted_order() {
        // Clustered points (one bucket holds most), ties (broken by
        // index), both zeros, the ends, and a small and an out-of-range
        // input (the plain sort).
        let mut x: Vec<f64> = (0..300)
            .map(|i| 0.4 + ((i * 37) % 101) as f64 * 1e-5)
            .collect();
        x.extend([0.0, -0.0, 1.0, 0.4, 0.4, 0.7, 0.0, 0.25]);
        x.extend((0..50).map(|i| ((i * 13) % 50) as f64 / 49.0));
        let plain = |x: &[f64]| {
            let mut k: Vec<(u64, u32)> = x
                .iter()
                .enumerate()
                .map(|(i, &v)| (total_key(v), i as u32))
                .collect();
            k.sort();
            k
        };
        assert_eq!(sorted_keys(&x), plain(&x));
        let ranks: Vec<u32> = sorted_keys(&[0.3, -0.0, 0.0, 0.3])
            .iter()
            .map(|k| k.1)
            .collect();
        assert_eq!(ranks, vec![1, 2, 0, 3]);
        let mut wide = x.clone();
        wide.push(1.5);
        assert_eq!(sorted_keys(&wide), plain(&wide));
    }
}
