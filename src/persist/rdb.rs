//! RDB objects (Redis's `rdb.c`, RDB version 10 = Redis 7.0): lengths, string objects and the
//! value types, read into and written from [`RdbValue`], a neutral form that knows nothing of the
//! keyspace ([`super::value`] binds it to [`Value`](crate::keyspace::Value)).
//!
//! Written as Redis 7.0 writes them: strings (integer-encoded when short and canonical, never
//! compressed), lists as `LIST_QUICKLIST_2` with listpack nodes of at most 8 KiB, sets as
//! `SET_INTSET` or `SET`, hashes as `HASH_LISTPACK` or `HASH`, sorted sets as `ZSET_LISTPACK` or
//! `ZSET_2`, streams as `STREAM_LISTPACKS_2` ([`super::stream`]). Read besides: LZF-compressed
//! strings, plain `LIST`, `LIST_ZIPLIST` and `LIST_QUICKLIST` (ziplist nodes), `HASH_ZIPLIST`,
//! `ZSET` (scores as text), `ZSET_ZIPLIST`, Redis 7.2's `SET_LISTPACK` and the other stream
//! types (15, 21). Modules and the pre-2.6 zipmap are refused by name.
//!
//! Lengths are Redis's variable encoding: `00xxxxxx` (6 bits), `01xxxxxx xxxxxxxx` (14 bits,
//! big-endian), `0x80` + u32 BE, `0x81` + u64 BE; `11xxxxxx` marks a string stored specially:
//! 0, 1, 2 = an 8, 16, 32-bit little-endian integer, 3 = LZF (compressed length, length, data).

use std::borrow::Cow;
use std::collections::HashSet;

use bytes::Bytes;

use super::listpack::{self, Entry};
use super::reader::capacity;
use super::{intset, lzf, ziplist, Error, Reader, Result};
use crate::keyspace::StreamValue;
use crate::resp::parse_i64;

pub use super::value::{decode_value, encode_value};

/// The RDB version Ferrite writes (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;

