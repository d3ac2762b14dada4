//! Time as the detectors see it: [`Nanos`], the [`Clock`] trait and its two clocks.
//!
//! Every detector in this crate takes the current instant as an argument and never reads a
//! clock itself. Only hosts (and, later, the monitor and runtime layers) call [`Clock::now`].
//! Instants and durations are both [`Nanos`]: whole nanoseconds on a monotonic time line whose
//! origin is the clock's own (for [`MonotonicClock`], the moment it was created).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A count of nanoseconds: an instant on a monotonic time line, or a duration.
///
/// Arithmetic saturates: `Nanos::ZERO - Nanos(5)` is `Nanos::ZERO` and `Nanos::MAX + x` is
/// `Nanos::MAX`, so an instant earlier than another never yields a negative or huge interval.
/// `Nanos` prints as a human duration (`1.5s`, `250ms`, `12.5us`, `7ns`) and parses the same
/// text back, exactly.
///
/// ```
/// use accrual::Nanos;
///
/// let beat = Nanos::from_millis(1_500);
/// assert_eq!(beat.to_string(), "1.5s");
/// assert_eq!("1.5s".parse::<Nanos>().unwrap(), beat);
/// assert_eq!(Nanos::from_millis(3) - Nanos::from_millis(5), Nanos::ZERO);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Nanos(pub u64);

impl Nanos {
    /// Zero nanoseconds.
    pub const ZERO: Nanos = Nanos(0);
    /// The largest representable count, about 584 years.
    pub const MAX: Nanos = Nanos(u64::MAX);

    /// `n` nanoseconds.
    pub const fn from_nanos(n: u64) -> Self {
        Nanos(n)
    }
    /// `us` microseconds, saturating at [`Nanos::MAX`].
    pub const fn from_micros(us: u64) -> Self {
        Nanos(us.saturating_mul(1_000))
    }
    /// `ms` milliseconds, saturating at [`Nanos::MAX`].
    pub const fn from_millis(ms: u64) -> Self {
        Nanos(ms.saturating_mul(1_000_000))
    }
    /// `s` seconds, saturating at [`Nanos::MAX`].
    pub const fn from_secs(s: u64) -> Self {
        Nanos(s.saturating_mul(1_000_000_000))
    }
    /// A [`Duration`], saturating at [`Nanos::MAX`].
    pub const fn from_duration(d: Duration) -> Self {
        let n = d.as_nanos();
        if n > u64::MAX as u128 {
            Nanos::MAX
        } else {
            Nanos(n as u64)
        }
    }
    /// The count of nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// As fractional seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// As a [`Duration`] (always exact).
    pub const fn as_duration(self) -> Duration {
        Duration::from_nanos(self.0)
    }
    /// `self + rhs`, saturating at [`Nanos::MAX`].
    pub const fn saturating_add(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(rhs.0))
    }
    /// `self - rhs`, saturating at [`Nanos::ZERO`].
    pub const fn saturating_sub(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_sub(rhs.0))
    }
    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: Nanos) -> Option<Nanos> {
        match self.0.checked_add(rhs.0) {
            Some(n) => Some(Nanos(n)),
            None => None,
        }
    }
    /// `self - rhs`, or `None` if `rhs` is later than `self`.
    pub const fn checked_sub(self, rhs: Nanos) -> Option<Nanos> {
        match self.0.checked_sub(rhs.0) {
            Some(n) => Some(Nanos(n)),
            None => None,
        }
    }
    /// `self * k`, saturating at [`Nanos::MAX`].
    pub const fn saturating_mul(self, k: u64) -> Nanos {
        Nanos(self.0.saturating_mul(k))
    }
}

impl Add for Nanos {
    type Output = Nanos;
    /// Saturating addition.
    fn add(self, rhs: Nanos) -> Nanos {
        self.saturating_add(rhs)
    }
}

impl Sub for Nanos {
    type Output = Nanos;
    /// Saturating subtraction: an earlier instant minus a later one is zero.
    fn sub(self, rhs: Nanos) -> Nanos {
        self.saturating_sub(rhs)
    }
}

impl AddAssign for Nanos {
    fn add_assign(&mut self, rhs: Nanos) {
        *self = *self + rhs;
    }
}

impl SubAssign for Nanos {
    fn sub_assign(&mut self, rhs: Nanos) {
        *self = *self - rhs;
    }
}

impl From<Duration> for Nanos {
    fn from(d: Duration) -> Self {
        Nanos::from_duration(d)
    }
}

impl From<Nanos> for Duration {
    fn from(n: Nanos) -> Self {
        n.as_duration()
    }
}

