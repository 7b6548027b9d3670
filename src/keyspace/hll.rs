//! Redis's HyperLogLog, byte for byte (`hyperloglog.c` in Redis 7.0).
//!
//! An HLL is a plain string value, so it travels through GET/SET, DUMP/RESTORE and checkpoints
//! like any other string, and a value made here is the value Redis makes for the same inputs:
//!
//! ```text
//! +------+---+-----+----------+--------------------------------+
//! | HYLL | E | N/U | Cardin.  | registers ...                  |
//! +------+---+-----+----------+--------------------------------+
//!   4      1   3     8 (LE)     dense: 16384 x 6 bits = 12288 bytes
//!                               sparse: ZERO / XZERO / VAL opcodes
//! ```
//!
//! - `E` is the encoding: 0 dense, 1 sparse. Every HLL starts sparse and turns dense when a
//!   register needs a value above 32 or the string would grow past [`SPARSE_MAX_BYTES`].
//! - The cardinality is cached little endian; its most significant bit set means "stale".
//! - Elements hash with MurmurHash64A (seed `0xadc83b19`): the low 14 bits pick a register, the
//!   run of zeros in the other 50 (plus one) is the value it may take.
//! - The estimate is Ertl's improved estimator (`hllSigma`/`hllTau`), computed in the same order
//!   with the same f64 operations, so counts are equal to Redis's, not just close.
//!
//! Invariants: nothing here indexes past a slice; a malformed sparse string is reported as
//! [`HllError::Corrupt`] (Redis's `INVALIDOBJ`), a string that is not an HLL at all as
//! [`HllError::NotHll`]. Register values are always below 64.

/// Bytes before the registers.
pub const HDR_SIZE: usize = 16;
/// Bits of the hash that pick a register.
const P: u32 = 14;
/// Bits of the hash whose run of zeros is counted.
const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Length of a dense HLL string.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;
/// Redis's default `hll-sparse-max-bytes`: a sparse HLL that would grow past this turns dense.
pub const SPARSE_MAX_BYTES: usize = 3000;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7; // 0.5 / ln(2)

/// Why a string cannot be used as an HLL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HllError {
    /// Not an HLL at all (wrong magic, length or encoding).
    NotHll,
    /// Looks like an HLL but its sparse opcodes do not cover exactly 16384 registers.
    Corrupt,
}

// ---- sparse opcodes -------------------------------------------------------------------------

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

fn zero_len(b: u8) -> usize {
    (b & 0x3f) as usize + 1
}

fn xzero_len(b0: u8, b1: u8) -> usize {
    (((b0 & 0x3f) as usize) << 8 | b1 as usize) + 1
}

fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

fn val_len(b: u8) -> usize {
    (b & 0x3) as usize + 1
}

fn val_op(value: u8, len: usize) -> u8 {
    (((value - 1) << 2) | (len as u8 - 1)) | 0x80
}

fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// The opcode at `p`: (registers it covers, bytes it takes). An XZERO cut short by the end of
/// the string reads a zero second byte, as Redis reads the string's terminator.
fn opcode_at(s: &[u8], p: usize) -> (usize, usize) {
    let b = s[p];
    if is_zero(b) {
        (zero_len(b), 1)
    } else if is_val(b) {
        (val_len(b), 1)
    } else {
        (xzero_len(b, s.get(p + 1).copied().unwrap_or(0)), 2)
    }
}

// ---- hashing ----------------------------------------------------------------------------------

/// MurmurHash2, 64-bit version, as Redis modified it to be endian neutral.
pub fn murmur64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h: u64 = (seed as u64) ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and the value it offers it (`hllPatLen`).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---- dense registers --------------------------------------------------------------------------

/// Register `i` of a dense register array (bytes past the end read as zero).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = val as u32;
    let max = REGISTER_MAX as u32;
    if let Some(b) = regs.get_mut(byte) {
        *b = ((*b as u32 & !(max << fb)) | (v << fb)) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = ((*b as u32 & !(max >> (8 - fb))) | (v >> (8 - fb))) as u8;
    }
}

/// Raises register `i` to `count` if it is below; true when it changed (`hllDenseSet`).
pub fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

// ---- the string as a whole ------------------------------------------------------------------

/// A new, empty HLL: sparse, one XZERO opcode covering every register, cached count 0.
pub fn new_sparse() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR_SIZE + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        s.extend_from_slice(&xzero_op(n));
        left -= n;
    }
    s
}

