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
//! (`tests/data/ln_q_poly.py`), with interpolation errors below 5e−15 (absolute for `h`,
//! relative for `P` and `L`); neighbouring pieces agree at their common end. They are in φ's units, log10, because the φ query is the
//! hot path: it evaluates one polynomial (and one `exp` for `z < 0`), never `erfc` or `ln` in
//! the usual range.
//!
//! The relative error of `Q` is below 1e−12 for `|z| ≤ 37` (checked against 60-digit reference
//! values and against [`ln_q_erfc`], the evaluation through `libm`'s `erfc`, in the tests), and
//! the result is finite for every finite or infinite `z`: beyond `z = 1e150` the value is that
//! of `z = 1e150`, about `−5e299`. A NaN argument gives NaN.

use std::f64::consts::{FRAC_1_SQRT_2, LN_10, LOG10_E};

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
/// `32·log2(e)`: `a²/2` in 64ths of an octave, `exp(−a²/2) = 2^(−a²·this/64)`.
const HALF_SQ_IN_64THS: f64 = 46.16624130844683;
/// `(ln 2/64)^i / i!`: `2^(r/64)` to 4e−17 for `|r| ≤ ½`.
#[allow(clippy::excessive_precision)]
const EXP2_POLY: [f64; 6] = [
    1.0,
    0.010830424696249145,
    5.86490495505617e-05,
    2.1173137155464776e-07,
    5.732851688640402e-10,
    1.2417843701716925e-12,
];
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
/// `2^(−y/64)` for `y = a²·32·log2(e)`. With `k = round(y) = 64·m + j`, that is
/// `2^−m · 2^(−j/64) · 2^((k − y)/64)`: an exponent, a table entry, and a polynomial of degree
/// 5 in `k − y ∈ [−½, ½]`, exact to 4e−17.
#[inline]
fn exp_neg_half_sq(a: f64) -> f64 {
    let y = a * a * HALF_SQ_IN_64THS;
    // y < 2^51: adding 2^52 rounds it to the integer k, left in the low bits.
    let shifted = y + ROUND_SHIFT;
    let k = shifted.to_bits().wrapping_sub(ROUND_SHIFT.to_bits());
    // Exact (Sterbenz): k and y are within ½ of each other and y > 288.
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
/// The reference [`ln_q`] is tested against: same accuracy, several times slower. Kept public
/// so that anyone can check the fast path on their own grid.
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

/// The pieces of `h(z) = −log10 Q(z) − z²·log10(e)/2`: row `k` holds the coefficients, lowest
/// degree first, of the degree-11 polynomial in `u = z − k` interpolating `h` at the
/// Chebyshev–Lobatto nodes of `[k − ½, k + ½]` (of `[0, ½]` for row 0). Generated by
/// `tests/data/ln_q_poly.py` (mpmath, 50 digits); the interpolation error is below 1e−15.
// Printed by the generator with every digit Python's repr gives; a coefficient that happens to
// approximate a named constant (h(0) = log10 2) is an interpolated value all the same.
#[allow(
    clippy::approx_constant,
    clippy::excessive_precision,
    clippy::unreadable_literal
)]
const H_POLY: [[f64; 12]; 38] = [
    [
        0.3010299956639812,
        0.34651686195248405,
        -0.07890701384675416,
        0.015780351600527598,
        -0.0020768447467328015,
        -1.6060517347130696e-05,
        9.208149252210895e-05,
        -2.2652083593230976e-05,
        6.991577308006835e-07,
        1.2470794130179868e-06,
        -4.215433988097198e-07,
        5.638265493277052e-08,
    ],
    [
        0.5823983005403455,
        0.22806335268945424,
        -0.043233508758726606,
        0.008463762154573926,
        -0.0014327190961152723,
        0.00017653737734056048,
        -5.153616356966656e-06,
        -4.8168638778129955e-06,
        1.6276669730872622e-06,
        -2.8518938022928854e-07,
        1.0773560699819402e-08,
        9.89329767452195e-09,
    ],
    [
        0.7744271163344334,
        0.16208544646554174,
        -0.02481539135334242,
        0.004296320504591813,
        -0.0007133647671055386,
        0.0001053127516222235,
        -1.2419621881334747e-05,
        7.663310889391236e-07,
        1.2941404994886305e-07,
        -6.056083128014129e-08,
        1.3888742092035083e-08,
        -2.0916282507003763e-09,
    ],
    [
        0.9153738673647358,
        0.12294818367052139,
        -0.015321732734207259,
        0.0022779232587023398,
        -0.00034255967291151507,
        4.9142888339893926e-05,
        -6.435830401190791e-06,
        7.192516638246771e-07,
        -5.635207988130773e-08,
        -6.735262952695639e-10,
        1.528227605406148e-09,
        -3.937032473082042e-10,
    ],
    [
        1.0249790523304643,
        0.09797993792972691,
        -0.010134878085380956,
        0.001292484938051272,
        -0.00017202723693732861,
        2.2629539505370462e-05,
        -2.8537907055489584e-06,
        3.3527924460614343e-07,
        -3.5126097031285255e-08,
        2.9562333235148767e-09,
        -1.1236436958600713e-10,
        -2.447252757895138e-11,
    ],
    [
        1.1139646486000065,
        0.08099764377581871,
        -0.007099940566061145,
        0.0007835949645824584,
        -9.206748010784984e-05,
        1.0917156008996021e-05,
        -1.2724447490027432e-06,
        1.430552649725649e-07,
        -1.5209671906946932e-08,
        1.484827238115081e-09,
        -1.2515169151412351e-10,
        7.405496712762573e-12,
    ],
    [
        1.1885636532181714,
        0.06882812063137453,
        -0.005208849145717301,
        0.000503313827599067,
        -5.2462876170119395e-05,
        5.593848645625322e-06,
        -5.951122634583574e-07,
        6.219953503338217e-08,
        -6.305241458455049e-09,
        6.111968427904413e-10,
        -5.574362075526783e-11,
        4.551635108183153e-12,
    ],
    [
        1.25263883084582,
        0.059735300834269305,
        -0.003965523739423752,
        0.0003393678173872865,
        -3.161799147322115e-05,
        3.0411666004458275e-06,
        -2.94739827669508e-07,
        2.8379391731719173e-08,
        -2.6872275736166613e-09,
        2.479375927134059e-10,
        -2.2174864026738335e-11,
        1.8719777115679595e-12,
    ],
    [
        1.308719130113096,
        0.05270950142315828,
        -0.0031106089166751086,
        0.00023827397131164724,
        -2.0000927414342267e-05,
        1.7446478522800015e-06,
        -1.5439030262632984e-07,
        1.3675405236231229e-08,
        -1.2015801879837087e-09,
        1.03978567147692e-10,
        -8.846726029807579e-12,
        7.260858558781518e-13,
    ],
    [
        1.3585378984906877,
        0.047130985661753104,
        -0.002500405020807393,
        0.00017304807012148802,
        -1.3187548691230102e-05,
        1.0493776911752174e-06,
        -8.513317288330307e-08,
        6.949622221593768e-09,
        -5.66057147609328e-10,
        4.571962682263614e-11,
        -3.659894216150546e-12,
        2.8595570598621246e-13,
    ],
    [
        1.4033293103234845,
        0.042601350221963596,
        -0.002051037734586925,
        0.00012930397212766742,
        -9.008965327222941e-06,
        6.577802858892903e-07,
        -4.914604727795758e-08,
        3.709132517075699e-09,
        -2.8048728567669287e-10,
        2.1131882631535023e-11,
        -1.5858534077112799e-12,
        1.1701544667267506e-13,
    ],
    [
        1.4440005299002052,
        0.03885416872860983,
        -0.0017112682643401842,
        9.897870810774516e-05,
        -6.3447035113199795e-06,
        4.27400951098721e-07,
        -2.9545375750677425e-08,
        2.0691543048996143e-09,
        -1.4564906510890017e-10,
        1.0249100208313698e-11,
        -7.20822658805973e-13,
        5.009705218450007e-14,
    ],
    [
        1.4812364641577291,
        0.03570516264716256,
        -0.0014485298189722787,
        7.734804237261672e-05,
        -4.587498953314375e-06,
        2.8655560377439773e-07,
        -1.8409105716292426e-08,
        1.200865305042684e-09,
        -7.892333117726192e-11,
        5.198673138149371e-12,
        -3.4307052023560787e-13,
        2.2454513086959438e-14,
    ],
    [
        1.5155661268026561,
        0.03302312728217427,
        -0.0012413980849038783,
        6.15334301038212e-05,
        -3.393761926441669e-06,
        1.9747759124780498e-07,
        -1.1838878067337315e-08,
        7.219779860057177e-10,
        -4.444279348229882e-11,
        2.747364066512449e-12,
        -1.7045198784062136e-13,
        1.0517679942828687e-14,
    ],
    [
        1.5474061819869396,
        0.030712277431097616,
        -0.0010753491644785338,
        4.971937316060226e-05,
        -2.5614852665673487e-06,
        1.3942478305227085e-07,
        -7.830030046449266e-09,
        4.479588022222544e-10,
        -2.5907657297809612e-11,
        1.5070853997685118e-12,
        -8.810550834918305e-14,
        5.133799687256605e-15,
    ],
    [
        1.5770904001596808,
        0.028701144365479016,
        -0.000940274426933218,
        4.07254238850405e-05,
        -1.967773789372392e-06,
        1.0057080645801162e-07,
        -5.309473435368116e-09,
        2.8588893618059554e-10,
        -1.5580741877773393e-11,
        8.551628431901937e-13,
        -4.7219530532241786e-14,
        2.6032443851285596e-15,
    ],
    [
        1.604890123280774,
        0.026935373569130647,
        -0.0008289731358450724,
        3.376304749331501e-05,
        -1.5355477497262323e-06,
        7.394208654893456e-08,
        -3.681490571393761e-09,
        1.8713211074544617e-10,
        -9.637271614484938e-12,
        5.003576303080165e-13,
        -2.6156727284573536e-14,
        1.3671519925026048e-15,
    ],
    [
        1.6310288216523694,
        0.02537292310749377,
        -0.0007362094045172506,
        2.829269659284846e-05,
        -1.2151266801116324e-06,
        5.530027573339662e-08,
        -2.6042903209547696e-09,
        1.2531432569562996e-10,
        -6.114444212740559e-12,
        3.010287659440848e-13,
        -1.4932453249189005e-14,
        7.414619130636334e-16,
    ],
    [
        1.655692665740731,
        0.023980783588006725,
        -0.0006581056658158497,
        2.393717402799481e-05,
        -9.736966392247042e-07,
        4.199821442669022e-08,
        -1.875827047093002e-09,
        8.566535833867688e-11,
        -3.969804667228848e-12,
        1.8575556220241687e-13,
        -8.76254520916786e-15,
        4.141664608246969e-16,
    ],
    [
        1.679038347344571,
        0.022732688297499658,
        -0.0005917427846956614,
        2.0427643670688208e-05,
        -7.891008761193385e-07,
        3.2341293021452124e-08,
        -1.3733831337405568e-09,
        5.966686994456894e-11,
        -2.632006358862865e-12,
        1.1730476657572844e-13,
        -5.273068214591918e-15,
        2.376971742369422e-16,
    ],
    [
        1.7011989624252264,
        0.021607483119399834,
        -0.0005348904634506234,
        1.7569135640515046e-05,
        -6.460773099672682e-07,
        2.5220161507411956e-08,
        -1.0205627036482851e-09,
        4.227263128241192e-11,
        -1.7787484210789498e-12,
        7.566108557801119e-14,
        -3.2472900583960035e-15,
        1.398579221996904e-16,
    ],
    [
        1.7222885023796715,
        0.020587945549939993,
        -0.0004858217867089047,
        1.5218002681985446e-05,
        -5.339210177052687e-07,
        1.9893676824447676e-08,
        -7.687252887157962e-10,
        3.041906406030793e-11,
        -1.2233459547451768e-12,
        4.975673474241472e-14,
        -2.042636101206406e-15,
        8.419956736941211e-17,
    ],
    [
        1.7424053293787618,
        0.019659915360104682,
        -0.0004431832926297723,
        1.326688098139605e-05,
        -4.4499861283144703e-07,
        1.5857409602834456e-08,
        -5.862584796927898e-10,
        2.2203976876685963e-11,
        -8.550059077814043e-13,
        3.3310187627426084e-14,
        -1.3102287091311173e-15,
        5.1775506880821573e-17,
    ],
    [
        1.7616348986211374,
        0.018811645341710176,
        -0.00040590241765740733,
        1.1634467364470283e-05,
        -3.737842148782295e-07,
        1.2762151572469369e-08,
        -4.522254367739243e-10,
        1.6421634511798035e-11,
        -6.06486978781891e-13,
        2.2669668019201193e-14,
        -8.557356016899865e-16,
        3.246683175270331e-17,
    ],
    [
        1.780051914554103,
        0.018033309979329865,
        -0.00037312055406706036,
        1.025845011264429e-05,
        -3.16221848461228e-07,
        1.0362345036721935e-08,
        -3.525169636075546e-10,
        1.2293074876772712e-11,
        -4.3612812289110147e-13,
        1.5664522859608724e-14,
        -5.683106383223779e-16,
        2.0731693994300713e-17,
    ],
    [
        1.7977220562293301,
        0.017316629113461254,
        -0.00034414395264153384,
        9.090542915285024e-06,
        -2.692962881002244e-07,
        8.482814314476009e-09,
        -2.774715161685671e-10,
        9.3061256285011e-12,
        -3.17619314981541e-13,
        1.0977668486768683e-14,
        -3.833204719552881e-16,
        1.3463205205396866e-17,
    ],
    [
        1.8147033708511189,
        0.016654576463711154,
        -0.0003184072486399098,
        8.092945281706233e-06,
        -2.3073950124819484e-07,
        6.9969197129116696e-09,
        -2.2037447047911544e-10,
        7.118503508525028e-12,
        -2.34048211611323e-13,
        7.79452950144863e-15,
        -2.6229895735233558e-16,
        8.881260922737568e-18,
    ],
    [
        1.8310474090554079,
        0.016041151554647963,
        -0.00029544604301770695,
        7.2357856500465975e-06,
        -1.988268256325657e-07,
        5.811974705946321e-09,
        -1.7649475157863296e-10,
        5.49797937156721e-12,
        -1.743630369694649e-13,
        5.6022869155553994e-15,
        -1.8191287900628445e-16,
        5.94504315693909e-18,
    ],
    [
        1.8468001571666715,
        0.015471199556304797,
        -0.0002748760639263585,
        6.495251314210182e-06,
        -1.722334799265271e-07,
        4.859362114289084e-09,
        -1.424560642436786e-10,
        4.284762477851717e-12,
        -1.3123025497322613e-13,
        4.072704438667442e-15,
        -1.2775473766376384e-16,
        4.03435324371981e-18,
    ],
    [
        1.8620028083979476,
        0.014940267719528106,
        -0.00025637716763645714,
        5.852204839580085e-06,
        -1.499322421281263e-07,
        4.087739603683276e-09,
        -1.1582012363691973e-10,
        3.3674549290928167e-12,
        -9.971355932395182e-14,
        2.9924174223021824e-15,
        -9.077939256927263e-17,
        2.7730229164148905e-18,
    ],
    [
        1.876692405197627,
        0.014444490036383225,
        -0.00023968093844793802,
        5.29114938251082e-06,
        -1.3111960612275826e-07,
        3.4583068565305596e-09,
        -9.480639965366343e-11,
        2.6674393194077552e-12,
        -7.644555733379213e-14,
        2.22071136225659e-15,
        -6.521925153605121e-17,
        1.929075875899149e-18,
    ],
    [
        1.8909023776914322,
        0.013980493869986142,
        -0.00022456099301170667,
        4.799447157041218e-06,
        -1.1516189191636841e-07,
        2.9414679657635966e-09,
        -7.810110650393772e-11,
        2.1285931347194587e-12,
        -5.910018906399807e-14,
        1.6635183107508524e-15,
        -4.7342616982506e-17,
        1.357210081796977e-18,
    ],
    [
        1.9046629977191099,
        0.01354532383104124,
        -0.00021082533662554107,
        4.366723572325665e-06,
        -1.0155550484223445e-07,
        2.5144504494741057e-09,
        -6.47253675311689e-11,
        1.710419343534334e-12,
        -4.605172366154881e-14,
        1.257148266774254e-15,
        -3.4701737141732136e-17,
        9.650705287712488e-19,
    ],
    [
        1.9180017638329836,
        0.013136379302003308,
        -0.00019831029064052986,
        3.984408937473285e-06,
        -8.989734062854424e-08,
        2.159588240135785e-09,
        -5.3943140986771334e-11,
        1.3833993938884294e-12,
        -3.6151290284361994e-14,
        9.579598174426807e-16,
        -2.567021679725193e-17,
        6.931407017424075e-19,
    ],
    [
        1.9309437294629366,
        0.012751362841857466,
        -0.00018687563306407472,
        3.645383066547355e-06,
        -7.986254261946591e-08,
        1.8630708526481696e-09,
        -4.519619690103472e-11,
        1.1258115271974474e-12,
        -2.857852093629487e-14,
        7.357100908132328e-16,
        -1.915419935924443e-17,
        5.02564347282263e-19,
    ],
    [
        1.9435117840112264,
        0.01238823732659405,
        -0.00017640068348708218,
        3.3436975432465547e-06,
        -7.118763956418669e-08,
        1.6140234132803651e-09,
        -3.805771497965545e-11,
        9.215275088266018e-13,
        -2.274184791006276e-14,
        5.692170686272504e-16,
        -1.440951139442872e-17,
        3.676602190862441e-19,
    ],
    [
        1.9557268947411022,
        0.012045190149735886,
        -0.0001667811285911503,
        3.074357090886859e-06,
        -6.36576578754544e-08,
        1.4038239121628964e-09,
        -3.219884292647952e-11,
        7.584704873589764e-13,
        -1.8210722267676744e-14,
        4.434950425794633e-16,
        -1.0924359392185615e-17,
        2.712566275768682e-19,
    ],
    [
        1.9676083158340456,
        0.01172060316428874,
        -0.0001579264325757958,
        2.8331462843012767e-06,
        -5.7096195568499685e-08,
        1.2255921832280331e-09,
        -2.7364369883329737e-11,
        6.275246360512341e-13,
        -1.4669028637636958e-14,
        3.4784069740613336e-16,
        -8.343135990626936e-18,
        2.0174486186275735e-19,
    ],
];

