//! The standard normal survival function in log space, its inverse, and Akka's logistic
//! approximation of it.
//!
//! φ is defined as `−log10 Q(z)`, where `Q(z) = P(X > z)` for a standard normal `X`. In the
//! tail `Q` underflows long before φ stops being meaningful (`Q(38.5)` is below the smallest
//! `f64`), so everything here works with `ln Q(z)` directly:
//!
//! * for `0 ≤ z ≤ 37`, `−log10 Q(z) = z²·log10(e)/2 + h(z)`, where
//!   `h(z) = −log10(erfcx(z/√2)/2)` is smooth and slowly varying (from `log10 2` at 0 to about
//!   2 at 37);
//! * for `z > 37`, the asymptotic expansion
//!   `ln Q(z) = −z²/2 − ln z − ½·ln 2π + ln(1 − 1/z² + 3/z⁴ − 15/z⁶ + …)`, whose truncation
//!   error after ten terms is below 1e−22 relative there;
//! * for `z < 0`, `ln Q(z) = ln(1 − q)` with `q = Q(−z)`, through `ln_1p` so that φ near zero
//!   keeps its relative accuracy (or `−q − q²/2` once `q < 2^−26`, and `−q` once `q/2` is
//!   below the rounding), with `q = P(a)·exp(−a²/2)·ln 10` for `a = −z > 2.5`, where
//!   `P(a) = log10(e)·erfcx(a/√2)/2`; for `a ≤ 2.5`, `−log10(1 − q)` directly as `L(a)`;
//!   below `z = −38.5`, where `q` is below half the smallest subnormal, the correctly rounded
//!   result is `−0`.
//!
//! `h` and `P` are polynomials of degree 11 on unit pieces centred on the integers, `L` on
//! pieces of half that width, interpolated at Chebyshev–Lobatto nodes from 50-digit values
//! (`tests/data/ln_q_poly.py`, which generates the tables of `normal_tables.rs`), with
//! interpolation errors below 5e−15 (absolute for `h`, relative for `P` and `L`); neighbouring
//! pieces agree at their common end. They are in φ's units, log10, because the φ query is the
//! hot path: it evaluates one polynomial (and one `exp` for `z < 0`), never `erfc` or `ln` in
//! the usual range.
//!
//! The relative error of `Q` is below 1e−12 for `|z| ≤ 37` (checked against 60-digit reference
//! values and against [`ln_q_erfc`], the evaluation through `libm`'s `erfc`, in the tests), and
//! the result is finite for every finite or infinite `z`: beyond `z = 1e150` the value is that
//! of `z = 1e150`, about `−5e299`. A NaN argument gives NaN.

use std::f64::consts::{FRAC_1_SQRT_2, LN_10, LOG10_E};

use super::normal_tables::{EXP2_NEG, EXP2_POLY, H_POLY, HALF_SQ_IN_64THS, L_POLY, P_POLY};

