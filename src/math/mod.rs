//! Pure numerics, with no time source: the normal tail in log space and its inverse, Akka's
//! logistic approximation, and an exact sliding window of intervals.

mod normal;
mod normal_tables;
mod window;

pub use normal::{PHI_MAX, ln_q, ln_q_erfc, phi_logistic, phi_of_z, y_of_phi_logistic, z_of_phi};
pub(crate) use normal::{exp_neg, exp2_weight};
pub(crate) use window::u128_to_f64;
pub use window::{IntervalWindow, MAX_INTERVAL_NS, MAX_WINDOW};

/// The false-suspicion probability a φ threshold stands for: `10^−φ`, the model's probability
/// that a live peer stays silent long enough to reach it.
///
/// ```
/// assert_eq!(accrual::math::probability_of_phi(3.0), 1e-3);
/// ```
pub fn probability_of_phi(phi: f64) -> f64 {
    10f64.powf(-phi)
}

/// The φ threshold for a false-suspicion probability `p`: `−log10 p`.
///
/// ```
/// assert_eq!(accrual::math::phi_of_probability(1e-8), 8.0);
/// ```
pub fn phi_of_probability(p: f64) -> f64 {
    -p.log10()
}