/// Declares an enum of wire values that keeps the ones it does not know (STYLE 3).
macro_rules! enum_with_unknown {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $value:expr,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            Unknown(u8),
        }

        impl From<u8> for $name {
            fn from(v: u8) -> $name {
                match v {
                    $($value => $name::$variant,)+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(t: $name) -> u8 {
                match t {
                    $($name::$variant => $value,)+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

enum_with_unknown! {
    /// The type byte before an RDB object (`RDB_TYPE_*`).
    pub enum ObjectType {
        String = 0,
        List = 1,
        Set = 2,
        ZSet = 3,
        Hash = 4,
        ZSet2 = 5,
        Module = 6,
        Module2 = 7,
        HashZipmap = 9,
        ListZiplist = 10,
        SetIntset = 11,
        ZSetZiplist = 12,
        HashZiplist = 13,
        ListQuicklist = 14,
        StreamListpacks = 15,
        HashListpack = 16,
        ZSetListpack = 17,
        ListQuicklist2 = 18,
        StreamListpacks2 = 19,
        SetListpack = 20,
        StreamListpacks3 = 21,
    }
}

/// A decoded RDB object. Collections are never empty, and never hold a member or field twice.
#[derive(Clone, Debug, PartialEq)]
pub enum RdbValue {
    String(Bytes),
    List(Vec<Bytes>),
    /// A set of integers, strictly ascending, as an intset of elements `width` bytes wide.
    IntSet {
        width: usize,
        values: Vec<i64>,
    },
    Set(Vec<Bytes>),
    Hash(Vec<(Bytes, Bytes)>),
    /// Members with their scores, in no particular order; no score is NaN.
    ZSet(Vec<(Bytes, f64)>),
    /// A stream, decoded straight into the keyspace's form ([`super::stream`] checks it): its
    /// node layout and consumer groups have no simpler neutral form.
    Stream(Box<StreamValue>),
}

// ---- lengths and strings ----------------------------------------------------------------------

const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;
const LEN_SPECIAL: u8 = 3;
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Quicklist node containers (`QUICKLIST_NODE_CONTAINER_*`).
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// Redis 7.0's defaults: `list-max-listpack-size -2` (8 KiB nodes), the element size from which
/// a list element gets a plain node of its own (`packed_threshold`, 1 GiB), and
/// `zset-max-listpack-entries` / `zset-max-listpack-value`.
const LIST_NODE_BYTES: usize = 8 << 10;
const LIST_PLAIN_THRESHOLD: usize = 1 << 30;
const ZSET_LISTPACK_ENTRIES: usize = 128;
const ZSET_LISTPACK_VALUE: usize = 64;

/// A length, or the special string encoding that stands where a length would be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    Plain(u64),
    Special(u8),
}

pub fn read_len_or_special(r: &mut Reader<'_>) -> Result<Len> {
    let b = r.u8()?;
    Ok(match (b >> 6, b) {
        (LEN_6BIT, _) => Len::Plain((b & 0x3f) as u64),
        (LEN_14BIT, _) => Len::Plain((((b & 0x3f) as u64) << 8) | r.u8()? as u64),
        (_, LEN_32BIT) => Len::Plain(r.u32_be()? as u64),
        (_, LEN_64BIT) => Len::Plain(r.u64_be()?),
        (LEN_SPECIAL, _) => Len::Special(b & 0x3f),
        _ => return Err(Error::BadEncoding(b)),
    })
}

/// A length where only a plain length may stand.
pub fn read_len(r: &mut Reader<'_>) -> Result<u64> {
    match read_len_or_special(r)? {
        Len::Plain(n) => Ok(n),
        Len::Special(e) => Err(Error::BadEncoding(0xc0 | e)),
    }
}

/// An element count, each element taking at least `min_size` bytes: a count the input left
/// cannot hold is refused before anything is allocated for it.
pub fn read_count(r: &mut Reader<'_>, min_size: u64) -> Result<u64> {
    let n = read_len(r)?;
    if n.checked_mul(min_size)
        .is_none_or(|need| need > r.remaining() as u64)
    {
        return Err(Error::BadLength);
    }
    Ok(n)
}

/// A string object: borrowed from the input when stored raw, owned when it was an integer or
/// LZF-compressed.
pub fn read_string<'a>(r: &mut Reader<'a>) -> Result<Cow<'a, [u8]>> {
    match read_len_or_special(r)? {
        Len::Plain(n) => Ok(Cow::Borrowed(r.bytes_len(n)?)),
        Len::Special(ENC_INT8) => Ok(int_string(r.u8()? as i8 as i64)),
        Len::Special(ENC_INT16) => Ok(int_string(r.i16_le()? as i64)),
        Len::Special(ENC_INT32) => Ok(int_string(r.i32_le()? as i64)),
        Len::Special(ENC_LZF) => {
            let clen = read_len(r)?;
            let len = read_len(r)?;
            let data = r.bytes_len(clen)?;
            let len = usize::try_from(len).map_err(|_| Error::BadLength)?;
            if len == 0 {
                return Err(Error::BadLzf);
            }
            lzf::decompress(data, len).map(Cow::Owned)
        }
        Len::Special(e) => Err(Error::BadEncoding(0xc0 | e)),
    }
}

fn int_string(n: i64) -> Cow<'static, [u8]> {
    Cow::Owned(n.to_string().into_bytes())
}

fn to_bytes(s: Cow<'_, [u8]>) -> Bytes {
    match s {
        Cow::Borrowed(b) => Bytes::copy_from_slice(b),
        Cow::Owned(v) => Bytes::from(v),
    }
}

fn read_bytes(r: &mut Reader<'_>) -> Result<Bytes> {
    read_string(r).map(to_bytes)
}

pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.extend_from_slice(&[(LEN_14BIT << 6) | (len >> 8) as u8, len as u8]);
    } else if let Ok(n) = u32::try_from(len) {
        out.push(LEN_32BIT);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// A string object as Redis's `rdbSaveRawString` writes it with compression off: an integer
/// encoding when the string is a canonical decimal that fits 32 bits, raw otherwise.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(n) = parse_i64(s) {
            if let Ok(n) = i8::try_from(n) {
                out.extend_from_slice(&[0xc0 | ENC_INT8, n as u8]);
                return;
            }
            if let Ok(n) = i16::try_from(n) {
                out.push(0xc0 | ENC_INT16);
                out.extend_from_slice(&n.to_le_bytes());
                return;
            }
            if let Ok(n) = i32::try_from(n) {
                out.push(0xc0 | ENC_INT32);
                out.extend_from_slice(&n.to_le_bytes());
                return;
            }
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

// ---- reading objects --------------------------------------------------------------------------

/// Reads the object of type `ty` (its type byte already read).
pub fn read_object(r: &mut Reader<'_>, ty: ObjectType) -> Result<RdbValue> {
    let value = match ty {
        ObjectType::String => RdbValue::String(read_bytes(r)?),
        ObjectType::List => {
            let n = read_count(r, 1)?;
            let mut items = Vec::with_capacity(capacity(n, r.remaining(), 1));
            for _ in 0..n {
                items.push(read_bytes(r)?);
            }
            RdbValue::List(items)
        }
        ObjectType::ListZiplist => {
            let blob = read_string(r)?;
            RdbValue::List(
                ziplist::decode(&blob)?
                    .iter()
                    .map(Entry::to_bytes)
                    .collect(),
            )
        }
        ObjectType::ListQuicklist | ObjectType::ListQuicklist2 => read_quicklist(r, ty)?,
        ObjectType::Set => {
            let n = read_count(r, 1)?;
            let mut members = Vec::with_capacity(capacity(n, r.remaining(), 1));
            for _ in 0..n {
                members.push(read_bytes(r)?);
            }
            RdbValue::Set(members)
        }
        ObjectType::SetIntset => {
            let (width, values) = intset::decode(&read_string(r)?)?;
            RdbValue::IntSet { width, values }
        }
        ObjectType::SetListpack => {
            let blob = read_string(r)?;
            RdbValue::Set(
                listpack::decode(&blob)?
                    .iter()
                    .map(Entry::to_bytes)
                    .collect(),
            )
        }
        ObjectType::Hash => {
            let n = read_count(r, 2)?;
            let mut pairs = Vec::with_capacity(capacity(n, r.remaining(), 2));
            for _ in 0..n {
                pairs.push((read_bytes(r)?, read_bytes(r)?));
            }
            RdbValue::Hash(pairs)
        }
        ObjectType::HashZiplist | ObjectType::HashListpack => {
            let blob = read_string(r)?;
            let entries = if ty == ObjectType::HashZiplist {
                ziplist::decode(&blob)?
            } else {
                listpack::decode(&blob)?
            };
            let pairs = in_pairs(&entries)?
                .map(|(f, v)| (f.to_bytes(), v.to_bytes()))
                .collect();
            RdbValue::Hash(pairs)
        }
        ObjectType::ZSet | ObjectType::ZSet2 => {
            // A member takes at least one byte, a score at least one (text) or eight (binary).
            let n = read_count(r, if ty == ObjectType::ZSet { 2 } else { 9 })?;
            let mut pairs = Vec::with_capacity(capacity(n, r.remaining(), 2));
            for _ in 0..n {
                let member = read_bytes(r)?;
                let score = if ty == ObjectType::ZSet {
                    read_text_double(r)?
                } else {
                    r.f64_le()?
                };
                if score.is_nan() {
                    return Err(Error::BadScore);
                }
                pairs.push((member, score));
            }
            RdbValue::ZSet(pairs)
        }
        ObjectType::ZSetZiplist | ObjectType::ZSetListpack => {
            let blob = read_string(r)?;
            let entries = if ty == ObjectType::ZSetZiplist {
                ziplist::decode(&blob)?
            } else {
                listpack::decode(&blob)?
            };
            let pairs = in_pairs(&entries)?
                .map(|(m, score)| Ok((m.to_bytes(), entry_score(score)?)))
                .collect::<Result<_>>()?;
            RdbValue::ZSet(pairs)
        }
        ObjectType::Module | ObjectType::Module2 => return Err(Error::Unsupported("module")),
        ObjectType::StreamListpacks
        | ObjectType::StreamListpacks2
        | ObjectType::StreamListpacks3 => {
            RdbValue::Stream(Box::new(super::stream::read_stream(r, ty)?))
        }
        ObjectType::HashZipmap => return Err(Error::Unsupported("zipmap (pre-2.6) hash")),
        ObjectType::Unknown(t) => return Err(Error::UnknownType(t)),
    };
    check(&value)?;
    Ok(value)
}

fn read_quicklist(r: &mut Reader<'_>, ty: ObjectType) -> Result<RdbValue> {
    let nodes = read_count(r, 1)?;
    let mut items = Vec::new();
    for _ in 0..nodes {
        let container = if ty == ObjectType::ListQuicklist2 {
            read_len(r)?
        } else {
            CONTAINER_PACKED
        };
        let blob = read_string(r)?;
        match container {
            CONTAINER_PLAIN => items.push(to_bytes(blob)),
            CONTAINER_PACKED => {
                let entries = if ty == ObjectType::ListQuicklist {
                    ziplist::decode(&blob)?
                } else {
                    listpack::decode(&blob)?
                };
                // Redis skips empty nodes too; an empty list is refused below.
                items.extend(entries.iter().map(Entry::to_bytes));
            }
            other => return Err(Error::BadContainer(other)),
        }
    }
    Ok(RdbValue::List(items))
}

/// The entries of a listpack or ziplist two by two (field and value, member and score).
fn in_pairs<'e, 'a>(
    entries: &'e [Entry<'a>],
) -> Result<impl Iterator<Item = (&'e Entry<'a>, &'e Entry<'a>)>> {
    if entries.len() % 2 != 0 {
        return Err(Error::Unpaired);
    }
    Ok(entries.chunks_exact(2).filter_map(|p| match p {
        [a, b] => Some((a, b)),
        _ => None,
    }))
}

