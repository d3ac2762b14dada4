//! The windowed histogram against an exact model (a sorted vector of the live samples), and its
//! memory measured by a counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use accrual::histogram::WindowedHistogram;
use accrual::{HistogramConfig, Nanos};
use proptest::prelude::*;

thread_local! {
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: delegates every call to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.with(|c| c.set(c.get() + layout.size() as i64));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.with(|c| c.set(c.get() - layout.size() as i64));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn heap_bytes_of(config: HistogramConfig) -> (i64, WindowedHistogram) {
    let before = LIVE_BYTES.with(|c| c.get());
    let h = WindowedHistogram::new(config).unwrap();
    (LIVE_BYTES.with(|c| c.get()) - before, h)
}

/// The sizes documented on `WindowedHistogram`.
#[test]
fn memory_matches_the_documented_table() {
    let table = [
        (Nanos::from_micros(1), Nanos::from_secs(3600), 2, 13_824),
        (Nanos::from_micros(1), Nanos::from_secs(3600), 1, 1_920),
        (Nanos::from_micros(1), Nanos::from_secs(60), 3, 73_728),
        (Nanos::from_millis(1), Nanos::from_secs(3600), 1, 1_280),
    ];
    for (lowest, highest, significant_digits, per_histogram) in table {
        let cfg = HistogramConfig {
            lowest,
            highest,
            significant_digits,
            ..Default::default()
        };
        let (bytes, mut h) = heap_bytes_of(cfg);
        // 7 histograms (6 sub-windows and the total) plus the boxed slice of 6 headers.
        let headers = 6 * std::mem::size_of::<hdrhistogram::Histogram<u32>>() as i64;
        println!(
            "{lowest} {highest} {significant_digits}: {bytes} bytes, {} counters, header {}",
            h.live().distinct_values(),
            std::mem::size_of::<hdrhistogram::Histogram<u32>>()
        );
        assert_eq!(
            bytes,
            7 * per_histogram + headers,
            "{lowest} {highest} {significant_digits}"
        );
        // Recording allocates nothing more.
        let before = LIVE_BYTES.with(|c| c.get());
        for i in 0..10_000u64 {
            h.record(Nanos(i * 7_919), Nanos::from_millis(i * 13));
        }
        assert_eq!(LIVE_BYTES.with(|c| c.get()), before);
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// Move time forward and record a value.
    Record { dt: u64, value: u64 },
    /// Move time (possibly backwards) without recording.
    Jump(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (
            prop_oneof![0u64..2_000_000_000, 0u64..100_000_000_000],
            prop_oneof![0u64..5_000, 0u64..10_000_000_000, any::<u64>()]
        ).prop_map(|(dt, value)| Step::Record { dt, value }),
        1 => prop_oneof![any::<u64>(), 0u64..200_000_000_000].prop_map(Step::Jump),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn quantiles_match_a_sorted_vector(
        sub_windows in 1usize..8,
        sub_window_ms in 1u64..20_000,
        digits in 1u8..4,
        steps in prop::collection::vec(step(), 1..200),
        qs in prop::collection::vec(0.0f64..=1.0, 1..6),
    ) {
        let cfg = HistogramConfig {
            sub_windows,
            sub_window: Nanos::from_millis(sub_window_ms),
            lowest: Nanos(1_000),
            highest: Nanos::from_secs(60),
            significant_digits: digits,
        };
        let w = cfg.sub_window.as_nanos();
        let mut h = WindowedHistogram::new(cfg.clone()).unwrap();
        // The model: every sample with the sub-window number it was recorded in.
        let mut samples: Vec<(u64, u64)> = Vec::new();
        let mut epoch = 0u64; // the newest sub-window number seen
        let mut now = 0u64;
        let mut saturated = 0u64;
        for s in &steps {
            match *s {
                Step::Record { dt, value } => {
                    now = now.saturating_add(dt);
                    epoch = epoch.max(now / w);
                    let v = value.min(cfg.highest.as_nanos());
                    saturated += u64::from(value > cfg.highest.as_nanos());
                    samples.push((epoch, v));
                    h.record(Nanos(value), Nanos(now));
                }
                Step::Jump(t) => now = t,
            }
            epoch = epoch.max(now / w);
            let mut live: Vec<u64> = samples
                .iter()
                .filter(|&&(e, _)| e + (sub_windows as u64) > epoch)
                .map(|&(_, v)| v)
                .collect();
            live.sort_unstable();
            prop_assert_eq!(h.count(Nanos(now)), live.len() as u64);
            for &q in &qs {
                let got = h.quantile(q, Nanos(now));
                if live.is_empty() {
                    prop_assert_eq!(got, Nanos::ZERO);
                    continue;
                }
                let rank = ((q * live.len() as f64).ceil() as usize).max(1);
                let exact = live[rank - 1];
                // HDR reports the top of the exact value's bucket ...
                prop_assert_eq!(got.as_nanos(), h.live().highest_equivalent(exact));
                // ... which is within the configured precision of it.
                let bound = (exact as f64 * 10f64.powi(-i32::from(digits))).max(1_000.0);
                prop_assert!((got.as_nanos() - exact) as f64 <= bound, "{} vs {}", got, exact);
            }
            if let Some(&top) = live.last() {
                prop_assert_eq!(h.max(Nanos(now)).as_nanos(), h.live().highest_equivalent(top));
            }
        }
        prop_assert_eq!(h.saturated(), saturated);
    }
}

#[test]
fn a_gap_longer_than_the_window_empties_it() {
    let mut h = WindowedHistogram::new(HistogramConfig::default()).unwrap();
    for i in 0..1_000 {
        h.record(Nanos::from_millis(5), Nanos::from_millis(i));
    }
    assert_eq!(h.count(Nanos::from_secs(59)), 1_000);
    assert_eq!(h.count(Nanos::from_secs(60)), 0);
    assert_eq!(h.quantile(0.5, Nanos::from_secs(60)), Nanos::ZERO);
    assert_eq!(h.mean(Nanos::from_secs(60)), 0.0);
}

#[test]
fn saturates_and_counts_values_beyond_the_range() {
    let mut h = WindowedHistogram::new(HistogramConfig {
        highest: Nanos::from_secs(10),
        ..Default::default()
    })
    .unwrap();
    h.record(Nanos::from_secs(100), Nanos::ZERO);
    h.record(Nanos::MAX, Nanos::ZERO);
    h.record(Nanos::ZERO, Nanos::ZERO);
    assert_eq!(h.saturated(), 2);
    assert_eq!(h.count(Nanos::ZERO), 3);
    let top = h.max(Nanos::ZERO);
    assert!(top >= Nanos::from_secs(10) && top <= Nanos::from_millis(10_100));
}

#[test]
fn rejects_bad_configurations_by_field() {
    use accrual::ConfigError;
    let bad = |f: &dyn Fn(&mut HistogramConfig)| {
        let mut c = HistogramConfig::default();
        f(&mut c);
        WindowedHistogram::new(c).unwrap_err()
    };
    assert_eq!(
        bad(&|c| c.sub_windows = 0),
        ConfigError::ZeroCount {
            field: "histogram.sub_windows"
        }
    );
    assert_eq!(
        bad(&|c| c.sub_window = Nanos::ZERO),
        ConfigError::ZeroDuration {
            field: "histogram.sub_window"
        }
    );
    assert!(matches!(
        bad(&|c| c.highest = Nanos(1_500)),
        ConfigError::InvertedDurations {
            lower: "histogram.lowest",
            upper: "histogram.highest",
            ..
        }
    ));
    assert!(matches!(
        bad(&|c| c.significant_digits = 6),
        ConfigError::OutOfRange {
            field: "histogram.significant_digits",
            ..
        }
    ));
    assert!(matches!(
        bad(&|c| {
            c.lowest = Nanos(1 << 60);
            c.highest = Nanos::MAX;
        }),
        ConfigError::OutOfRange {
            field: "histogram.lowest",
            ..
        }
    ));
}

/// The 0-quantile is the top of the smallest sample's bucket, as every other quantile is of
/// its sample's (`hdrhistogram` alone reports the bucket's bottom at 0).
#[test]
fn the_zero_quantile_is_the_top_of_the_lowest_bucket_too() {
    let cfg = HistogramConfig {
        significant_digits: 1,
        lowest: Nanos(1_000),
        ..HistogramConfig::default()
    };
    let mut h = WindowedHistogram::new(cfg).unwrap();
    let now = Nanos::from_secs(1);
    for v in [0, 300, 5_000_000, 7_000_000] {
        h.record(Nanos(v), now);
    }
    let top = h.live().highest_equivalent(0);
    assert!(top > 0);
    assert_eq!(h.quantile(0.0, now).as_nanos(), top);
    assert_eq!(h.quantile(f64::NAN, now).as_nanos(), top);
    assert_eq!(h.quantile(-1.0, now).as_nanos(), top);
    // The same answer as any quantile whose rank is 1.
    assert_eq!(h.quantile(0.25, now), h.quantile(0.0, now));
    // A window of zeros: its maximum is the top of zero's bucket as well.
    let mut zeros = WindowedHistogram::new(HistogramConfig {
        significant_digits: 1,
        lowest: Nanos(1_000),
        ..HistogramConfig::default()
    })
    .unwrap();
    zeros.record(Nanos::ZERO, now);
    assert_eq!(zeros.max(now).as_nanos(), top);
    assert_eq!(zeros.quantile(1.0, now).as_nanos(), top);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// `buckets` is what `hdrhistogram` allocates, and `heap_bytes` what the windowed histogram
    /// takes: measured by the counting allocator, plus the running total's header, which lives
    /// inline.
    #[test]
    fn heap_bytes_is_what_is_allocated(
        lowest_bits in 0u32..40,
        lowest_frac in 0u64..1000,
        span_bits in 1u32..24,
        digits in 0u8..=5,
        sub_windows in 1usize..4,
    ) {
        let lowest = (1u64 << lowest_bits) + lowest_frac % (1u64 << lowest_bits);
        let highest = lowest.saturating_mul(1 << span_bits).max(2 * lowest);
        let cfg = HistogramConfig {
            sub_windows,
            lowest: Nanos(lowest),
            highest: Nanos(highest),
            significant_digits: digits,
            ..Default::default()
        };
        prop_assume!(cfg.validate().is_ok());
        let hdr = hdrhistogram::Histogram::<u32>::new_with_bounds(lowest, highest, digits).unwrap();
        prop_assert_eq!(cfg.buckets(), hdr.distinct_values() as u64);
        let (bytes, _h) = heap_bytes_of(cfg.clone());
        let header = std::mem::size_of::<hdrhistogram::Histogram<u32>>() as i64;
        prop_assert_eq!(bytes + header, cfg.heap_bytes() as i64);
    }
}

/// A configuration that would need gigabytes is refused before anything is allocated: 1,024
/// sub-windows of five significant digits from 1 ns to an hour (about 20 GB) passed validation
/// and aborted the process that built it.
#[test]
fn a_histogram_beyond_the_memory_bound_is_refused() {
    let huge = HistogramConfig {
        sub_windows: 1024,
        lowest: Nanos(1),
        highest: Nanos::from_secs(3600),
        significant_digits: 5,
        ..Default::default()
    };
    let err = huge.validate().unwrap_err();
    match err {
        accrual::ConfigError::TooLarge { field, bytes, max } => {
            assert_eq!(field, "histogram");
            assert_eq!(max, accrual::histogram::MAX_HISTOGRAM_BYTES);
            assert!(bytes > 10_000_000_000, "{bytes}");
        }
        other => panic!("{other}"),
    }
    assert!(WindowedHistogram::new(huge).is_err());
    // 1,024 sub-windows of the default precision fit.
    let wide = HistogramConfig {
        sub_windows: 1024,
        ..Default::default()
    };
    assert!(wide.validate().is_ok());
    assert!(wide.heap_bytes() <= accrual::histogram::MAX_HISTOGRAM_BYTES);
}
