//! The compact encodings of small collections, each one contiguous buffer (the role of Redis's
//! listpack and intset): [`Packed`], a sequence of length-prefixed byte strings, and [`IntSet`],
//! sorted integers of the narrowest width that holds them all.
//!
//! Both are linear (or binary-search) structures meant for at most a few hundred elements, as in
//! Redis. Invariants: a `Packed` buffer is always a whole number of well-formed elements (only this
//! module writes it); an `IntSet` is sorted, without duplicates, `data.len()` a multiple of its
//! width. Readers still decode defensively (`None`, never a panic) rather than trust that.
//!
//! Buffers grow by an eighth at a time (and at least to fit): copies stay amortized while the
//! slack stays within what the allocator's size classes waste anyway. They shrink when two thirds
//! are unused.

/// Reserves room for `extra` more bytes, growing by at least an eighth.
fn reserve(buf: &mut Vec<u8>, extra: usize) {
    if buf.capacity() - buf.len() < extra {
        let want = (buf.len() + extra).max(buf.capacity() + buf.capacity() / 8);
        buf.reserve_exact(want - buf.len());
    }
}

/// Gives back memory once at most a third of the buffer is in use (Redis's listpack shrinks on
/// every delete), keeping an eighth of slack so alternating adds and removes stay cheap.
fn trim(buf: &mut Vec<u8>) {
    if buf.capacity() > 3 * buf.len() + 16 {
        buf.shrink_to(buf.len() + buf.len() / 8);
    }
}

/// Bytes of the LEB128 varint of `n`.
fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Decodes a varint at the start of `buf`: (value, bytes it took).
fn get_varint(buf: &[u8]) -> Option<(usize, usize)> {
    let mut n = 0usize;
    for (i, &b) in buf.iter().enumerate().take(10) {
        n |= ((b & 0x7f) as usize).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((n, i + 1));
        }
    }
    None
}

/// The encoded size of one element.
pub fn element_len(e: &[u8]) -> usize {
    varint_len(e.len()) + e.len()
}

/// A sequence of byte strings in one buffer, each a varint length then its bytes. Positions are
/// byte offsets of elements, as [`Packed::elements`] yields them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Packed {
    buf: Vec<u8>,
}

impl Packed {
    /// An empty buffer with room for `bytes` of elements.
    pub fn with_capacity(bytes: usize) -> Packed {
        Packed {
            buf: Vec::with_capacity(bytes),
        }
    }

    /// Bytes in use: the offset just past the last element.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Bytes allocated.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Every element with its offset, in order.
    pub fn elements(&self) -> Elements<'_> {
        Elements {
            buf: &self.buf,
            at: 0,
        }
    }

    /// The element at offset `at`.
    pub fn element_at(&self, at: usize) -> Option<&[u8]> {
        let rest = self.buf.get(at..)?;
        let (len, head) = get_varint(rest)?;
        rest.get(head..head.checked_add(len)?)
    }

    /// Inserts `parts`, as consecutive elements, at offset `at` (an element boundary or the end).
    pub fn insert(&mut self, at: usize, parts: &[&[u8]]) {
        self.replace(at, at, parts);
    }

    /// Appends `parts` as consecutive elements.
    pub fn push(&mut self, parts: &[&[u8]]) {
        let extra = parts.iter().map(|p| element_len(p)).sum();
        reserve(&mut self.buf, extra);
        for p in parts {
            put_varint(&mut self.buf, p.len());
            self.buf.extend_from_slice(p);
        }
    }

    /// Replaces the bytes `start..end` (whole elements) with `parts`.
    pub fn replace(&mut self, start: usize, end: usize, parts: &[&[u8]]) {
        let end = end.min(self.buf.len());
        let start = start.min(end);
        if end == self.buf.len() {
            self.buf.truncate(start);
            return self.push(parts);
        }
        let mut encoded = Vec::with_capacity(parts.iter().map(|p| element_len(p)).sum());
        for p in parts {
            put_varint(&mut encoded, p.len());
            encoded.extend_from_slice(p);
        }
        if encoded.len() > end - start {
            reserve(&mut self.buf, encoded.len() - (end - start));
        }
        self.buf.splice(start..end, encoded);
    }

    /// Removes the bytes `start..end` (whole elements).
    pub fn remove(&mut self, start: usize, end: usize) {
        let end = end.min(self.buf.len());
        self.buf.drain(start.min(end)..end);
        trim(&mut self.buf);
    }
}

/// Iterator over a [`Packed`]'s elements: (offset, bytes).
pub struct Elements<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.at..)?;
        let (len, head) = get_varint(rest)?;
        let body = rest.get(head..head.checked_add(len)?)?;
        let at = self.at;
        self.at += head + len;
        Some((at, body))
    }
}

/// A sorted set of distinct integers, each stored in `width` bytes (2, 4 or 8, little-endian):
/// Redis's intset, upgraded to a wider width when a member needs it and never narrowed.
#[derive(Clone, Debug, PartialEq)]
pub struct IntSet {
    width: Width,
    data: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
enum Width {
    W2 = 2,
    W4 = 4,
    W8 = 8,
}

impl Width {
    fn of(n: i64) -> Width {
        if i16::try_from(n).is_ok() {
            Width::W2
        } else if i32::try_from(n).is_ok() {
            Width::W4
        } else {
            Width::W8
        }
    }
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet {
            width: Width::W2,
            data: Vec::new(),
        }
    }
}