/// Where the asymptotic expansion takes over from the polynomial pieces (and from `erfc` in
/// [`ln_q_erfc`]).
const ASYMPTOTIC_FROM: f64 = 37.0;
/// From here down, `Q(−z)` is below half the smallest subnormal: `ln Q(z)` rounds to `−0`.
const ZERO_FROM: f64 = 38.5;
/// Below this upper tail (2^−26), `ln(1 − q) = −q − q²/2` to 1e−16 relative.
const SERIES_BELOW: f64 = 1.0 / 67_108_864.0;
/// 2^52: adding it to `0 ≤ x < 2^51` rounds `x` to an integer held in the low mantissa bits.
const ROUND_SHIFT: f64 = 4_503_599_627_370_496.0;
/// Beyond this `a`, the lower tail's complement `Q(a)` comes from `P_POLY`.
const P_FROM: f64 = 2.5;
/// 2^−512.
const TWO_POW_NEG_512: f64 = 7.458340731200207e-155;
/// `log10(e)/2`.
const HALF_LOG10_E: f64 = 0.5 * LOG10_E;
/// `ln(10)/2`.
const HALF_LN_10: f64 = 0.5 * LN_10;
/// Below this `q·log10(e)` (about 2^−55), `q + q²/2` rounds to `q`.
const NEGLIGIBLE_BELOW: f64 = 1.2e-17;
/// Beyond this `z²` would overflow; larger arguments are evaluated here.
const Z_CAP: f64 = 1e150;
/// φ at `Z_CAP`, about 2.2e299: the largest φ the normal tail reaches.
const PHI_OF_Z_CAP: f64 = 2.171e299;
/// `−ln Q` up to which AS 241 is accurate (`Q ≥ 1e−300`, `r = sqrt(−ln Q) ≤ 26.3`).
const AS241_MAX_T: f64 = 690.0;
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
    if z >= 0.0 {
        return ln_q_upper(z);
    }
    if z.is_nan() {
        return f64::NAN;
    }
    let a = -z;
    if a <= P_FROM {
        return -l_poly(a) * LN_10;
    }
    ln_1m(upper_tail_log10e(a) * LN_10)
}

/// `ln Q(z)` for `z ≥ 0` (or `+∞`): the polynomial pieces up to 37, the asymptotic expansion
/// beyond.
#[inline]
fn ln_q_upper(z: f64) -> f64 {
    if z <= ASYMPTOTIC_FROM {
        return -(0.5 * z * z + h_poly(z) * LN_10);
    }
    let z = z.min(Z_CAP);
    -0.5 * z * z - z.ln() - HALF_LN_2PI + mills_series(z).ln_1p()
}

/// `Q(a)·log10(e)` for `a > 2.5`, to 1e−14 relative while it is a normal number; 0 from 38.5
/// on.
#[inline]
fn upper_tail_log10e(a: f64) -> f64 {
    if a < ZERO_FROM {
        // The polynomial and the exponential do not wait for each other.
        return p_poly(a) * exp_neg_half_sq(a);
    }
    0.0
}

/// `ln(1 − q)` for `0 ≤ q ≤ ½`: `ln_1p`, or for `q < 2^−26` the first two terms of
/// `−ln(1 − q) = q + q²/2 + q³/3 + …`, which leave a relative error below 1e−16.
#[inline]
fn ln_1m(q: f64) -> f64 {
    if q < SERIES_BELOW {
        -(q + 0.5 * q * q)
    } else {
        (-q).ln_1p()
    }
}

/// `−log10(1 − q)` from `q10 = q·log10(e)`, `0 ≤ q ≤ ½`: the lower tail's φ.
#[inline]
fn phi_lower(q10: f64) -> f64 {
    if q10 < NEGLIGIBLE_BELOW {
        // q·log10(e)·(1 + q/2) rounds to q·log10(e).
        q10
    } else if q10 < SERIES_BELOW * LOG10_E {
        q10 + HALF_LN_10 * q10 * q10
    } else {
        phi_lower_ln_1p(q10)
    }
}

/// [`phi_lower`] through `ln_1p`, for `q ≥ 2^−26`: out of line, so that the usual paths of
/// [`phi_of_z`] make no call and need no stack frame.
#[cold]
#[inline(never)]
fn phi_lower_ln_1p(q10: f64) -> f64 {
    -(-q10 * LN_10).ln_1p() * LOG10_E
}

/// `2^(r/64)` for `|r| ≤ ½`, to 4e−17: the polynomial of [`EXP2_POLY`] by Estrin's scheme, the
/// fractional step of the two table-driven exponentials below.
#[inline(always)]
fn exp2_64ths(r: f64) -> f64 {
    let r2 = r * r;
    let c = &EXP2_POLY;
    (c[0] + c[1] * r) + (c[2] + c[3] * r) * r2 + (c[4] + c[5] * r) * (r2 * r2)
}

