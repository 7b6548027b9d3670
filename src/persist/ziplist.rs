//! Redis's ziplist (`ziplist.c`), the compact encoding RDB files before version 10 (Redis < 7.0)
//! used for small hashes, sorted sets and quicklist nodes. Ferrite only reads it.
//!
//! Layout: total bytes (u32 LE), offset of the last entry (u32 LE), entry count (u16 LE; 65535 =
//! "count them"), the entries, and 0xFF. Each entry is the previous entry's size (1 byte, or 0xFE
//! and a u32 LE), an encoding, and the data:
//!
//! | encoding             | data                                           |
//! |----------------------|------------------------------------------------|
//! | `00pppppp`           | string of up to 63 bytes                       |
//! | `01pppppp qqqqqqqq`  | string, 14-bit big-endian length               |
//! | `10000000` + 4 bytes | string, 32-bit big-endian length               |
//! | `11000000`, `11010000`, `11100000` | 16, 32, 64-bit LE signed integer |
//! | `11110000`, `11111110` | 24-bit, 8-bit signed integer                 |
//! | `1111xxxx` (0001..=1101) | the integer `xxxx - 1` (0..=12), no data   |

use super::listpack::Entry;
use super::{Error, Reader, Result};

const HEADER_SIZE: usize = 10;
const EOF: u8 = 0xff;
const BIG_PREVLEN: u8 = 0xfe;

/// Decodes a whole ziplist, checking its header, the tail offset, every prevlen and the end byte.
pub fn decode(zl: &[u8]) -> Result<Vec<Entry<'_>>> {
    let short = |_| Error::BadZiplist("shorter than its header");
    let mut r = Reader::new(zl);
    let total = r.u32_le().map_err(short)?;
    let tail = r.u32_le().map_err(short)?;
    let count = r.u16_le().map_err(short)?;
    if total as usize != zl.len() {
        return Err(Error::BadZiplist("total size does not match"));
    }
    let mut entries = Vec::with_capacity(super::reader::capacity(count as u64, r.remaining(), 2));
    let mut prev_size = 0usize;
    let mut last_start = HEADER_SIZE;
    loop {
        if r.peek().map_err(|_| Error::BadZiplist("no end byte"))? == EOF {
            r.u8()?;
            if !r.is_empty() {
                return Err(Error::BadZiplist("bytes after the end byte"));
            }
            break;
        }
        let start = zl.len() - r.remaining();
        entries.push(decode_entry(&mut r, prev_size)?);
        prev_size = zl.len() - r.remaining() - start;
        last_start = start;
    }
    if tail as usize != last_start {
        return Err(Error::BadZiplist("tail offset does not match"));
    }
    if count != u16::MAX && count as usize != entries.len() {
        return Err(Error::BadZiplist("entry count does not match"));
    }
    Ok(entries)
}

