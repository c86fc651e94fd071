//! The statistics a drift check computes: the population stability index,
//! the two-sample Kolmogorov–Smirnov statistic and its asymptotic p-value,
//! the chi-square test of homogeneity and its p-value, and the Poisson
//! upper tail used by the "outside the training range" check.
//!
//! The special functions (log-gamma, the regularized incomplete gamma, the
//! Kolmogorov distribution) are written here, without a dependency, and
//! tested against values computed with scipy 1.17.1 (each test states them).
//! Every sum runs in index order, so results are a pure function of the
//! inputs.

/// The proportion that replaces an empty bin (0) inside the PSI sum, on
/// either side: without it one empty bin makes the index infinite. The
/// usual choice in credit-risk practice; documented in `docs/drift.md`.
pub const PSI_EPSILON: f64 = 1e-4;

/// Population stability index of two histograms over the same bins:
/// `sum_i (q_i - p_i) * ln(q_i / p_i)`, where `p` are the training
/// proportions and `q` the new ones (each count divided by its total).
/// A proportion of 0 is replaced by [`PSI_EPSILON`]. `None` when either
/// side has no values at all or the bins differ in number.
pub fn psi(train: &[u64], new: &[u64]) -> Option<f64> {
    if train.len() != new.len() {
        return None;
    }
    let n: u64 = train.iter().sum();
    let m: u64 = new.iter().sum();
    if n == 0 || m == 0 {
        return None;
    }
    let mut total = 0.0;
    for (&a, &b) in train.iter().zip(new) {
        let p = (a as f64 / n as f64).max(PSI_EPSILON);
        let q = (b as f64 / m as f64).max(PSI_EPSILON);
        total += (q - p) * (q / p).ln();
    }
    Some(total)
}

/// An approximate p-value for a PSI between samples of `n` and `m` values
/// over `bins` bins: with no drift, `PSI * n*m/(n+m)` is approximately
/// chi-square with `bins - 1` degrees of freedom (for small differences
/// the PSI is the chi-square distance of the two histograms). `None` with
/// fewer than 2 bins or an empty side.
pub fn psi_p_value(psi: f64, n: u64, m: u64, bins: usize) -> Option<f64> {
    if bins < 2 || n == 0 || m == 0 {
        return None;
    }
    Some(chi2_sf(psi * effective_n(n, m), (bins - 1) as f64))
}

/// `n*m/(n+m)`, the effective sample size of a two-sample comparison.
pub fn effective_n(n: u64, m: u64) -> f64 {
    let (n, m) = (n as f64, m as f64);
    n * m / (n + m)
}

/// Survival function of the Kolmogorov distribution (the limit law of
/// `sqrt(n) * D`): `Q(l) = 2 * sum_{j>=1} (-1)^(j-1) exp(-2 j^2 l^2)`,
/// equal to scipy's `kstwobign.sf(l)`. For `l < 1` the equivalent theta
/// series `1 - sqrt(2 pi)/l * sum_{j>=1} exp(-(2j-1)^2 pi^2 / (8 l^2))`
/// is used, because the alternating one converges slowly there.
pub fn kolmogorov_sf(l: f64) -> f64 {
    if l.is_nan() {
        return f64::NAN;
    }
    if l <= 0.0 {
        return 1.0;
    }
    if l < 1.0 {
        let mut s = 0.0;
        for j in 1..=20 {
            let k = (2 * j - 1) as f64;
            let term =
                (-(k * k) * std::f64::consts::PI * std::f64::consts::PI / (8.0 * l * l)).exp();
            s += term;
            if term < 1e-300 {
                break;
            }
        }
        (1.0 - (2.0 * std::f64::consts::PI).sqrt() / l * s).clamp(0.0, 1.0)
    } else {
        let mut s = 0.0;
        for j in 1..=100 {
            let jf = j as f64;
            let term = (-2.0 * jf * jf * l * l).exp();
            s += if j % 2 == 1 { term } else { -term };
            if term < 1e-300 {
                break;
            }
        }
        (2.0 * s).clamp(0.0, 1.0)
    }
}

/// The asymptotic two-sided p-value of a two-sample KS statistic `d`
/// between samples of `n` and `m` values: `kolmogorov_sf(d * sqrt(n_eff))`
/// with `n_eff = n*m/(n+m)` (scipy: `kstwobign.sf(d * sqrt(n_eff))`; note
/// that scipy's `ks_2samp(method="asymp")` uses the finite-n `kstwo`
/// instead, which differs slightly for small samples).
pub fn ks_p_value(d: f64, n: u64, m: u64) -> Option<f64> {
    if n == 0 || m == 0 {
        return None;
    }
    Some(kolmogorov_sf(d * effective_n(n, m).sqrt()))
}

