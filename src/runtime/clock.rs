//! [`TokioClock`]: the crate's [`Clock`] on tokio's time.

use tokio::time::Instant;

use crate::time::{Clock, Nanos};

/// A monotonic [`Clock`] on [`tokio::time::Instant`], with nanosecond resolution and its
/// origin at the moment it was created.
///
/// In production it reads the same monotonic clock as [`MonotonicClock`](crate::MonotonicClock);
/// under tokio's paused time (`#[tokio::test(start_paused = true)]`, or `tokio::time::pause`,
/// with tokio's `test-util` feature) it reads the paused clock, so a monitor on it, its
/// evaluator and its timers all move together when a test advances time, with no real waiting.
///
/// ```
/// use accrual::runtime::TokioClock;
/// use accrual::{Clock, Nanos};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// let clock = TokioClock::new();
/// tokio::time::sleep(std::time::Duration::from_millis(250)).await;
/// assert_eq!(clock.now(), Nanos::from_millis(250)); // paused time: exactly
/// # });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Instant,
}

impl TokioClock {
    /// A clock whose instant zero is now (tokio's now: the paused clock's, when paused).
    pub fn new() -> Self {
        TokioClock {
            origin: Instant::now(),
        }
    }

    /// The instant this clock reports for `instant` (zero for instants before its origin).
    ///
    /// ```
    /// use accrual::runtime::TokioClock;
    /// use accrual::Nanos;
    /// use std::time::Duration;
    ///
    /// let clock = TokioClock::new();
    /// let later = clock.origin() + Duration::from_micros(3);
    /// assert_eq!(clock.at(later), Nanos::from_micros(3));
    /// assert_eq!(clock.at(clock.origin()), Nanos::ZERO);
    /// ```
    pub fn at(&self, instant: Instant) -> Nanos {
        Nanos::from_duration(instant.saturating_duration_since(self.origin))
    }

    /// The tokio instant this clock reports as zero.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// The tokio instant of `at` on this clock's time line (saturating far in the future).
    ///
    /// ```
    /// use accrual::runtime::TokioClock;
    /// use accrual::Nanos;
    ///
    /// let clock = TokioClock::new();
    /// let t = Nanos::from_millis(40);
    /// assert_eq!(clock.at(clock.instant(t)), t);
    /// ```
    pub fn instant(&self, at: Nanos) -> Instant {
        const FAR: std::time::Duration = std::time::Duration::from_secs(86_400 * 365 * 30);
        self.origin
            .checked_add(at.as_duration())
            .or_else(|| self.origin.checked_add(FAR))
            .unwrap_or(self.origin)
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Nanos {
        self.at(Instant::now())
    }
}
