//! The datagram format of heartbeats and probes: fixed layout, versioned, optionally
//! authenticated with a keyed MAC.
//!
//! Every datagram is one [`Message`]; all integers are big-endian:
//!
//! | bytes | field | meaning |
//! |---|---|---|
//! | 0 | version | [`VERSION`] (1); any other is refused before anything else is read |
//! | 1 | kind | 1 heartbeat, 2 ping, 3 pong ([`Kind`]) |
//! | 2 | flags | bit 0: a tag follows; the other bits must be zero |
//! | 3..11 | sender | the sender's id, `u64` |
//! | 11..19 | sequence | heartbeats: the sender's count, increasing by one per heartbeat; pings: the prober's count; pongs: the ping's, echoed |
//! | 19..27 | timestamp | heartbeats: ns since the Unix epoch on the sender's wall clock when sent; pings: ns on the prober's own clock; pongs echo the ping's |
//! | 27..43 | tag | with flag bit 0 only: HMAC-SHA-256 of bytes 0..27 under the shared key, its first 16 bytes |
//!
//! A datagram is [`HEADER_LEN`] (27) bytes, or [`TAGGED_LEN`] (43) with a tag; any other
//! length is refused. The tag covers every field, so a forger without the key can neither make
//! a heartbeat nor change one (its sender, its sequence number, its kind, its timestamp); a
//! replayed genuine datagram is refused by its sequence number, which must be above the last
//! accepted from that sender (the monitor's stale count, see
//! [`Monitor::heartbeat_at`](crate::Monitor::heartbeat_at)), or above the last accepted before
//! the monitor forgot it ([`MonitorConfig::tombstones`](crate::MonitorConfig::tombstones)); and,
//! with [`NetConfig::max_clock_skew`](super::NetConfig::max_clock_skew), by its timestamp once
//! it is older than that. Tags are compared in constant time. What remains possible is in
//! `docs/runtime.md`, "Replays".
//!
//! A heartbeat's timestamp was the sender's monotonic clock before it was its wall clock; the
//! version did not change, since no receiver read it: a monitor that sets `max_clock_skew`
//! refuses heartbeats from such older senders.
//!
//! Decoding reads a borrowed slice and never allocates; it never panics, whatever the bytes.
//!
//! ```
//! use accrual::runtime::wire::{Key, Kind, Message, WireError};
//! use accrual::Nanos;
//!
//! let key = Key::new(b"a shared secret of 16+ bytes").unwrap();
//! let beat = Message { kind: Kind::Heartbeat, sender: 7, seq: 42, timestamp: Nanos::from_millis(5) };
//! let datagram = beat.encode(Some(&key));
//! assert_eq!(datagram.as_bytes().len(), 43);
//! assert_eq!(Message::decode(datagram.as_bytes(), Some(&key)), Ok(beat));
//!
//! // One bit changed: the tag no longer matches.
//! let mut forged = datagram.as_bytes().to_vec();
//! forged[18] ^= 1;
//! assert_eq!(Message::decode(&forged, Some(&key)), Err(WireError::BadTag));
//! ```

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::ConfigError;
use crate::time::Nanos;

/// The format version this build writes and reads.
pub const VERSION: u8 = 1;
/// The length of an untagged datagram.
pub const HEADER_LEN: usize = 27;
/// The length of the tag: HMAC-SHA-256 truncated to 128 bits.
pub const TAG_LEN: usize = 16;
/// The length of a tagged datagram.
pub const TAGGED_LEN: usize = HEADER_LEN + TAG_LEN;
/// The shortest key [`Key::new`] accepts, in bytes.
pub const MIN_KEY_LEN: usize = 16;
/// The longest key [`Key::new`] accepts, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

const FLAG_TAGGED: u8 = 1;

/// What a datagram is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// "I am alive": a heartbeat from `sender`, its `seq`-th.
    Heartbeat,
    /// A round-trip probe from `sender`; the receiver answers with a [`Kind::Pong`].
    Ping,
    /// The answer to a ping, from `sender`, echoing the ping's `seq` and `timestamp`.
    Pong,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::Heartbeat => 1,
            Kind::Ping => 2,
            Kind::Pong => 3,
        }
    }

    fn from_code(code: u8) -> Option<Kind> {
        match code {
            1 => Some(Kind::Heartbeat),
            2 => Some(Kind::Ping),
            3 => Some(Kind::Pong),
            _ => None,
        }
    }
}

/// One datagram's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Message {
    /// What it is.
    pub kind: Kind,
    /// Who sent it.
    pub sender: u64,
    /// Its sequence number (for a pong, the ping's).
    pub seq: u64,
    /// The sender's clock when it was sent: for a heartbeat its wall clock, in ns since the
    /// Unix epoch (for a pong, the ping's).
    pub timestamp: Nanos,
}