/// `exp(−a²/2)` for `2.5 < a < 38.5`, into the subnormals, within 2e−13 relative (the
/// rounding of `a²` itself): inline, without the library call and its checks, as
/// [`exp2_neg_64ths`] of `a²·32·log2(e)`.
#[inline]
fn exp_neg_half_sq(a: f64) -> f64 {
    exp2_neg_64ths(a * a * HALF_SQ_IN_64THS)
}

/// `e^(−y)` for `y ≥ 0`, into the subnormals (0 from about `e^−1063`; 1 for a NaN or
/// negative `y`), within `|y|·2e−16` relative (the rounding of `y·64·log2(e)`): the default
/// detector's tails, without the library call. [`exp2_neg_64ths`] of `y·64·log2(e)`.
#[inline]
pub(crate) fn exp_neg(y: f64) -> f64 {
    let w = y * SIXTY_FOUR_LOG2_E;
    if w.is_nan() || w <= 0.0 {
        return 1.0;
    }
    if w >= EXP2_NEG_64THS_ZERO {
        return 0.0;
    }
    exp2_neg_64ths(w)
}

/// `64·log2(e)`.
const SIXTY_FOUR_LOG2_E: f64 = 64.0 * std::f64::consts::LOG2_E;
/// From here on `2^(−w/64)` is below half the smallest subnormal: 0.
const EXP2_NEG_64THS_ZERO: f64 = 1075.0 * 64.0;

/// `2^(−y/64)` for `0 ≤ y < 1075·64`, into the subnormals. With `k = round(y) = 64·m + j`,
/// that is `2^−m · 2^(−j/64) · 2^((k − y)/64)`: an exponent, a table entry, and a polynomial
/// of degree 5 in `k − y ∈ [−½, ½]`, exact to 4e−17.
#[inline]
fn exp2_neg_64ths(y: f64) -> f64 {
    // y < 2^51: adding 2^52 rounds it to the integer k, left in the low bits.
    let shifted = y + ROUND_SHIFT;
    let k = shifted.to_bits().wrapping_sub(ROUND_SHIFT.to_bits());
    // Exact: k and y are within ½ of each other (Sterbenz for y ≥ 1; k is 0 or 1 below).
    let r = (shifted - ROUND_SHIFT) - y;
    let frac = exp2_64ths(r);
    // 2^(−j/64)·2^−m, exactly, by lowering the table entry's exponent field by m, while that
    // stays a normal number; (k >> 6) << 52 = (k & !63) << 46. The entries lie in (½, 1], so
    // their field is 1022 or 1023.
    let scale_bits = EXP2_NEG[(k & 63) as usize].to_bits();
    let m_field = (k & !63) << 46;
    if k < 1022 << 6 {
        frac * f64::from_bits(scale_bits - m_field)
    } else {
        // Near or below 2^−1022 the result is subnormal: scale in two steps, rounding once.
        frac * f64::from_bits(scale_bits + (512 << 52) - m_field) * TWO_POW_NEG_512
    }
}

/// `2^x` for `0 ≤ x ≤ 62` (arguments outside are clamped to it), within a few units in the last
/// place: the default detector's decay weights, without the library call. With
/// `k = round(64·x) = 64·m − j` (`0 ≤ j < 64`), `2^x = 2^m · 2^(−j/64) · 2^((64·x − k)/64)`: an
/// exponent, a table entry, and [`exp2_64ths`] of `64·x − k ∈ [−½, ½]`.
#[inline]
pub(crate) fn exp2_weight(x: f64) -> f64 {
    // 64·x is exact, and below 2^51, so adding 2^52 rounds it to k in the low bits.
    let y = x.clamp(0.0, 62.0) * 64.0;
    let shifted = y + ROUND_SHIFT;
    let k = shifted.to_bits().wrapping_sub(ROUND_SHIFT.to_bits());
    // Exact: y and k are within ½ of each other.
    let r = y - (shifted - ROUND_SHIFT);
    let frac = exp2_64ths(r);
    let j = k.wrapping_neg() & 63;
    let m = (k + j) >> 6;
    // Raising the entry's exponent field by m ≤ 62 keeps it a normal number.
    frac * f64::from_bits(EXP2_NEG[j as usize].to_bits() + (m << 52))
}

