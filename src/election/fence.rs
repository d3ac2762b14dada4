//! Fencing: [`FencingToken`]s on a leader's requests, and the [`Fence`] a storage checks them
//! with.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// A number a leader attaches to every request it makes to a shared storage, so that the
/// storage can refuse the requests of a leader that has been replaced: it is the leader's
/// term, and terms only grow.
///
/// A lease says when a leader may act; it cannot stop a request sent while the lease was valid
/// from arriving after it ran out (a long pause between the check and the send, a slow
/// network). The storage's [`Fence`] can: it refuses a token lower than one it has seen.
///
/// The token travels as 8 big-endian bytes ([`to_be_bytes`](Self::to_be_bytes)) or as decimal
/// text, e.g. in the header [`FencingToken::HEADER`].
///
/// ```
/// use accrual::election::FencingToken;
///
/// let token = FencingToken::from_term(42);
/// assert_eq!(token.to_string(), "42");
/// assert_eq!("42".parse::<FencingToken>(), Ok(token));
/// assert_eq!(FencingToken::from_be_bytes(token.to_be_bytes()), token);
/// assert_eq!(FencingToken::HEADER, "x-fencing-token");
/// assert_eq!(token.header_value().as_str(), "42");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FencingToken(pub u64);

impl FencingToken {
    /// The name of the HTTP header that carries a token: `x-fencing-token`.
    pub const HEADER: &'static str = "x-fencing-token";

    /// The token of a leader elected in `term`.
    pub const fn from_term(term: u64) -> Self {
        FencingToken(term)
    }

    /// The term the token was derived from.
    pub const fn term(self) -> u64 {
        self.0
    }

    /// The token as 8 big-endian bytes.
    pub const fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// A token from 8 big-endian bytes.
    pub const fn from_be_bytes(bytes: [u8; 8]) -> Self {
        FencingToken(u64::from_be_bytes(bytes))
    }

