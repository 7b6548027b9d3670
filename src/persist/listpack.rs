//! Redis's listpack (`listpack.c`), the compact encoding of small hashes and sorted sets and of
//! each quicklist node, as it appears inside an RDB string.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE; 65535 = "count them"), the entries, and
//! 0xFF. Each entry is an encoding byte with its data, then a "backlen": the size of encoding plus
//! data, written so it reads backwards (big-endian groups of 7 bits, all but the first byte with
//! the high bit set). The encodings:
//!
//! | first byte  | entry                                             |
//! |-------------|---------------------------------------------------|
//! | `0xxxxxxx`  | unsigned integer 0..=127                          |
//! | `10xxxxxx`  | string of up to 63 bytes follows                  |
//! | `110xxxxx`  | 13-bit signed integer, with the next byte         |
//! | `1110xxxx`  | string of up to 4095 bytes (12-bit length) follows|
//! | `11110000`  | string with a 32-bit LE length follows            |
//! | `11110001`..`11110100` | 16, 24, 32, 64-bit LE signed integer   |
//! | `11111111`  | end of the listpack                               |
//!
//! Strings that are canonical decimal integers (Redis's `string2ll`) are stored as integers, the
//! smallest encoding that holds them; decoding hands integers back as [`Entry::Int`].

use bytes::Bytes;

use super::{Error, Reader, Result};
use crate::resp::parse_i64;

const HEADER_SIZE: usize = 6;
const EOF: u8 = 0xff;
/// The element count a listpack stores when it has too many elements to count in 16 bits.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// One listpack element: a string, or an integer it was stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl Entry<'_> {
    /// The element as a string, integers in decimal (as Redis replies with them).
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Entry::Str(s) => Bytes::copy_from_slice(s),
            Entry::Int(n) => Bytes::from(n.to_string()),
        }
    }
}

/// The backlen of an entry whose encoding and data take `len` bytes, into `buf`; returns how
/// many bytes of `buf` it used (1 to 5). Mirrors `lpEncodeBacklen`, thresholds included.
fn encode_backlen(buf: &mut [u8; 5], len: u64) -> usize {
    let (n, shifts): (usize, &[u32]) = if len <= 127 {
        (1, &[0])
    } else if len < 16383 {
        (2, &[7, 0])
    } else if len < 2_097_151 {
        (3, &[14, 7, 0])
    } else if len < 268_435_455 {
        (4, &[21, 14, 7, 0])
    } else {
        (5, &[28, 21, 14, 7, 0])
    };
    for (i, (slot, &shift)) in buf.iter_mut().zip(shifts).enumerate() {
        let group = ((len >> shift) & 127) as u8;
        *slot = if i == 0 { group } else { group | 128 };
    }
    n
}

/// The bytes an integer takes as a listpack entry, backlen included (as `Writer::push_int`
/// encodes it): streams size their nodes by it, as Redis's `stream-node-max-bytes` does.
pub fn int_entry_size(v: i64) -> usize {
    let data = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        _ if i32::try_from(v).is_ok() => 5,
        _ => 9,
    };
    data + backlen_size(data)
}

/// The bytes a string takes as a listpack entry (as `Writer::push` encodes it, integers as
/// integers), backlen included.
pub fn entry_size(s: &[u8]) -> usize {
    if let Some(n) = parse_i64(s) {
        return int_entry_size(n);
    }
    let data = s.len()
        + match s.len() {
            0..=63 => 1,
            64..=4095 => 2,
            _ => 5,
        };
    data + backlen_size(data)
}

fn backlen_size(len: usize) -> usize {
    let mut buf = [0u8; 5];
    encode_backlen(&mut buf, len as u64)
}

/// The bytes of an empty listpack: header and end byte.
pub const EMPTY_SIZE: usize = HEADER_SIZE + 1;

/// Decodes a whole listpack, checking its header, every entry's backlen and the end byte.
pub fn decode(lp: &[u8]) -> Result<Vec<Entry<'_>>> {
    let mut r = Reader::new(lp);
    let total = r
        .u32_le()
        .map_err(|_| Error::BadListpack("shorter than its header"))?;
    let count = r
        .u16_le()
        .map_err(|_| Error::BadListpack("shorter than its header"))?;
    if total as usize != lp.len() {
        return Err(Error::BadListpack("total size does not match"));
    }
    let mut entries = Vec::with_capacity(super::reader::capacity(count as u64, r.remaining(), 2));
    loop {
        if r.peek().map_err(|_| Error::BadListpack("no end byte"))? == EOF {
            r.u8()?;
            if !r.is_empty() {
                return Err(Error::BadListpack("bytes after the end byte"));
            }
            break;
        }
        entries.push(decode_entry(&mut r)?);
    }
    if count != COUNT_UNKNOWN && count as usize != entries.len() {
        return Err(Error::BadListpack("element count does not match"));
    }
    Ok(entries)
}

