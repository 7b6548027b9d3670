//! Bitmap commands (Redis's `bitops.c`): SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
//! BITFIELD_RO, over plain string values.
//!
//! Bits are numbered from the most significant bit of the first byte, as in Redis. Writes grow
//! the string with zero bytes up to the highest bit they touch; an offset whose byte would be at
//! or past `proto-max-bulk-len` ([`Ctx::max_string`], 512 MB by default) is refused with
//! Redis's "bit offset is not an integer or out of range". Strings are edited in place when no
//! reply still shares their bytes ([`edit_string`]). BITOP's keys may live on several shards:
//! the runtime runs it atomically (`shard::txn::keys_plan`), as it does SUNIONSTORE.

use bytes::Bytes;

use super::{int_arg, is_opt, spec, CmdResult, CommandSpec, Ctx, Group, KeySpec, OpError, Run};
use crate::flags;
use crate::keyspace::{notify, Value};
use crate::resp::{parse_i64, Reply};

const G: Group = Group::Bitmap;

/// BITOP's keys: the destination and every source after the operation name.
const BITOP_KEYS: KeySpec = KeySpec {
    first: 2,
    last: -1,
    step: 1,
};

pub static COMMANDS: &[CommandSpec] = &[
    spec("setbit", 4, flags!(WRITE | DENYOOM), KeySpec::ONE, G, Run::Keys(setbit))
        .doc("Sets or clears the bit at offset in the string value stored at key", "2.2.0", "O(1)", "key offset value"),
    spec("getbit", 3, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(getbit))
        .doc("Returns the bit value at offset in the string value stored at key", "2.2.0", "O(1)", "key offset"),
    spec("bitcount", -2, flags!(READONLY), KeySpec::ONE, G, Run::Keys(bitcount))
        .doc("Count set bits in a string", "2.6.0", "O(N)", "key [start end [BYTE|BIT]]"),
    spec("bitpos", -3, flags!(READONLY), KeySpec::ONE, G, Run::Keys(bitpos))
        .doc("Find first bit set or clear in a string", "2.8.7", "O(N)", "key bit [start [end [BYTE|BIT]]]"),
    spec("bitop", -4, flags!(WRITE | DENYOOM), BITOP_KEYS, G, Run::Keys(bitop))
        .doc("Perform bitwise operations between strings", "2.6.0", "O(N)", "AND|OR|XOR|NOT destkey key [key ...]"),
    spec("bitfield", -2, flags!(WRITE | DENYOOM), KeySpec::ONE, G, Run::Keys(bitfield)).doc(
        "Perform arbitrary bitfield integer operations on strings",
        "3.2.0",
        "O(1) for each subcommand specified",
        "key [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment ...]]",
    ),
    spec("bitfield_ro", -2, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(bitfield_ro)).doc(
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        "6.0.0",
        "O(1) for each subcommand specified",
        "key [GET encoding offset [GET encoding offset ...]]",
    ),
];

fn offset_error() -> OpError {
    OpError::other("ERR bit offset is not an integer or out of range")
}

/// Runs `f` over the bytes of the string held in `value`, then stores them back (shared with
/// the HyperLogLog family). The bytes are taken without a copy when nothing else shares them.
/// None, leaving `value` as it was, when it is not a string.
pub(crate) fn edit_string<R>(value: &mut Value, f: impl FnOnce(&mut Vec<u8>) -> R) -> Option<R> {
    let mut buf: Vec<u8> = match std::mem::replace(value, Value::string(b"")) {
        Value::Str(b) => Vec::from(b),
        Value::SmallStr(s) => s.as_slice().to_vec(),
        other => {
            *value = other;
            return None;
        }
    };
    let out = f(&mut buf);
    *value = Value::from_bytes(Bytes::from(buf));
    Some(out)
}

