//! Property tests of the datagram format: every message survives a round trip, and no input
//! of any length or content makes decoding panic or accept what it should not.
#![cfg(feature = "tokio")]

use accrual::Nanos;
use accrual::runtime::wire::{HEADER_LEN, Key, Kind, Message, TAGGED_LEN, VERSION, WireError};
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Heartbeat), Just(Kind::Ping), Just(Kind::Pong)]
}

fn message() -> impl Strategy<Value = Message> {
    (kind(), any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(kind, sender, seq, t)| Message {
        kind,
        sender,
        seq,
        timestamp: Nanos(t),
    })
}

fn key() -> impl Strategy<Value = Key> {
    prop::collection::vec(any::<u8>(), 16..=64).prop_map(|k| Key::new(&k).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn round_trip_untagged(m in message()) {
        let d = m.encode(None);
        prop_assert_eq!(d.as_bytes().len(), HEADER_LEN);
        prop_assert_eq!(Message::decode(d.as_bytes(), None), Ok(m));
    }

    #[test]
    fn round_trip_tagged(m in message(), k in key()) {
        let d = m.encode(Some(&k));
        prop_assert_eq!(d.as_bytes().len(), TAGGED_LEN);
        prop_assert_eq!(Message::decode(d.as_bytes(), Some(&k)), Ok(m));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..128), k in key()) {
        let plain = Message::decode(&bytes, None);
        let keyed = Message::decode(&bytes, Some(&k));
        // Without a key, only a well-formed untagged datagram decodes, and it re-encodes to
        // exactly its bytes.
        if let Ok(m) = plain {
            let again = m.encode(None);
            prop_assert_eq!(again.as_bytes(), &bytes[..]);
        }
        // With a key, random bytes never carry a valid tag.
        prop_assert!(keyed.is_err());
        if bytes.len() != HEADER_LEN && bytes.len() != TAGGED_LEN {
            prop_assert!(plain.unwrap_err().is_malformed());
        }
    }

    #[test]
    fn plausible_headers_never_panic(
        kind in 0u8..6,
        flags in 0u8..4,
        rest in prop::collection::vec(any::<u8>(), 0..64),
        k in key(),
    ) {
        let mut bytes = vec![VERSION, kind, flags];
        bytes.extend(rest);
        let _ = Message::decode(&bytes, None);
        let _ = Message::decode(&bytes, Some(&k));
    }

    #[test]
    fn any_change_to_a_tagged_datagram_is_refused(
        m in message(),
        k in key(),
        at in 0..TAGGED_LEN,
        flip in 1u8..=255,
    ) {
        let mut bytes = m.encode(Some(&k)).as_bytes().to_vec();
        bytes[at] ^= flip;
        prop_assert!(Message::decode(&bytes, Some(&k)).is_err());
    }

    #[test]
    fn another_key_is_refused(m in message(), a in key(), b in key()) {
        let bytes = m.encode(Some(&a));
        let r = Message::decode(bytes.as_bytes(), Some(&b));
        // Two random keys of 16+ bytes are different.
        prop_assert_eq!(r, Err(WireError::BadTag));
    }

    #[test]
    fn cut_or_padded_datagrams_are_refused_by_length(
        m in message(),
        k in key(),
        cut in 1..TAGGED_LEN,
        pad in prop::collection::vec(any::<u8>(), 1..32),
    ) {
        let whole = m.encode(Some(&k)).as_bytes().to_vec();
        let r = Message::decode(&whole[..cut], Some(&k));
        // Before the flags byte is read the length due is the header's.
        let expected = if cut < 3 { HEADER_LEN } else { TAGGED_LEN };
        prop_assert_eq!(r, Err(WireError::Truncated { len: cut, expected }));
        let mut long = whole.clone();
        long.extend(&pad);
        prop_assert_eq!(
            Message::decode(&long, Some(&k)),
            Err(WireError::TrailingBytes { len: TAGGED_LEN + pad.len(), expected: TAGGED_LEN })
        );
    }
}

#[test]
fn every_rule_has_its_error() {
    let k = Key::new(&[9; 32]).unwrap();
    let m = Message {
        kind: Kind::Heartbeat,
        sender: 1,
        seq: 2,
        timestamp: Nanos(3),
    };
    let good = m.encode(Some(&k)).as_bytes().to_vec();
    let with = |at: usize, v: u8| {
        let mut b = good.clone();
        b[at] = v;
        Message::decode(&b, Some(&k))
    };
    assert_eq!(
        Message::decode(&[], Some(&k)),
        Err(WireError::UnknownVersion { version: None })
    );
    assert_eq!(
        with(0, 2),
        Err(WireError::UnknownVersion { version: Some(2) })
    );
    assert_eq!(with(1, 0), Err(WireError::UnknownKind { kind: 0 }));
    assert_eq!(with(1, 4), Err(WireError::UnknownKind { kind: 4 }));
    assert_eq!(with(2, 3), Err(WireError::UnknownFlags { flags: 3 }));
    assert_eq!(
        Message::decode(&good[..2], Some(&k)),
        Err(WireError::Truncated {
            len: 2,
            expected: HEADER_LEN
        })
    );
    assert_eq!(
        with(2, 0),
        Err(WireError::TrailingBytes {
            len: 43,
            expected: 27
        })
    );
    assert_eq!(
        Message::decode(m.encode(None).as_bytes(), Some(&k)),
        Err(WireError::MissingTag)
    );
    assert_eq!(Message::decode(&good, None), Err(WireError::UnexpectedTag));
    assert_eq!(with(20, good[20] ^ 1), Err(WireError::BadTag));
    // Every error says what is wrong.
    for e in [
        WireError::UnknownVersion { version: None },
        WireError::UnknownKind { kind: 9 },
        WireError::BadTag,
        WireError::MissingTag,
    ] {
        assert!(!e.to_string().is_empty());
    }
    // A datagram as large as UDP allows is refused by its length, without a panic.
    let huge = vec![VERSION; 65_507];
    assert!(Message::decode(&huge, Some(&k)).unwrap_err().is_malformed());
}
