//! The numerics against independent truth: 60-digit mpmath reference values
//! (`tests/data/normal_reference.py`), closed forms, and brute-force recomputation.

use accrual::math::{
    IntervalWindow, MAX_INTERVAL_NS, ln_q, phi_logistic, phi_of_z, y_of_phi_logistic, z_of_phi,
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