/// Units in display order: (suffix, nanoseconds per unit).
const UNITS: [(&str, u64); 4] = [
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

impl fmt::Display for Nanos {
    /// Prints in the largest unit not exceeding the value, with an exact decimal fraction and no
    /// trailing zeros: `0ns`, `999ns`, `1.5us`, `250ms`, `90s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let (suffix, per) = UNITS
            .iter()
            .copied()
            .find(|&(_, per)| n >= per)
            .unwrap_or(("ns", 1));
        let whole = n / per;
        let mut frac = n % per;
        let text = if frac == 0 {
            format!("{whole}{suffix}")
        } else {
            let mut digits = per.ilog10() as usize;
            while frac.is_multiple_of(10) {
                frac /= 10;
                digits -= 1;
            }
            format!("{whole}.{frac:0digits$}{suffix}")
        };
        f.pad(&text)
    }
}

impl fmt::Debug for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nanos({self})")
    }
}

/// Why a duration string did not parse. See [`Nanos`]'s `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseNanosError {
    /// The text is empty (or only spaces).
    Empty,
    /// The text has no number before its unit, or the number is malformed.
    InvalidNumber(String),
    /// The number has no unit; durations need one of `ns`, `us`, `µs`, `ms`, `s`.
    MissingUnit(String),
    /// The unit is not one of `ns`, `us`, `µs`, `ms`, `s`.
    UnknownUnit(String),
    /// The value has more precision than a nanosecond (`1.5ns`).
    SubNanosecond(String),
    /// The value exceeds [`Nanos::MAX`].
    Overflow(String),
}

impl fmt::Display for ParseNanosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseNanosError::Empty => write!(f, "empty duration"),
            ParseNanosError::InvalidNumber(s) => write!(f, "invalid number in duration `{s}`"),
            ParseNanosError::MissingUnit(s) => {
                write!(f, "duration `{s}` has no unit (use ns, us, ms or s)")
            }
            ParseNanosError::UnknownUnit(s) => {
                write!(f, "unknown unit in duration `{s}` (use ns, us, ms or s)")
            }
            ParseNanosError::SubNanosecond(s) => {
                write!(f, "duration `{s}` is finer than one nanosecond")
            }
            ParseNanosError::Overflow(s) => write!(f, "duration `{s}` is too large"),
        }
    }
}

impl std::error::Error for ParseNanosError {}

impl FromStr for Nanos {
    type Err = ParseNanosError;