fn decode_entry<'a>(r: &mut Reader<'a>) -> Result<Entry<'a>> {
    let truncated = |_| Error::BadListpack("entry runs past the end");
    let before = r.remaining();
    let b = r.u8().map_err(truncated)?;
    let entry = match b {
        0x00..=0x7f => Entry::Int(b as i64),
        0x80..=0xbf => Entry::Str(r.bytes((b & 0x3f) as usize).map_err(truncated)?),
        0xc0..=0xdf => {
            let v = (((b & 0x1f) as i64) << 8) | r.u8().map_err(truncated)? as i64;
            Entry::Int(if v >= 1 << 12 { v - (1 << 13) } else { v })
        }
        0xe0..=0xef => {
            let len = (((b & 0x0f) as usize) << 8) | r.u8().map_err(truncated)? as usize;
            Entry::Str(r.bytes(len).map_err(truncated)?)
        }
        0xf0 => {
            let len = r.u32_le().map_err(truncated)?;
            Entry::Str(r.bytes_len(len as u64).map_err(truncated)?)
        }
        0xf1 => Entry::Int(r.i16_le().map_err(truncated)? as i64),
        0xf2 => Entry::Int(r.i24_le().map_err(truncated)? as i64),
        0xf3 => Entry::Int(r.i32_le().map_err(truncated)? as i64),
        0xf4 => Entry::Int(r.i64_le().map_err(truncated)?),
        _ => return Err(Error::BadListpack("unknown entry encoding")),
    };
    let size = (before - r.remaining()) as u64;
    let mut want = [0u8; 5];
    let n = encode_backlen(&mut want, size);
    let got = r.bytes(n).map_err(truncated)?;
    if want.get(..n) != Some(got) {
        return Err(Error::BadListpack("backlen does not match its entry"));
    }
    Ok(entry)
}

