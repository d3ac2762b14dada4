//! Version 1 of the snapshot format, `accrual_monitor_v1`: see the [module docs](super) for
//! the rules. Nothing here may change what version 1 writes or reads; a change of format is a
//! new version beside this one.

use serde::{Deserialize, Serialize};

use super::SnapshotError;
use super::digest::digest;
use crate::detector::{AnyDetector, DetectorConfig};
use crate::monitor::peer;
use crate::suspicion::Level;
use crate::time::Nanos;
use crate::timeout::TimeoutConfig;

/// The name version 1 is written under, which its checksum covers.
pub(crate) const FORMAT: &str = "accrual_monitor_v1";

/// The document: when it was taken, the configurations the peers ran, the peers, and a
/// checksum of all of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Document<K> {
    pub(crate) taken_at: Nanos,
    pub(crate) detector: DetectorConfig,
    pub(crate) timeout: TimeoutConfig,
    pub(crate) peers: Vec<Peer<K>>,
    /// FNV-1a of everything above, as 16 hex digits: see [`Document::sum`].
    pub(crate) checksum: String,
}

/// One peer: its key, its detector's state (tagged with its kind), its level and the instant it
/// entered it (`None` in the initial `Unknown`), and its request-timeout estimator once it has
/// one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Peer<K> {
    pub(crate) peer: K,
    pub(crate) detector: AnyDetector,
    pub(crate) level: Level,
    pub(crate) since: Option<Nanos>,
    pub(crate) rtt: Option<peer::Rtt>,
}

/// What the checksum covers, in this order.
#[derive(Serialize)]
struct Covered<'a, K> {
    format: &'static str,
    taken_at: Nanos,
    detector: &'a DetectorConfig,
    timeout: &'a TimeoutConfig,
    peers: &'a [Peer<K>],
}

impl<K: Serialize> Document<K> {
    /// A document of these contents, sealed with their checksum.
    pub(crate) fn seal(
        taken_at: Nanos,
        detector: DetectorConfig,
        timeout: TimeoutConfig,
        peers: Vec<Peer<K>>,
    ) -> Result<Self, SnapshotError> {
        let mut doc = Document {
            taken_at,
            detector,
            timeout,
            peers,
            checksum: String::new(),
        };
        doc.checksum = doc.sum()?;
        Ok(doc)
    }

    /// The checksum of the contents (to compare with the stored one): FNV-1a over the serde
    /// data model of the format's name, `taken_at`, `detector`, `timeout` and `peers`, as 16
    /// hex digits.
    pub(crate) fn sum(&self) -> Result<String, SnapshotError> {
        let covered = Covered {
            format: FORMAT,
            taken_at: self.taken_at,
            detector: &self.detector,
            timeout: &self.timeout,
            peers: &self.peers,
        };
        digest(&covered)
            .map(|d| format!("{d:016x}"))
            .map_err(|e| SnapshotError::Unserializable(e.to_string()))
    }
}