/// A score stored as text (`RDB_TYPE_ZSET`): a length byte, with 253, 254, 255 standing for
/// NaN, +inf and -inf.
fn read_text_double(r: &mut Reader<'_>) -> Result<f64> {
    match r.u8()? {
        253 => Ok(f64::NAN),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        len => parse_score(r.bytes(len as usize)?),
    }
}

/// A score as a listpack or ziplist stores it: an integer, or text Redis wrote with `%.17g`.
fn entry_score(e: &Entry<'_>) -> Result<f64> {
    let score = match *e {
        Entry::Int(n) => n as f64,
        Entry::Str(s) => parse_score(s)?,
    };
    if score.is_nan() {
        return Err(Error::BadScore);
    }
    Ok(score)
}

fn parse_score(s: &[u8]) -> Result<f64> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or(Error::BadScore)
}

/// The invariants of [`RdbValue`]: no empty collection, no member or field twice.
fn check(value: &RdbValue) -> Result<()> {
    fn unique<'a>(n: usize, keys: impl Iterator<Item = &'a [u8]>) -> Result<()> {
        if n == 0 {
            return Err(Error::Empty);
        }
        let mut seen = HashSet::with_capacity(n);
        for k in keys {
            if !seen.insert(k) {
                return Err(Error::Duplicate);
            }
        }
        Ok(())
    }
    match value {
        RdbValue::String(_) => Ok(()),
        RdbValue::List(items) if items.is_empty() => Err(Error::Empty),
        RdbValue::List(_) | RdbValue::IntSet { .. } | RdbValue::Stream(_) => Ok(()),
        RdbValue::Set(m) => unique(m.len(), m.iter().map(|b| &b[..])),
        RdbValue::Hash(p) => unique(p.len(), p.iter().map(|(f, _)| &f[..])),
        RdbValue::ZSet(p) => unique(p.len(), p.iter().map(|(m, _)| &m[..])),
    }
}

