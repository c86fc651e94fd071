//! Dense linear algebra for the Gaussian process: a Cholesky factorisation
//! with jitter escalation, triangular solves and the inverse of a factored
//! matrix. Matrices are flat row-major `n × n` slices.
//!
//! Determinism: every sum runs in a fixed order. [`dot`] keeps eight
//! partial sums (lanes `k mod 8`, so the compiler can use vector
//! registers) and adds them in a fixed tree, then the tail in index order, so a result is the same bits on every
//! run and machine (Rust never fuses or reorders float operations).

use crate::numeric::avx2_dispatch;

/// `Σ a_k b_k` over the shorter length, in the fixed order described above.
#[inline(always)]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let full = n / 8 * 8;
    // Lanes 0–3 in `lo`, 4–7 in `hi`: one four-wide register each.
    let (mut lo, mut hi) = ([0.0f64; 4], [0.0f64; 4]);
    for (x, y) in a[..full].chunks_exact(8).zip(b[..full].chunks_exact(8)) {
        for k in 0..4 {
            lo[k] += x[k] * y[k];
            hi[k] += x[4 + k] * y[4 + k];
        }
    }
    let mut total = lane_tree(lo, hi);
    for (x, y) in a[full..n].iter().zip(&b[full..n]) {
        total += x * y;
    }
    total
}

/// The fixed tree `((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))` of
/// eight lane sums held as `lo = s0..s3` and `hi = s4..s7`.
/// `black_box` changes no value: it hides the tree from LLVM's
/// vectoriser, which otherwise re-pairs the lanes to match the tree and
/// runs the loop feeding them two-wide with shuffles instead of four-wide.
#[inline(always)]
pub(crate) fn lane_tree(lo: [f64; 4], hi: [f64; 4]) -> f64 {
    let c: [f64; 4] = std::hint::black_box(std::array::from_fn(|k| lo[k] + hi[k]));
    (c[0] + c[1]) + (c[2] + c[3])
}

/// A lower-triangular factor `L` with `L Lᵀ = A + jitter · I`.
#[derive(Clone, Debug)]
pub struct Cholesky {
    /// The order of the matrix.
    pub n: usize,
    /// `L`, row-major; entries above the diagonal are zero.
    pub l: Vec<f64>,
    /// What was added to the diagonal to make the factorisation succeed
    /// (0 when `A` itself was positive definite enough). Read by the
    /// tests, which check the jitter ladder.
    #[cfg_attr(not(test), allow(dead_code))]
    pub jitter: f64,
}

/// The largest jitter tried, relative to the mean diagonal of the matrix.
const JITTER_CAP_REL: f64 = 1e-2;

impl Cholesky {
    /// Factor the symmetric matrix `a` (only its lower triangle is read).
    /// Tries `a` as given, then `a + j I` for `j = jitter, 10 jitter, …`
    /// while `j` stays below 1e-2 × the mean diagonal; `None` if every try
    /// fails, or if `a` holds a non-finite number. Never panics.
    pub fn factor(a: &[f64], n: usize, jitter: f64) -> Option<Cholesky> {
        if a.len() != n * n || a.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mean_diag = (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n.max(1) as f64;
        // The blocked in-place factor does each entry's arithmetic in the
        // plain order (same bits); a failed try has overwritten `l`, so
        // each try starts from a fresh copy of `a`.
        let mut l = a.to_vec();
        let mut done = factor_in_place(&mut l, n, 0.0).then_some(0.0);
        for j in jitter_ladder(jitter, mean_diag) {
            if done.is_some() {
                break;
            }
            l.copy_from_slice(a);
            done = factor_in_place(&mut l, n, j).then_some(j);
        }
        let jitter = done?;
        for i in 0..n {
            l[i * n + i + 1..(i + 1) * n]
                .iter_mut()
                .for_each(|v| *v = 0.0);
        }
        Some(Cholesky { n, l, jitter })
    }

    /// `Σ log L_ii` = half the log-determinant of the factored matrix.
    #[cfg(test)]
    pub fn half_log_det(&self) -> f64 {
        (0..self.n).map(|i| self.l[i * self.n + i].ln()).sum()
    }

    /// Solve `L x = b`.
    pub fn solve_lower(&self, b: &[f64]) -> Vec<f64> {
        solve_lower(&self.l, self.n, b)
    }

    /// Solve `Lᵀ x = b`.
    pub fn solve_upper(&self, b: &[f64]) -> Vec<f64> {
        solve_upper(&self.l, self.n, b)
    }

    /// Solve `(L Lᵀ) x = b`.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        self.solve_upper(&self.solve_lower(b))
    }