/// `h(z) = −log10 Q(z) − z²·log10(e)/2` for `0 ≤ z ≤ 37`.
#[inline]
fn h_poly(z: f64) -> f64 {
    piece_poly(&H_POLY, 0, z)
}

/// `L(a) = −log10(1 − Q(a))`, φ just below the mean, for `0 < a ≤ 2.5`: pieces of half
/// width, in `2a`.
#[inline]
fn l_poly(a: f64) -> f64 {
    piece_poly(&L_POLY, 0, 2.0 * a)
}

/// `P(a) = Q(a)·exp(a²/2)·log10(e)` for `2.5 < a < 38.5`.
#[inline]
fn p_poly(a: f64) -> f64 {
    piece_poly(&P_POLY, 3, a)
}

/// The polynomial of the piece centred on the integer `k` nearest `x`, in `u = x − k`, from
/// the table whose first row is the piece of `first`; evaluated with Estrin's scheme (short
/// dependency chains instead of Horner's one long one). Callers keep `x` in the table's range;
/// outside it the nearest row is used, so no input panics.
#[inline]
fn piece_poly<const N: usize>(table: &[[f64; 12]; N], first: usize, x: f64) -> f64 {
    // Adding 2^52 rounds x to the nearest integer k (exact for 0 ≤ x < 2^51, ties to even,
    // which lands on a piece that includes the tie), and leaves k in the low bits: two
    // additions instead of a saturating float-to-integer conversion.
    let shifted = x + ROUND_SHIFT;
    let k = shifted.to_bits().wrapping_sub(ROUND_SHIFT.to_bits()) as usize;
    let c = &table[k.wrapping_sub(first).min(N - 1)];
    let u = x - (shifted - ROUND_SHIFT);
    let u2 = u * u;
    let u4 = u2 * u2;
    let u8 = u4 * u4;
    let p0 = (c[0] + c[1] * u) + (c[2] + c[3] * u) * u2;
    let p1 = (c[4] + c[5] * u) + (c[6] + c[7] * u) * u2;
    let p2 = (c[8] + c[9] * u) + (c[10] + c[11] * u) * u2;
    p0 + p1 * u4 + p2 * u8
}

/// `ln Q(z)` through `libm`'s `erfc` (a port of the FreeBSD/Sun implementation, error below one
/// ulp): `ln(erfc(z/√2)/2)` for `0 ≤ z ≤ 37`, `ln_1p(−erfc(−z/√2)/2)` for `z < 0`, the
/// asymptotic expansion beyond 37.
///
/// The reference [`ln_q`] is tested against: same accuracy, through the library's `erfc` and
/// `ln` instead of one polynomial piece (its time is in `BENCHMARKS.md`). Kept public so that
/// anyone can check the fast path on their own grid.
///
/// ```
/// use accrual::math::{ln_q, ln_q_erfc};
///
/// for z in [-3.0, 0.0, 1.5, 8.25, 30.0] {
///     assert!((ln_q(z) - ln_q_erfc(z)).abs() <= 1e-13 * ln_q_erfc(z).abs());
/// }
/// ```
pub fn ln_q_erfc(z: f64) -> f64 {
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
    -0.5 * z * z - z.ln() - HALF_LN_2PI + mills_series(z).ln_1p()
}

/// `z·Q(z)/pdf(z) − 1 = −1/z² + 3/z⁴ − 15/z⁶ + …` (term k is `(−1)^k (2k−1)!! / z^(2k)`),
/// ten terms: below 1e−22 relative truncation error for `z ≥ 37`.
fn mills_series(z: f64) -> f64 {
    let inv = 1.0 / (z * z);
    let mut term = 1.0;
    let mut series = 0.0;
    for k in 1..=10 {
        term *= -((2 * k - 1) as f64) * inv;
        series += term;
    }
    series
}