/// A bit offset argument (`getBitOffsetFromArgument`): `#N` means N times `bits` where the
/// command allows it (BITFIELD); the byte holding the bit must be below `proto-max-bulk-len`.
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8], bits: Option<u32>) -> Result<u64, OpError> {
    let (digits, mul) = match (arg.first(), bits) {
        (Some(b'#'), Some(bits)) if bits > 0 => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let offset = parse_i64(digits)
        .ok_or_else(offset_error)?
        .wrapping_mul(mul);
    if offset < 0 || (offset as u64 >> 3) >= ctx.max_string {
        return Err(offset_error());
    }
    Ok(offset as u64)
}

/// Runs `f` over the string at `key`, created or grown with zero bytes so that bit `max_bit`
/// exists (`lookupStringForBitCommand`); the key keeps its TTL. WRONGTYPE for another type.
fn with_bits<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    max_bit: u64,
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> Result<R, OpError> {
    // `bit_offset` bounded max_bit by max_string bytes.
    let len = (max_bit >> 3) as usize + 1;
    let now = ctx.now;
    let db = ctx.db();
    if let Some(entry) = db.get(key, now) {
        return edit_string(&mut entry.value, |buf| {
            if buf.len() < len {
                buf.resize(len, 0);
            }
            f(buf)
        })
        .ok_or(OpError::WrongType);
    }
    let mut buf = vec![0u8; len];
    let out = f(&mut buf);
    db.set(key, Value::from_bytes(Bytes::from(buf)), now);
    Ok(out)
}

/// The string at `key` for a read command (a hit or a miss): None when missing.
fn read_str(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, OpError> {
    ctx.read(key)
        .map(|e| e.value.str_bytes().ok_or(OpError::WrongType))
        .transpose()
}

fn get_bit(s: &[u8], offset: u64) -> bool {
    usize::try_from(offset >> 3)
        .ok()
        .and_then(|i| s.get(i))
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

fn put_bit(s: &mut [u8], offset: u64, on: bool) {
    let mask = 0x80u8 >> (offset & 7);
    if let Some(b) = usize::try_from(offset >> 3).ok().and_then(|i| s.get_mut(i)) {
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

fn setbit(ctx: &mut Ctx<'_>) -> CmdResult {
    let offset = bit_offset(ctx, ctx.arg(2), None)?;
    let bit_err = || OpError::other("ERR bit is not an integer or out of range");
    let on = int_arg(ctx.arg(3)).map_err(|_| bit_err())?;
    if on & !1 != 0 {
        return Err(bit_err());
    }
    let key = ctx.args[1].clone();
    let old = with_bits(ctx, &key, offset, |s| {
        let old = get_bit(s, offset);
        put_bit(s, offset, on == 1);
        old
    })?;
    ctx.notify(notify::STRING, "setbit", &key);
    Ok(Reply::Int(old as i64))
}

fn getbit(ctx: &mut Ctx<'_>) -> CmdResult {
    let offset = bit_offset(ctx, ctx.arg(2), None)?;
    let key = ctx.args[1].clone();
    let s = read_str(ctx, &key)?.unwrap_or_default();
    Ok(Reply::Int(get_bit(&s, offset) as i64))
}

/// Set bits in `s`, a word at a time.
fn popcount(s: &[u8]) -> u64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = chunks
        .by_ref()
        .map(|c| {
            u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]).count_ones() as u64
        })
        .sum();
    n += chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>();
    n
}

/// BITCOUNT and BITPOS's `start end [BYTE|BIT]`, resolved against a string of `len` bytes into
/// an inclusive range of bit positions, or None when it is empty. Negative indexes count from
/// the end and are clamped as Redis clamps them.
fn bit_range(start: i64, end: i64, is_bit: bool, len: usize) -> Option<(u64, u64)> {
    let total = if is_bit {
        (len as i64).saturating_mul(8)
    } else {
        len as i64
    };
    let mut start = if start < 0 {
        start.saturating_add(total)
    } else {
        start
    };
    let mut end = if end < 0 {
        end.saturating_add(total)
    } else {
        end
    };
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    Some(if is_bit {
        (start as u64, end as u64)
    } else {
        (start as u64 * 8, end as u64 * 8 + 7)
    })
}

/// Set bits among bit positions `first..=last` of `s` (within the string).
fn count_bits(s: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let Some(bytes) = s.get(fb..=lb) else {
        return 0;
    };
    let mut n = popcount(bytes);
    // Take away the bits of the edge bytes that are outside the range.
    let head = (first & 7) as u32;
    if head > 0 {
        n -= (bytes[0] >> (8 - head)).count_ones() as u64;
    }
    let tail = 7 - (last & 7) as u32;
    if tail > 0 {
        n -= (bytes[bytes.len() - 1] & ((1u8 << tail) - 1)).count_ones() as u64;
    }
    n
}

fn unit_arg(arg: &[u8]) -> Result<bool, OpError> {
    if is_opt(arg, "bit") {
        Ok(true)
    } else if is_opt(arg, "byte") {
        Ok(false)
    } else {
        Err(OpError::Syntax)
    }
}

fn bitcount(ctx: &mut Ctx<'_>) -> CmdResult {
    // Redis 7.0 looks the key up before it reads the range.
    let key = ctx.args[1].clone();
    let Some(s) = read_str(ctx, &key)? else {
        return Ok(Reply::Int(0));
    };
    let range = match ctx.args.len() {
        2 => bit_range(0, -1, false, s.len()),
        4 | 5 => {
            let (start, end) = (int_arg(ctx.arg(2))?, int_arg(ctx.arg(3))?);
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Int(0));
            }
            let is_bit = ctx.args.len() == 5 && unit_arg(ctx.arg(4))?;
            bit_range(start, end, is_bit, s.len())
        }
        _ => return Err(OpError::Syntax),
    };
    Ok(Reply::Int(
        range.map_or(0, |(a, b)| count_bits(&s, a, b)) as i64
    ))
}