    /// The inverse of `L Lᵀ`, full and symmetric, row-major.
    #[cfg(test)]
    pub fn inverse(&self) -> Vec<f64> {
        let n = self.n;
        // u holds L⁻¹ transposed: row j of u is column j of L⁻¹, nonzero
        // from index j on, so both products below read contiguous slices.
        let mut u = vec![0.0; n * n];
        for j in 0..n {
            u[j * n + j] = 1.0 / self.l[j * n + j];
            for i in j + 1..n {
                let s = dot(&self.l[i * n + j..i * n + i], &u[j * n + j..j * n + i]);
                u[j * n + i] = -s / self.l[i * n + i];
            }
        }
        let mut w = vec![0.0; n * n];
        for i in 0..n {
            for j in i..n {
                let v = dot(&u[i * n + j..i * n + n], &u[j * n + j..j * n + n]);
                w[i * n + j] = v;
                w[j * n + i] = v;
            }
        }
        w
    }
}

avx2_dispatch! {
    /// Solve `L x = b` for the lower triangle `L` of the row-major `l`.
    pub fn solve_lower(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> = solve_lower_impl;
}

/// See [`solve_lower`]. Rows go four at a time: when the block starts at
/// a multiple of 4, its four rows (lengths `i0 .. i0 + 3`) have the same
/// whole eight-wide chunks, so one read of `x` serves all four chunk sums
/// ([`dot4`]); each row then adds its own tail in index order, as [`dot`]
/// does. Every `x_i` sees the same operations in the same order as
/// [`solve_lower_plain`]: the same bits.
#[inline(always)]
fn solve_lower_impl(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; n];
    let mut i0 = 0;
    while i0 + 4 <= n {
        let full = i0 / 8 * 8;
        let row = |i: usize| &l[i * n..i * n + full];
        let heads = dot4([row(i0), row(i0 + 1), row(i0 + 2), row(i0 + 3)], &x[..full]);
        for (i, head) in (i0..i0 + 4).zip(heads) {
            let mut s = head;
            for (lik, xk) in l[i * n + full..i * n + i].iter().zip(&x[full..i]) {
                s += lik * xk;
            }
            x[i] = (b[i] - s) / l[i * n + i];
        }
        i0 += 4;
    }
    for i in i0..n {
        x[i] = (b[i] - dot(&l[i * n..i * n + i], &x[..i])) / l[i * n + i];
    }
    x
}

/// [`solve_lower`] one row at a time: the reference the blocked version
/// must match bit for bit.
#[cfg(test)]
fn solve_lower_plain(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; n];
    for i in 0..n {
        x[i] = (b[i] - dot(&l[i * n..i * n + i], &x[..i])) / l[i * n + i];
    }
    x
}

