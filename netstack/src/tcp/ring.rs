//! A byte ring that allocates lazily and grows on demand up to a fixed limit: the send and
//! receive buffers of a connection. An idle connection owns no buffer memory; one that moves
//! data grows its storage by doubling (starting at [`MIN_STORAGE`]) and keeps it, so steady-state
//! traffic allocates nothing.
//!
//! Invariants: `len <= limit`; `storage.len()` is 0 or at least `len`; bytes are stored from
//! `head` onwards, wrapping at `storage.len()`. Bytes past `len` (up to `limit`) can be written
//! ahead of time with [`Ring::write_ahead`] and made readable later with [`Ring::commit`]: that
//! is how the receive side keeps out-of-order segments.

/// The first allocation of a buffer that receives data.
pub(crate) const MIN_STORAGE: usize = 2048;

#[derive(Debug)]
pub(crate) struct Ring {
    storage: Vec<u8>,
    head: usize,
    len: usize,
    limit: usize,
}

impl Ring {
    /// An empty ring that will hold at most `limit` bytes; allocates nothing yet.
    pub(crate) fn new(limit: usize) -> Ring {
        Ring {
            storage: Vec::new(),
            head: 0,
            len: 0,
            limit,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes that can still be appended.
    pub(crate) fn free(&self) -> usize {
        self.limit - self.len
    }

    /// Appends as much of `data` as fits; returns how many bytes were taken.
    pub(crate) fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        if n > 0 {
            self.write_ahead(0, &data[..n]);
            self.len += n;
        }
        n
    }

    /// Writes `data` at `offset` bytes past the readable end without making it readable.
    /// The caller guarantees `len + offset + data.len() <= limit`.
    pub(crate) fn write_ahead(&mut self, offset: usize, data: &[u8]) {
        let end = self.len + offset + data.len();
        debug_assert!(end <= self.limit);
        self.reserve(end);
        let cap = self.storage.len();
        let start = self.wrap(self.head + self.len + offset);
        let first = data.len().min(cap - start);
        self.storage[start..start + first].copy_from_slice(&data[..first]);
        self.storage[..data.len() - first].copy_from_slice(&data[first..]);
    }

    /// Makes `n` bytes written with [`Ring::write_ahead`] readable.
    pub(crate) fn commit(&mut self, n: usize) {
        debug_assert!(self.len + n <= self.storage.len());
        self.len += n;
    }

    /// Copies up to `out.len()` bytes out and consumes them.
    pub(crate) fn read(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len);
        let (a, b) = self.slices(0, n);
        out[..a.len()].copy_from_slice(a);
        out[a.len()..n].copy_from_slice(b);
        self.consume(n);
        n
    }

    /// Drops `n` bytes from the front (n is clamped to the length).
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.len -= n;
        // The head moves even when the ring empties: bytes written ahead keep their place.
        if n > 0 {
            self.head = self.wrap(self.head + n);
        }
    }

    /// The `n` readable bytes starting `offset` bytes from the front, as at most two slices.
    /// The caller guarantees `offset + n <= len`.
    pub(crate) fn slices(&self, offset: usize, n: usize) -> (&[u8], &[u8]) {
        debug_assert!(offset + n <= self.len);
        if n == 0 {
            return (&[], &[]);
        }
        let cap = self.storage.len();
        let start = self.wrap(self.head + offset);
        let first = n.min(cap - start);
        (
            &self.storage[start..start + first],
            &self.storage[..n - first],
        )
    }

    fn wrap(&self, index: usize) -> usize {
        let cap = self.storage.len();
        if index >= cap {
            index - cap
        } else {
            index
        }
    }

    /// Ensures storage for `needed` bytes from `head`, preserving every stored position
    /// (including bytes written ahead), by doubling up to `limit`.
    fn reserve(&mut self, needed: usize) {
        let cap = self.storage.len();
        if needed <= cap {
            return;
        }
        let new_cap = needed
            .max(MIN_STORAGE)
            .next_power_of_two()
            .min(self.limit)
            .max(needed);
        let mut grown = vec![0u8; new_cap];
        grown[..cap - self.head].copy_from_slice(&self.storage[self.head..]);
        grown[cap - self.head..cap].copy_from_slice(&self.storage[..self.head]);
        self.storage = grown;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazily_allocates_and_wraps() {
        let mut ring = Ring::new(3000);
        assert_eq!(ring.storage.len(), 0);
        assert_eq!(ring.push(&[1; 2000]), 2000);
        assert_eq!(ring.storage.len(), MIN_STORAGE);
        let mut out = [0u8; 1500];
        assert_eq!(ring.read(&mut out), 1500);
        // 500 left at offset 1500; pushing 1500 wraps around the 2048-byte storage.
        assert_eq!(ring.push(&[2; 1500]), 1500);
        assert_eq!(ring.storage.len(), MIN_STORAGE);
        let (a, b) = ring.slices(0, 2000);
        assert_eq!(a.len() + b.len(), 2000);
        // Growing past the storage keeps the order and caps at the limit.
        assert_eq!(ring.push(&[3; 5000]), 1000);
        assert_eq!(ring.storage.len(), 3000);
        let mut all = vec![0u8; 3000];
        assert_eq!(ring.read(&mut all), 3000);
        assert!(all[..500].iter().all(|&b| b == 1));
        assert!(all[500..2000].iter().all(|&b| b == 2));
        assert!(all[2000..].iter().all(|&b| b == 3));
    }

    #[test]
    fn write_ahead_then_commit() {
        let mut ring = Ring::new(8192);
        ring.write_ahead(10, b"world");
        ring.write_ahead(0, b"hello-----");
        ring.commit(15);
        let mut out = [0u8; 15];
        assert_eq!(ring.read(&mut out), 15);
        assert_eq!(&out, b"hello-----world");
    }
}