/// The pieces of `P(a) = Q(a)·exp(a²/2)·log10(e)`: row `k − 3` holds the coefficients, lowest
/// degree first, of the degree-11 polynomial in `u = a − k` interpolating `P` at the
/// Chebyshev–Lobatto nodes of `[k − ½, k + ½]`, for `k = 3..=38`. Generated by
/// `tests/data/ln_q_poly.py`; the relative interpolation error is below 4e−15.
#[allow(
    clippy::approx_constant,
    clippy::excessive_precision,
    clippy::unreadable_literal
)]
const P_POLY: [[f64; 12]; 36] = [
    [
        0.05277283724509718,
        -0.014939919240949874,
        0.003976539761170175,
        -0.0010034333192012418,
        0.00024155994900312597,
        -5.575069296428713e-05,
        1.2384673699190417e-05,
        -2.656684879123276e-06,
        5.516274641081595e-07,
        -1.1120864486679999e-07,
        2.245021362912545e-08,
        -4.2818235473414505e-09,
    ],
    [
        0.04100202055039233,
        -0.009250348774672625,
        0.0020003127258558947,
        -0.0004163659570904548,
        8.371222417079379e-05,
        -1.6303411886932174e-05,
        3.0830991821010552e-06,
        -5.672901298201908e-07,
        1.0172087893948385e-07,
        -1.7809998553010012e-08,
        3.1178410680716125e-09,
        -5.218312564363279e-10,
    ],
    [
        0.033405629702478574,
        -0.00623028246384912,
        0.001127108691617178,
        -0.00019824633525565534,
        3.396925380671463e-05,
        -5.680013212428345e-06,
        9.281983826959734e-07,
        -1.484319782715018e-07,
        2.3251847823574707e-08,
        -3.572681445012817e-09,
        5.484787472197936e-10,
        -8.122924966541102e-11,
    ],
    [
        0.028133298752583545,
        -0.0044586384607407555,
        0.000690733994069622,
        -0.00010474483210792462,
        1.5566250350738983e-05,
        -2.2694659943541688e-06,
        3.2490913665972416e-07,
        -4.5715953484056015e-08,
        6.326171372054835e-09,
        -8.61701356575026e-10,
        1.172399285424977e-10,
        -1.5493374652847118e-11,
    ],
    [
        0.024274230998283054,
        -0.0033388139882606378,
        0.0004512665402293198,
        -5.9982735551858235e-05,
        7.84684784060456e-06,
        -1.010960132050474e-06,
        1.28354500818848e-07,
        -1.6068391663859552e-08,
        1.9843669330437587e-09,
        -2.4188842466080187e-10,
        2.9449496113690093e-11,
        -3.5007740693542885e-12,
    ],
    [
        0.02133365075709363,
        -0.0025892249194929703,
        0.0003099257005749409,
        -3.660643829783004e-05,
        4.268548547844956e-06,
        -4.916099826217067e-07,
        5.59447846392334e-08,
        -6.293105145141063e-09,
        6.999685901586306e-10,
        -7.701541757021277e-11,
        8.463658420793918e-12,
        -9.118448052208565e-13,
    ],
    [
        0.019021572320663004,
        -0.002064280090274974,
        0.000221525754094121,
        -2.351610114263306e-05,
        2.4702109525440798e-06,
        -2.5684051383014483e-07,
        2.644105561657788e-08,
        -2.69586033552039e-09,
        2.7228254083551514e-10,
        -2.725033761763338e-11,
        2.724188038010014e-12,
        -2.678317768806424e-13,
    ],
    [
        0.01715753924647169,
        -0.0016830385115251287,
        0.000163577065610202,
        -1.5755951807704485e-05,
        1.5043868832708059e-06,
        -1.424165949606953e-07,
        1.3370155891144524e-08,
        -1.2450055752907309e-09,
        1.150105629994142e-10,
        -1.0542094903972457e-11,
        9.65313577130588e-13,
        -8.714876362234114e-14,
    ],
    [
        0.015623696049537214,
        -0.0013977744313326684,
        0.00012408865243893112,
        -1.0933084834809267e-05,
        9.561798140012232e-07,
        -8.302137614531634e-08,
        7.157446159233336e-09,
        -6.127813513472794e-10,
        5.2105770083074824e-11,
        -4.401150134170739e-12,
        3.7139766283120024e-13,
        -3.096267336525681e-14,
    ],
    [
        0.014339956936957342,
        -0.0011789477327539012,
        9.629207195526373e-05,
        -7.814289763579076e-06,
        6.30148698076546e-07,
        -5.0501077326754565e-08,
        4.022628392045878e-09,
        -3.1850529044848945e-10,
        2.5070384840835225e-11,
        -1.9619749780410407e-12,
        1.5341117669606538e-13,
        -1.1870148179929737e-14,
    ],
    [
        0.013250070361389272,
        -0.00100751627818149,
        7.617937251495041e-05,
        -5.728145162378315e-06,
        4.2837135100725457e-07,
        -3.186351985459536e-08,
        2.357598828786746e-09,
        -1.7353360707268699e-10,
        1.2707654782897463e-11,
        -9.258782420424654e-13,
        6.740758344181233e-14,
        -4.8627323250906184e-15,
    ],
    [
        0.012313404014301182,
        -0.0008707747760254868,
        6.127857497218284e-05,
        -4.291575471642361e-06,
        2.9912959229710994e-07,
        -2.075223589560172e-08,
        1.4330482982121178e-09,
        -9.850854205182132e-11,
        6.741053171409891e-12,
        -4.59253254196465e-13,
        3.1266191070016025e-14,
        -2.111520547772738e-15,
    ],
    [
        0.011499895955983401,
        -0.0007599916364910105,
        5.001070430912116e-05,
        -3.2770239513977344e-06,
        2.1383625953864222e-07,
        -1.3896011663178142e-08,
        8.993474340190627e-10,
        -5.797145524388496e-11,
        3.721935408423351e-12,
        -2.380207377821819e-13,
        1.521203763542693e-14,
        -9.65293123610767e-16,
    ],
    [
        0.010786838784972153,
        -0.0006690104166875825,
        4.133605898541603e-05,
        -2.544490973642023e-06,
        1.5605085178585024e-07,
        -9.535469013471511e-09,
        5.805579293730772e-10,
        -3.5220308532618e-11,
        2.129117218425122e-12,
        -1.2825768762628404e-13,
        7.721808768966507e-15,
        -4.619471086094777e-16,
    ],
    [
        0.010156766999024867,
        -0.0005933919928192819,
        3.455156054853681e-05,
        -2.005154498052085e-06,
        1.1598352041280981e-07,
        -6.6869302067574525e-09,
        3.8428448345511387e-10,
        -2.2013428018320065e-11,
        1.2570226447984655e-12,
        -7.155402367990523e-14,
        4.07098125904775e-15,
        -2.3029740619786565e-16,
    ],
    [
        0.009596031072306645,
        -0.0005298716747224017,
        2.9170463651708197e-05,
        -1.6011096638846882e-06,
        8.76224254459371e-08,
        -4.781201171509043e-09,
        2.6013406002444903e-10,
        -1.4112585038634965e-11,
        7.634395727231517e-13,
        -4.118258801101181e-14,
        2.2204776430843394e-15,
        -1.1911045610880425e-16,
    ],
    [
        0.009093811839542177,
        -0.0004760060249406462,
        2.4848682834950014e-05,
        -1.293683692198645e-06,
        6.717317079393146e-08,
        -3.4786894227600043e-09,
        1.796786270315072e-10,
        -9.256501630210557e-12,
        4.756361971470668e-13,
        -2.4377569777345907e-14,
        1.248869876056987e-15,
        -6.368342756967794e-17,
    ],
    [
        0.008641424679100224,
        -0.00042993739423753235,
        2.1338397174788743e-05,
        -1.056483580585832e-06,
        5.2181390768020954e-08,
        -2.5711530450663237e-09,
        1.263883111768056e-10,
        -6.198117538829784e-12,
        3.032446246719866e-13,
        -1.480181725502387e-14,
        7.222104082072263e-16,
        -3.5089604064988293e-17,
    ],
    [
        0.008231818929173943,
        -0.0003902334635892354,
        1.84580968999995e-05,
        -8.711428964152842e-07,
        4.1024018819631024e-08,
        -1.9277002405972994e-09,
        9.038562788097968e-11,
        -4.228865114392348e-12,
        1.9743232979889524e-13,
        -9.197918128866104e-15,
        4.2835257569113053e-16,
        -1.987189654669132e-17,
    ],
    [
        0.007859211602252275,
        -0.00035577572669194795,
        1.607280751471073e-05,
        -7.246537894373038e-07,
        3.26060367725099e-08,
        -1.4641960884118258e-09,
        6.562047125997029e-11,
        -2.9351030145356442e-12,
        1.310254897049065e-13,
        -5.837708750567987e-15,
        2.600051413966946e-16,
        -1.1539523998185272e-17,
    ],
    [
        0.00751881523393709,
        -0.00032568059568894355,
        1.408076654569457e-05,
        -6.076550459894745e-07,
        2.6175121984163462e-08,
        -1.1254480707397712e-09,
        4.8302726201904746e-11,
        -2.0693383341982678e-12,
        8.849299161698189e-14,
        -3.777536126067882e-15,
        1.6120268182930323e-16,
        -6.856871977918913e-18,
    ],
    [
        0.007206632845740023,
        -0.0002992426784814667,
        1.2404281092411165e-05,
        -5.133107545329209e-07,
        2.120574590526544e-08,
        -8.745705613081253e-10,
        3.6008738984495064e-11,
        -1.480117975444348e-12,
        6.073840430661588e-14,
        -2.488359843772734e-15,
        1.019146813471199e-16,
        -4.161596714788885e-18,
    ],
    [
        0.006919301503358747,
        -0.00027589339227333424,
        1.0983348262695654e-05,
        -4.3656190198096887e-07,
        1.732517829285786e-08,
        -6.864889319032641e-10,
        2.7159165883000598e-11,
        -1.0728264171191592e-12,
        4.231315663103915e-14,
        -1.666317931850469e-15,
        6.560288706723363e-17,
        -2.5756398314249614e-18,
    ],
    [
        0.0066539715622625385,
        -0.00025517035741602694,
        9.771134722919225e-06,
        -3.736182067090146e-07,
        1.4265337121211668e-08,
        -5.438883115014787e-10,
        2.0706837031069503e-11,
        -7.872212502041145e-13,
        2.988555039902635e-14,
        -1.132948482080603e-15,
        4.2938781773172767e-17,
        -1.62320503496178e-18,
    ],
    [
        0.0064082124627599405,
        -0.00023669448172361498,
        8.730728111167993e-06,
        -3.2160757402640177e-07,
        1.18309031137862e-08,
        -4.346379908343858e-10,
        1.5946226877656204e-11,
        -5.842664535295979e-13,
        2.137906957651394e-14,
        -7.812573625762868e-16,
        2.854285070640972e-17,
        -1.0403097915516514e-18,
    ],
    [
        0.006179938513221176,
        -0.00022015260604908572,
        7.832771923388e-06,
        -2.7833073140723654e-07,
        9.877860996344258e-09,
        -3.5012470191914146e-10,
        1.2394890435570557e-11,
        -4.3825282104164304e-13,
        1.5476424849890395e-14,
        -5.458618631168273e-16,
        1.9248608334041724e-17,
        -6.7724878600495585e-19,
    ],
    [
        0.005967349888071952,
        -0.00020528422215539897,
        7.0537227826910855e-06,
        -2.4208715245249957e-07,
        8.298840392149314e-09,
        -2.841562160336823e-10,
        9.71835452930011e-12,
        -3.319906714176935e-13,
        1.132812847397979e-14,
        -3.8609270481501965e-16,
        1.3156351687757253e-17,
        -4.473784447145451e-19,
    ],
    [
        0.005768885325628287,
        -0.0001918712073934165,
        6.374551912896201e-06,
        -2.1155000217682217e-07,
        7.0129618978838486e-09,
        -2.3222904806120072e-10,
        7.681742674991282e-12,
        -2.538239745920861e-13,
        8.377927191718024e-15,
        -2.762315850676521e-16,
        9.105965177211078e-18,
        -2.9959306380416074e-19,
    ],
    [
        0.005583183908314469,
        -0.00017972981849348994,
        5.779767508140339e-06,
        -1.856752470464734e-07,
        5.9587124249159456e-09,
        -1.9103237481572214e-10,
        6.118134271658723e-12,
        -1.957446287929097e-13,
        6.256345767418771e-15,
        -1.9976215624160533e-16,
        6.377149013182164e-18,
        -2.0321005829434394e-19,
    ],
    [
        0.005409053955690575,
        -0.00016870439414361539,
        5.256671547441391e-06,
        -1.636348751636269e-07,
        5.088885551332455e-09,
        -1.5810750419760452e-10,
        4.907569501672903e-12,
        -1.5218287843564283e-13,
        4.7146728900679375e-15,
        -1.4592346790073205e-16,
        4.515690315070346e-18,
        -1.3950056928507707e-19,
    ],
    [
        0.0052454475337572444,
        -0.00015866236225295456,
        4.794789704871886e-06,
        -1.4476733072744645e-07,
        4.366947716538226e-09,
        -1.3161121633695345e-10,
        3.962929569897816e-12,
        -1.1922007625468018e-13,
        3.583380961413592e-15,
        -1.076089335019524e-16,
        3.2309727047061207e-18,
        -9.685331740061745e-20,
    ],
    [
        0.005091439433062123,
        -0.00014949025212984194,
        4.385430323748266e-06,
        -1.2854037413363516e-07,
        3.764400801167702e-09,
        -1.1014937878662447e-10,
        3.220320403815954e-12,
        -9.406929418696951e-14,
        2.7455496880881107e-15,
        -8.006531761027662e-17,
        2.334495383476409e-18,
        -6.796379739389573e-20,
    ],
    [
        0.004946209728262237,
        -0.00014109048706373181,
        4.021340515811803e-06,
        -1.145230034395706e-07,
        3.258848856707838e-09,
        -9.265869095923052e-11,
        2.6324455225105466e-12,
        -7.472823901171194e-14,
        2.119644297028489e-15,
        -6.007517898817982e-17,
        1.7024100456479704e-18,
        -4.817323654396422e-20,
    ],
    [
        0.004809029227460821,
        -0.00013337878765244644,
        3.696435986374904e-06,
        -1.0236404764996196e-07,
        2.8325677440683635e-09,
        -7.832177270015984e-11,
        2.1639878104688615e-12,
        -5.974450350176563e-14,
        1.6482103136101777e-15,
        -4.543595777547747e-17,
        1.2523537977422688e-18,
        -3.447152934100612e-20,
    ],
    [
        0.004679247268098919,
        -0.0001262820565820295,
        3.405587281913698e-06,
        -9.17757170742271e-08,
        2.4714375418236484e-09,
        -6.650560535041105e-11,
        1.7883573097638438e-12,
        -4.8054984291179566e-14,
        1.2903612071539331e-15,
        -3.4623713539680154e-17,
        9.2892214294255e-19,
        -2.48898425407158e-20,
    ],
    [
        0.004556281429755224,
        -0.00011973664554350497,
        3.1444495510175465e-06,
        -8.252086827940451e-08,
        2.1641391000437257e-09,
        -5.671649554857846e-11,
        1.4853781996410063e-12,
        -3.8874851838294375e-14,
        1.0167286050267677e-15,
        -2.657336980542244e-17,
        6.944393985031699e-19,
        -1.8125411999280443e-20,
    ],
];