avx2_dispatch! {
    /// Solve `Lᵀ x = b` for the lower triangle `L` of the row-major `l`.
    pub fn solve_upper(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> = solve_upper_impl;
}

/// See [`solve_upper`]. Column-oriented back substitution: `x_k` is
/// final once rows `n − 1 .. k + 1` have subtracted their parts, in that
/// order. Four rows go per pass over `x`
/// (`x_k = (((x_k − L_ik x_i) − L_{i−1,k} x_{i−1}) − …)`), the same
/// sequence of roundings as four passes ([`solve_upper_plain`]): the same
/// bits, a quarter of the loads and stores of `x`.
#[inline(always)]
fn solve_upper_impl(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    let mut top = n;
    while top >= 4 {
        let i = top - 4;
        // The block's own triangle, rows top-1 down to i.
        let r = [
            &l[(i + 3) * n..(i + 3) * n + i + 3],
            &l[(i + 2) * n..(i + 2) * n + i + 2],
            &l[(i + 1) * n..(i + 1) * n + i + 1],
            &l[i * n..i * n + i],
        ];
        x[i + 3] /= l[(i + 3) * n + i + 3];
        let x3 = x[i + 3];
        x[i + 2] = (x[i + 2] - r[0][i + 2] * x3) / l[(i + 2) * n + i + 2];
        let x2 = x[i + 2];
        x[i + 1] = ((x[i + 1] - r[0][i + 1] * x3) - r[1][i + 1] * x2) / l[(i + 1) * n + i + 1];
        let x1 = x[i + 1];
        x[i] = (((x[i] - r[0][i] * x3) - r[1][i] * x2) - r[2][i] * x1) / l[i * n + i];
        let x0 = x[i];
        let (r3, r2, r1, r0) = (&r[0][..i], &r[1][..i], &r[2][..i], r[3]);
        for ((((xk, a), b), c), d) in x[..i].iter_mut().zip(r3).zip(r2).zip(r1).zip(r0) {
            *xk = (((*xk - a * x3) - b * x2) - c * x1) - d * x0;
        }
        top = i;
    }
    for i in (0..top).rev() {
        x[i] /= l[i * n + i];
        let xi = x[i];
        for (xk, lik) in x[..i].iter_mut().zip(&l[i * n..i * n + i]) {
            *xk -= lik * xi;
        }
    }
    x
}

/// [`solve_upper`] one row per pass: the reference the four-row version
/// must match bit for bit.
#[cfg(test)]
fn solve_upper_plain(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in (0..n).rev() {
        x[i] /= l[i * n + i];
        let xi = x[i];
        for (xk, lik) in x[..i].iter_mut().zip(&l[i * n..i * n + i]) {
            *xk -= lik * xi;
        }
    }
    x
}

/// The jitters [`Cholesky::factor`] tries after the matrix as given, for a
/// matrix whose mean diagonal is `mean_diag`: `jitter`, `10 jitter`, …
/// while at most `max(1e-2 mean_diag, jitter)`.
pub fn jitter_ladder(jitter: f64, mean_diag: f64) -> impl Iterator<Item = f64> {
    let cap = (JITTER_CAP_REL * mean_diag).max(jitter);
    std::iter::successors(Some(jitter), |j| Some(j * 10.0))
        .take_while(move |&j| j > 0.0 && j <= cap)
}

avx2_dispatch! {
    /// Factor `a + j I` in place: on success the lower triangle of `a` holds
    /// `L` (the strict upper triangle is neither read nor written); false if a
    /// pivot is not positive, and then `a`'s lower triangle is partly
    /// overwritten. Same arithmetic, in the same order, as [`Cholesky::factor`].
    pub fn factor_in_place(a: &mut [f64], n: usize, j: f64) -> bool = factor_in_place_impl;
}

/// See [`factor_in_place`]. Rows are done four at a time: their entries
/// left of the block share each read of row `k` ([`dot4`], every entry
/// summed exactly as [`dot`] would), then the block's own triangle row by
/// row. Each entry sees the same operations in the same order as the
/// plain row-by-row loop, so the bits are the same.
#[inline(always)]
fn factor_in_place_impl(a: &mut [f64], n: usize, j: f64) -> bool {
    let mut i0 = 0;
    while i0 + 4 <= n {
        let (head, block) = a.split_at_mut(i0 * n);
        let (r0, rest) = block.split_at_mut(n);
        let (r1, rest) = rest.split_at_mut(n);
        let (r2, rest) = rest.split_at_mut(n);
        let r3 = &mut rest[..n];
        for k in 0..i0 {
            let rk = &head[k * n..k * n + k];
            let s = dot4([&r0[..k], &r1[..k], &r2[..k], &r3[..k]], rk);
            let lkk = head[k * n + k];
            r0[k] = (r0[k] - s[0]) / lkk;
            r1[k] = (r1[k] - s[1]) / lkk;
            r2[k] = (r2[k] - s[2]) / lkk;
            r3[k] = (r3[k] - s[3]) / lkk;
        }
        if !factor_rows(a, n, j, i0, i0 + 4, i0) {
            return false;
        }
        i0 += 4;
    }
    factor_rows(a, n, j, i0, n, 0)
}

/// Rows `from..to` of [`factor_in_place_impl`], entries from column
/// `first` on (those left of it are already done), one at a time.
#[inline(always)]
fn factor_rows(a: &mut [f64], n: usize, j: f64, from: usize, to: usize, first: usize) -> bool {
    for i in from..to {
        for k in first..=i {
            let (head, row) = a.split_at_mut(i * n);
            let row = &mut row[..n];
            let s = if k == i {
                dot(&row[..k], &row[..k])
            } else {
                dot(&row[..k], &head[k * n..k * n + k])
            };
            if k == i {
                let d = row[i] + j - s;
                if d.is_nan() || d <= 0.0 || !d.is_finite() {
                    return false;
                }
                row[i] = d.sqrt();
            } else {
                row[k] = (row[k] - s) / head[k * n + k];
            }
        }
    }
    true
}

/// [`dot`] of each of four rows with `b` (all of `b`'s length), each with
/// exactly [`dot`]'s lanes, tree and tail: one read of `b` serves four sums.
#[inline(always)]
fn dot4(r: [&[f64]; 4], b: &[f64]) -> [f64; 4] {
    let n = b.len();
    let r = [&r[0][..n], &r[1][..n], &r[2][..n], &r[3][..n]];
    let (mut lo, mut hi) = ([[0.0f64; 4]; 4], [[0.0f64; 4]; 4]);
    let full = n / 8 * 8;
    for c in (0..full).step_by(8) {
        let bb = &b[c..c + 8];
        for ((l, h), rq) in lo.iter_mut().zip(hi.iter_mut()).zip(&r) {
            let x = &rq[c..c + 8];
            for k in 0..4 {
                l[k] += x[k] * bb[k];
                h[k] += x[4 + k] * bb[4 + k];
            }
        }
    }
    let mut out = [0.0; 4];
    for (((o, &l), &h), rq) in out.iter_mut().zip(&lo).zip(&hi).zip(&r) {
        let mut total = lane_tree(l, h);
        for (x, y) in rq[full..].iter().zip(&b[full..]) {
            total += x * y;
        }
        *o = total;
    }
    out
}

avx2_dispatch! {
    /// Replace the lower-triangular factor `L` in `a`'s lower triangle by the
    /// lower triangle of `(L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹`, in place, with one scratch row
    /// of `n`. First `L⁻¹` row by row (row i is `−Σ_{k<i} L_ik (L⁻¹)_k / L_ii`
    /// plus `1/L_ii` on the diagonal), then row i of the product as
    /// `Σ_{k≥i} (L⁻¹)_ki (L⁻¹)_k[..=i]`; every sum runs in increasing `k`.
    pub fn inverse_in_place(a: &mut [f64], n: usize) = inverse_in_place_impl;
}

/// See [`inverse_in_place`]. Both phases add four terms per pass over
/// the scratch row (`t = (((t + a u) + b v) + c w) + d x`), which is the
/// same sequence of roundings as four passes: the same bits, a quarter of
/// the loads and stores of `t`.
#[inline(always)]
fn inverse_in_place_impl(a: &mut [f64], n: usize) {
    let mut t = vec![0.0; n];
    for i in 0..n {
        let t = &mut t[..i];
        t.iter_mut().for_each(|v| *v = 0.0);
        let (head, row) = a.split_at_mut(i * n);
        let mut k = 0;
        while k + 4 <= i {
            // Rows k..k+3 of L⁻¹ are nonzero up to their diagonals: the
            // first k + 1 entries take all four terms, the rest fewer.
            let u = [
                &head[k * n..k * n + k + 4],
                &head[(k + 1) * n..(k + 1) * n + k + 4],
                &head[(k + 2) * n..(k + 2) * n + k + 4],
                &head[(k + 3) * n..(k + 3) * n + k + 4],
            ];
            let l = [row[k], row[k + 1], row[k + 2], row[k + 3]];
            let m = k + 1;
            let (u0, u1, u2, u3) = (&u[0][..m], &u[1][..m], &u[2][..m], &u[3][..m]);
            for ((((tv, x0), x1), x2), x3) in t[..m].iter_mut().zip(u0).zip(u1).zip(u2).zip(u3) {
                *tv = (((*tv + l[0] * x0) + l[1] * x1) + l[2] * x2) + l[3] * x3;
            }
            t[k + 1] = ((t[k + 1] + l[1] * u[1][k + 1]) + l[2] * u[2][k + 1]) + l[3] * u[3][k + 1];
            t[k + 2] = (t[k + 2] + l[2] * u[2][k + 2]) + l[3] * u[3][k + 2];
            t[k + 3] += l[3] * u[3][k + 3];
            k += 4;
        }
        for k in k..i {
            let lik = row[k];
            for (tv, u) in t.iter_mut().zip(&head[k * n..k * n + k + 1]) {
                *tv += lik * u;
            }
        }
        let lii = row[i];
        for (r, tv) in row[..i].iter_mut().zip(t.iter()) {
            *r = -tv / lii;
        }
        row[i] = 1.0 / lii;
    }
    for i in 0..n {
        let t = &mut t[..=i];
        t.iter_mut().for_each(|v| *v = 0.0);
        let mut k = i;
        while k + 4 <= n {
            let r = [
                &a[k * n..k * n + i + 1],
                &a[(k + 1) * n..(k + 1) * n + i + 1],
                &a[(k + 2) * n..(k + 2) * n + i + 1],
                &a[(k + 3) * n..(k + 3) * n + i + 1],
            ];
            let c = [r[0][i], r[1][i], r[2][i], r[3][i]];
            for ((((tv, x0), x1), x2), x3) in t.iter_mut().zip(r[0]).zip(r[1]).zip(r[2]).zip(r[3]) {
                *tv = (((*tv + c[0] * x0) + c[1] * x1) + c[2] * x2) + c[3] * x3;
            }
            k += 4;
        }
        for k in k..n {
            let row = &a[k * n..k * n + i + 1];
            let uki = row[i];
            for (tv, u) in t.iter_mut().zip(row) {
                *tv += uki * u;
            }
        }
        a[i * n..i * n + i + 1].copy_from_slice(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_of_a_hand_checked_3x3() {
        // A = L Lᵀ with L = [[2,0,0],[1,3,0],[-1,2,1]].
        let a = [4.0, 2.0, -2.0, 2.0, 10.0, 5.0, -2.0, 5.0, 6.0];
        let c = Cholesky::factor(&a, 3, 1e-6).unwrap();
        assert_eq!(c.jitter, 0.0);
        let want = [2.0, 0.0, 0.0, 1.0, 3.0, 0.0, -1.0, 2.0, 1.0];
        for (g, w) in c.l.iter().zip(want) {
            assert!((g - w).abs() < 1e-14, "{:?}", c.l);
        }
        assert!((c.half_log_det() - 6f64.ln()).abs() < 1e-14);
        // A x = b with x = (1, -1, 2): b = (-2, 2, 5).
        let x = c.solve(&[-2.0, 2.0, 5.0]);
        for (g, w) in x.iter().zip([1.0, -1.0, 2.0]) {
            assert!((g - w).abs() < 1e-13, "{x:?}");
        }
        let inv = c.inverse();
        for i in 0..3 {
            for j in 0..3 {
                let p: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((p - want).abs() < 1e-13);
            }
        }
    }

    #[test]
    fn in_place_factor_and_inverse_match_the_hand_checked_3x3() {
        // The same A as above; the strict upper triangle holds junk that
        // must be neither read nor changed.
        let mut a = [4.0, 9.0, 9.0, 2.0, 10.0, 9.0, -2.0, 5.0, 6.0];
        assert!(factor_in_place(&mut a, 3, 0.0));
        let want = [2.0, 9.0, 9.0, 1.0, 3.0, 9.0, -1.0, 2.0, 1.0];
        assert_eq!(a, want);
        // L x = b, Lᵀ x = b: A x = (-2, 2, 5) has x = (1, -1, 2).
        let x = solve_upper(&a, 3, &solve_lower(&a, 3, &[-2.0, 2.0, 5.0]));
        for (g, w) in x.iter().zip([1.0, -1.0, 2.0]) {
            assert!((g - w).abs() < 1e-13, "{x:?}");
        }
        inverse_in_place(&mut a, 3);
        // A⁻¹ = adj(A)/det(A), det = 36: lower triangle
        // [35, -22, 20, 30, -24, 36] / 36.
        let want = [35.0, -22.0, 20.0, 30.0, -24.0, 36.0];
        let got = [a[0], a[3], a[4], a[6], a[7], a[8]];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w / 36.0).abs() < 1e-14, "{a:?}");
        }
        assert_eq!([a[1], a[2], a[5]], [9.0, 9.0, 9.0]);
        // An indefinite matrix is refused; the ladder is 1e-6 .. 1e-2.
        assert!(!factor_in_place(&mut [1.0, 0.0, 2.0, 1.0], 2, 0.0));
        let ladder: Vec<f64> = jitter_ladder(1e-6, 1.0).collect();
        assert_eq!(ladder.len(), 5);
    }

    #[test]
    fn singular_matrix_gets_jitter() {
        // Rank one: [[1,1],[1,1]] needs jitter; the first that works is 1e-6.
        let a = [1.0, 1.0, 1.0, 1.0];
        let c = Cholesky::factor(&a, 2, 1e-6).unwrap();
        assert!(c.jitter >= 1e-6 && c.jitter <= 1e-2, "{}", c.jitter);
        assert!(c.l.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn hopeless_matrix_is_refused_without_panic() {
        // Indefinite beyond any small jitter, and a NaN.
        assert!(Cholesky::factor(&[1.0, 2.0, 2.0, 1.0], 2, 1e-6).is_none());
        assert!(Cholesky::factor(&[f64::NAN, 0.0, 0.0, 1.0], 2, 1e-6).is_none());
    }

    #[test]
    fn dot_keeps_its_eight_lanes_and_tree() {
        // The reference: eight partial sums in an array, the tree, then
        // the tail; irregular values so another order shows in the bits.
        let reference = |a: &[f64], b: &[f64]| {
            let n = a.len().min(b.len());
            let mut s = [0.0f64; 8];
            for c in 0..n / 8 {
                for k in 0..8 {
                    s[k] += a[8 * c + k] * b[8 * c + k];
                }
            }
            let mut t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
            for k in n / 8 * 8..n {
                t += a[k] * b[k];
            }
            t
        };
        let a: Vec<f64> = (0..45)
            .map(|i| ((i * 37) % 29) as f64 / 3.0 - 4.1)
            .collect();
        let b: Vec<f64> = (0..45)
            .map(|i| ((i * 13) % 17) as f64 / 7.0 - 1.1)
            .collect();
        for n in 0..45 {
            let want = reference(&a[..n], &b[..n]).to_bits();
            assert_eq!(dot(&a[..n], &b[..n]).to_bits(), want, "{n}");
            let r = [&a[..n], &b[..n], &a[..n], &b[..n]];
            let got = dot4(r, &b[..n]);
            assert_eq!(got[1].to_bits(), reference(&b[..n], &b[..n]).to_bits());
            assert_eq!(got[2].to_bits(), want, "{n}");
        }
    }

    #[test]
    fn dot_matches_a_plain_sum() {
        let a: Vec<f64> = (0..11).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..11).map(|i| 1.0 + i as f64).collect();
        assert_eq!(
            dot(&a, &b),
            (0..11).map(|i| (i * (i + 1)) as f64).sum::<f64>()
        );
    }
    #[test]
    fn avx2_and_baseline_agree_bit_for_bit() {
        // A 37 × 37 positive definite matrix (odd sizes exercise the
        // vector tails); the dispatched functions (AVX2 on a CPU that has
        // it) against the baseline bodies called directly.
        let n = 37;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let d = (i as f64 - j as f64) / 9.0;
                a[i * n + j] = (-d * d).exp() + if i == j { 1e-3 } else { 0.0 };
            }
        }
        let b: Vec<f64> = (0..n).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let (mut wide, mut base) = (a.clone(), a.clone());
        assert!(factor_in_place(&mut wide, n, 0.0));
        assert!(factor_in_place_impl(&mut base, n, 0.0));
        assert_eq!(bits(&wide), bits(&base));
        assert_eq!(
            bits(&solve_lower(&wide, n, &b)),
            bits(&solve_lower_impl(&base, n, &b))
        );
        assert_eq!(
            bits(&solve_upper(&wide, n, &b)),
            bits(&solve_upper_impl(&base, n, &b))
        );
        // Cholesky::factor: the plain loop's lower triangle, zeros above.
        let mut l = a.clone();
        assert!(factor_rows(&mut l, n, 0.0, 0, n, 0));
        for i in 0..n {
            l[i * n + i + 1..(i + 1) * n]
                .iter_mut()
                .for_each(|v| *v = 0.0);
        }
        assert_eq!(bits(&Cholesky::factor(&a, n, 1e-6).unwrap().l), bits(&l));
        inverse_in_place(&mut wide, n);
        inverse_in_place_impl(&mut base, n);
        assert_eq!(bits(&wide), bits(&base));
        // The four-row blocks against the plain row-by-row loop.
        let (mut blocked, mut plain) = (a.clone(), a.clone());
        assert!(factor_in_place_impl(&mut blocked, n, 0.0));
        assert!(factor_rows(&mut plain, n, 0.0, 0, n, 0));
        assert_eq!(bits(&blocked), bits(&plain));
    }

    #[test]
    fn blocked_solves_match_the_plain_ones_bit_for_bit() {
        // Every size from 0 to 41 crosses the four-row blocks and the
        // eight-wide chunks at every offset; entries are irregular so a
        // reordered sum would show in the last bits.
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for n in 0..42 {
            let mut l = vec![0.0; n * n];
            for i in 0..n {
                for k in 0..i {
                    l[i * n + k] = ((i * 31 + k * 17) % 23) as f64 / 7.0 - 1.3;
                }
                l[i * n + i] = 1.0 + (i % 5) as f64 / 3.0;
            }
            let b: Vec<f64> = (0..n).map(|i| ((i * 7) % 11) as f64 / 3.0 - 1.7).collect();
            assert_eq!(
                bits(&solve_lower(&l, n, &b)),
                bits(&solve_lower_plain(&l, n, &b))
            );
            assert_eq!(
                bits(&solve_lower_impl(&l, n, &b)),
                bits(&solve_lower_plain(&l, n, &b))
            );
            assert_eq!(
                bits(&solve_upper(&l, n, &b)),
                bits(&solve_upper_plain(&l, n, &b))
            );
            assert_eq!(
                bits(&solve_upper_impl(&l, n, &b)),
                bits(&solve_upper_plain(&l, n, &b))
            );
        }
        // A hand-checked 2 × 2 (below one block): L = [[2, 0], [1, 4]],
        // L x = (2, 9) gives x = (1, 2); Lᵀ x = (4, 8) gives x = (1, 2).
        let l = [2.0, 0.0, 1.0, 4.0];
        assert_eq!(solve_lower(&l, 2, &[2.0, 9.0]), vec![1.0, 2.0]);
        assert_eq!(solve_upper(&l, 2, &[4.0, 8.0]), vec![1.0, 2.0]);
    }
}
