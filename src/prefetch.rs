//! Cache prefetch hints for [`Monitor::heartbeat_batch`](crate::monitor::Monitor::heartbeat_batch):
//! the crate's one exception to `#![deny(unsafe_code)]`.
//!
//! A batch over a table larger than the caches spends most of its time waiting on memory. An
//! ordinary read used to warm a line blocks the processor's instruction window until the line
//! arrives, so only a few such reads are ever in flight; a prefetch instruction retires at
//! once, so every line a group of heartbeats needs can be on its way together while the
//! processor goes on. Stable Rust has no safe prefetch (`core::hint::prefetch_read` is
//! unstable), and `core::arch`'s `_mm_prefetch` is an `unsafe fn` only because it is declared
//! with `#[target_feature(enable = "sse")]`; the one `unsafe` block below calls it where SSE is
//! enabled at compile time (every x86-64 target). A prefetch never faults, never writes and
//! changes no value the program can observe; it is given the address of a live reference.
//! Elsewhere (other architectures, x86 without SSE) the hints compile to nothing.
//!
//! Tested by `prefetch_changes_nothing` below and by every batch test: a batch's outcomes and
//! state are those of one call per heartbeat (`tests/monitor_model.rs`).
#![allow(unsafe_code)]

/// Asks for the cache line holding the start of `value`, ahead of a read.
#[inline(always)]
pub(crate) fn line<T: ?Sized>(value: &T) {
    at((value as *const T).cast::<u8>());
}

/// Asks for the cache lines of the first `bytes` bytes of `value` (at most all of it).
#[inline(always)]
pub(crate) fn first<T>(value: &T, bytes: usize) {
    let start = (value as *const T).cast::<u8>();
    let end = bytes.min(size_of::<T>());
    let mut offset = 0;
    while offset < end {
        at(start.wrapping_add(offset));
        offset += 64;
    }
    if end > 0 {
        // The last byte's line, which the steps above miss when `value` does not start a line.
        at(start.wrapping_add(end - 1));
    }
}

#[inline(always)]
fn at(address: *const u8) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    // SAFETY: `_mm_prefetch` is `unsafe` only for its `#[target_feature(enable = "sse")]`,
    // which this branch is compiled only with. A prefetch is a hint: it does not dereference
    // `address` in the language's sense, never faults, and never changes memory.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = address;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prefetching values of every size, aligned or not, leaves them as they were.
    #[test]
    fn prefetch_changes_nothing() {
        let bytes: Vec<u8> = (0..=255).collect();
        let big = [7u64; 100];
        for i in 0..bytes.len() {
            line(&bytes[i]);
            line(&bytes[i..]);
        }
        // Starting on a line and off it, shorter than a line and longer.
        let pairs: Vec<(u8, [u8; 70])> = (0..=255).map(|i| (i, [i; 70])).collect();
        for (i, pair) in pairs.iter().enumerate() {
            first(pair, size_of::<(u8, [u8; 70])>());
            first(pair, 3);
            first(&pair.1, 1000);
            first(&pair.0, 0);
            assert!(usize::from(pair.0) == i && pair.1.iter().all(|&b| usize::from(b) == i));
        }
        first(&big, 800);
        first(&(), 64);
        line(&big[99]);
        assert!(bytes.iter().enumerate().all(|(i, &b)| usize::from(b) == i));
        assert!(big.iter().all(|&x| x == 7));
    }
}
