//! Redis's intset (`intset.c`): a set of integers as a sorted array, the RDB form of small
//! all-integer sets (`RDB_TYPE_SET_INTSET`).
//!
//! Layout: element width in bytes (u32 LE: 2, 4 or 8), element count (u32 LE), then the elements,
//! little-endian, strictly ascending. The width is the smallest that holds every element.

use super::{Error, Reader, Result};

const HEADER_SIZE: usize = 8;

/// Decodes an intset, checking what Redis's deep `intsetValidateIntegrity` checks: a known width,
/// a size that matches the count, at least one element, and strictly ascending elements.
pub fn decode(blob: &[u8]) -> Result<(usize, Vec<i64>)> {
    let mut r = Reader::new(blob);
    let width = r
        .u32_le()
        .map_err(|_| Error::BadIntset("shorter than its header"))?;
    let count = r
        .u32_le()
        .map_err(|_| Error::BadIntset("shorter than its header"))?;
    if !matches!(width, 2 | 4 | 8) {
        return Err(Error::BadIntset("unknown element width"));
    }
    if (count as u64) * (width as u64) != r.remaining() as u64 {
        return Err(Error::BadIntset("size does not match the element count"));
    }
    if count == 0 {
        return Err(Error::Empty);
    }
    let mut out = Vec::with_capacity(count as usize);
    while !r.is_empty() {
        let v = match width {
            2 => r.i16_le()? as i64,
            4 => r.i32_le()? as i64,
            _ => r.i64_le()?,
        };
        if out.last().is_some_and(|&prev| prev >= v) {
            return Err(Error::BadIntset("elements not strictly ascending"));
        }
        out.push(v);
    }
    Ok((width as usize, out))
}

/// An intset of `count` elements of `width` bytes whose little-endian bytes are `body` (the
/// keyspace keeps them in this layout, and its width, like Redis's, never narrows).
pub fn encode_raw(width: usize, count: usize, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_SIZE + body.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(count as u32).to_le_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Strictly ascending integers as an intset of the smallest width that holds them all.
    fn encode(values: &[i64]) -> Vec<u8> {
        let fits = |lo: i64, hi: i64| values.iter().all(|&v| (lo..=hi).contains(&v));
        let width: usize = if fits(i16::MIN as i64, i16::MAX as i64) {
            2
        } else if fits(i32::MIN as i64, i32::MAX as i64) {
            4
        } else {
            8
        };
        let body: Vec<u8> = values
            .iter()
            .flat_map(|v| v.to_le_bytes()[..width].to_vec())
            .collect();
        encode_raw(width, values.len(), &body)
    }

    #[test]
    fn decodes_and_re_encodes_what_redis_wrote() {
        // `SADD si 1 2 3 70000` in redis-server 7.0.15: 32-bit elements, since 70000 > i16::MAX.
        let blob = [
            0x04, 0, 0, 0, 0x04, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x70, 0x11, 0x01, 0,
        ];
        assert_eq!(decode(&blob), Ok((4, vec![1, 2, 3, 70000])));
        assert_eq!(encode(&[1, 2, 3, 70000]), blob);
    }

    #[test]
    fn picks_the_smallest_width() {
        assert_eq!(encode(&[-5, 7])[0], 2);
        assert_eq!(encode(&[i16::MIN as i64 - 1])[0], 4);
        assert_eq!(encode(&[i64::MIN, 0, i64::MAX])[0], 8);
        assert_eq!(
            decode(&encode(&[i64::MIN, 0, i64::MAX])),
            Ok((8, vec![i64::MIN, 0, i64::MAX]))
        );
    }

    #[test]
    fn refuses_malformed_intsets() {
        let unsorted = [2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 4, 0];
        assert!(decode(&unsorted).is_err());
        let duplicate = [2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0];
        assert!(decode(&duplicate).is_err());
        let bad_width = [3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0];
        assert!(decode(&bad_width).is_err());
        let short = [2, 0, 0, 0, 2, 0, 0, 0, 5, 0];
        assert!(decode(&short).is_err());
        assert_eq!(decode(&[2, 0, 0, 0, 0, 0, 0, 0]), Err(Error::Empty));
        let huge_count = [8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(decode(&huge_count).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(set in proptest::collection::btree_set(prop_oneof![any::<i64>(), -40000i64..40000], 1..200)) {
            let values: Vec<i64> = set.into_iter().collect();
            prop_assert_eq!(decode(&encode(&values)).map(|(_, v)| v), Ok(values));
        }

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(&data);
        }
    }
}