/// The pieces of `L(a) = −log10(1 − Q(a))`, φ just below the mean: row `k` holds the
/// coefficients, lowest degree first, of the degree-11 polynomial in `u = 2a − k` interpolating
/// `L` at the Chebyshev–Lobatto nodes of `2a ∈ [k − ½, k + ½]` (of `[0, ½]` for row 0), for
/// `k = 0..=5`. Generated by `tests/data/ln_q_poly.py`; the relative interpolation error is
/// below 5e−15.
#[allow(
    clippy::approx_constant,
    clippy::excessive_precision,
    clippy::unreadable_literal
)]
const L_POLY: [[f64; 12]; 6] = [
    [
        0.3010299956639812,
        -0.17325843097624202,
        0.0345600567762181,
        -0.0019725439500612313,
        -0.0001298027966225787,
        5.018916513529619e-07,
        1.438774495895875e-06,
        1.7697820160625875e-07,
        2.732643172994213e-09,
        -2.3973836392576467e-09,
        -4.218672694675972e-10,
        2.641433621418407e-12,
    ],
    [
        0.16023139227784902,
        -0.1105627834094447,
        0.027893896617927107,
        -0.002451864910563269,
        -9.971559862515913e-05,
        1.2597830109966529e-05,
        2.466831350637811e-06,
        6.452492450483467e-08,
        -3.585963499561816e-08,
        -5.502331570526885e-09,
        3.655347561179287e-11,
        1.1448600248146071e-10,
    ],
    [
        0.07502601295781804,
        -0.06245154018721037,
        0.020103150332537966,
        -0.002675599364764593,
        -6.194238318447809e-07,
        2.6121712449317948e-05,
        1.5215902179248513e-06,
        -3.706647880212726e-07,
        -6.028414083107972e-08,
        2.906340635188718e-09,
        1.5946525876954407e-09,
        7.69774156193966e-11,
    ],
    [
        0.03002862123211565,
        -0.0301378113845041,
        0.012347384099546202,
        -0.0024023340031970627,
        0.00013633388043957426,
        2.4872779603353016e-05,
        -2.1750478232435384e-06,
        -5.582925533020602e-07,
        3.230772409026105e-08,
        1.455782934890642e-08,
        -2.2185958546986398e-10,
        -3.727012708646609e-10,
    ],
    [
        0.009994379534108694,
        -0.011996920949216972,
        0.006164161534905444,
        -0.0016683677220872479,
        0.0002124589929766413,
        3.516417081921073e-06,
        -4.169386035666311e-06,
        8.126043350824752e-08,
        9.804251964431312e-08,
        -4.058627059009311e-09,
        -2.429351908458395e-09,
        1.3612508955280416e-10,
    ],
    [
        0.0027052313961437313,
        -0.003830005140870236,
        0.002410641453613622,
        -0.0008590232158941308,
        0.00017624944141611594,
        -1.5331632847079485e-05,
        -1.6043207637223697e-06,
        5.070923334290368e-07,
        -4.5021129464692035e-09,
        -1.2463997916048286e-08,
        9.72071910614495e-10,
        2.5269401719520487e-10,
    ],
];