// ---- writing objects --------------------------------------------------------------------------

/// A string value.
pub fn write_string_object(out: &mut Vec<u8>, s: &[u8]) {
    out.push(ObjectType::String.into());
    write_string(out, s);
}

/// A list, as `LIST_QUICKLIST_2`: listpack nodes of up to 8 KiB (a longer element gets a node
/// to itself), and a plain node for an element of 1 GiB or more, as Redis 7.0 cuts them.
pub fn write_list<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a [u8]>) {
    enum Node<'a> {
        Plain(&'a [u8]),
        Packed(Vec<u8>),
    }
    let mut nodes = Vec::new();
    let mut current = listpack::Writer::new();
    for item in items {
        if item.len() >= LIST_PLAIN_THRESHOLD {
            if current.count() > 0 {
                nodes.push(Node::Packed(std::mem::take(&mut current).finish()));
            }
            nodes.push(Node::Plain(item));
            continue;
        }
        // Redis's `_quicklistNodeAllowInsert`: node bytes + element length + 8 within the limit.
        if current.count() > 0 && current.size() + item.len() + 8 > LIST_NODE_BYTES {
            nodes.push(Node::Packed(std::mem::take(&mut current).finish()));
        }
        current.push(item);
    }
    if current.count() > 0 {
        nodes.push(Node::Packed(current.finish()));
    }
    out.push(ObjectType::ListQuicklist2.into());
    write_len(out, nodes.len() as u64);
    for node in &nodes {
        match node {
            Node::Plain(item) => {
                write_len(out, CONTAINER_PLAIN);
                write_string(out, item);
            }
            Node::Packed(lp) => {
                write_len(out, CONTAINER_PACKED);
                write_string(out, lp);
            }
        }
    }
}