impl IntSet {
    /// An intset of elements `width` bytes wide (2, 4 or 8) holding `values`, which must be
    /// strictly ascending and fit that width; None otherwise.
    pub fn from_sorted(width: usize, values: &[i64]) -> Option<IntSet> {
        let width = match width {
            2 => Width::W2,
            4 => Width::W4,
            8 => Width::W8,
            _ => return None,
        };
        let fits = values.iter().all(|&n| Width::of(n) <= width);
        let ascending = values.windows(2).all(|w| w[0] < w[1]);
        if !fits || !ascending {
            return None;
        }
        let mut set = IntSet {
            width,
            data: Vec::with_capacity(values.len() * width as usize),
        };
        for &n in values {
            set.push_raw(n);
        }
        Some(set)
    }

    pub fn len(&self) -> usize {
        self.data.len() / self.width as usize
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The width in bytes of every member (Redis's intset encoding).
    pub fn width(&self) -> usize {
        self.width as usize
    }

    pub fn get(&self, i: usize) -> Option<i64> {
        let w = self.width as usize;
        let b = self.data.get(i.checked_mul(w)?..(i + 1).checked_mul(w)?)?;
        Some(match self.width {
            Width::W2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            Width::W4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            Width::W8 => i64::from_le_bytes(b.try_into().ok()?),
        })
    }

    /// Ok(index) of `n`, or Err(where it would go).
    fn search(&self, n: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).map(|m| m.cmp(&n)) {
                Some(std::cmp::Ordering::Less) => lo = mid + 1,
                Some(std::cmp::Ordering::Greater) => hi = mid,
                _ => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, n: i64) -> bool {
        self.search(n).is_ok()
    }

    fn encode(width: Width, n: i64, out: &mut [u8]) {
        match width {
            Width::W2 => out.copy_from_slice(&(n as i16).to_le_bytes()),
            Width::W4 => out.copy_from_slice(&(n as i32).to_le_bytes()),
            Width::W8 => out.copy_from_slice(&n.to_le_bytes()),
        }
    }

    /// Adds `n`; true if it is new.
    pub fn insert(&mut self, n: i64) -> bool {
        let Err(at) = self.search(n) else {
            return false;
        };
        let needed = Width::of(n);
        if needed > self.width {
            let old: Vec<i64> = self.iter().collect();
            self.width = needed;
            self.data = Vec::with_capacity((old.len() + 1) * needed as usize);
            for m in old {
                self.push_raw(m);
            }
        }
        let w = self.width as usize;
        reserve(&mut self.data, w);
        let mut bytes = [0u8; 8];
        Self::encode(self.width, n, &mut bytes[..w]);
        let at = at * w;
        self.data.splice(at..at, bytes[..w].iter().copied());
        true
    }

    fn push_raw(&mut self, n: i64) {
        let w = self.width as usize;
        let mut bytes = [0u8; 8];
        Self::encode(self.width, n, &mut bytes[..w]);
        self.data.extend_from_slice(&bytes[..w]);
    }

    /// Removes `n`; true if it was there.
    pub fn remove(&mut self, n: i64) -> bool {
        let Ok(i) = self.search(n) else {
            return false;
        };
        let w = self.width as usize;
        self.data.drain(i * w..(i + 1) * w);
        trim(&mut self.data);
        true
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    pub fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// The members' bytes as stored: the body of Redis's intset in RDB.
    pub fn body(&self) -> &[u8] {
        &self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Inserts and removes at arbitrary offsets agree with a vector of byte strings.
        #[test]
        fn packed_behaves_like_a_vec(ops in proptest::collection::vec((0u8..3, any::<usize>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..200)) {
            let mut p = Packed::default();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for (kind, pos, bytes) in ops {
                let offsets: Vec<usize> = p.elements().map(|(at, _)| at).chain([p.bytes()]).collect();
                let i = pos % offsets.len();
                match kind {
                    0 => {
                        p.insert(offsets[i], &[&bytes]);
                        model.insert(i, bytes);
                    }
                    1 if i < model.len() => {
                        p.replace(offsets[i], offsets[i + 1], &[&bytes, b"x"]);
                        model.splice(i..i + 1, [bytes, b"x".to_vec()]);
                    }
                    2 if i < model.len() => {
                        p.remove(offsets[i], offsets[i + 1]);
                        model.remove(i);
                    }
                    _ => {
                        p.push(&[&bytes]);
                        model.push(bytes);
                    }
                }
                let got: Vec<Vec<u8>> = p.elements().map(|(_, e)| e.to_vec()).collect();
                prop_assert_eq!(&got, &model);
            }
        }

        /// Inserts and removes agree with a BTreeSet, through width upgrades.
        #[test]
        fn intset_behaves_like_a_set(ops in proptest::collection::vec((any::<bool>(), prop_oneof![-300i64..300, any::<i16>().prop_map(i64::from), any::<i32>().prop_map(i64::from), any::<i64>()]), 0..300)) {
            let mut s = IntSet::default();
            let mut model = BTreeSet::new();
            for (add, n) in ops {
                if add {
                    prop_assert_eq!(s.insert(n), model.insert(n));
                } else {
                    prop_assert_eq!(s.remove(n), model.remove(&n));
                }
                prop_assert_eq!(s.len(), model.len());
            }
            prop_assert_eq!(s.iter().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
            let widest = model.iter().map(|&n| Width::of(n)).fold(Width::W2, |a, b| if b > a { b } else { a });
            prop_assert!(s.width() >= widest as usize);
        }
    }

    #[test]
    fn varints_round_trip() {
        for n in [0, 1, 127, 128, 16383, 16384, usize::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!(out.len(), varint_len(n));
            assert_eq!(get_varint(&out), Some((n, out.len())));
        }
        assert_eq!(get_varint(&[0x80]), None);
    }
}
