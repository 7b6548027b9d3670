//! TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 793 §3.3, RFC 1982 serial
//! arithmetic). `a < b` means "a comes before b" within half the sequence space; the ordering is
//! only meaningful between numbers less than 2^31 apart, which every window in this stack is.

use std::cmp::Ordering;
use std::fmt;

/// A position in a connection's sequence space.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Seq(pub u32);

impl Seq {
    /// The number `n` positions later (wrapping).
    pub(crate) fn add(self, n: usize) -> Seq {
        Seq(self.0.wrapping_add(n as u32))
    }

    /// The number `n` positions earlier (wrapping).
    pub(crate) fn sub(self, n: usize) -> Seq {
        Seq(self.0.wrapping_sub(n as u32))
    }

    /// Signed distance from `base` to `self` (positive when `self` is later).
    pub(crate) fn offset_from(self, base: Seq) -> i64 {
        i64::from(self.0.wrapping_sub(base.0) as i32)
    }

    /// Distance from `base` to `self` for `self` at or after `base`; 0 when `self` is earlier.
    pub(crate) fn since(self, base: Seq) -> usize {
        usize::try_from(self.offset_from(base)).unwrap_or(0)
    }

    pub(crate) fn max(self, other: Seq) -> Seq {
        if self < other {
            other
        } else {
            self
        }
    }
}

impl PartialOrd for Seq {
    fn partial_cmp(&self, other: &Seq) -> Option<Ordering> {
        Some(self.offset_from(*other).cmp(&0))
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Seq;

    #[test]
    fn comparisons_wrap() {
        let near_end = Seq(u32::MAX - 5);
        let wrapped = near_end.add(10);
        assert_eq!(wrapped, Seq(4));
        assert!(near_end < wrapped);
        assert_eq!(wrapped.since(near_end), 10);
        assert_eq!(near_end.since(wrapped), 0);
        assert_eq!(near_end.offset_from(wrapped), -10);
        assert_eq!(wrapped.sub(10), near_end);
        assert_eq!(near_end.max(wrapped), wrapped);
    }
}