/// An all-integer set as `SET_INTSET`: `count` strictly ascending elements of `width` bytes,
/// little-endian, in `body`.
pub fn write_intset(out: &mut Vec<u8>, width: usize, count: usize, body: &[u8]) {
    out.push(ObjectType::SetIntset.into());
    write_string(out, &intset::encode_raw(width, count, body));
}

/// A set as `SET`: its size, then its members.
pub fn write_set<'a>(out: &mut Vec<u8>, len: usize, members: impl IntoIterator<Item = &'a [u8]>) {
    out.push(ObjectType::Set.into());
    write_len(out, len as u64);
    for m in members {
        write_string(out, m);
    }
}

/// A small hash as `HASH_LISTPACK`: field, value, field, value, ...
pub fn write_hash_listpack<'a>(
    out: &mut Vec<u8>,
    pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) {
    let mut lp = listpack::Writer::new();
    for (f, v) in pairs {
        lp.push(f);
        lp.push(v);
    }
    out.push(ObjectType::HashListpack.into());
    write_string(out, &lp.finish());
}

/// A hash as `HASH`: its size, then field, value, field, value, ...
pub fn write_hash<'a>(
    out: &mut Vec<u8>,
    len: usize,
    pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) {
    out.push(ObjectType::Hash.into());
    write_len(out, len as u64);
    for (f, v) in pairs {
        write_string(out, f);
        write_string(out, v);
    }
}

/// A small sorted set as `ZSET_LISTPACK`: member, score, member, score, ... in ascending
/// (score, member) order, which `pairs` must already follow (Redis relies on it).
pub fn write_zset_listpack<'a>(
    out: &mut Vec<u8>,
    pairs: impl IntoIterator<Item = (&'a [u8], f64)>,
) {
    let mut lp = listpack::Writer::new();
    for (m, score) in pairs {
        lp.push(m);
        lp.push(score_text(score).as_bytes());
    }
    out.push(ObjectType::ZSetListpack.into());
    write_string(out, &lp.finish());
}

