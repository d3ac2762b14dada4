//! How far, and for how long, one pause moves the deadline of [`Adaptive`]: after one isolated
//! pause of length `P`, the deadline at any rate of the recommended range (0.1 to 1 false
//! suspicion per peer-hour) is at most `2P + η` beyond the last heartbeat, or the deadline
//! the detector gave before the pause if that was longer (its prior's, early in its life).

use accrual::{Adaptive, AdaptiveConfig, Detector, Nanos};

const BEAT: u64 = 100_000_000;

/// Heartbeats every 100 ms (± 0.5 ms) from `t`, numbered from `seq`, for `count` beats.
fn beat(d: &mut Adaptive, t: &mut u64, seq: &mut u64, count: u64) {
    for _ in 0..count {
        *t += BEAT - 500_000 + (*seq * 7919 % 1_000) * 1_000;
        d.heartbeat_seq(Nanos(*t), *seq);
        *seq += 1;
    }
}

/// The silence allowed after the last heartbeat at `rate` false suspicions per hour.
fn allowed(d: &Adaptive, rate: f64) -> u64 {
    let phi = d.threshold_for_rate(rate).unwrap();
    (d.deadline(phi).unwrap() - d.last_arrival().unwrap()).as_nanos()
}

#[test]
fn one_pause_moves_the_deadline_to_at_most_twice_its_length() {
    for watched_h in [1u64, 6] {
        for pause_ms in [300u64, 1_000, 3_000, 10_000] {
            let mut d = Adaptive::new(AdaptiveConfig::default()).unwrap();
            let (mut t, mut seq) = (0u64, 0u64);
            beat(&mut d, &mut t, &mut seq, watched_h * 36_000);
            let before: Vec<u64> = [1.0, 0.1].iter().map(|&r| allowed(&d, r)).collect();
            // The pause: the sender stops, then resumes on its schedule.
            t += pause_ms * 1_000_000;
            seq += pause_ms * 1_000_000 / BEAT;
            beat(&mut d, &mut t, &mut seq, 1);
            let pause = pause_ms * 1_000_000;
            for minutes in [0u64, 1, 10, 30] {
                beat(&mut d, &mut t, &mut seq, minutes * 600);
                for (i, rate) in [1.0, 0.1].into_iter().enumerate() {
                    let x = allowed(&d, rate);
                    let bound = (2 * pause + BEAT).max(before[i]);
                    assert!(
                        x <= bound,
                        "{watched_h} h, pause {pause_ms} ms, {minutes} min later, rate {rate}: \
                         {x} ns allowed, bound {bound}"
                    );
                }
            }
            // Remembered: ten minutes on, the pause is still waited out at 0.1 an hour.
            assert!(allowed(&d, 0.1) >= pause, "{watched_h} h, {pause_ms} ms");
        }
    }
}

/// After six hours of quiet, the prior has faded enough that the bound is `2P + η` itself
/// for pauses of a second or more.
#[test]
fn after_hours_of_quiet_the_bound_is_twice_the_pause() {
    let mut d = Adaptive::new(AdaptiveConfig::default()).unwrap();
    let (mut t, mut seq) = (0u64, 0u64);
    beat(&mut d, &mut t, &mut seq, 6 * 36_000);
    let pause = 1_000_000_000u64;
    t += pause;
    seq += pause / BEAT;
    beat(&mut d, &mut t, &mut seq, 600);
    for rate in [1.0, 0.1] {
        let x = allowed(&d, rate);
        assert!(x <= 2 * pause + BEAT, "rate {rate}: {x} ns");
    }
}