/// The chi-square test of homogeneity of two samples over the same cells
/// (a 2 x k contingency table: row one `a`, row two `b`), without
/// continuity correction: returns the statistic and its degrees of
/// freedom. Cells empty in both rows are dropped first. `None` when either
/// row is empty or fewer than two cells remain (nothing to compare).
/// scipy: `chi2_contingency([a, b], correction=False)`.
pub fn chi2_homogeneity(a: &[u64], b: &[u64]) -> Option<(f64, usize)> {
    if a.len() != b.len() {
        return None;
    }
    let cells: Vec<(u64, u64)> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x, y))
        .filter(|&(x, y)| x + y > 0)
        .collect();
    let na: u64 = cells.iter().map(|c| c.0).sum();
    let nb: u64 = cells.iter().map(|c| c.1).sum();
    if na == 0 || nb == 0 || cells.len() < 2 {
        return None;
    }
    let total = (na + nb) as f64;
    let mut stat = 0.0;
    for &(x, y) in &cells {
        let col = (x + y) as f64;
        let ea = col * na as f64 / total;
        let eb = col * nb as f64 / total;
        stat += (x as f64 - ea) * (x as f64 - ea) / ea + (y as f64 - eb) * (y as f64 - eb) / eb;
    }
    Some((stat, cells.len() - 1))
}

/// Survival function of the chi-square distribution with `dof` degrees of
/// freedom: `Q(dof/2, x/2)` (scipy: `chi2.sf(x, dof)`).
pub fn chi2_sf(x: f64, dof: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    gamma_q(dof / 2.0, x / 2.0)
}

/// `P(X >= k)` for `X ~ Poisson(lambda)`: the regularized lower incomplete
/// gamma `P(k, lambda)` (scipy: `poisson.sf(k - 1, lambda)`); 1 for `k = 0`.
pub fn poisson_at_least(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    gamma_p(k as f64, lambda)
}

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, 9 terms; relative
/// error about 1e-15). scipy: `gammaln`.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1-x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized lower incomplete gamma `P(a, x) = γ(a, x) / Γ(a)` for
/// `a > 0`, `x >= 0` (scipy: `gammainc`).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x < a + 1.0 {
        gamma_series(a, x)
    } else {
        1.0 - gamma_continued_fraction(a, x)
    }
}

/// The regularized upper incomplete gamma `Q(a, x) = 1 - P(a, x)`,
/// computed directly where it is small so that tiny p-values keep their
/// digits (scipy: `gammaincc`).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_series(a, x)
    } else {
        gamma_continued_fraction(a, x)
    }
}

/// `P(a, x)` by its power series (converges fast for `x < a + 1`).
fn gamma_series(a: f64, x: f64) -> f64 {
    let mut ap = a;
    let mut term = 1.0 / a;
    let mut sum = term;
    for _ in 0..10_000 {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if term.abs() < sum.abs() * 1e-17 {
            break;
        }
    }
    (sum.ln() - x + a * x.ln() - ln_gamma(a)).exp().min(1.0)
}

