//! Short byte strings kept inline (no heap allocation): small string values live inside their
//! keyspace entry and travel inside replies, so reading one costs no extra cache miss and
//! writing one no allocator round trip.

/// Longest string kept inline.
pub const SMALL_MAX: usize = 23;

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SmallBytes {
    len: u8,
    data: [u8; SMALL_MAX],
}

impl SmallBytes {
    /// None when `s` is longer than [`SMALL_MAX`].
    pub fn new(s: &[u8]) -> Option<SmallBytes> {
        let mut data = [0u8; SMALL_MAX];
        data.get_mut(..s.len())?.copy_from_slice(s);
        Some(SmallBytes {
            len: s.len() as u8,
            data,
        })
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.data[..self.len as usize]
    }
}

impl std::fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", bytes::Bytes::copy_from_slice(self.as_slice()))
    }
}