fn decode_entry<'a>(r: &mut Reader<'a>, prev_size: usize) -> Result<Entry<'a>> {
    let truncated = |_| Error::BadZiplist("entry runs past the end");
    let prevlen = match r.u8().map_err(truncated)? {
        BIG_PREVLEN => r.u32_le().map_err(truncated)? as usize,
        b => b as usize,
    };
    if prevlen != prev_size {
        return Err(Error::BadZiplist(
            "prevlen does not match the previous entry",
        ));
    }
    let enc = r.u8().map_err(truncated)?;
    let entry = match enc {
        0x00..=0x3f => Entry::Str(r.bytes((enc & 0x3f) as usize).map_err(truncated)?),
        0x40..=0x7f => {
            let len = (((enc & 0x3f) as usize) << 8) | r.u8().map_err(truncated)? as usize;
            Entry::Str(r.bytes(len).map_err(truncated)?)
        }
        0x80 => {
            let len = r.u32_be().map_err(truncated)?;
            Entry::Str(r.bytes_len(len as u64).map_err(truncated)?)
        }
        0xc0 => Entry::Int(r.i16_le().map_err(truncated)? as i64),
        0xd0 => Entry::Int(r.i32_le().map_err(truncated)? as i64),
        0xe0 => Entry::Int(r.i64_le().map_err(truncated)?),
        0xf0 => Entry::Int(r.i24_le().map_err(truncated)? as i64),
        0xfe => Entry::Int(r.u8().map_err(truncated)? as i8 as i64),
        0xf1..=0xfd => Entry::Int((enc & 0x0f) as i64 - 1),
        _ => return Err(Error::BadZiplist("unknown entry encoding")),
    };
    Ok(entry)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds a ziplist the way Redis 6 does (`ziplistPush`), for fixtures and round trips.
    pub fn encode(items: &[Entry<'_>]) -> Vec<u8> {
        let mut zl = vec![0u8; HEADER_SIZE];
        let mut prev = 0usize;
        let mut tail = HEADER_SIZE;
        for item in items {
            let start = zl.len();
            if prev < 254 {
                zl.push(prev as u8);
            } else {
                zl.push(BIG_PREVLEN);
                zl.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match *item {
                Entry::Int(n @ 0..=12) => zl.push(0xf1 + n as u8),
                Entry::Int(n) if i8::try_from(n).is_ok() => zl.extend_from_slice(&[0xfe, n as u8]),
                Entry::Int(n) if i16::try_from(n).is_ok() => {
                    zl.push(0xc0);
                    zl.extend_from_slice(&(n as i16).to_le_bytes());
                }
                Entry::Int(n) if (-(1 << 23)..1 << 23).contains(&n) => {
                    zl.push(0xf0);
                    zl.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
                }
                Entry::Int(n) if i32::try_from(n).is_ok() => {
                    zl.push(0xd0);
                    zl.extend_from_slice(&(n as i32).to_le_bytes());
                }
                Entry::Int(n) => {
                    zl.push(0xe0);
                    zl.extend_from_slice(&n.to_le_bytes());
                }
                Entry::Str(s) => {
                    if s.len() < 64 {
                        zl.push(s.len() as u8);
                    } else if s.len() < 16384 {
                        zl.extend_from_slice(&[0x40 | (s.len() >> 8) as u8, s.len() as u8]);
                    } else {
                        zl.push(0x80);
                        zl.extend_from_slice(&(s.len() as u32).to_be_bytes());
                    }
                    zl.extend_from_slice(s);
                }
            }
            prev = zl.len() - start;
            tail = start;
        }
        zl.push(EOF);
        let total = zl.len() as u32;
        zl[0..4].copy_from_slice(&total.to_le_bytes());
        zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&(items.len().min(65535) as u16).to_le_bytes());
        zl
    }

    #[test]
    fn decodes_a_ziplist_as_redis_6_writes_it() {
        // `HSET h f v n 12` under Redis 6.2, byte for byte as `ziplistPush` lays it out (built
        // by hand: no Redis 6 here): "12" is a 4-bit immediate integer.
        let zl = [
            0x16, 0, 0, 0, 0x13, 0, 0, 0, 0x04, 0, 0x00, 0x01, b'f', 0x03, 0x01, b'v', 0x03, 0x01,
            b'n', 0x03, 0xfd, 0xff,
        ];
        assert_eq!(
            decode(&zl),
            Ok(vec![
                Entry::Str(b"f"),
                Entry::Str(b"v"),
                Entry::Str(b"n"),
                Entry::Int(12)
            ])
        );
        assert_eq!(encode(&decode(&zl).unwrap()), zl);
    }

    #[test]
    fn every_encoding() {
        let long = vec![b'q'; 300];
        let huge = vec![b'r'; 20000];
        let items = [
            Entry::Int(0),
            Entry::Int(12),
            Entry::Int(13),
            Entry::Int(-128),
            Entry::Int(1000),
            Entry::Int(-70000),
            Entry::Int(1 << 30),
            Entry::Int(i64::MIN),
            Entry::Str(b""),
            Entry::Str(&long),
            Entry::Str(&huge),
            Entry::Str(b"after a big prevlen"),
        ];
        assert_eq!(decode(&encode(&items)), Ok(items.to_vec()));
    }

    #[test]
    fn refuses_malformed_ziplists() {
        let good = encode(&[Entry::Str(b"ab"), Entry::Int(7)]);
        assert!(decode(&good).is_ok());
        let mut bad_tail = good.clone();
        bad_tail[4] += 1;
        assert!(decode(&bad_tail).is_err());
        let mut bad_prevlen = good.clone();
        bad_prevlen[14] = 9;
        assert!(decode(&bad_prevlen).is_err());
        let mut bad_count = good.clone();
        bad_count[8] = 3;
        assert!(decode(&bad_count).is_err());
        assert!(decode(&good[..good.len() - 1]).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(items in proptest::collection::vec(prop_oneof![
            any::<i64>().prop_map(|n| (Some(n), vec![])),
            (-20i64..20).prop_map(|n| (Some(n), vec![])),
            proptest::collection::vec(any::<u8>(), 0..400).prop_map(|s| (None, s)),
        ], 0..60)) {
            let entries: Vec<Entry> = items.iter().map(|(n, s)| match n {
                Some(n) => Entry::Int(*n),
                None => Entry::Str(s),
            }).collect();
            let zl = encode(&entries);
            prop_assert_eq!(decode(&zl), Ok(entries.clone()));
        }

        #[test]
        fn mutated_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..100),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        ) {
            let _ = decode(&data);
            let mut zl = encode(&[Entry::Str(b"abc"), Entry::Int(-3), Entry::Int(1 << 40)]);
            for (at, b) in flips {
                let at = at % zl.len();
                zl[at] = b;
            }
            for cut in 0..=zl.len() {
                let _ = decode(&zl[..cut]);
            }
        }
    }
}
