//! LZF (Marc Lehmann's liblzf, as vendored by Redis in `lzf_d.c` / `lzf_c.c`). Redis compresses
//! strings longer than 20 bytes in RDB files and DUMP payloads when `rdbcompression` is on (the
//! default), so every reader must decompress. Ferrite writes strings uncompressed; [`compress`]
//! exists for tests and for writers that want smaller files.
//!
//! The stream is a sequence of runs, each starting with a control byte `c`:
//! - `c < 32`: a literal run of `c + 1` bytes follows;
//! - otherwise a back reference: length `c >> 5` (7 means "7 + the next byte"), plus 2, copied
//!   from `((c & 0x1f) << 8) + next byte + 1` bytes back in the output (it may overlap).

use super::{Error, Result};

/// The most a compressed byte can expand to: a 3-byte back reference copies at most 264 bytes.
pub const MAX_RATIO: usize = 88;

/// Decompresses `input` into exactly `out_len` bytes. Anything else (a reference before the
/// start, a run past either end, a different length) is [`Error::BadLzf`]; a declared length the
/// input could never produce is [`Error::BadLength`], refused before allocating.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>> {
    if out_len > input.len().saturating_mul(MAX_RATIO) {
        return Err(Error::BadLength);
    }
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0;
    while let Some(&ctrl) = input.get(ip) {
        ip += 1;
        if ctrl < 32 {
            let run = ctrl as usize + 1;
            let lit = input.get(ip..ip + run).ok_or(Error::BadLzf)?;
            if out.len() + run > out_len {
                return Err(Error::BadLzf);
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = (ctrl >> 5) as usize;
            if len == 7 {
                len += *input.get(ip).ok_or(Error::BadLzf)? as usize;
                ip += 1;
            }
            let low = *input.get(ip).ok_or(Error::BadLzf)? as usize;
            ip += 1;
            let back = (((ctrl & 0x1f) as usize) << 8) + low + 1;
            let len = len + 2;
            let start = out.len().checked_sub(back).ok_or(Error::BadLzf)?;
            if out.len() + len > out_len {
                return Err(Error::BadLzf);
            }
            if back >= len {
                out.extend_from_within(start..start + len);
            } else {
                // Overlapping copy: each byte may be one this very run wrote.
                for i in start..start + len {
                    let b = *out.get(i).ok_or(Error::BadLzf)?;
                    out.push(b);
                }
            }
        }
    }
    if out.len() != out_len {
        return Err(Error::BadLzf);
    }
    Ok(out)
}

/// Compresses `input` greedily (one hash probe per position, as `lzf_c.c` does at its default
/// level). The output always decompresses to `input`; it may be longer than the input when the
/// input does not compress.
pub fn compress(input: &[u8]) -> Vec<u8> {
    const HASH_BITS: u32 = 14;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = 264;
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let mut out = Vec::with_capacity(input.len() + input.len() / 32 + 1);
    let mut lit_start = 0;
    let mut ip = 0;
    let flush = |out: &mut Vec<u8>, lits: &[u8]| {
        for run in lits.chunks(32) {
            out.push((run.len() - 1) as u8);
            out.extend_from_slice(run);
        }
    };
    while ip + 2 < input.len() {
        let key = u32::from_le_bytes([input[ip], input[ip + 1], input[ip + 2], 0]);
        let h = (key.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize;
        let cand = std::mem::replace(&mut table[h], ip);
        let found = cand < ip && ip - cand <= MAX_OFF && input[cand..cand + 3] == input[ip..ip + 3];
        if !found {
            ip += 1;
            continue;
        }
        let max = MAX_REF.min(input.len() - ip);
        let mut len = 3;
        while len < max && input[cand + len] == input[ip + len] {
            len += 1;
        }
        flush(&mut out, &input[lit_start..ip]);
        let off = ip - cand - 1;
        let l = len - 2;
        if l < 7 {
            out.push(((l as u8) << 5) | (off >> 8) as u8);
        } else {
            out.push((7 << 5) | (off >> 8) as u8);
            out.push((l - 7) as u8);
        }
        out.push((off & 0xff) as u8);
        ip += len;
        lit_start = ip;
    }
    flush(&mut out, &input[lit_start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decompresses_what_redis_wrote() {
        // DUMP of "a" * 100 from redis-server 7.0.15: 0xc3 (LZF), clen 9, len 100, then these.
        let data = [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61];
        assert_eq!(decompress(&data, 100), Ok(vec![b'a'; 100]));
        assert_eq!(decompress(&data, 99), Err(Error::BadLzf));
        assert_eq!(decompress(&data, 101), Err(Error::BadLzf));
        assert_eq!(decompress(&data[..8], 100), Err(Error::BadLzf));
    }

    #[test]
    fn refuses_bad_streams() {
        // A back reference with no output before it.
        assert_eq!(decompress(&[0x20, 0x00], 3), Err(Error::BadLzf));
        // A literal run longer than the input.
        assert_eq!(decompress(&[0x05, b'a'], 6), Err(Error::BadLzf));
        // A length no input this short could produce.
        assert_eq!(decompress(&[0x00, b'a'], 1 << 30), Err(Error::BadLength));
        assert_eq!(decompress(&[], 0), Ok(vec![]));
    }

    proptest! {
        #[test]
        fn round_trips(data in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2000),
            proptest::collection::vec(0u8..3, 0..20000),
        ]) {
            let packed = compress(&data);
            prop_assert_eq!(decompress(&packed, data.len()), Ok(data));
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), len in 0usize..5000) {
            let _ = decompress(&data, len);
        }
    }
}