/// `2^(−j/64)` for `j = 0..64`, correctly rounded (printed by `tests/data/ln_q_poly.py`); entry
/// 32 is `1/√2` as a table entry, not as that constant.
#[allow(clippy::approx_constant)]
const EXP2_NEG: [f64; 64] = [
    1.0,
    0.9892280131939755,
    0.9785720620877001,
    0.9680308967461472,
    0.9576032806985737,
    0.9472879907934828,
    0.93708381705515,
    0.9269895625416927,
    0.9170040432046712,
    0.9071260877501994,
    0.8973545375015536,
    0.8876882462632606,
    0.8781260801866497,
    0.8686669176368531,
    0.859309649061239,
    0.8500531768592617,
    0.8408964152537145,
    0.8318382901633682,
    0.8228777390769825,
    0.8140137109286739,
    0.8052451659746271,
    0.7965710756711335,
    0.7879904225539432,
    0.7795022001189185,
    0.7711054127039704,
    0.7627990753722692,
    0.7545822137967114,
    0.7464538641456324,
    0.7384130729697497,
    0.7304588970903235,
    0.7225904034885233,
    0.714806669195985,
    0.7071067811865476,
    0.6994898362691556,
    0.691954940981916,
    0.6845012114872953,
    0.6771277734684463,
    0.6698337620266515,
    0.6626183215798707,
    0.6554806057623822,
    0.6484197773255048,
    0.6414350080393891,
    0.6345254785958666,
    0.6276903785123455,
    0.620928906036742,
    0.614240268053435,
    0.6076236799902345,
    0.6010783657263515,
    0.5946035575013605,
    0.5881984958251406,
    0.5818624293887887,
    0.5755946149764913,
    0.5693943173783458,
    0.5632608093041209,
    0.5571933712979462,
    0.5511912916539204,
    0.5452538663326288,
    0.5393803988785599,
    0.5335702003384118,
    0.5278225891802786,
    0.5221368912137069,
    0.5165124395106142,
    0.5109485743270583,
    0.5054446430258502,
];

#[cfg(test)]
mod tests {
    use super::*;

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