/// A sorted set as `ZSET_2`: its size, then member and binary score pairs. Redis writes them
/// from the highest to the lowest; any order loads.
pub fn write_zset_skiplist<'a>(
    out: &mut Vec<u8>,
    len: usize,
    pairs: impl IntoIterator<Item = (&'a [u8], f64)>,
) {
    out.push(ObjectType::ZSet2.into());
    write_len(out, len as u64);
    for (m, score) in pairs {
        write_string(out, m);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// A sorted set in the neutral form, in the encoding Redis 7.0 would give it at its default
/// limits: `ZSET_LISTPACK` up to 128 members of up to 64 bytes, `ZSET_2` beyond.
pub fn write_zset(out: &mut Vec<u8>, pairs: &[(Bytes, f64)]) {
    let mut sorted: Vec<(&[u8], f64)> = pairs.iter().map(|(m, s)| (&m[..], *s)).collect();
    sorted.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(b.0))
    });
    let small = sorted.len() <= ZSET_LISTPACK_ENTRIES
        && sorted.iter().all(|(m, _)| m.len() <= ZSET_LISTPACK_VALUE);
    if small {
        write_zset_listpack(out, sorted);
    } else {
        write_zset_skiplist(out, sorted.len(), sorted.into_iter().rev());
    }
}

