//! TPE's fast normal-distribution functions: the probability mass of an
//! interval ([`mass`], [`log_mass`]), accurate in both tails, from a
//! tabulated [`erfc`] and an `exp`-free upper tail ([`upper_tail`]). Their
//! bits are pinned by TPE's proposal hashes (see the module above on why
//! this `erfc` is not the reference one).

/// `ln(Phi(b) - Phi(a))` for `a <= b`, accurate in both tails.
pub(crate) fn log_mass(a: f64, b: f64) -> f64 {
    let m = mass(a, b);
    if m > 0.0 {
        m.ln()
    } else {
        f64::NEG_INFINITY
    }
}

/// `Phi(b) - Phi(a)` for `a <= b`, with relative accuracy in both tails.
pub(crate) fn mass(a: f64, b: f64) -> f64 {
    use std::f64::consts::FRAC_1_SQRT_2;
    if b <= 0.0 {
        0.5 * (erfc(-b * FRAC_1_SQRT_2) - erfc(-a * FRAC_1_SQRT_2))
    } else if a >= 0.0 {
        0.5 * (erfc(a * FRAC_1_SQRT_2) - erfc(b * FRAC_1_SQRT_2))
    } else {
        1.0 - upper_tail(-a) - upper_tail(b)
    }
}

/// Where [`upper_tail`] stops: `1 - Phi(8.5)` is below 1e-17.
pub(crate) const TAIL_END: f64 = 8.5;
/// A little above [`TAIL_END`]: `x > TAIL_SAFE * sg` (x, sg >= 0) implies
/// that the rounded `x / sg` is above `TAIL_END`.
pub(crate) const TAIL_SAFE: f64 = 8.500_001;

/// `1 - Phi(z)` for `z >= 0` to about 1e-17 absolute, taken as 0 beyond
/// 8.5: in `mass` the interval then covers `[0, 8.5]`, so its mass is at
/// least 1/2 and the tail is below its rounding. It normalises every
/// kernel on every proposal, so it avoids `exp`: from the tables at
/// `z0 = i / 32`, `1 - Phi(z0 + h) = (1 - Phi(z0)) - phi(z0) int_0^h f`
/// with `f(t) = exp(-z0 t - t^2 / 2) = sum_n b_n t^n`,
/// `(n + 1) b[n+1] = -z0 b[n] - b[n-1]`, eight terms (|h| <= 1/64).
pub(crate) fn upper_tail(z: f64) -> f64 {
    if z > TAIL_END {
        return 0.0;
    }
    let (tail, phi) = tail_tables();
    // z >= 0: adding 0.5 and truncating rounds, without a libm call.
    let i = (z * ERFCX_STEPS + 0.5) as usize;
    let z0 = i as f64 / ERFCX_STEPS;
    let h = z - z0;
    let (mut prev, mut cur) = (1.0, -z0);
    let mut hn = h;
    let mut integral = h;
    for (n, inv) in TAIL_RECIPROCALS.iter().enumerate() {
        hn *= h;
        integral += cur * hn * INTEGRAL_RECIPROCALS[n];
        let next = (-z0 * cur - prev) * inv;
        prev = cur;
        cur = next;
    }
    tail[i] - phi[i] * integral
}

/// `1 / (n + 1)` for n = 1..8 (the recurrence of [`upper_tail`]).
const TAIL_RECIPROCALS: [f64; 7] = [
    1.0 / 2.0,
    1.0 / 3.0,
    1.0 / 4.0,
    1.0 / 5.0,
    1.0 / 6.0,
    1.0 / 7.0,
    1.0 / 8.0,
];
/// `1 / (n + 1)` for n = 1..8 (the integral of `t^n`).
const INTEGRAL_RECIPROCALS: [f64; 7] = TAIL_RECIPROCALS;

/// `1 - Phi(i / 32)` and `phi(i / 32)` up to [`TAIL_END`]: constants,
/// computed once.
fn tail_tables() -> (&'static [f64], &'static [f64]) {
    static TABLES: std::sync::OnceLock<(Vec<f64>, Vec<f64>)> = std::sync::OnceLock::new();
    let (t, p) = TABLES.get_or_init(|| {
        let n = (TAIL_END * ERFCX_STEPS) as usize + 2;
        let z = |i: usize| i as f64 / ERFCX_STEPS;
        let tail = (0..n)
            .map(|i| 0.5 * erfc(z(i) * std::f64::consts::FRAC_1_SQRT_2))
            .collect();
        let phi = (0..n)
            .map(|i| (-0.5 * z(i) * z(i)).exp() / (2.0 * std::f64::consts::PI).sqrt())
            .collect();
        (tail, phi)
    });
    (t, p)
}

