//! Log expected improvement with its derivative, stable from z = +40 down
//! to z = -1e300, for the acquisition. The normal distribution's special
//! functions it is built on (`erfcx`, `norm_cdf`) are in
//! `crate::numeric`.

use std::f64::consts::PI;

use crate::numeric::{erfcx, norm_cdf, LN_SQRT_2PI};

/// `ln h(z)` and `d ln h / dz` where `h(z) = z Φ(z) + φ(z)` is the
/// expected improvement of a standard normal over `-z`
/// (`E[max(0, Z + z)]`). For `z >= -1` directly; below, as
/// `φ(z) (1 + z R(z))` with the Mills ratio `R = Φ/φ = sqrt(pi/2)
/// erfcx(-z/sqrt 2)`, so nothing underflows; for `z < -1e4` by the
/// asymptotic series `1 + zR ≈ z⁻²(1 - 3 z⁻² + 15 z⁻⁴)`. The derivative
/// is `Φ(z) / h(z)`.
pub fn log_h(z: f64) -> (f64, f64) {
    if z >= -1.0 {
        let cdf = norm_cdf(z);
        let pdf = (-0.5 * z * z - LN_SQRT_2PI).exp();
        let h = z * cdf + pdf;
        return (h.ln(), cdf / h);
    }
    let log_pdf = -0.5 * z * z - LN_SQRT_2PI;
    if z < -1e4 {
        let w = 1.0 / (z * z);
        // 1 + zR = w (1 - 3w + 15w²); R = -(1/z)(1 - w + 3w²).
        let one_plus_zr_over_w = 1.0 - 3.0 * w + 15.0 * w * w;
        let log_val = log_pdf + w.ln() + one_plus_zr_over_w.ln();
        let r_times_w = -(1.0 - w + 3.0 * w * w) / z; // R
        let deriv = r_times_w / (w * one_plus_zr_over_w);
        return (log_val, deriv);
    }
    let r = (PI / 2.0).sqrt() * erfcx(-z * std::f64::consts::FRAC_1_SQRT_2);
    let one_plus_zr = 1.0 + z * r;
    (log_pdf + one_plus_zr.ln(), r / one_plus_zr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn log_ei_matches_log_of_ei_where_representable() {
        for k in 0..=120 {
            let z = -20.0 + 0.25 * k as f64;
            let h = z * norm_cdf(z) + (-0.5 * z * z).exp() / (2.0 * PI).sqrt();
            let (lh, _) = log_h(z);
            // Below z = -5 the direct formula loses digits to cancellation,
            // so compare loosely there; above, tightly.
            let tol = if z < -5.0 { 1e-3 } else { 1e-11 };
            assert!(
                (lh - h.ln()).abs() <= tol * h.ln().abs().max(1.0),
                "{z}: {lh} vs {}",
                h.ln()
            );
        }
    }

    #[test]
    fn log_ei_derivative_matches_finite_differences() {
        for z in [-1e5f64, -300.0, -30.0, -3.0, -1.0, -0.5, 0.0, 2.0, 8.0] {
            let e = 1e-6 * z.abs().max(1.0);
            let fd = (log_h(z + e).0 - log_h(z - e).0) / (2.0 * e);
            let (_, d) = log_h(z);
            assert!(close(d, fd, 1e-5), "{z}: {d} vs {fd}");
        }
    }

    #[test]
    fn log_ei_stays_finite_and_monotone_where_ei_underflows() {
        let mut prev = f64::INFINITY;
        for k in 0..400 {
            let z = -(10f64).powf(k as f64 * 0.02); // -1 .. -1e8
            let (lh, d) = log_h(z);
            assert!(lh.is_finite() && d.is_finite() && d > 0.0, "{z}");
            assert!(lh < prev, "{z}");
            prev = lh;
        }
        // ln h(-40) ≈ -z²/2 - ln sqrt(2π) - 2 ln 40 (h(-40) underflows to 0
        // in the direct formula).
        let (lh, _) = log_h(-40.0);
        let approx = -800.0 - LN_SQRT_2PI - 2.0 * 40f64.ln();
        assert!((lh - approx).abs() < 2e-3, "{lh} {approx}");
    }
}
