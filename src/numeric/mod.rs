//! Numeric building blocks shared by the strategies and models: the normal
//! distribution's special functions, the run-time choice of AVX2, and the
//! policy on which floating-point functions may reach a result.
//!
//! # What may reach a result
//!
//! Every number that reaches a result (a proposal, a model's prediction, a
//! journal row) must have the same bits on every run, thread count and
//! resume, on the same binary and platform (`docs/design.md`):
//!
//! * `+ - * /` and `sqrt` are IEEE 754, correctly rounded, and Rust never
//!   fuses or reorders them (no fast-math, no FMA contraction): always
//!   allowed, scalar or in an [`avx2_dispatch!`] body.
//! * The C library's `exp`, `ln` and `cos` (`f64::exp`, `f64::ln`,
//!   `f64::cos`, …) may be used in scalar code that reaches a result: TPE's
//!   kernels and Box–Muller draws, the Gaussian process, the models'
//!   fitting. Their last bit may depend on the C library version and on
//!   the CPU (glibc picks an FMA variant at run time); the shipped
//!   searches' journals matched across the machines tried
//!   (`docs/benchmarks.md`), and the promise is per platform.
//! * hpsearch's own versions, in plain arithmetic, must be used inside a
//!   loop that is compiled twice by [`avx2_dispatch!`] or that must be the
//!   same on every IEEE machine: there no libm call is allowed (the SVM's
//!   kernel uses its own `exp_nonpositive`; TPE's normal tail
//!   [`tabulated::upper_tail`] avoids `exp` altogether).
//! * Special functions (`erf`/`erfc`, the normal cdf and tails, the gamma
//!   family of `drift::stats`) are never taken from a crate: they are
//!   written out, with fixed-length loops, so no library's algorithm
//!   choice can change a result.
//!
//! # Two `erfc`s, and why
//!
//! [`erfc`] here is the reference one (series and continued fraction,
//! Abramowitz & Stegun 7.1.6 and 7.1.14), used by the Gaussian process.
//! [`tabulated::erfc`] is TPE's: a table at steps of 1/32 carried by eight
//! Taylor terms, fast enough to run once per kernel and parameter on every
//! proposal. Both are accurate to about 1e-13 but differ in the last bits,
//! and each one's bits are pinned by its strategy's proposal hashes, so
//! neither can replace the other without changing every GP or every TPE
//! search.

pub(crate) mod tabulated;

/// Defines `$name`, which runs `$body` (an `#[inline(always)]` function)
/// compiled for AVX2 when the CPU has it, and for the baseline otherwise:
/// hpsearch's one run-time dispatch. This cannot change a result: Rust
/// never reorders or fuses floating-point operations (no fast-math, no FMA
/// contraction), so wider registers do each lane's arithmetic with the
/// same roundings; only the speed differs. Each use has a test that its
/// wide build equals the plain computation bit for bit (for example
/// `avx2_and_baseline_acquisition_agree_bit_for_bit`,
/// `batch_scores_equal_the_plain_pass`).
macro_rules! avx2_dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? = $body:path;) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { wide($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use avx2_dispatch;

/// `ln sqrt(2 pi)`.
pub(crate) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// `1 / sqrt(pi)`.
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;

/// `erf(x)` for `|x| < 2.5` from the all-positive series
/// `2/sqrt(pi) e^{-x²} Σ 2ⁿ x^{2n+1} / (2n+1)!!` (no cancellation).
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    for n in 1..70 {
        term *= 2.0 * x2 / (2 * n + 1) as f64;
        sum += term;
    }
    2.0 * FRAC_1_SQRT_PI * (-x2).exp() * sum
}

/// `erfcx(x)` for `x >= 2.5` from the continued fraction
/// `erfc(x) = e^{-x²}/sqrt(pi) · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))`,
/// evaluated backwards from a fixed depth.
fn erfcx_cf(x: f64) -> f64 {
    if x > 1e8 {
        // The fraction is 1/x to double precision here (and x² overflows).
        return FRAC_1_SQRT_PI / x;
    }
    let mut t = x;
    for k in (1..=120).rev() {
        t = x + (k as f64 * 0.5) / t;
    }
    FRAC_1_SQRT_PI / t
}

/// The complementary error function.
pub(crate) fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        1.0 - erf_series(x)
    } else if x > 27.3 {
        0.0
    } else {
        (-x * x).exp() * erfcx_cf(x)
    }
}

/// The scaled complementary error function `exp(x²) erfc(x)`, for
/// `x >= 0` (the only side the acquisition needs).
pub(crate) fn erfcx(x: f64) -> f64 {
    if x < 2.5 {
        (x * x).exp() * (1.0 - erf_series(x))
    } else {
        erfcx_cf(x)
    }
}

/// The standard normal cdf.
pub(crate) fn norm_cdf(z: f64) -> f64 {
    0.5 * erfc(-z * std::f64::consts::FRAC_1_SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn erfc_matches_reference_values() {
        // Reference values from scipy.special (double precision).
        let cases = [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_16),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544_5e-5),
            (5.0, 1.537_459_794_428_035e-12),
            (-1.0, 1.842_700_792_949_715),
        ];
        for (x, want) in cases {
            assert!(close(erfc(x), want, 1e-13), "erfc({x}) = {}", erfc(x));
        }
        let cx = [
            (0.0, 1.0),
            (2.0, 0.255_395_676_310_505_8),
            (10.0, 0.056_140_992_743_822_59),
            (1e3, 5.641_893_014_533_876e-4),
        ];
        for (x, want) in cx {
            assert!(close(erfcx(x), want, 1e-13), "erfcx({x}) = {}", erfcx(x));
        }
    }
}