/// Grid spacing of the `erfcx` table: points `i / 32`.
const ERFCX_STEPS: f64 = 32.0;
/// Beyond this, `erfc` is below the smallest subnormal.
const ERFC_ZERO: f64 = 27.3;
/// `2 / (n + 1)` for n = 1..8: the Taylor recurrence's divisors, so that
/// it multiplies.
const TAYLOR_RECIPROCALS: [f64; 7] = [
    1.0,
    2.0 / 3.0,
    2.0 / 4.0,
    2.0 / 5.0,
    2.0 / 6.0,
    2.0 / 7.0,
    2.0 / 8.0,
];
/// `2 / sqrt(pi)`.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// The complementary error function, relative error below about 1e-13
/// (checked against Python's `math.erfc` in the tests; the limit is the
/// rounding of `x * x` in `exp(-x * x)` for large `x`).
///
/// `erfc(x) = erfcx(x) exp(-x^2)`, with the scaled `erfcx` taken from a
/// table at steps of 1/32 and carried to `x` by eight Taylor terms, whose
/// coefficients follow from `erfcx' = 2 x erfcx - 2 / sqrt(pi)`:
/// `a[n+1] = (x0 a[n] + a[n-1]) * 2 / (n + 1)`. Fast enough to evaluate
/// once per kernel and parameter on every proposal.
pub(crate) fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x > ERFC_ZERO {
        return 0.0;
    }
    let table = erfcx_table();
    let i = (x * ERFCX_STEPS + 0.5) as usize;
    let x0 = i as f64 / ERFCX_STEPS;
    let h = x - x0;
    let (mut prev, mut cur) = (table[i], 2.0 * x0 * table[i] - TWO_OVER_SQRT_PI);
    let mut sum = prev + cur * h;
    let mut hn = h;
    for inv in TAYLOR_RECIPROCALS {
        let next = (x0 * cur + prev) * inv;
        prev = cur;
        cur = next;
        hn *= h;
        sum += cur * hn;
    }
    sum * (-x * x).exp()
}

/// `erfcx(i / 32) = exp(x^2) erfc(x)` for `x` from 0 to a little past
/// [`ERFC_ZERO`]: a constant, computed once by [`erfcx_slow`].
fn erfcx_table() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let n = (ERFC_ZERO * ERFCX_STEPS).ceil() as usize + 2;
        (0..n).map(|i| erfcx_slow(i as f64 / ERFCX_STEPS)).collect()
    })
}

/// `exp(x^2) erfc(x)` for `x >= 0`, slowly and to about 1e-15: below 1.5,
/// `exp(x^2) - 2/sqrt(pi) sum_n x (2x^2)^n / (1*3*...*(2n+1))` (positive
/// terms); above, the continued fraction
/// `1/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))` from depth 100.
fn erfcx_slow(x: f64) -> f64 {
    if x < 1.5 {
        let x2 = 2.0 * x * x;
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        while term > 1e-17 * sum {
            n += 1.0;
            term *= x2 / (2.0 * n + 1.0);
            sum += term;
        }
        return (x * x).exp() - TWO_OVER_SQRT_PI * sum;
    }
    let mut f = x;
    for k in (1..=100).rev() {
        f = x + (k as f64 * 0.5) / f;
    }
    TWO_OVER_SQRT_PI * 0.5 / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_reference_values() {
        // Python's math.erfc.
        let cases = [
            (0.0, 1.0),
            (0.1, 0.887_537_083_981_715_2),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (2.0, 0.004_677_734_981_047_265),
            (0.03, 0.966_158_777_658_264_5),
            (1.49, 0.035_102_135_156_795_79),
            (1.51, 0.032_723_251_871_288_36),
            (2.4999, 0.000_407_169_900_333_451_4),
            (2.5, 0.000_406_952_017_444_958_9),
            (3.0, 2.209_049_699_858_543_8e-5),
            (5.0, 1.537_459_794_428_035_1e-12),
            (10.0, 2.088_487_583_762_545e-45),
            (13.7, 1.261_315_833_740_874_7e-83),
            (26.0, 5.663_192_408_856_143e-296),
            (-1.0, 1.842_700_792_949_715),
        ];
        for (x, want) in cases {
            let got = erfc(x);
            assert!(
                (got - want).abs() <= 1e-13 * want,
                "erfc({x}) = {got:e}, want {want:e}"
            );
        }
        assert_eq!(erfc(30.0), 0.0);
    }

    #[test]
    fn upper_tail_matches_erfc() {
        for k in 0..=900 {
            let z = k as f64 * 0.00977;
            let want = if z > 8.5 {
                0.0
            } else {
                0.5 * erfc(z * std::f64::consts::FRAC_1_SQRT_2)
            };
            let got = upper_tail(z);
            assert!(
                (got - want).abs() <= 1e-16 + 1e-13 * want,
                "{z}: {got:e} {want:e}"
            );
        }
        // 1 - Phi(1) from Python's 0.5 * math.erfc(1 / sqrt(2)).
        assert!((upper_tail(1.0) - 0.158_655_253_931_457_05).abs() < 1e-16);
    }

    #[test]
    fn log_mass_is_accurate_in_both_tails() {
        // Phi(1) - Phi(-1) = erf(1/sqrt 2).
        assert!((log_mass(-1.0, 1.0) - 0.682_689_492_137_085_9_f64.ln()).abs() < 1e-14);
        // Phi(-8) - Phi(-9) and its mirror, from Python's math.erfc:
        // 0.5 * (erfc(8/sqrt2) - erfc(9/sqrt2)) = 6.219831985865866e-16.
        let want = 6.219_831_985_865_866e-16_f64.ln();
        assert!((log_mass(-9.0, -8.0) - want).abs() < 1e-12);
        assert!((log_mass(8.0, 9.0) - want).abs() < 1e-12);
        assert_eq!(log_mass(50.0, 60.0), f64::NEG_INFINITY);
    }
}