/// Whether `s` may be used as an HLL (`isHLLObjectOrReply`): length, magic, encoding, and the
/// exact length of a dense one. Sparse opcodes are checked as they are read.
pub fn validate(s: &[u8]) -> Result<(), HllError> {
    if s.len() < HDR_SIZE || &s[..4] != b"HYLL" || s[4] > MAX_ENCODING {
        return Err(HllError::NotHll);
    }
    if s[4] == DENSE && s.len() != DENSE_SIZE {
        return Err(HllError::NotHll);
    }
    Ok(())
}

pub fn encoding(s: &[u8]) -> u8 {
    s.get(4).copied().unwrap_or(DENSE)
}

/// The cached cardinality, when valid.
pub fn cached(s: &[u8]) -> Option<u64> {
    let card: [u8; 8] = s.get(8..16)?.try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

pub fn set_cache(s: &mut [u8], card: u64) {
    if let Some(c) = s.get_mut(8..16) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

pub fn invalidate_cache(s: &mut [u8]) {
    if let Some(b) = s.get_mut(15) {
        *b |= 0x80;
    }
}

/// Converts a sparse HLL to dense in place (`hllSparseToDense`); the header, cached count
/// included, is kept. Ok(false) when it was dense already.
pub fn to_dense(s: &mut Vec<u8>) -> Result<bool, HllError> {
    if encoding(s) == DENSE {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(s.get(..HDR_SIZE).ok_or(HllError::NotHll)?);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    let mut idx = 0usize;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let b = s[p];
        let (span, len) = opcode_at(s, p);
        if is_val(b) {
            if idx + span > REGISTERS {
                break;
            }
            for r in idx..idx + span {
                dense_put(regs, r, val_value(b));
            }
        }
        idx += span;
        p += len;
    }
    if idx != REGISTERS {
        return Err(HllError::Corrupt);
    }
    *s = dense;
    Ok(true)
}

/// Raises register `index` of a sparse HLL to `count` (`hllSparseSet`), editing the opcodes in
/// place exactly as Redis does, or turning the HLL dense when the value does not fit the sparse
/// form or the string would pass `max_bytes`. Ok(true) when a register changed.
pub fn sparse_set(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, HllError> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = s.len();
    let (mut p, mut first, mut span) = (HDR_SIZE, 0usize, 0usize);
    let mut prev: Option<usize> = None;
    while p < end {
        let (n, len) = opcode_at(s, p);
        span = n;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += len;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(HllError::Corrupt);
    }
    let b = s[p];
    let runlen = span;
    // Step 2: the trivial cases.
    let mut done = false;
    if is_val(b) {
        if val_value(b) >= count {
            return Ok(false);
        }
        if runlen == 1 {
            s[p] = val_op(count, 1);
            done = true;
        }
    }
    if !done && is_zero(b) && runlen == 1 {
        s[p] = val_op(count, 1);
        done = true;
    }
    if !done {
        // The general case: split the opcode into up to three.
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        fn zeros(len: usize, seq: &mut [u8; 5], n: &mut usize) {
            if len > SPARSE_ZERO_MAX_LEN {
                seq[*n..*n + 2].copy_from_slice(&xzero_op(len));
                *n += 2;
            } else {
                seq[*n] = zero_op(len);
                *n += 1;
            }
        }
        if !is_val(b) {
            if index != first {
                zeros(index - first, &mut seq, &mut n);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                zeros(last - index, &mut seq, &mut n);
            }
        } else {
            let cur = val_value(b);
            if index != first {
                seq[n] = val_op(cur, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(cur, last - index);
                n += 1;
            }
        }
        // Step 3: substitute the new sequence for the old opcode.
        let oldlen = if is_xzero(b) { 2 } else { 1 };
        if n > oldlen && end + (n - oldlen) > max_bytes {
            return promote(s, index, count);
        }
        let new_len = end + n - oldlen;
        s.splice(p..(p + oldlen).min(end), seq[..n].iter().copied());
        // An XZERO cut short by the end of the string: Redis's length arithmetic.
        s.truncate(new_len);
    }
    // Step 4: merge adjacent VAL opcodes of equal value around the change.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < s.len() {
        if scan == 0 {
            break;
        }
        scan -= 1;
        let b = s[p];
        if is_xzero(b) {
            p += 2;
            continue;
        }
        if is_zero(b) {
            p += 1;
            continue;
        }
        if let Some(&next) = s.get(p + 1) {
            if is_val(next) && val_value(b) == val_value(next) {
                let len = val_len(b) + val_len(next);
                if len <= SPARSE_VAL_MAX_LEN {
                    s[p + 1] = val_op(val_value(b), len);
                    s.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    Ok(true)
}

fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, HllError> {
    to_dense(s)?;
    Ok(dense_set(&mut s[HDR_SIZE..], index, count))
}

/// Adds an element (`hllAdd`): Ok(true) when a register changed. `s` must be validated.
pub fn add(s: &mut Vec<u8>, ele: &[u8]) -> Result<bool, HllError> {
    let (index, count) = pat_len(ele);
    set_register(s, index, count)
}

/// Raises one register of a validated HLL, whatever its encoding.
pub fn set_register(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, HllError> {
    match encoding(s) {
        DENSE => Ok(s
            .get_mut(HDR_SIZE..)
            .is_some_and(|r| dense_set(r, index, count))),
        SPARSE => sparse_set(s, index, count, SPARSE_MAX_BYTES),
        _ => Err(HllError::Corrupt),
    }
}

/// Register histogram of a validated HLL; Corrupt when sparse opcodes do not cover exactly
/// every register.
fn histogram(s: &[u8]) -> Result<[u64; 64], HllError> {
    let mut h = [0u64; 64];
    let regs = s.get(HDR_SIZE..).ok_or(HllError::NotHll)?;
    if encoding(s) == DENSE {
        for i in 0..REGISTERS {
            h[dense_get(regs, i) as usize] += 1;
        }
        return Ok(h);
    }
    let mut idx = 0usize;
    let mut p = 0;
    while p < regs.len() {
        let b = regs[p];
        let (span, len) = opcode_at(regs, p);
        idx = idx.saturating_add(span);
        let slot = if is_val(b) { val_value(b) as usize } else { 0 };
        h[slot] = h[slot].saturating_add(span as u64);
        p += len;
    }
    if idx != REGISTERS {
        return Err(HllError::Corrupt);
    }
    Ok(h)
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prev = z;
        z += x * y;
        y += y;
        if z_prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prev == z {
            return z / 3.0;
        }
    }
}

/// Ertl's estimate from a register histogram, in Redis's order of operations.
fn estimate(h: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimated cardinality of a validated HLL (`hllCount`), ignoring the cache.
pub fn count(s: &[u8]) -> Result<u64, HllError> {
    Ok(estimate(&histogram(s)?))
}

/// The estimate for registers held one per byte (multi-key PFCOUNT).
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    let mut h = [0u64; 64];
    for &r in max {
        h[(r & 63) as usize] += 1;
    }
    estimate(&h)
}

/// Raises every `max[i]` to register `i` of a validated HLL (`hllMerge`).
pub fn merge_into(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), HllError> {
    let regs = s.get(HDR_SIZE..).ok_or(HllError::NotHll)?;
    if encoding(s) == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let mut i = 0usize;
    let mut p = 0;
    while p < regs.len() {
        let b = regs[p];
        let (span, len) = opcode_at(regs, p);
        if is_val(b) {
            if i + span > REGISTERS {
                break;
            }
            let v = val_value(b);
            for m in &mut max[i..i + span] {
                *m = (*m).max(v);
            }
        }
        i = i.saturating_add(span);
        p += len;
    }
    if i != REGISTERS {
        return Err(HllError::Corrupt);
    }
    Ok(())
}

/// The opcodes of a sparse HLL as PFDEBUG DECODE prints them (`z:3 Z:100 v:2,1`).
pub fn decode(s: &[u8]) -> String {
    let regs = s.get(HDR_SIZE..).unwrap_or_default();
    let mut out = Vec::new();
    let mut p = 0;
    while p < regs.len() {
        let b = regs[p];
        let (span, len) = opcode_at(regs, p);
        out.push(if is_zero(b) {
            format!("z:{span}")
        } else if is_xzero(b) {
            format!("Z:{span}")
        } else {
            format!("v:{},{span}", val_value(b))
        });
        p += len;
    }
    out.join(" ")
}

/// PFSELFTEST: dense register access, and sparse and dense counts agreeing as elements are
/// added (a lighter run than Redis's ten million elements). Err names the failure.
pub fn self_test() -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut shadow = vec![0u8; REGISTERS];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20 {
        for (i, v) in shadow.iter_mut().enumerate() {
            *v = (next() & REGISTER_MAX as u64) as u8;
            dense_put(&mut regs, i, *v);
        }
        for (i, &v) in shadow.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != v {
                return Err(format!(
                    "TESTFAILED Register {i} should be {v} but is {got}"
                ));
            }
        }
    }
    let mut dense = new_sparse();
    to_dense(&mut dense).map_err(|_| "TESTFAILED cannot make a dense HLL".to_string())?;
    let mut sparse = new_sparse();
    let salt = next();
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let ele = (j ^ salt).to_le_bytes();
        let _ = add(&mut dense, &ele);
        if add(&mut sparse, &ele).is_err() {
            return Err("TESTFAILED sparse HLL corrupted".into());
        }
        if j == checkpoint {
            if j < SPARSE_MAX_BYTES as u64 / 2 && encoding(&sparse) != SPARSE {
                return Err("TESTFAILED sparse encoding not used".into());
            }
            if count(&dense) != count(&sparse) {
                return Err("TESTFAILED dense/sparse disagree".into());
            }
            checkpoint *= 10;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hll_murmur_tails_differ() {
        let (i, c) = pat_len(b"");
        assert!(i < REGISTERS && (1..=51).contains(&c));
        // Tails of every length go through the same final mix.
        let hashes: Vec<u64> = (0..17).map(|n| murmur64a(&[7u8; 17][..n], 1)).collect();
        let mut dedup = hashes.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), hashes.len());
    }

    #[test]
    fn hll_new_is_one_xzero() {
        let s = new_sparse();
        assert_eq!(s.len(), 18);
        assert_eq!(&s[..5], b"HYLL\x01");
        assert_eq!(&s[16..], &[0x7f, 0xff]);
        assert_eq!(count(&s), Ok(0));
        assert_eq!(cached(&s), Some(0));
        assert_eq!(decode(&s), "Z:16384");
    }

    #[test]
    fn hll_dense_registers_do_not_disturb_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        for i in 0..REGISTERS {
            dense_put(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
        }
    }

    #[test]
    fn hll_sparse_and_dense_agree() {
        assert_eq!(self_test(), Ok(()));
    }

    #[test]
    fn hll_sparse_split_and_merge() {
        let mut s = new_sparse();
        assert_eq!(sparse_set(&mut s, 100, 3, SPARSE_MAX_BYTES), Ok(true));
        assert_eq!(decode(&s), "Z:100 v:3,1 Z:16283");
        assert_eq!(sparse_set(&mut s, 101, 3, SPARSE_MAX_BYTES), Ok(true));
        assert_eq!(decode(&s), "Z:100 v:3,2 Z:16282");
        assert_eq!(sparse_set(&mut s, 101, 2, SPARSE_MAX_BYTES), Ok(false));
        assert_eq!(sparse_set(&mut s, 0, 1, SPARSE_MAX_BYTES), Ok(true));
        assert_eq!(decode(&s), "v:1,1 Z:99 v:3,2 Z:16282");
        assert!(cached(&s).is_none());
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &s).unwrap();
        assert_eq!((max[0], max[100], max[101], max[102]), (1, 3, 3, 0));
        // A value above 32 makes it dense.
        assert_eq!(sparse_set(&mut s, 5, 40, SPARSE_MAX_BYTES), Ok(true));
        assert_eq!(encoding(&s), DENSE);
        assert_eq!(s.len(), DENSE_SIZE);
        assert_eq!(dense_get(&s[HDR_SIZE..], 5), 40);
        assert_eq!(dense_get(&s[HDR_SIZE..], 100), 3);
    }

    #[test]
    fn hll_corrupt_sparse_is_reported() {
        let mut s = new_sparse();
        s.truncate(17); // half an XZERO
        assert_eq!(validate(&s), Ok(()));
        assert_eq!(count(&s), Err(HllError::Corrupt));
        let mut bad = new_sparse();
        bad.push(0x00); // one register too many
        assert_eq!(count(&bad), Err(HllError::Corrupt));
        assert_eq!(to_dense(&mut bad), Err(HllError::Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &bad), Err(HllError::Corrupt));
        assert_eq!(validate(b"HYLL"), Err(HllError::NotHll));
        let mut d = new_sparse();
        d[4] = DENSE;
        assert_eq!(validate(&d), Err(HllError::NotHll));
    }

    #[test]
    fn hll_estimates_small_sets_exactly() {
        let mut s = new_sparse();
        for i in 0..10 {
            add(&mut s, format!("e{i}").as_bytes()).unwrap();
        }
        assert_eq!(count(&s), Ok(10));
    }
}