    /// Parses `<number><unit>` where the number is a non-negative decimal (`250`, `1.5`) and the
    /// unit is `ns`, `us` (or `µs`), `ms` or `s`; spaces around and between are allowed. The
    /// conversion is exact integer arithmetic: `0.1s` is exactly 100,000,000 ns.
    fn from_str(text: &str) -> Result<Nanos, ParseNanosError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(ParseNanosError::Empty);
        }
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = (&s[..split], s[split..].trim_start());
        if number.is_empty() {
            return Err(ParseNanosError::InvalidNumber(text.to_owned()));
        }
        let per = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "" => return Err(ParseNanosError::MissingUnit(text.to_owned())),
            _ => return Err(ParseNanosError::UnknownUnit(text.to_owned())),
        };
        let (whole, frac) = match number.split_once('.') {
            Some((w, f)) => (w, f),
            None => (number, ""),
        };
        let digits_ok = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty())
            || !digits_ok(whole)
            || !digits_ok(frac)
            || (number.contains('.') && frac.is_empty())
        {
            return Err(ParseNanosError::InvalidNumber(text.to_owned()));
        }
        let overflow = || ParseNanosError::Overflow(text.to_owned());
        let mut total: u64 = 0;
        for b in whole.bytes() {
            total = total
                .checked_mul(10)
                .and_then(|t| t.checked_add(u64::from(b - b'0')))
                .ok_or_else(overflow)?;
        }
        total = total.checked_mul(per).ok_or_else(overflow)?;
        let mut scale = per;
        for b in frac.bytes() {
            let digit = u64::from(b - b'0');
            if scale == 1 {
                if digit != 0 {
                    return Err(ParseNanosError::SubNanosecond(text.to_owned()));
                }
                continue;
            }
            scale /= 10;
            total = total.checked_add(digit * scale).ok_or_else(overflow)?;
        }
        Ok(Nanos(total))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Nanos {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Nanos {
    /// Reads a human duration string (`"250ms"`). A bare number is rejected: its unit would be
    /// a guess.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Nanos;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration with a unit, such as \"250ms\" or \"1.5s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Nanos, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A source of monotonic instants.
///
/// Implementations must never go backwards in normal operation; the detectors nevertheless
/// tolerate a clock that does (see [`crate::detector`]).
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Nanos;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Nanos {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Nanos {
        (**self).now()
    }
}

/// The process's monotonic clock ([`Instant`]), with its origin at the moment of creation.
///
/// ```
/// use accrual::{Clock, MonotonicClock};
///
/// let clock = MonotonicClock::new();
/// let a = clock.now();
/// let b = clock.now();
/// assert!(b >= a);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    /// A clock whose instant zero is now.
    pub fn new() -> Self {
        MonotonicClock {
            origin: Instant::now(),
        }
    }
    /// The instant this clock reports for a given [`Instant`] (zero for instants before its
    /// origin).
    pub fn at(&self, instant: Instant) -> Nanos {
        Nanos::from_duration(instant.saturating_duration_since(self.origin))
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Nanos {
        self.at(Instant::now())
    }
}

/// A clock moved by hand, for tests and simulations. Clones share one time line.
///
/// ```
/// use accrual::{Clock, ManualClock, Nanos};
///
/// let clock = ManualClock::new(Nanos::from_secs(10));
/// let shared = clock.clone();
/// clock.advance(Nanos::from_millis(250));
/// assert_eq!(shared.now(), Nanos::from_millis(10_250));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock that reads `start` until moved.
    pub fn new(start: Nanos) -> Self {
        ManualClock {
            now: Arc::new(AtomicU64::new(start.0)),
        }
    }
    /// Moves the clock forward by `by` (saturating), returning the new instant.
    pub fn advance(&self, by: Nanos) -> Nanos {
        let previous = self
            .now
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(by.0))
            })
            .unwrap_or_else(|n| n);
        Nanos(previous.saturating_add(by.0))
    }
    /// Sets the clock to `to`, which may be earlier than now: tests use this to model a clock
    /// that goes backwards.
    pub fn set(&self, to: Nanos) {
        self.now.store(to.0, Ordering::Release);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Nanos {
        Nanos(self.now.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_exact_and_round_trips() {
        let cases = [
            (0, "0ns"),
            (7, "7ns"),
            (999, "999ns"),
            (1_000, "1us"),
            (1_500, "1.5us"),
            (12_345, "12.345us"),
            (250_000_000, "250ms"),
            (1_500_000_000, "1.5s"),
            (1_000_000_001, "1.000000001s"),
            (90_000_000_000, "90s"),
            (u64::MAX, "18446744073.709551615s"),
        ];
        for (n, text) in cases {
            assert_eq!(Nanos(n).to_string(), text);
            assert_eq!(text.parse::<Nanos>(), Ok(Nanos(n)), "{text}");
        }
    }

    #[test]
    fn parse_accepts_units_and_spaces() {
        assert_eq!("250ms".parse::<Nanos>(), Ok(Nanos::from_millis(250)));
        assert_eq!(" 250 ms ".parse::<Nanos>(), Ok(Nanos::from_millis(250)));
        assert_eq!("0.1s".parse::<Nanos>(), Ok(Nanos(100_000_000)));
        assert_eq!("3µs".parse::<Nanos>(), Ok(Nanos(3_000)));
        assert_eq!(".5ms".parse::<Nanos>(), Ok(Nanos(500_000)));
        assert_eq!("1.000ns".parse::<Nanos>(), Ok(Nanos(1)));
    }

    #[test]
    fn parse_rejects_bad_text_with_the_right_error() {
        use ParseNanosError::*;
        assert_eq!("".parse::<Nanos>(), Err(Empty));
        assert_eq!("250".parse::<Nanos>(), Err(MissingUnit("250".into())));
        assert_eq!("5 min".parse::<Nanos>(), Err(UnknownUnit("5 min".into())));
        assert_eq!("ms".parse::<Nanos>(), Err(InvalidNumber("ms".into())));
        assert_eq!(
            "1.2.3s".parse::<Nanos>(),
            Err(InvalidNumber("1.2.3s".into()))
        );
        assert_eq!("1.s".parse::<Nanos>(), Err(InvalidNumber("1.s".into())));
        assert_eq!("-1s".parse::<Nanos>(), Err(InvalidNumber("-1s".into())));
        assert_eq!("1.5ns".parse::<Nanos>(), Err(SubNanosecond("1.5ns".into())));
        assert_eq!(
            "18446744074s".parse::<Nanos>(),
            Err(Overflow("18446744074s".into()))
        );
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Nanos(3) - Nanos(5), Nanos::ZERO);
        assert_eq!(Nanos::MAX + Nanos(1), Nanos::MAX);
        assert_eq!(Nanos::from_secs(u64::MAX), Nanos::MAX);
        assert_eq!(Nanos(5).checked_sub(Nanos(6)), None);
        let mut t = Nanos(10);
        t -= Nanos(20);
        assert_eq!(t, Nanos::ZERO);
    }

    #[test]
    fn manual_clock_is_shared_and_can_go_back() {
        let c = ManualClock::new(Nanos(100));
        let d = c.clone();
        assert_eq!(c.advance(Nanos(5)), Nanos(105));
        assert_eq!(d.now(), Nanos(105));
        d.set(Nanos(1));
        assert_eq!(c.now(), Nanos(1));
        c.set(Nanos(u64::MAX - 1));
        assert_eq!(c.advance(Nanos(10)), Nanos::MAX);
    }
}