/// The first bit equal to `bit` among positions `first..=last` of `s`.
fn find_bit(s: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    for (i, &b) in s.get(fb..=lb)?.iter().enumerate() {
        let byte = fb + i;
        // Bits outside the range read as the opposite of what is looked for.
        let mut v = if bit { b } else { !b };
        if byte == fb {
            v &= 0xff >> (first & 7);
        }
        if byte == lb {
            v &= 0xff << (7 - (last & 7));
        }
        if v != 0 {
            return Some(byte as u64 * 8 + v.leading_zeros() as u64);
        }
    }
    None
}

fn bitpos(ctx: &mut Ctx<'_>) -> CmdResult {
    let bit = int_arg(ctx.arg(2))?;
    if bit != 0 && bit != 1 {
        return Err(OpError::other("ERR The bit argument must be 1 or 0."));
    }
    // A missing key is an endless run of zeros (Redis 7.0 answers before reading the range).
    let key = ctx.args[1].clone();
    let Some(s) = read_str(ctx, &key)? else {
        return Ok(Reply::Int(if bit == 1 { -1 } else { 0 }));
    };
    let argc = ctx.args.len();
    let (range, end_given) = match argc {
        3 => (bit_range(0, -1, false, s.len()), false),
        4..=6 => {
            let start = int_arg(ctx.arg(3))?;
            let is_bit = argc == 6 && unit_arg(ctx.arg(5))?;
            let end = if argc >= 5 { int_arg(ctx.arg(4))? } else { -1 };
            (bit_range(start, end, is_bit, s.len()), argc >= 5)
        }
        _ => return Err(OpError::Syntax),
    };
    let Some((first, last)) = range else {
        return Ok(Reply::Int(-1));
    };
    Ok(Reply::Int(match find_bit(&s, first, last, bit == 1) {
        Some(pos) => pos as i64,
        // Looking for a clear bit past the end of the string finds the padding, unless the
        // range was closed explicitly.
        None if bit == 0 && !end_given => last as i64 + 1,
        None => -1,
    }))
}

