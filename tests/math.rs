//! The numerics against independent truth: 60-digit mpmath reference values
//! (`tests/data/normal_reference.py`), closed forms, and brute-force recomputation.

use accrual::math::{
    IntervalWindow, MAX_INTERVAL_NS, ln_q, ln_q_erfc, phi_logistic, phi_of_z, y_of_phi_logistic,
    z_of_phi,
};
use proptest::prelude::*;

fn reference() -> Vec<(String, f64, f64)> {
    let text = include_str!("data/normal_reference.csv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("kind"))
        .map(|l| {
            let mut f = l.split(',');
            let kind = f.next().unwrap().to_owned();
            let x: f64 = f.next().unwrap().parse().unwrap();
            let v: f64 = f.next().unwrap().parse().unwrap();
            (kind, x, v)
        })
        .collect()
}

#[test]
fn ln_q_matches_60_digit_reference() {
    let rows: Vec<_> = reference().into_iter().filter(|r| r.0 == "ln_q").collect();
    assert!(rows.len() > 200);
    for (_, z, want) in rows {
        let got = ln_q(z);
        assert!(got.is_finite(), "ln_q({z}) = {got}");
        if (0.0..=37.0).contains(&z) {
            // |Δ ln Q| is the relative error of Q.
            assert!((got - want).abs() <= 1e-12, "z={z}: {got} vs {want}");
        }
        // Relative error of ln Q itself, everywhere (for z < 0 it is the relative error of
        // the tiny 1 − Q).
        assert!(
            (got - want).abs() <= 1e-12 * want.abs(),
            "z={z}: {got} vs {want}, rel {:e}",
            ((got - want) / want).abs()
        );
    }
}

#[test]
fn libm_reference_path_matches_60_digit_reference() {
    for (_, z, want) in reference().into_iter().filter(|r| r.0 == "ln_q") {
        let got = ln_q_erfc(z);
        assert!(
            (got - want).abs() <= 1e-12 * want.abs(),
            "z={z}: {got} vs {want}"
        );
    }
}

/// The relative difference of the polynomial path from the `erfc` path, which the reference
/// values vouch for (1e−12 each; in fact both stay below 4e−13).
fn rel_diff(z: f64) -> f64 {
    let (fast, slow) = (ln_q(z), ln_q_erfc(z));
    assert!(fast.is_finite() && slow.is_finite(), "z={z}");
    if fast == slow {
        return 0.0;
    }
    ((fast - slow) / slow).abs()
}

#[test]
fn polynomial_path_matches_the_erfc_path_on_a_dense_grid() {
    // Every piece of both tables many times over, and the branch points 0, ±2.5, ±37, −38.5.
    let mut z = -37.0;
    let mut worst: f64 = 0.0;
    while z <= 37.0 {
        worst = worst.max(rel_diff(z));
        z += 0.000_731;
    }
    assert!(worst <= 1e-12, "worst relative difference {worst:e}");
    // Beyond 37 both use the same asymptotic expansion; below −38.5 both are −0.
    for z in [37.000_001, 38.0, 50.0, 1e3] {
        assert_eq!(ln_q(z), ln_q_erfc(z));
    }
    for z in [-38.5, -39.0, -1e3, f64::NEG_INFINITY] {
        assert_eq!(ln_q(z), 0.0);
        assert_eq!(ln_q_erfc(z), 0.0);
    }
}

#[test]
fn polynomial_pieces_join_without_a_step() {
    // At each join of neighbouring pieces (k ± ½) and each change of formula, the values just
    // either side agree with the erfc path and with each other, and φ does not fall.
    let mut joins: Vec<f64> = (0..38).map(|k| k as f64 + 0.5).collect();
    joins.extend([2.5, 37.0, 38.5]);
    for &j in &joins {
        for side in [1.0, -1.0] {
            let at = side * j;
            let below = at - at.abs().max(1.0) * 4.0 * f64::EPSILON;
            let above = at + at.abs().max(1.0) * 4.0 * f64::EPSILON;
            if at.abs() <= 37.0 {
                for z in [below, at, above] {
                    assert!(rel_diff(z) <= 1e-12, "z={z}: {:e}", rel_diff(z));
                }
            }
            assert!(phi_of_z(below) <= phi_of_z(at), "φ falls at {at}");
            assert!(phi_of_z(at) <= phi_of_z(above), "φ falls after {at}");
            let (a, b) = (ln_q(below), ln_q(above));
            assert!(
                (a - b).abs() <= 1e-13 * a.abs().max(b.abs()) + (above - below) * 40.0,
                "step at {at}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn phi_of_z_rises_on_the_grid_of_2_pow_minus_45() {
    // The detectors round z to multiples of 2^−45 when one nanosecond moves it by less (a
    // spread beyond nine hours), relying on φ rising at every step of that grid: its rounding
    // error must stay below each step's increase. Runs of consecutive grid points across the
    // whole range, including every join of the polynomial pieces.
    let step = 2f64.powi(-45);
    let mut starts: Vec<f64> = (-77..=74).map(|k| k as f64 * 0.5).collect();
    starts.extend([-38.49, 36.99, 37.0 - 1e-10, 2.5 - 1e-10, -2.5 - 1e-10]);
    for start in starts {
        let k0 = (start / step).round();
        let mut prev = phi_of_z((k0 - 2_000.0) * step);
        for k in -1_999..2_000 {
            let z = (k0 + k as f64) * step;
            let phi = phi_of_z(z);
            assert!(phi >= prev, "φ falls at z = {z:e}: {prev:e} -> {phi:e}");
            prev = phi;
        }
    }
}

#[test]
fn phi_of_z_is_minus_log10_of_ln_q() {
    let mut z = -38.6;
    while z < 60.0 {
        let phi = phi_of_z(z);
        let want = -ln_q(z) / std::f64::consts::LN_10;
        assert!(
            (phi - want).abs() <= 4.0 * f64::EPSILON * want.abs(),
            "z={z}: {phi} vs {want}"
        );
        z += 0.003_17;
    }
}

#[test]
fn z_of_phi_matches_60_digit_reference() {
    let rows: Vec<_> = reference()
        .into_iter()
        .filter(|r| r.0 == "z_of_phi")
        .collect();
    assert!(rows.len() > 15);
    for (_, phi, want) in rows {
        let got = z_of_phi(phi);
        assert!(
            (got - want).abs() <= 1e-9 && (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "phi={phi}: {got} vs {want}"
        );
    }
}

#[test]
fn issue_reference_pairs_both_ways() {
    for (phi, z) in [
        (1.0, 1.2816),
        (2.0, 2.3263),
        (3.0, 3.0902),
        (5.0, 4.2649),
        (8.0, 5.6120),
        (10.0, 6.3613),
    ] {
        assert!((z_of_phi(phi) - z).abs() < 5e-5);
        assert!((z_of_phi(phi_of_z(z)) - z).abs() < 1e-9);
    }
}

#[test]
fn akka_overstates_the_tail_where_exact_is_eight() {
    // design.md: Akka reports 9.31 where the exact value is 8.
    let z = z_of_phi(8.0);
    assert!((phi_logistic(z) - 9.31).abs() < 0.01);
    assert!((phi_of_z(z) - 8.0).abs() < 1e-9);
}

#[test]
fn finite_and_monotone_over_a_dense_grid() {
    let mut prev = f64::NEG_INFINITY;
    let mut prev_l = f64::NEG_INFINITY;
    let mut z = -60.0;
    while z < 200.0 {
        let p = phi_of_z(z);
        let l = phi_logistic(z);
        assert!(p.is_finite() && p >= 0.0 && p >= prev, "z={z}");
        assert!(l.is_finite() && l >= 0.0 && l >= prev_l, "z={z}");
        prev = p;
        prev_l = l;
        z += 0.001_37;
    }
}

proptest! {
    #[test]
    fn phi_of_z_is_monotone_finite_and_inverted(a in -1e6f64..1e6, b in -1e6f64..1e6) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let (p_lo, p_hi) = (phi_of_z(lo), phi_of_z(hi));
        prop_assert!(p_lo.is_finite() && p_hi.is_finite() && p_lo >= 0.0);
        prop_assert!(p_lo <= p_hi);
        if p_hi > 1e-300 && p_hi < 1e12 {
            let back = z_of_phi(p_hi);
            prop_assert!((back - hi).abs() <= 1e-9 * hi.abs().max(1.0), "{hi} -> {p_hi} -> {back}");
        }
    }

    #[test]
    fn logistic_is_monotone_and_inverted(a in -1e4f64..1e4, b in -1e4f64..1e4) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(phi_logistic(lo) <= phi_logistic(hi));
        let p = phi_logistic(hi);
        if p > 1e-12 && p < 1e12 {
            let back = y_of_phi_logistic(p);
            prop_assert!((back - hi).abs() <= 1e-8 * hi.abs().max(1.0));
        }
    }

    #[test]
    fn window_matches_brute_force(
        cap in 1usize..64,
        xs in prop::collection::vec(
            prop_oneof![0u64..2_000, 99_000_000u64..101_000_000, any::<u64>()], 0..300)
    ) {
        let mut w = IntervalWindow::new(cap);
        for &x in &xs {
            w.push(x);
        }
        let kept: Vec<u64> = xs.iter().rev().take(cap).rev().map(|&x| x.min(MAX_INTERVAL_NS)).collect();
        prop_assert_eq!(w.iter().collect::<Vec<_>>(), kept.clone());
        prop_assert_eq!(w.len(), kept.len());
        let n = kept.len() as u128;
        let sum: u128 = kept.iter().map(|&x| x as u128).sum();
        prop_assert_eq!(w.sum(), sum);
        if n > 0 {
            // Exact rational variance n²·var = nΣx² − (Σx)², in 256-bit-free form via
            // deviations from the first sample (shift invariance), in i128 then f64.
            let base = kept[0] as i128;
            let dev: Vec<i128> = kept.iter().map(|&x| x as i128 - base).collect();
            let s: f64 = dev.iter().map(|&d| d as f64).sum::<f64>();
            let mean = base as f64 + s / n as f64;
            prop_assert!((w.mean() - mean).abs() <= 1e-9 * mean.abs().max(1.0));
            let dm = s / n as f64;
            let var: f64 = dev.iter().map(|&d| (d as f64 - dm).powi(2)).sum::<f64>() / n as f64;
            prop_assert!(w.variance() >= 0.0);
            prop_assert!((w.variance() - var).abs() <= 1e-9 * var.max(1.0), "{} vs {}", w.variance(), var);
        }
    }
}

proptest! {
    #[test]
    fn window_mean_is_split_exactly(
        cap in 1usize..2_000,
        xs in prop::collection::vec(
            prop_oneof![0u64..2_000, 99_000_000u64..101_000_000, any::<u64>()], 1..3_000)
    ) {
        let mut w = IntervalWindow::new(cap);
        for &x in &xs {
            w.push(x);
        }
        let n = w.len() as u128;
        let (whole, frac) = w.mean_parts();
        prop_assert_eq!(u128::from(whole), w.sum() / n);
        let want = (w.sum() % n) as f64 / n as f64;
        prop_assert!((frac - want).abs() <= f64::EPSILON * want, "{} vs {}", frac, want);
        let (whole2, frac2, _) = w.moments();
        prop_assert_eq!((whole2, frac2), (whole, frac));
    }
}

#[test]
fn window_division_is_exact_around_multiples_of_n() {
    // Sums just below, at and above multiples of n, for means up to 2^53, in 64-bit and in
    // 128-bit arithmetic.
    for n in [1usize, 2, 3, 7, 1000, 1023, 1 << 20] {
        for mean in [3u64, 99_999_999, 100_000_000, (1 << 50) + 3, 1 << 53] {
            let mut w = IntervalWindow::new(n);
            for _ in 0..n {
                w.push(mean);
            }
            for delta in [0u64, 1, 2] {
                if delta > 0 && n > 1 {
                    w.push(mean - delta);
                }
                let s = w.sum();
                let nn = w.len() as u128;
                assert_eq!(u128::from(w.mean_parts().0), s / nn, "n={n} mean={mean}");
            }
        }
    }
}

#[test]
fn window_stays_exact_over_millions_of_pushes() {
    // A long run of 100 ms ± 3 ns intervals: the variance must stay that of the last window,
    // with no drift, however many samples passed through.
    let mut w = IntervalWindow::new(1000);
    let pattern = [100_000_000u64 - 3, 100_000_000 + 3];
    for i in 0..3_000_000 {
        w.push(pattern[i % 2]);
    }
    assert_eq!(w.mean(), 100_000_000.0);
    assert_eq!(w.variance(), 9.0);
}
