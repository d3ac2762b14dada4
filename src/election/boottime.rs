//! [`BootClock`]: a clock that counts the time the system spends suspended.

use crate::time::{Clock, Nanos};

/// A [`Clock`] on `CLOCK_BOOTTIME` (Linux and Android, feature `boottime`), with its origin at
/// the moment of creation.
///
/// [`MonotonicClock`](crate::MonotonicClock) reads `CLOCK_MONOTONIC`, which stops while the
/// system is suspended; `CLOCK_BOOTTIME` is the same clock but keeps counting through a
/// suspension. For failure detection that difference rarely matters. For a leader's
/// [`Lease`](super::Lease) it does: a leader whose machine is suspended for a minute and resumes
/// would find, on `CLOCK_MONOTONIC`, its lease as valid as before, while the followers' promises
/// ran out long ago and another leader was elected. Read the leader's lease, and the followers'
/// promises, on this clock.
///
/// It cannot see every absence (a process stopped by a debugger, a virtual machine paused by
/// its host without telling its guest): [`Lease::stalled`](super::Lease::stalled) and
/// [fencing tokens](super::FencingToken) cover those.
///
/// ```
/// use accrual::Clock;
/// use accrual::election::BootClock;
///
/// let clock = BootClock::new();
/// let a = clock.now();
/// let b = clock.now();
/// assert!(b >= a);
/// assert!(BootClock::since_boot() > b);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BootClock {
    origin: Nanos,
}

impl BootClock {
    /// A clock whose instant zero is now.
    pub fn new() -> Self {
        BootClock {
            origin: Self::since_boot(),
        }
    }

    /// The time since the system booted, suspensions included: `CLOCK_BOOTTIME` itself.
    pub fn since_boot() -> Nanos {
        let ts = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
        let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
        let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
        Nanos::from_secs(secs).saturating_add(Nanos(nanos))
    }
}

impl Default for BootClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for BootClock {
    fn now(&self) -> Nanos {
        Self::since_boot() - self.origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MonotonicClock;

    /// Monotone, and within a few milliseconds of the monotonic clock over a short sleep (the
    /// machine does not suspend during a test).
    #[test]
    fn it_is_monotone_and_agrees_with_the_monotonic_clock() {
        let boot = BootClock::new();
        let mono = MonotonicClock::new();
        let mut last = boot.now();
        for _ in 0..10_000 {
            let now = boot.now();
            assert!(now >= last);
            last = now;
        }
        let (b0, m0) = (boot.now(), mono.now());
        std::thread::sleep(std::time::Duration::from_millis(50));
        let (b1, m1) = (boot.now(), mono.now());
        let (db, dm) = ((b1 - b0).as_nanos() as i128, (m1 - m0).as_nanos() as i128);
        assert!(db >= 50_000_000, "{db}");
        assert!(
            (db - dm).abs() < 5_000_000,
            "boot {db} ns, monotonic {dm} ns"
        );
        assert!(BootClock::default().now() < Nanos::from_secs(1));
    }
}