/// Builds a listpack one element at a time, encoding each as Redis's `lpAppend` would.
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            buf: vec![0; HEADER_SIZE],
            count: 0,
        }
    }

    /// Elements appended so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The size of the listpack if finished now.
    pub fn size(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends a string, as an integer when it is one in canonical form.
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(n) => self.push_int(n),
            None => self.push_str(s),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        match v {
            0..=127 => b.push(v as u8),
            -4096..=4095 => {
                let u = (v & 0x1fff) as u16;
                b.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
            }
            -32768..=32767 => {
                b.push(0xf1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8_388_608..=8_388_607 => {
                b.push(0xf2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            _ if i32::try_from(v).is_ok() => {
                b.push(0xf3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                b.push(0xf4);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.finish_entry(start);
    }

    /// Appends a string as a string, whatever it holds. Panics past 4 GiB, which no caller
    /// reaches: a quicklist writes such elements as plain nodes, and hashes and sorted sets use
    /// listpacks only for short values.
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let len = s.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf
                .extend_from_slice(&[0xe0 | (len >> 8) as u8, (len & 0xff) as u8]);
        } else {
            let len = u32::try_from(len).expect("listpack string over 4 GiB");
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&len.to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.finish_entry(start);
    }

    fn finish_entry(&mut self, start: usize) {
        let mut backlen = [0u8; 5];
        let n = encode_backlen(&mut backlen, (self.buf.len() - start) as u64);
        self.buf.extend_from_slice(&backlen[..n]);
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        let count = u16::try_from(self.count)
            .ok()
            .filter(|&c| c != COUNT_UNKNOWN)
            .unwrap_or(COUNT_UNKNOWN);
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// A listpack of `items`, in order.
pub fn encode<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut w = Writer::new();
    for item in items {
        w.push(item);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The listpack of `RPUSH l a 1 -5000 "hello world" 1099511627776 300` in redis-server
    /// 7.0.15 (from its DUMP: the single quicklist node).
    const REDIS_LIST: &[u8] = &[
        0x2a, 0x00, 0x00, 0x00, 0x06, 0x00, 0x81, 0x61, 0x02, 0x01, 0x01, 0xf1, 0x78, 0xec, 0x03,
        0x8b, b'h', b'e', b'l', b'l', b'o', b' ', b'w', b'o', b'r', b'l', b'd', 0x0c, 0xf4, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x09, 0xc1, 0x2c, 0x02, 0xff,
    ];

    #[test]
    fn decodes_and_re_encodes_what_redis_wrote() {
        let entries = decode(REDIS_LIST).unwrap();
        assert_eq!(
            entries,
            vec![
                Entry::Str(b"a"),
                Entry::Int(1),
                Entry::Int(-5000),
                Entry::Str(b"hello world"),
                Entry::Int(1 << 40),
                Entry::Int(300),
            ]
        );
        let items: Vec<Bytes> = entries.iter().map(Entry::to_bytes).collect();
        assert_eq!(encode(items.iter().map(|b| &b[..])), REDIS_LIST);
    }

    #[test]
    fn every_integer_width_and_string_length() {
        let ints = [
            0,
            127,
            128,
            -1,
            4095,
            -4096,
            4096,
            32767,
            -32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ];
        let mut w = Writer::new();
        for n in ints {
            w.push_int(n);
        }
        let strings = [
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'w'; 4096],
            vec![b'v'; 20000],
        ];
        for s in &strings {
            w.push_str(s);
        }
        let lp = w.finish();
        let got = decode(&lp).unwrap();
        let want: Vec<Entry> = ints
            .iter()
            .map(|&n| Entry::Int(n))
            .chain(strings.iter().map(|s| Entry::Str(s)))
            .collect();
        assert_eq!(got, want);
        // Sizes per encoding: 7-bit, 13-bit, 16, 24, 32, 64-bit ints.
        let size = |n: i64| {
            let mut w = Writer::new();
            w.push_int(n);
            w.finish().len() - HEADER_SIZE - 1
        };
        assert_eq!(
            [
                size(5),
                size(-5),
                size(10_000),
                size(100_000),
                size(1 << 30),
                size(1 << 40)
            ],
            [2, 3, 4, 5, 6, 10]
        );
    }

    #[test]
    fn backlen_thresholds_follow_redis() {
        let mut b = [0u8; 5];
        assert_eq!(encode_backlen(&mut b, 127), 1);
        assert_eq!(encode_backlen(&mut b, 128), 2);
        assert_eq!(&b[..2], &[1, 0x80]);
        assert_eq!(encode_backlen(&mut b, 16382), 2);
        assert_eq!(encode_backlen(&mut b, 16383), 3);
        assert_eq!(encode_backlen(&mut b, 300_000_000), 5);
    }

    #[test]
    fn refuses_malformed_listpacks() {
        let mut bad_total = REDIS_LIST.to_vec();
        bad_total[0] = 0x2b;
        assert!(decode(&bad_total).is_err());
        let mut bad_count = REDIS_LIST.to_vec();
        bad_count[4] = 5;
        assert_eq!(
            decode(&bad_count),
            Err(Error::BadListpack("element count does not match"))
        );
        let mut bad_backlen = REDIS_LIST.to_vec();
        bad_backlen[8] = 3;
        assert!(decode(&bad_backlen).is_err());
        let mut no_end = REDIS_LIST.to_vec();
        no_end[41] = 0x05;
        assert!(decode(&no_end).is_err());
        assert!(decode(&[]).is_err());
        assert!(decode(&[7, 0, 0, 0, 0, 0, 0xff]).is_ok());
    }

    proptest! {
        #[test]
        fn round_trips(items in proptest::collection::vec(prop_oneof![
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            (-5000i64..5000).prop_map(|n| n.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..300),
            "0[0-9]{1,3}|-0|\\+1|[0-9]{20}".prop_map(String::into_bytes),
        ], 0..100)) {
            let lp = encode(items.iter().map(|v| &v[..]));
            let got: Vec<Vec<u8>> = decode(&lp).unwrap().iter().map(|e| e.to_bytes().to_vec()).collect();
            prop_assert_eq!(got, items);
        }

        #[test]
        fn mutated_or_random_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..200),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        ) {
            let _ = decode(&data);
            let mut lp = REDIS_LIST.to_vec();
            for (at, b) in flips {
                let at = at % lp.len();
                lp[at] = b;
            }
            let _ = decode(&lp);
            for cut in 0..lp.len() {
                let _ = decode(&lp[..cut]);
            }
        }
    }
}