#[derive(Clone, Copy, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut Ctx<'_>) -> CmdResult {
    let name = ctx.arg(1);
    let op = if is_opt(name, "and") {
        BitOp::And
    } else if is_opt(name, "or") {
        BitOp::Or
    } else if is_opt(name, "xor") {
        BitOp::Xor
    } else if is_opt(name, "not") {
        BitOp::Not
    } else {
        return Err(OpError::Syntax);
    };
    if op == BitOp::Not && ctx.args.len() != 4 {
        return Err(OpError::other(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let keys: Vec<Bytes> = ctx.args[3..].to_vec();
    let mut sources = Vec::with_capacity(keys.len());
    for k in &keys {
        sources.push(read_str(ctx, k)?.unwrap_or_default());
    }
    let maxlen = sources.iter().map(Bytes::len).max().unwrap_or(0);
    let dest = ctx.args[2].clone();
    let now = ctx.now;
    if maxlen == 0 {
        if ctx.db().remove(&dest).is_some() {
            ctx.notify(notify::GENERIC, "del", &dest);
        }
        return Ok(Reply::Int(0));
    }
    let byte = |s: &Bytes, i: usize| s.get(i).copied().unwrap_or(0);
    let mut out = vec![0u8; maxlen];
    for (i, o) in out.iter_mut().enumerate() {
        let mut v = byte(&sources[0], i);
        for s in &sources[1..] {
            let b = byte(s, i);
            match op {
                BitOp::And => v &= b,
                BitOp::Or => v |= b,
                BitOp::Xor => v ^= b,
                BitOp::Not => {}
            }
        }
        *o = if op == BitOp::Not { !v } else { v };
    }
    ctx.db()
        .set(&dest, Value::from_bytes(Bytes::from(out)), now);
    ctx.notify(notify::STRING, "set", &dest);
    Ok(Reply::Int(maxlen as i64))
}

// ---- BITFIELD -----------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, Debug)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// `i1`..`i64`, `u1`..`u63` (`getBitfieldTypeFromArgument`).
fn field_type(arg: &[u8]) -> Result<(bool, u32), OpError> {
    let err = || {
        OpError::other(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    // Redis reads the width as a C string: up to the first NUL.
    let width = &arg[1..];
    let width = &width[..width.iter().position(|&b| b == 0).unwrap_or(width.len())];
    let bits = parse_i64(width).ok_or_else(err)?;
    if bits < 1 || bits > if signed { 64 } else { 63 } {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

fn parse_fields(ctx: &Ctx<'_>) -> Result<Vec<Field>, OpError> {
    let args = ctx.args;
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = &args[j][..];
        let takes_value = if is_opt(sub, "get") && rem >= 2 {
            false
        } else if (is_opt(sub, "set") || is_opt(sub, "incrby")) && rem >= 3 {
            true
        } else if is_opt(sub, "overflow") && rem >= 1 {
            let kind = &args[j + 1][..];
            overflow = if is_opt(kind, "wrap") {
                Overflow::Wrap
            } else if is_opt(kind, "sat") {
                Overflow::Sat
            } else if is_opt(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(OpError::other("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(OpError::Syntax);
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(ctx, &args[j + 2], Some(bits))?;
        let op = if takes_value {
            let v = int_arg(&args[j + 3])?;
            if is_opt(sub, "set") {
                FieldOp::Set(v)
            } else {
                FieldOp::IncrBy(v)
            }
        } else {
            FieldOp::Get
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if takes_value { 4 } else { 3 };
    }
    Ok(fields)
}

/// `bits` bits from bit `offset`, most significant first; bits past the end read as zero.
fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    (0..bits as u64).fold(0, |v, j| (v << 1) | get_bit(s, offset + j) as u64)
}

fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(s, offset, bits);
    if bits < 64 && u & (1 << (bits - 1)) != 0 {
        (u | (u64::MAX << bits)) as i64
    } else {
        u as i64
    }
}

fn set_unsigned(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        put_bit(s, offset + j, (value >> (bits as u64 - 1 - j)) & 1 == 1);
    }
}

/// `checkUnsignedBitfieldOverflow`: Some(value to store) when `value + incr` does not fit (the
/// value only matters for WRAP and SAT).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let wrap = || {
        let mask = if bits >= 64 { 0 } else { u64::MAX << bits };
        value.wrapping_add(incr as u64) & !mask
    };
    if value > max || (incr > 0 && incr > max_incr) {
        Some(if ow == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < min_incr {
        Some(if ow == Overflow::Sat { 0 } else { wrap() })
    } else {
        None
    }
}

/// `checkSignedBitfieldOverflow`, the same for signed fields.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits >= 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                (c | mask) as i64
            } else {
                (c & !mask) as i64
            }
        } else {
            c as i64
        }
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        Some(if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        Some(if ow == Overflow::Sat { min } else { wrap() })
    } else {
        None
    }
}

/// Runs one SET or INCRBY on `s` (long enough for it): the reply, nil when OVERFLOW FAIL
/// refused it.
fn apply_field(s: &mut [u8], f: &Field) -> Reply {
    let (value, incr, is_set) = match f.op {
        FieldOp::Set(v) => (v, 0, true),
        FieldOp::IncrBy(v) => (v, v, false),
        FieldOp::Get => return get_field(s, f),
    };
    if f.signed {
        let old = get_signed(s, f.offset, f.bits);
        let (new, over) = if is_set {
            match signed_overflow(value, 0, f.bits, f.overflow) {
                Some(w) => (w, true),
                None => (value, false),
            }
        } else {
            match signed_overflow(old, incr, f.bits, f.overflow) {
                Some(w) => (w, true),
                None => (old.wrapping_add(incr), false),
            }
        };
        if over && f.overflow == Overflow::Fail {
            return Reply::Null;
        }
        set_unsigned(s, f.offset, f.bits, new as u64);
        Reply::Int(if is_set { old } else { new })
    } else {
        let old = get_unsigned(s, f.offset, f.bits);
        let (new, over) = if is_set {
            match unsigned_overflow(value as u64, 0, f.bits, f.overflow) {
                Some(w) => (w, true),
                None => (value as u64, false),
            }
        } else {
            match unsigned_overflow(old, incr, f.bits, f.overflow) {
                Some(w) => (w, true),
                None => (old.wrapping_add(incr as u64), false),
            }
        };
        if over && f.overflow == Overflow::Fail {
            return Reply::Null;
        }
        set_unsigned(s, f.offset, f.bits, new);
        Reply::Int((if is_set { old } else { new }) as i64)
    }
}

fn get_field(s: &[u8], f: &Field) -> Reply {
    Reply::Int(if f.signed {
        get_signed(s, f.offset, f.bits)
    } else {
        get_unsigned(s, f.offset, f.bits) as i64
    })
}

fn bitfield_generic(ctx: &mut Ctx<'_>, read_only: bool) -> CmdResult {
    let fields = parse_fields(ctx)?;
    let key = ctx.args[1].clone();
    let highest = fields
        .iter()
        .filter(|f| !matches!(f.op, FieldOp::Get))
        .map(|f| f.offset + f.bits as u64 - 1)
        .max();
    let Some(highest) = highest else {
        let s = read_str(ctx, &key)?.unwrap_or_default();
        return Ok(Reply::Array(
            fields.iter().map(|f| get_field(&s, f)).collect(),
        ));
    };
    if read_only {
        return Err(OpError::other(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let replies: Vec<Reply> = with_bits(ctx, &key, highest, |s| {
        fields.iter().map(|f| apply_field(s, f)).collect()
    })?;
    // A write refused by OVERFLOW FAIL (a nil) changes nothing.
    let changed = fields
        .iter()
        .zip(&replies)
        .any(|(f, r)| !matches!(f.op, FieldOp::Get) && *r != Reply::Null);
    if changed {
        ctx.notify(notify::STRING, "setbit", &key);
    }
    Ok(Reply::Array(replies))
}

fn bitfield(ctx: &mut Ctx<'_>) -> CmdResult {
    bitfield_generic(ctx, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>) -> CmdResult {
    bitfield_generic(ctx, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_ranges_clamp_like_redis() {
        assert_eq!(bit_range(0, -1, false, 3), Some((0, 23)));
        assert_eq!(bit_range(1, 1, false, 3), Some((8, 15)));
        assert_eq!(bit_range(5, 100, true, 1), Some((5, 7)));
        assert_eq!(bit_range(-100, -1, true, 1), Some((0, 7)));
        assert_eq!(bit_range(2, 1, false, 3), None);
        assert_eq!(bit_range(0, -1, false, 0), None);
    }

    #[test]
    fn count_and_find_respect_the_edges() {
        let s = [0b1111_0000u8, 0b0000_1111];
        assert_eq!(count_bits(&s, 0, 15), 8);
        assert_eq!(count_bits(&s, 2, 13), 4);
        assert_eq!(find_bit(&s, 4, 15, true), Some(12));
        assert_eq!(find_bit(&s, 0, 15, false), Some(4));
        assert_eq!(find_bit(&s, 12, 15, false), None);
    }

    #[test]
    fn bitfield_overflow_rules() {
        assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Wrap), Some(0));
        assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Wrap), Some(255));
        assert_eq!(unsigned_overflow(3, 4, 8, Overflow::Wrap), None);
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_overflow(-128, -1, 8, Overflow::Sat), Some(-128));
        assert_eq!(
            signed_overflow(i64::MAX, 1, 64, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(
            signed_overflow(i64::MIN, -1, 64, Overflow::Sat),
            Some(i64::MIN)
        );
        assert_eq!(signed_overflow(5, -10, 64, Overflow::Sat), None);
    }

    #[test]
    fn bitfield_reads_and_writes_msb_first() {
        let mut s = vec![0u8; 2];
        set_unsigned(&mut s, 4, 8, 0xab);
        assert_eq!(s, vec![0x0a, 0xb0]);
        assert_eq!(get_unsigned(&s, 4, 8), 0xab);
        assert_eq!(get_signed(&s, 4, 8), 0xab_u8 as i8 as i64);
        assert_eq!(get_unsigned(&s, 12, 8), 0);
    }
}