/// A shared key for authenticated datagrams: an HMAC-SHA-256 key, kept ready so that tagging
/// and checking a datagram costs two SHA-256 compressions and no allocation. Its `Debug` output
/// does not show the key.
///
/// ```
/// use accrual::runtime::wire::Key;
/// use accrual::ConfigError;
///
/// assert!(Key::new(&[7u8; 32]).is_ok());
/// assert!(matches!(Key::new(b"short"), Err(ConfigError::OutOfRange { field: "runtime.key", .. })));
/// ```
#[derive(Clone)]
pub struct Key {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A key from `secret`, which must be [`MIN_KEY_LEN`] (16) to [`MAX_KEY_LEN`] (1024) bytes:
    /// use 32 random bytes.
    pub fn new(secret: &[u8]) -> Result<Key, ConfigError> {
        let len = secret.len();
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&len) {
            return Err(ConfigError::OutOfRange {
                field: "runtime.key",
                value: len as f64,
                min: MIN_KEY_LEN as f64,
                max: MAX_KEY_LEN as f64,
            });
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|_| {
            ConfigError::OutOfRange {
                field: "runtime.key",
                value: len as f64,
                min: MIN_KEY_LEN as f64,
                max: MAX_KEY_LEN as f64,
            }
        })?;
        Ok(Key { mac })
    }

    fn tag(&self, header: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        mac.update(header);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    fn verify(&self, header: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.mac.clone();
        mac.update(header);
        mac.verify_truncated_left(tag).is_ok()
    }
}

/// An encoded datagram, on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Datagram {
    bytes: [u8; TAGGED_LEN],
    len: usize,
}

impl Datagram {
    /// The bytes to send.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len.min(TAGGED_LEN)]
    }
}

impl fmt::Debug for Datagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Datagram({} bytes)", self.len)
    }
}

/// Why a datagram was refused: one variant per rule, checked in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireError {
    /// Byte 0 is not [`VERSION`] (or the datagram is empty: `version` is then `None`).
    UnknownVersion {
        /// The version byte, if any.
        version: Option<u8>,
    },
    /// Byte 1 is not a known [`Kind`].
    UnknownKind {
        /// The kind byte.
        kind: u8,
    },
    /// Byte 2 has bits set other than the tag flag.
    UnknownFlags {
        /// The flags byte.
        flags: u8,
    },
    /// Shorter than its flags say it is.
    Truncated {
        /// Its length.
        len: usize,
        /// The length its flags call for.
        expected: usize,
    },
    /// Longer than its flags say it is.
    TrailingBytes {
        /// Its length.
        len: usize,
        /// The length its flags call for.
        expected: usize,
    },
    /// A key is configured and the datagram has no tag.
    MissingTag,
    /// The datagram has a tag and no key is configured to check it.
    UnexpectedTag,
    /// The tag does not match the contents under the key: forged, tampered with, or sent with
    /// another key.
    BadTag,
}

impl WireError {
    /// Whether the datagram broke the format (version, kind, flags, length), as opposed to
    /// failing authentication.
    ///
    /// ```
    /// use accrual::runtime::wire::WireError;
    ///
    /// assert!(WireError::Truncated { len: 3, expected: 27 }.is_malformed());
    /// assert!(!WireError::BadTag.is_malformed());
    /// ```
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            WireError::UnknownVersion { .. }
                | WireError::UnknownKind { .. }
                | WireError::UnknownFlags { .. }
                | WireError::Truncated { .. }
                | WireError::TrailingBytes { .. }
        )
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::UnknownVersion { version: None } => write!(f, "empty datagram"),
            WireError::UnknownVersion { version: Some(v) } => {
                write!(f, "unknown format version {v} (this build reads {VERSION})")
            }
            WireError::UnknownKind { kind } => write!(f, "unknown datagram kind {kind}"),
            WireError::UnknownFlags { flags } => write!(f, "unknown flags {flags:#04x}"),
            WireError::Truncated { len, expected } => {
                write!(f, "truncated datagram: {len} bytes, expected {expected}")
            }
            WireError::TrailingBytes { len, expected } => {
                write!(f, "trailing bytes: {len} bytes, expected {expected}")
            }
            WireError::MissingTag => write!(f, "untagged datagram where a tag is required"),
            WireError::UnexpectedTag => write!(f, "tagged datagram and no key to check it"),
            WireError::BadTag => write!(f, "the tag does not match: forged or tampered with"),
        }
    }
}

impl std::error::Error for WireError {}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(s) = bytes.get(at..at + 8) {
        b.copy_from_slice(s);
    }
    u64::from_be_bytes(b)
}