/// A score as listpack text, as Redis 7.0's `d2string` writes it: an integral score above -2^52
/// and below 2^52 in decimal (which the listpack then stores as an integer), "inf", "-inf",
/// "0", "-0", and anything else with C's `%.17g`.
pub fn score_text(score: f64) -> String {
    const LIMIT: f64 = 4_503_599_627_370_496.0; // 2^52
    if score.is_nan() {
        return "nan".to_string();
    }
    if score.is_infinite() {
        return if score > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if score == 0.0 {
        return if score.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    if score > -(LIMIT - 1.0) && score < LIMIT && score.fract() == 0.0 {
        return (score as i64).to_string();
    }
    format_g17(score)
}

/// C's `printf("%.17g", v)` for a finite, non-zero `v`: 17 significant digits, trailing zeros
/// dropped, exponent form when the exponent is below -4 or above 16.
fn format_g17(v: f64) -> String {
    // Rust rounds `{:.16e}` exactly, as glibc does: "d.dddddddddddddddde<exp>".
    let sci = format!("{v:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if v < 0.0 { "-" } else { "" };
    let all: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = all.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if !(-4..17).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.unsigned_abs())
    } else if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
        } else {
            let (int, frac) = digits.split_at(int_len);
            format!("{sign}{int}.{frac}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(bytes: &[u8]) -> Result<RdbValue> {
        let mut r = Reader::new(bytes);
        let ty = ObjectType::from(r.u8()?);
        let v = read_object(&mut r, ty)?;
        if !r.is_empty() {
            return Err(Error::TrailingBytes);
        }
        Ok(v)
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn lengths_in_every_width() {
        for (n, enc) in [
            (0u64, &[0x00][..]),
            (63, &[0x3f]),
            (64, &[0x40, 0x40]),
            (16383, &[0x7f, 0xff]),
            (16384, &[0x80, 0, 0, 0x40, 0]),
            (u32::MAX as u64, &[0x80, 0xff, 0xff, 0xff, 0xff]),
            (1 << 32, &[0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
        ] {
            let mut out = Vec::new();
            write_len(&mut out, n);
            assert_eq!(out, enc, "{n}");
            assert_eq!(read_len(&mut Reader::new(enc)), Ok(n));
        }
        assert_eq!(
            read_len(&mut Reader::new(&[0xc0, 1])),
            Err(Error::BadEncoding(0xc0))
        );
        assert_eq!(
            read_len(&mut Reader::new(&[0x82])),
            Err(Error::BadEncoding(0x82))
        );
    }

    #[test]
    fn strings_as_redis_wrote_them() {
        // DUMP bodies from redis-server 7.0.15.
        assert_eq!(
            object(&[0x00, 0x05, b'h', b'e', b'l', b'l', b'o']),
            Ok(RdbValue::String(b("hello")))
        );
        assert_eq!(
            object(&[0x00, 0xc1, 0x39, 0x30]),
            Ok(RdbValue::String(b("12345")))
        );
        assert_eq!(
            object(&[0x00, 0xc1, 0xd4, 0xfe]),
            Ok(RdbValue::String(b("-300")))
        );
        let lzf = [
            0x00, 0xc3, 0x09, 0x40, 0x64, 0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61,
        ];
        assert_eq!(
            object(&lzf),
            Ok(RdbValue::String(Bytes::from(vec![b'a'; 100])))
        );
        // And written the same way (integers encoded, short strings raw).
        for (s, want) in [
            ("12345", &[0x00, 0xc1, 0x39, 0x30][..]),
            ("-300", &[0x00, 0xc1, 0xd4, 0xfe]),
            ("7", &[0x00, 0xc0, 0x07]),
            ("-2147483648", &[0x00, 0xc2, 0, 0, 0, 0x80]),
            (
                "2147483648",
                &[
                    0x00, 0x0a, b'2', b'1', b'4', b'7', b'4', b'8', b'3', b'6', b'4', b'8',
                ],
            ),
            ("007", &[0x00, 0x03, b'0', b'0', b'7']),
        ] {
            let mut out = Vec::new();
            write_string_object(&mut out, s.as_bytes());
            assert_eq!(out, want, "{s}");
            assert_eq!(object(&out), Ok(RdbValue::String(b(s))));
        }
    }

    #[test]
    fn collections_as_redis_wrote_them() {
        // RPUSH l1 a 1 -5000 "hello world" 1099511627776 300
        let list = [
            0x12, 0x01, 0x02, 0x2a, 0x2a, 0x00, 0x00, 0x00, 0x06, 0x00, 0x81, 0x61, 0x02, 0x01,
            0x01, 0xf1, 0x78, 0xec, 0x03, 0x8b, b'h', b'e', b'l', b'l', b'o', b' ', b'w', b'o',
            b'r', b'l', b'd', 0x0c, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x09,
            0xc1, 0x2c, 0x02, 0xff,
        ];
        let items = ["a", "1", "-5000", "hello world", "1099511627776", "300"];
        assert_eq!(
            object(&list),
            Ok(RdbValue::List(items.iter().map(|s| b(s)).collect()))
        );
        let mut out = Vec::new();
        write_list(&mut out, items.iter().map(|s| s.as_bytes()));
        assert_eq!(out, list);
        // SADD si 1 2 3 70000
        let intset = [
            0x0b, 0x18, 0x04, 0, 0, 0, 0x04, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x70,
            0x11, 0x01, 0,
        ];
        assert_eq!(
            object(&intset),
            Ok(RdbValue::IntSet {
                width: 4,
                values: vec![1, 2, 3, 70000]
            })
        );
        // SADD ss a b (a hashtable set)
        assert_eq!(
            object(&[0x02, 0x02, 0x01, b'b', 0x01, b'a']),
            Ok(RdbValue::Set(vec![b("b"), b("a")]))
        );
        // HSET h1 f v n 12
        let hash = [
            0x10, 0x12, 0x12, 0, 0, 0, 0x04, 0, 0x81, b'f', 0x02, 0x81, b'v', 0x02, 0x81, b'n',
            0x02, 0x0c, 0x01, 0xff,
        ];
        let pairs = vec![(b("f"), b("v")), (b("n"), b("12"))];
        assert_eq!(object(&hash), Ok(RdbValue::Hash(pairs.clone())));
        let mut out = Vec::new();
        write_hash_listpack(&mut out, pairs.iter().map(|(f, v)| (&f[..], &v[..])));
        assert_eq!(out, hash);
        // ZADD z1 1 a 2.5 b
        let zset = [
            0x11, 0x14, 0x14, 0, 0, 0, 0x04, 0, 0x81, b'a', 0x02, 0x01, 0x01, 0x81, b'b', 0x02,
            0x83, b'2', b'.', b'5', 0x04, 0xff,
        ];
        let pairs = vec![(b("a"), 1.0), (b("b"), 2.5)];
        assert_eq!(object(&zset), Ok(RdbValue::ZSet(pairs.clone())));
        let mut out = Vec::new();
        write_zset(&mut out, &[(b("b"), 2.5), (b("a"), 1.0)]);
        assert_eq!(out, zset);
    }

    #[test]
    fn big_collections_use_the_big_encodings() {
        let items: Vec<Bytes> = (0..3000)
            .map(|i| Bytes::from(format!("element-{i}")))
            .collect();
        let mut out = Vec::new();
        write_list(&mut out, items.iter().map(|b| &b[..]));
        let mut r = Reader::new(&out);
        assert_eq!(r.u8(), Ok(18));
        let nodes = read_len(&mut r).unwrap();
        assert!(nodes > 3, "{nodes} nodes");
        assert_eq!(object(&out), Ok(RdbValue::List(items.clone())));

        let pairs: Vec<(Bytes, f64)> = (0..200)
            .map(|i| (Bytes::from(format!("m{i}")), i as f64 / 3.0))
            .collect();
        let mut out = Vec::new();
        write_zset(&mut out, &pairs);
        assert_eq!(out[0], 5);
        let Ok(RdbValue::ZSet(mut got)) = object(&out) else {
            panic!()
        };
        got.sort_by(|a, b| a.1.total_cmp(&b.1));
        assert_eq!(got, pairs);
    }

    #[test]
    fn refuses_what_redis_refuses() {
        assert_eq!(
            object(&[0x02, 0x02, 0x01, b'a', 0x01, b'a']),
            Err(Error::Duplicate)
        );
        assert_eq!(object(&[0x02, 0x00]), Err(Error::Empty));
        assert_eq!(object(&[0x01, 0x00]), Err(Error::Empty));
        assert_eq!(
            object(&[0x04, 0x02, 0x01, b'a', 0x01, b'b']),
            Err(Error::Truncated)
        );
        assert_eq!(
            object(&[0x04, 0x03, 0x01, b'a', 0x01, b'b']),
            Err(Error::BadLength)
        );
        let mut nan = vec![0x05, 0x01, 0x01, b'a'];
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(object(&nan), Err(Error::BadScore));
        assert_eq!(
            object(&[0x12, 0x01, 0x03, 0x00]),
            Err(Error::BadContainer(3))
        );
        let mut odd = vec![u8::from(ObjectType::HashListpack)];
        write_string(&mut odd, &listpack::encode([&b"f"[..], b"v", b"g"]));
        assert_eq!(object(&odd), Err(Error::Unpaired));
        assert_eq!(object(&[0x0f, 0x00]), Err(Error::Truncated));
        assert_eq!(object(&[0x06, 0x00]), Err(Error::Unsupported("module")));
        assert_eq!(object(&[0x63, 0x00]), Err(Error::UnknownType(0x63)));
        // A count far beyond the input is refused before allocating.
        assert_eq!(
            object(&[0x01, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(Error::BadLength)
        );
        // LZF claiming a length its data cannot produce.
        assert_eq!(
            object(&[0x00, 0xc3, 0x01, 0x80, 0x10, 0, 0, 0, 0x00]),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn score_text_is_d2string() {
        for (s, text) in [
            (3.0, "3"),
            (-3.0, "-3"),
            (2.5, "2.5"),
            (0.1, "0.10000000000000001"),
            (-0.1, "-0.10000000000000001"),
            (1.0 / 3.0, "0.33333333333333331"),
            (1e300, "1.0000000000000001e+300"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (123456.789, "123456.789"),
            (4503599627370496.0, "4503599627370496"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (1.5e17, "1.5e+17"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
            (-0.0, "-0"),
            (0.0, "0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(score_text(s), text, "{s:e}");
            let back: f64 = text.parse().unwrap();
            assert_eq!(back.to_bits(), s.to_bits(), "{s} as {text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn score_text_reads_back(bits in proptest::prelude::any::<u64>()) {
            let s = f64::from_bits(bits);
            if !s.is_nan() {
                let back: f64 = score_text(s).parse().unwrap();
                proptest::prop_assert_eq!(back.to_bits(), s.to_bits());
            }
        }
    }
}
