//! Why a monitor refused something.

use std::fmt;

/// Why a heartbeat or round-trip sample was refused. Known peers are never refused.
///
/// ```
/// use accrual::monitor::{Monitor, MonitorConfig, MonitorError};
/// use accrual::ManualClock;
///
/// let cfg = MonitorConfig { max_peers: 1, ..Default::default() };
/// let monitor = Monitor::with_clock(cfg, ManualClock::default()).unwrap();
/// assert!(monitor.heartbeat(&"a").is_ok());
/// assert_eq!(monitor.heartbeat(&"b"), Err(MonitorError::PeerLimit { max_peers: 1 }));
/// assert!(monitor.heartbeat(&"a").is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MonitorError {
    /// The peer is new and the monitor already watches
    /// [`max_peers`](super::MonitorConfig::max_peers) peers: a flood of made-up ids cannot
    /// exhaust memory. Remove or expire peers to make room.
    PeerLimit {
        /// The limit.
        max_peers: usize,
    },
}

impl fmt::Display for MonitorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MonitorError::PeerLimit { max_peers } => write!(
                f,
                "new peer refused: the monitor already watches monitor.max_peers = {max_peers} peers"
            ),
        }
    }
}

impl std::error::Error for MonitorError {}