/// `d/dz ln Q(z) = −pdf(z)/Q(z)`, without the cancellation of `ln pdf − ln Q` in the far tail.
fn ln_q_slope(z: f64, ln_q_z: f64) -> f64 {
    if z > ASYMPTOTIC_FROM {
        let z = z.min(Z_CAP);
        -z / (1.0 + mills_series(z))
    } else {
        -(-0.5 * z * z - HALF_LN_2PI - ln_q_z).exp()
    }
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
#[inline]
pub fn phi_of_z(z: f64) -> f64 {
    // The usual cases first: well below the mean (a live peer's φ), then above it.
    if z < -P_FROM {
        // Strictly below: −2.5 itself would round to the piece of 2, which P_POLY lacks.
        return phi_lower(upper_tail_log10e(-z));
    }
    if z >= 0.0 {
        if z <= ASYMPTOTIC_FROM {
            return z * z * HALF_LOG10_E + h_poly(z);
        }
        return phi_asymptotic(z);
    }
    if z.is_nan() {
        return f64::NAN;
    }
    l_poly(-z)
}

/// [`phi_of_z`] beyond 37 (and `+∞`), from the asymptotic expansion: out of line, like
/// [`phi_lower_ln_1p`].
#[cold]
#[inline(never)]
fn phi_asymptotic(z: f64) -> f64 {
    -ln_q_upper(z) * LOG10_E
}

/// The standard score at which φ reaches `phi`: the `z` solving `−log10 Q(z) = phi`.
///
/// Accurate to 1e−12 relative: Wichura's AS 241 (about 1e−16) for `Q ≥ 1e−300`; beyond, an
/// asymptotic starting point refined by Newton's method on the concave `ln Q`, which converges
/// monotonically once past the root. Returns `−∞` for `phi ≤ 0` (φ is positive
/// everywhere), `+∞` for φ beyond the largest value the tail reaches (about 2.2e299, including
/// `+∞`), and NaN for NaN.
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
    if phi >= PHI_OF_Z_CAP {
        // Beyond what ln_q can express: reached only at the end of all time.
        return f64::INFINITY;
    }
    let target = -phi * LN_10; // ln Q(z) = target
    let t = -target;
    if t <= AS241_MAX_T {
        // Within its range AS 241 is accurate to about 1e−16 (checked against 60-digit
        // references in the tests): no refinement needed.
        return as241_upper(phi, target);
    }
    let mut z = {
        // Far tail: −ln Q = z²/2 + ln z + ½ln 2π + o(1), solved for the leading terms.
        (2.0 * t - (2.0 * std::f64::consts::PI * 2.0 * t).ln()).sqrt()
    };
    for _ in 0..100 {
        let lq = ln_q(z);
        let slope = ln_q_slope(z, lq);
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

/// Wichura's AS 241 (Applied Statistics 37, 1988): the normal deviate whose upper tail is
/// `Q = 10^−φ`, accurate to about 1e−16 for `Q ≥ 1e−300`, used as the starting point that
/// Newton's method then confirms. The tail branches only need `ln Q`, so no probability is
/// ever formed where it would underflow.
// The coefficients are quoted as published, with more digits than an f64 holds.
#[allow(clippy::excessive_precision)]
fn as241_upper(phi: f64, ln_upper: f64) -> f64 {
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    fn ratio(num: &[f64; 8], den: &[f64; 8], r: f64) -> f64 {
        let poly = |c: &[f64; 8]| c.iter().rev().fold(0.0, |acc, &k| acc * r + k);
        poly(num) / poly(den)
    }
    // The upper tail Q and q = ½ − Q (the lower tail minus ½).
    let upper = (-phi * LN_10).exp();
    let q = 0.5 - upper;
    if q.abs() <= 0.425 {
        return q * ratio(&A, &B, 0.180_625 - q * q);
    }
    // r = sqrt(−ln(smaller tail)); for q > 0 the smaller tail is Q itself.
    let (ln_small, sign) = if q > 0.0 {
        (ln_upper, 1.0)
    } else {
        // ln(1 − Q) = ln(−expm1(ln Q)): exact even when Q rounds to 1.
        ((-ln_upper.exp_m1()).ln(), -1.0)
    };
    let r = (-ln_small).sqrt();
    let z = if r <= 5.0 {
        ratio(&C, &D, r - 1.6)
    } else {
        ratio(&E, &F, r - 5.0)
    };
    sign * z
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
    fn exp_neg_matches_the_library() {
        let mut worst = 0f64;
        for i in 0..800_000 {
            let y = f64::from(i) / 1000.0 + 1e-7 * f64::from(i % 7);
            let (ours, exact) = (exp_neg(y), libm::exp(-y));
            if exact >= f64::MIN_POSITIVE {
                // |y|·2e−16 from rounding y·64·log2(e), and the polynomial's few units.
                worst = worst.max((ours - exact).abs() / exact / (1.0 + y));
            } else {
                // Subnormal: the same relative error, or a few units of the smallest one.
                let allowed = (exact * (1.0 + y) * 4e-16).max(4.0 * 5e-324);
                assert!((ours - exact).abs() <= allowed, "{y}: {ours:e} {exact:e}");
            }
        }
        assert!(
            worst < 4e-16,
            "largest relative error per unit of y {worst}"
        );
        assert_eq!(exp_neg(0.0), 1.0);
        assert_eq!(exp_neg(-1.0), 1.0);
        assert_eq!(exp_neg(f64::NAN), 1.0);
        assert_eq!(exp_neg(800.0), 0.0);
        assert_eq!(exp_neg(f64::INFINITY), 0.0);
        // Non-increasing across the table's steps and into the subnormals.
        let mut prev = 1.0;
        for i in 0..1_000_000 {
            let v = exp_neg(f64::from(i) * 7.5e-4);
            assert!(v <= prev, "{i}");
            prev = v;
        }
    }

    #[test]
    fn exp2_weight_matches_the_library() {
        let mut worst = 0f64;
        for i in 0..62_000 {
            let x = f64::from(i) / 1000.0 + 1e-7 * f64::from(i % 7);
            let (ours, exact) = (exp2_weight(x), libm::exp2(x));
            worst = worst.max((ours - exact).abs() / exact);
        }
        assert!(worst < 1e-15, "largest relative error {worst}");
        for k in 0..=62 {
            assert_eq!(exp2_weight(f64::from(k)), libm::exp2(f64::from(k)), "2^{k}");
        }
        assert_eq!(exp2_weight(-3.0), 1.0);
        assert_eq!(exp2_weight(f64::NEG_INFINITY), 1.0);
        assert_eq!(exp2_weight(1e9), libm::exp2(62.0));
    }

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
    fn inverse_covers_the_whole_range() {
        for phi in [
            1e-300, 1e-12, 0.03, 0.034, 0.2, 0.3, 0.31, 1.12, 1.2, 10.8, 11.0, 300.0, 1e4, 1e100,
            1e200, 2e299,
        ] {
            let z = z_of_phi(phi);
            assert!(z.is_finite(), "z_of_phi({phi}) = {z}");
            let back = phi_of_z(z);
            assert!((back - phi).abs() <= 1e-12 * phi, "{phi} -> {z} -> {back}");
        }
        assert_eq!(z_of_phi(1e300), f64::INFINITY);
        assert_eq!(z_of_phi(f64::INFINITY), f64::INFINITY);
        assert_eq!(z_of_phi(0.0), f64::NEG_INFINITY);
        assert!(z_of_phi(f64::NAN).is_nan());
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