    /// The token as the value of [`HEADER`](Self::HEADER): its decimal text, on the stack.
    pub fn header_value(self) -> HeaderValue {
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        let mut n = self.0;
        loop {
            start -= 1;
            buf[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        HeaderValue {
            buf,
            start: start as u8,
        }
    }
}

impl fmt::Display for FencingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Why a fencing token's text did not parse. See [`FencingToken`]'s `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseFencingTokenError {
    /// The text is empty (or only spaces).
    Empty,
    /// The text holds something other than decimal digits.
    InvalidDigit(String),
    /// The number exceeds `u64::MAX`.
    Overflow(String),
}

impl fmt::Display for ParseFencingTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseFencingTokenError::Empty => write!(f, "empty fencing token"),
            ParseFencingTokenError::InvalidDigit(s) => {
                write!(f, "fencing token `{s}` is not a decimal number")
            }
            ParseFencingTokenError::Overflow(s) => write!(f, "fencing token `{s}` is too large"),
        }
    }
}

impl std::error::Error for ParseFencingTokenError {}

impl FromStr for FencingToken {
    type Err = ParseFencingTokenError;

    /// Parses decimal digits, with spaces or tabs around them (as an HTTP header value may
    /// carry); no sign.
    fn from_str(text: &str) -> Result<Self, ParseFencingTokenError> {
        let digits = text.trim_matches([' ', '\t']);
        if digits.is_empty() {
            return Err(ParseFencingTokenError::Empty);
        }
        let mut n: u64 = 0;
        for b in digits.bytes() {
            if !b.is_ascii_digit() {
                return Err(ParseFencingTokenError::InvalidDigit(text.to_owned()));
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| ParseFencingTokenError::Overflow(text.to_owned()))?;
        }
        Ok(FencingToken(n))
    }
}

/// A [`FencingToken`]'s decimal text, held on the stack: what
/// [`FencingToken::header_value`] returns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderValue {
    buf: [u8; 20],
    start: u8,
}

impl HeaderValue {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever written from `start` on.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The text's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(usize::from(self.start)..).unwrap_or(&[])
    }
}

impl AsRef<str> for HeaderValue {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for HeaderValue {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Display for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeaderValue({:?})", self.as_str())
    }
}

/// A request's token was lower than one the [`Fence`] had already seen: it comes from a
/// leader that has been replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stale {
    /// The token refused.
    pub token: FencingToken,
    /// The highest token seen when it was refused.
    pub highest: FencingToken,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fencing token {} is stale: {} has been seen",
            self.token, self.highest
        )
    }
}

impl std::error::Error for Stale {}

/// The storage side of fencing: the highest [`FencingToken`] seen, raised and checked in one
/// atomic step (`AtomicU64::fetch_max`), from any number of threads.
///
/// [`check`](Self::check) refuses a token lower than the highest seen, naming that highest,
/// and accepts an equal or higher one, raising the highest to it. So the tokens accepted,
/// taken in the order of their checks, never decrease, whatever the threads. A storage that
/// applies writes must apply each in the same order as its check (check inside the same lock
/// or transaction as the write, for instance) for that order to be the order of the writes.
///
/// A fence starts at zero, the token of term 0; a storage that restarts should start from the
/// highest it persisted ([`starting_at`](Self::starting_at)).
///
/// ```
/// use accrual::election::{Fence, FencingToken, Stale};
///
/// let fence = Fence::new();
/// assert_eq!(fence.check(FencingToken(3)), Ok(()));
/// assert_eq!(fence.check(FencingToken(3)), Ok(())); // the same leader again
/// assert_eq!(
///     fence.check(FencingToken(2)), // a deposed leader's late write
///     Err(Stale { token: FencingToken(2), highest: FencingToken(3) })
/// );
/// assert_eq!(fence.check(FencingToken(5)), Ok(()));
/// assert_eq!(fence.highest(), FencingToken(5));
/// ```
#[derive(Debug, Default)]
pub struct Fence {
    highest: AtomicU64,
}

impl Fence {
    /// A fence that has seen no token but zero.
    pub const fn new() -> Self {
        Fence::starting_at(FencingToken(0))
    }

    /// A fence that has already seen `highest`.
    pub const fn starting_at(highest: FencingToken) -> Self {
        Fence {
            highest: AtomicU64::new(highest.0),
        }
    }

    /// Accepts `token` if it is at least the highest seen, raising the highest to it; refuses
    /// it otherwise, naming the highest. One atomic step.
    pub fn check(&self, token: FencingToken) -> Result<(), Stale> {
        let previous = self.highest.fetch_max(token.0, Ordering::AcqRel);
        if token.0 < previous {
            Err(Stale {
                token,
                highest: FencingToken(previous),
            })
        } else {
            Ok(())
        }
    }

    /// The highest token seen.
    pub fn highest(&self) -> FencingToken {
        FencingToken(self.highest.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn tokens_round_trip_as_text_bytes_and_header_values() {
        for n in [0, 1, 9, 10, 42, 1_000_000, u64::MAX - 1, u64::MAX] {
            let t = FencingToken::from_term(n);
            assert_eq!(t.term(), n);
            assert_eq!(t.to_string(), n.to_string());
            assert_eq!(t.to_string().parse::<FencingToken>(), Ok(t));
            assert_eq!(FencingToken::from_be_bytes(t.to_be_bytes()), t);
            assert_eq!(t.to_be_bytes(), n.to_be_bytes());
            let h = t.header_value();
            assert_eq!(h.as_str(), n.to_string());
            assert_eq!(h.as_bytes(), n.to_string().as_bytes());
            assert_eq!(h.to_string(), n.to_string());
            assert_eq!(h.as_str().parse::<FencingToken>(), Ok(t));
        }
        assert_eq!(
            format!("{:?}", FencingToken(7).header_value()),
            "HeaderValue(\"7\")"
        );
    }

    #[test]
    fn bad_text_gets_the_right_error() {
        use ParseFencingTokenError::*;
        assert_eq!(" 17\t".parse::<FencingToken>(), Ok(FencingToken(17)));
        assert_eq!("007".parse::<FencingToken>(), Ok(FencingToken(7)));
        assert_eq!("".parse::<FencingToken>(), Err(Empty));
        assert_eq!("  ".parse::<FencingToken>(), Err(Empty));
        for bad in ["-1", "+1", "1 2", "0x10", "1.0", "١"] {
            assert_eq!(
                bad.parse::<FencingToken>(),
                Err(InvalidDigit(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            "18446744073709551616".parse::<FencingToken>(),
            Err(Overflow("18446744073709551616".into()))
        );
        assert!(Overflow("x".into()).to_string().contains("too large"));
    }

    #[test]
    fn a_fence_refuses_lower_tokens_naming_the_highest() {
        let fence = Fence::starting_at(FencingToken(10));
        assert_eq!(
            fence.check(FencingToken(9)),
            Err(Stale {
                token: FencingToken(9),
                highest: FencingToken(10)
            })
        );
        assert_eq!(fence.highest(), FencingToken(10));
        assert_eq!(fence.check(FencingToken(10)), Ok(()));
        assert_eq!(fence.check(FencingToken(u64::MAX)), Ok(()));
        let err = fence.check(FencingToken(0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("fencing token 0 is stale: {} has been seen", u64::MAX)
        );
        assert_eq!(Fence::default().highest(), FencingToken(0));
        assert_eq!(Fence::new().check(FencingToken(0)), Ok(()));
    }

    /// 8 threads check pseudo-random tokens against one fence while recording, in the same
    /// critical section, the order of the checks and their outcomes. The accepted tokens, in
    /// that order, never decrease; every outcome is what a plain model (the highest accepted,
    /// under the same lock) says; every refusal names a highest that the model had reached.
    #[test]
    fn many_threads_see_a_non_decreasing_sequence_of_accepted_tokens() {
        const THREADS: u64 = 8;
        const CHECKS: u64 = 20_000;
        let fence = Fence::new();
        // The lock orders the checks, so that the model sees them in the fence's order; a
        // second run below checks without it.
        let log = Mutex::new(Vec::with_capacity((THREADS * CHECKS) as usize));
        std::thread::scope(|s| {
            for id in 0..THREADS {
                let (fence, log) = (&fence, &log);
                s.spawn(move || {
                    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (id + 1).wrapping_mul(0xff51_afd7);
                    for _ in 0..CHECKS {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let mut log = log.lock().unwrap();
                        // Tokens drift upwards with the checks made, with many stragglers
                        // below.
                        let token = FencingToken(log.len() as u64 / 16 + x % 64);
                        let outcome = fence.check(token);
                        log.push((token, outcome));
                    }
                });
            }
        });
        let log = log.into_inner().unwrap();
        let mut model = 0u64;
        let (mut accepted, mut refused) = (0, 0);
        for (token, outcome) in log {
            match outcome {
                Ok(()) => {
                    assert!(token.0 >= model, "{token} accepted after {model}");
                    model = token.0;
                    accepted += 1;
                }
                Err(stale) => {
                    assert!(token.0 < model, "{token} refused at {model}");
                    assert_eq!(stale.highest.0, model);
                    assert_eq!(stale.token, token);
                    refused += 1;
                }
            }
        }
        assert_eq!(fence.highest().0, model);
        assert!(accepted > 1_000 && refused > 1_000, "{accepted} {refused}");
    }

    /// Without a lock around them, checks race: every refusal still names a highest at least
    /// the token's successor, no thread's own accepted tokens ever decrease, and the fence ends
    /// at the largest token any thread checked.
    #[test]
    fn racing_checks_never_accept_below_what_a_thread_saw() {
        const THREADS: u64 = 8;
        let fence = Fence::new();
        let largest = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|id| {
                    let fence = &fence;
                    s.spawn(move || {
                        let mut x = 0x2545_f491_4f6c_dd1du64.wrapping_add(id);
                        let (mut last_accepted, mut largest) = (0u64, 0u64);
                        for i in 0..50_000u64 {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            let token = FencingToken(i / 8 + x % 128);
                            largest = largest.max(token.0);
                            match fence.check(token) {
                                Ok(()) => {
                                    assert!(token.0 >= last_accepted);
                                    last_accepted = token.0;
                                }
                                Err(stale) => {
                                    assert!(stale.highest > token);
                                    // What this thread had accepted, the fence still covers.
                                    assert!(stale.highest.0 >= last_accepted);
                                }
                            }
                        }
                        largest
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .max()
                .unwrap_or(0)
        });
        assert_eq!(fence.highest().0, largest);
    }
}