impl Message {
    /// The datagram for this message, tagged under `key` if one is given.
    pub fn encode(&self, key: Option<&Key>) -> Datagram {
        let mut bytes = [0u8; TAGGED_LEN];
        bytes[0] = VERSION;
        bytes[1] = self.kind.code();
        bytes[2] = if key.is_some() { FLAG_TAGGED } else { 0 };
        bytes[3..11].copy_from_slice(&self.sender.to_be_bytes());
        bytes[11..19].copy_from_slice(&self.seq.to_be_bytes());
        bytes[19..27].copy_from_slice(&self.timestamp.as_nanos().to_be_bytes());
        let len = match key {
            Some(key) => {
                let tag = key.tag(&bytes[..HEADER_LEN]);
                bytes[HEADER_LEN..].copy_from_slice(&tag);
                TAGGED_LEN
            }
            None => HEADER_LEN,
        };
        Datagram { bytes, len }
    }

    /// Reads a datagram, checking every rule of the format and, with `key`, its tag (which it
    /// then requires). Never allocates, never panics.
    ///
    /// ```
    /// use accrual::runtime::wire::{Kind, Message, WireError};
    /// use accrual::Nanos;
    ///
    /// let ping = Message { kind: Kind::Ping, sender: 1, seq: 2, timestamp: Nanos(3) };
    /// let bytes = ping.encode(None);
    /// assert_eq!(Message::decode(bytes.as_bytes(), None), Ok(ping));
    /// assert_eq!(Message::decode(&[], None), Err(WireError::UnknownVersion { version: None }));
    /// assert_eq!(Message::decode(&[2; 27], None), Err(WireError::UnknownVersion { version: Some(2) }));
    /// let mut long = bytes.as_bytes().to_vec();
    /// long.push(0);
    /// assert_eq!(Message::decode(&long, None), Err(WireError::TrailingBytes { len: 28, expected: 27 }));
    /// ```
    pub fn decode(bytes: &[u8], key: Option<&Key>) -> Result<Message, WireError> {
        let len = bytes.len();
        match bytes.first() {
            None => return Err(WireError::UnknownVersion { version: None }),
            Some(&v) if v != VERSION => return Err(WireError::UnknownVersion { version: Some(v) }),
            Some(_) => {}
        }
        let kind = match bytes.get(1) {
            None => {
                return Err(WireError::Truncated {
                    len,
                    expected: HEADER_LEN,
                });
            }
            Some(&k) => Kind::from_code(k).ok_or(WireError::UnknownKind { kind: k })?,
        };
        let flags = match bytes.get(2) {
            None => {
                return Err(WireError::Truncated {
                    len,
                    expected: HEADER_LEN,
                });
            }
            Some(&f) if f & !FLAG_TAGGED != 0 => return Err(WireError::UnknownFlags { flags: f }),
            Some(&f) => f,
        };
        let tagged = flags & FLAG_TAGGED != 0;
        let expected = if tagged { TAGGED_LEN } else { HEADER_LEN };
        if len < expected {
            return Err(WireError::Truncated { len, expected });
        }
        if len > expected {
            return Err(WireError::TrailingBytes { len, expected });
        }
        match (key, tagged) {
            (Some(_), false) => return Err(WireError::MissingTag),
            (None, true) => return Err(WireError::UnexpectedTag),
            (Some(key), true) => {
                if !key.verify(&bytes[..HEADER_LEN], &bytes[HEADER_LEN..TAGGED_LEN]) {
                    return Err(WireError::BadTag);
                }
            }
            (None, false) => {}
        }
        Ok(Message {
            kind,
            sender: u64_at(bytes, 3),
            seq: u64_at(bytes, 11),
            timestamp: Nanos(u64_at(bytes, 19)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_fixed() {
        let m = Message {
            kind: Kind::Pong,
            sender: 0x0102_0304_0506_0708,
            seq: 9,
            timestamp: Nanos(10),
        };
        let d = m.encode(None);
        assert_eq!(
            d.as_bytes(),
            &[
                1, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 10
            ]
        );
    }

    #[test]
    fn tag_rules() {
        let key = Key::new(&[1; 16]).unwrap();
        let other = Key::new(&[2; 16]).unwrap();
        let m = Message {
            kind: Kind::Heartbeat,
            sender: 1,
            seq: 1,
            timestamp: Nanos(1),
        };
        let tagged = m.encode(Some(&key));
        let plain = m.encode(None);
        assert_eq!(Message::decode(tagged.as_bytes(), Some(&key)), Ok(m));
        assert_eq!(
            Message::decode(tagged.as_bytes(), Some(&other)),
            Err(WireError::BadTag)
        );
        assert_eq!(
            Message::decode(plain.as_bytes(), Some(&key)),
            Err(WireError::MissingTag)
        );
        assert_eq!(
            Message::decode(tagged.as_bytes(), None),
            Err(WireError::UnexpectedTag)
        );
        // Every single-bit change of a tagged datagram is caught.
        for i in 0..TAGGED_LEN * 8 {
            let mut b = tagged.as_bytes().to_vec();
            b[i / 8] ^= 1 << (i % 8);
            assert!(Message::decode(&b, Some(&key)).is_err(), "bit {i}");
        }
        assert_eq!(format!("{key:?}"), "Key(..)");
    }
}