/// `Q(a, x)` by its continued fraction (modified Lentz; for `x >= a + 1`).
fn gamma_continued_fraction(a: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (h.ln() - x + a * x.ln() - ln_gamma(a)).exp().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) {
        let err = (got - want).abs() / want.abs().max(1e-300);
        assert!(err <= rel, "got {got:e}, want {want:e} (rel error {err:e})");
    }

    #[test]
    fn ln_gamma_matches_scipy() {
        // scipy.special.gammaln(0.5), (10.0), (100.5).
        close(ln_gamma(0.5), 0.5723649429247, 1e-13);
        close(ln_gamma(10.0), 12.801827480081469, 1e-14);
        close(ln_gamma(100.5), 361.43554046777757, 1e-14);
        // Γ(1) = Γ(2) = 1.
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!(ln_gamma(2.0).abs() < 1e-14);
    }

    #[test]
    fn incomplete_gamma_matches_scipy() {
        // (a, x, scipy.special.gammainc(a, x), gammaincc(a, x)).
        let cases = [
            (0.5, 0.5, 0.6826894921370859, 0.31731050786291115),
            (1.0, 2.0, 0.8646647167633873, 0.1353352832366127),
            (3.0, 2.5, 0.45618688411667035, 0.5438131158833297),
            (10.0, 12.0, 0.7576078383294875, 0.24239216167051245),
            (2.5, 30.0, 0.9999999999878454, 1.2154569777183007e-11),
            (50.0, 40.0, 0.07033506665939494, 0.9296649333406051),
            (0.1, 5.0, 0.9998560610341533, 0.00014393896584673387),
        ];
        for (a, x, p, q) in cases {
            close(gamma_p(a, x), p, 1e-12);
            close(gamma_q(a, x), q, 1e-10);
        }
    }

    #[test]
    fn chi2_sf_matches_scipy() {
        // (x, dof, scipy.stats.chi2.sf(x, dof)).
        let cases = [
            (3.84, 1.0, 0.05004352124870519),
            (10.0, 3.0, 0.01856613546304325),
            (20.0, 9.0, 0.017912404529843298),
            (0.5, 2.0, 0.7788007830714049),
            (100.0, 50.0, 3.454931382984871e-05),
            (1e-3, 1.0, 0.9747728793699604),
        ];
        for (x, k, want) in cases {
            close(chi2_sf(x, k), want, 1e-10);
        }
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
    }

    #[test]
    fn kolmogorov_sf_matches_scipy_kstwobign() {
        // (l, scipy.stats.kstwobign.sf(l)); 0.3 and 0.5 use the theta series.
        let cases = [
            (0.3, 0.9999906941986655),
            (0.5, 0.9639452436648751),
            (1.0, 0.26999967167735456),
            (1.36, 0.049485876755377876),
            (2.0, 0.0006709252557796953),
            (3.0, 3.045995948942526e-08),
        ];
        for (l, want) in cases {
            close(kolmogorov_sf(l), want, 1e-10);
        }
        assert_eq!(kolmogorov_sf(0.0), 1.0);
        // The two series agree where they meet.
        close(kolmogorov_sf(0.999_999_9), kolmogorov_sf(1.0), 1e-6);
    }

    #[test]
    fn ks_p_value_uses_the_effective_sample_size() {
        // x = [1,2,2,3,4,5,5,5], y = [2,3,3,4,6,6]: scipy ks_2samp gives
        // D = 1/3; kstwobign.sf(D * sqrt(8*6/14)) = 0.8407030108704582.
        close(
            ks_p_value(1.0 / 3.0, 8, 6).unwrap(),
            0.8407030108704582,
            1e-10,
        );
        assert_eq!(ks_p_value(0.5, 0, 6), None);
    }

    #[test]
    fn chi2_homogeneity_matches_scipy_contingency() {
        // scipy.stats.chi2_contingency([[10,20,30,0],[15,15,20,5]],
        // correction=False): statistic 8.512987012987015, p 0.036518265535318936, dof 3.
        let (stat, dof) = chi2_homogeneity(&[10, 20, 30, 0], &[15, 15, 20, 5]).unwrap();
        close(stat, 8.512987012987015, 1e-13);
        assert_eq!(dof, 3);
        close(chi2_sf(stat, dof as f64), 0.036518265535318936, 1e-10);
        // A cell empty on both sides is dropped: same answer.
        let (s2, d2) = chi2_homogeneity(&[10, 0, 20, 30, 0], &[15, 0, 15, 20, 5]).unwrap();
        assert_eq!((s2.to_bits(), d2), (stat.to_bits(), 3));
        // Identical proportions: 0.
        let (s3, _) = chi2_homogeneity(&[10, 20], &[20, 40]).unwrap();
        assert!(s3.abs() < 1e-12);
        assert_eq!(chi2_homogeneity(&[5], &[7]), None);
        assert_eq!(chi2_homogeneity(&[0, 0], &[1, 2]), None);
    }

    #[test]
    fn psi_matches_hand_computation() {
        // p = (1/4, 1/4, 1/2), q = (1/2, 1/4, 1/4):
        // 1/4 ln 2 + 0 + (-1/4) ln(1/2) = ln(2)/2 = 0.34657359027997264.
        close(psi(&[1, 1, 2], &[2, 1, 1]).unwrap(), 0.5 * 2f64.ln(), 1e-15);
        // Same proportions: 0 exactly.
        assert_eq!(psi(&[10, 30], &[1, 3]), Some(0.0));
        // An empty training bin uses the epsilon: p = (1, 1e-4), q = (1/2, 1/2):
        // (0.5-1) ln 0.5 + (0.5-1e-4) ln(0.5/1e-4).
        let want = -0.5 * 0.5f64.ln() + (0.5 - 1e-4) * (0.5f64 / 1e-4).ln();
        close(psi(&[10, 0], &[5, 5]).unwrap(), want, 1e-14);
        assert_eq!(psi(&[0, 0], &[1, 1]), None);
        assert_eq!(psi(&[1], &[1, 1]), None);
    }

    #[test]
    fn psi_p_value_is_the_chi_square_tail_of_the_scaled_psi() {
        // PSI 0.05 between 1000 and 1000 values over 10 bins:
        // chi2.sf(0.05 * 500, 9) = chi2_sf(25, 9).
        let p = psi_p_value(0.05, 1000, 1000, 10).unwrap();
        assert_eq!(p.to_bits(), chi2_sf(25.0, 9.0).to_bits());
        assert_eq!(psi_p_value(0.05, 1000, 1000, 1), None);
    }

    #[test]
    fn poisson_tail_matches_scipy() {
        // scipy.stats.poisson.sf(k - 1, lambda).
        close(poisson_at_least(3, 0.8), 0.047422596071490235, 1e-12);
        close(poisson_at_least(1, 0.1), 0.09516258196404044, 1e-12);
        close(poisson_at_least(10, 2.0), 4.649807501726386e-05, 1e-10);
        assert_eq!(poisson_at_least(0, 0.5), 1.0);
        assert_eq!(poisson_at_least(2, 0.0), 0.0);
    }
}
