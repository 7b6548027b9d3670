//! SORT and SORT_RO (Redis 7.0's `sort.c`): sorting a list, set or sorted set numerically or
//! by bytes, by its elements or by keys its BY pattern names, with GET, LIMIT and STORE.
//!
//! BY and GET patterns name keys that are known only once the source is read, and those keys
//! may live on any shard, so both commands run as a plan from the connection's shard
//! (`Run::Conn`):
//! - when no pattern reads another key (no BY, a BY without `*`, `GET #`), the plan locks only
//!   the source and the destination;
//! - otherwise it locks every shard (`Lock::All`, as KEYS does), so the referenced keys cannot
//!   change between hops.
//!
//! Hops: read the source; fetch the BY values (only when sorting by a pattern); fetch the GET
//! values of the output range; for STORE, write the destination. Intents are held from
//! scheduling until the last hop, so the command is atomic like in Redis. A plan of SORT
//! (a WRITE command) is journaled and breaks WATCHes through the runtime; its read hops turn
//! key recording off so reading changes nothing for the log or the watchers.

use std::cmp::Ordering;
use std::collections::VecDeque;

use bytes::Bytes;

use super::{
    is_opt, spec, BeginSearch, CommandSpec, ConnCtx, FindKeys, Group, KeyRange, KeySpec, OpError,
    Run,
};
use crate::flags;
use crate::keyspace::{notify, Entry, Value};
use crate::resp::{parse_i64, Reply};
use crate::shard::txn::by_shard;
use crate::shard::{HopOut, Lock, Shard, ShardOp, Step};
use crate::slot::key_shard;

/// SORT's keys: the source, and the key after the last `STORE` (searched backwards, so the last
/// STORE wins as in Redis's `sortGetKeys`).
const SORT_KEYS: &[KeyRange] = &[
    KeyRange {
        begin: BeginSearch::Index(1),
        find: FindKeys::ONE,
    },
    KeyRange {
        begin: BeginSearch::Keyword {
            keyword: "STORE",
            startfrom: -2,
        },
        find: FindKeys::ONE,
    },
];

pub static COMMANDS: &[CommandSpec] = &[
    // Routing may over-count (every argument may be the destination); the key specs are exact.
    spec("sort", -2, flags!(WRITE | DENYOOM), KeySpec::ALL, Group::Generic, Run::Conn(sort))
        .key_specs(SORT_KEYS)
        .doc("Sorts the elements in a list, a set, or a sorted set, optionally storing the result.", "1.0.0", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]"),
    spec("sort_ro", -2, flags!(READONLY), KeySpec::ONE, Group::Generic, Run::Conn(sort_ro))
        .doc("Returns the sorted elements of a list, a set, or a sorted set.", "7.0.0", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]"),
];

/// The parsed options of one SORT.
struct SortArgs {
    source: Bytes,
    /// The pattern to sort by; None sorts by the elements themselves.
    by: Option<Bytes>,
    /// A BY pattern without `*` was given: keep the native order. Sticky, as in Redis.
    dont_sort: bool,
    offset: i64,
    count: i64,
    gets: Vec<Bytes>,
    desc: bool,
    alpha: bool,
    store: Option<Bytes>,
}

fn sort(ctx: &mut ConnCtx<'_>) -> Result<Step, OpError> {
    run_sort(ctx, false)
}

fn sort_ro(ctx: &mut ConnCtx<'_>) -> Result<Step, OpError> {
    run_sort(ctx, true)
}

/// Redis's option parser: later options override earlier ones; STORE is unknown to SORT_RO.
fn parse(args: &[Bytes], readonly: bool) -> Result<SortArgs, OpError> {
    let source = args.get(1).ok_or(OpError::Syntax)?.clone();
    let mut out = SortArgs {
        source,
        by: None,
        dont_sort: false,
        offset: 0,
        count: -1,
        gets: Vec::new(),
        desc: false,
        alpha: false,
        store: None,
    };
    let mut i = 2;
    while let Some(opt) = args.get(i) {
        let next = args.get(i + 1);
        if is_opt(opt, "asc") {
            out.desc = false;
        } else if is_opt(opt, "desc") {
            out.desc = true;
        } else if is_opt(opt, "alpha") {
            out.alpha = true;
        } else if let (true, Some(offset), Some(count)) =
            (is_opt(opt, "limit"), next, args.get(i + 2))
        {
            out.offset = parse_i64(offset).ok_or(OpError::NotInteger)?;
            out.count = parse_i64(count).ok_or(OpError::NotInteger)?;
            i += 2;
        } else if let (false, true, Some(dest)) = (readonly, is_opt(opt, "store"), next) {
            out.store = Some(dest.clone());
            i += 1;
        } else if let (true, Some(pattern)) = (is_opt(opt, "by"), next) {
            if !c_str(pattern).contains(&b'*') {
                out.dont_sort = true;
            }
            out.by = Some(pattern.clone());
            i += 1;
        } else if let (true, Some(pattern)) = (is_opt(opt, "get"), next) {
            out.gets.push(pattern.clone());
            i += 1;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    Ok(out)
}

/// The part of `b` before its first NUL byte: what Redis's C string functions see.
fn c_str(b: &[u8]) -> &[u8] {
    b.split(|&c| c == 0).next().unwrap_or(b)
}

/// Where a pattern sends one element.
enum Lookup {
    /// A value known without reading a key (`#`: the element itself).
    Known(Bytes),
    /// A string key's value.
    Key(Bytes),
    /// A hash field (`pattern->field`).
    Field(Bytes, Bytes),
    /// Nothing (a pattern without `*`): nil.
    Nothing,
}

/// Redis's `lookupKeyByPattern`, without the lookup: the first `*` becomes the element, and a
/// `->` after it with a field name after that reads that field of a hash.
fn resolve(pattern: &[u8], element: &Bytes) -> Lookup {
    let visible = c_str(pattern);
    if visible == b"#" {
        return Lookup::Known(element.clone());
    }
    let Some(star) = visible.iter().position(|&c| c == b'*') else {
        return Lookup::Nothing;
    };
    let after = star + 1;
    let arrow = visible
        .get(after..)
        .and_then(|rest| rest.windows(2).position(|w| w == b"->"))
        .map(|p| after + p)
        .filter(|&p| visible.len() > p + 2);
    let key_end = arrow.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(key_end + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(pattern.get(after..key_end).unwrap_or_default());
    match arrow {
        Some(p) => Lookup::Field(
            Bytes::from(key),
            Bytes::copy_from_slice(pattern.get(p + 2..).unwrap_or_default()),
        ),
        None => Lookup::Key(Bytes::from(key)),
    }
}

/// What a pattern can read: a string key, or a field of a hash; anything else is nil.
fn read_lookup(entry: Option<&Entry>, field: Option<&[u8]>) -> Reply {
    let value = match (entry.map(|e| &e.value), field) {
        (Some(Value::Hash(h)), Some(f)) => h.get(f).map(Bytes::copy_from_slice),
        (Some(v), None) => v.str_bytes(),
        _ => None,
    };
    value.map_or(Reply::Null, Reply::Bulk)
}

/// One key (or hash field) a fetch reads, and where its value goes.
struct KeyRead {
    index: usize,
    key: Bytes,
    field: Option<Bytes>,
}

/// A hop that reads what `lookups` name, on the shards holding them, and hands the values in
/// the same order to `then`. Without a key to read it calls `then` at once.
fn fetch(
    lookups: Vec<Lookup>,
    db: usize,
    shards: usize,
    then: impl FnOnce(Vec<Option<Bytes>>) -> Step + 'static,
) -> Step {
    let mut values: Vec<Option<Bytes>> = Vec::with_capacity(lookups.len());
    // Per shard, what to read there.
    let mut wanted: Vec<(usize, Vec<KeyRead>)> = Vec::new();
    for (index, lookup) in lookups.into_iter().enumerate() {
        let (key, field) = match lookup {
            Lookup::Known(v) => {
                values.push(Some(v));
                continue;
            }
            Lookup::Nothing => {
                values.push(None);
                continue;
            }
            Lookup::Key(k) => (k, None),
            Lookup::Field(k, f) => (k, Some(f)),
        };
        values.push(None);
        let shard = key_shard(&key, shards);
        let read = KeyRead { index, key, field };
        match wanted.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, group)) => group.push(read),
            None => wanted.push((shard, vec![read])),
        }
    }
    if wanted.is_empty() {
        return then(values);
    }
    let mut ops: Vec<(usize, ShardOp)> = Vec::with_capacity(wanted.len());
    let mut slots: Vec<Vec<usize>> = Vec::with_capacity(wanted.len());
    for (shard, group) in wanted {
        slots.push(group.iter().map(|r| r.index).collect());
        let op: ShardOp = Box::new(move |shard: &mut Shard| {
            let now = shard.env.now;
            let replies = without_recording(shard, |shard| {
                group
                    .iter()
                    .map(|r| {
                        // Counted as a hit or miss, as Redis's `lookupKeyRead` counts them.
                        let entry = shard.ks.read(db, &r.key, now).map(|e| &*e);
                        read_lookup(entry, r.field.as_deref())
                    })
                    .collect()
            });
            HopOut::Reply(Reply::Array(replies))
        });
        ops.push((shard, op));
    }
    Step::Hop {
        locks: Vec::new(),
        ops,
        last: false,
        then: Box::new(move |outs| {
            for (indexes, out) in slots.into_iter().zip(outs) {
                let Reply::Array(replies) = out.into_reply() else {
                    continue;
                };
                for (i, reply) in indexes.into_iter().zip(replies) {
                    if let (Some(slot), Reply::Bulk(b)) = (values.get_mut(i), reply) {
                        *slot = Some(b);
                    }
                }
            }
            then(values)
        }),
    }
}

/// Runs a read on a shard without noting the keys it reaches: reading is not news for the log,
/// the watchers or the blocked clients.
fn without_recording<T>(shard: &mut Shard, read: impl FnOnce(&mut Shard) -> T) -> T {
    let recording = shard.ks.is_recording();
    shard.ks.set_recording(false);
    let out = read(shard);
    shard.ks.set_recording(recording);
    out
}

/// The source's type, for the rules that depend on it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// The elements of the source in its native order (a missing key is an empty list).
fn elements(entry: Option<Entry>) -> Result<(Kind, Vec<Bytes>), OpError> {
    let Some(entry) = entry else {
        return Ok((Kind::List, Vec::new()));
    };
    match entry.value {
        Value::List(list) => Ok((Kind::List, Vec::from(*list))),
        Value::Set(set) => Ok((Kind::Set, set.members())),
        Value::ZSet(zset) => Ok((
            Kind::ZSet,
            zset.iter()
                .map(|(m, _)| Bytes::copy_from_slice(m))
                .collect(),
        )),
        _ => Err(OpError::WrongType),
    }
}

/// One element being sorted with what it is compared by.
struct Item {
    element: Bytes,
    score: f64,
    /// ALPHA BY: the BY value (None when its key is missing; sorts first).
    by_value: Option<Bytes>,
}

/// A sort score as Redis reads one with `strtod`: leading C whitespace allowed, the whole
/// string (up to a NUL) consumed, no overflow or underflow, not NaN. The empty string is 0
/// (strtod converts nothing and stops on the terminating NUL at once).
fn parse_score(b: &[u8]) -> Option<f64> {
    let s = c_str(b);
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let text = std::str::from_utf8(s.get(start..)?).ok()?;
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = match body.get(..2) {
        Some("0x") | Some("0X") => parse_hex(&body[2..])?,
        _ => {
            // Rust takes a sign only once: a second one is not a number for strtod either.
            if body.starts_with(['+', '-']) {
                return None;
            }
            let v: f64 = body.parse().ok()?;
            let infinite_text = body.len() >= 3 && body[..3].eq_ignore_ascii_case("inf");
            let nonzero_digit = body
                .bytes()
                .take_while(|c| !matches!(c, b'e' | b'E'))
                .any(|c| matches!(c, b'1'..=b'9'));
            // strtod's ERANGE: overflow, or a non-zero number too small for a normal double.
            if (v.is_infinite() && !infinite_text) || (nonzero_digit && v.abs() < f64::MIN_POSITIVE)
            {
                return None;
            }
            v
        }
    };
    if value.is_nan() {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// A C99 hexadecimal float after its `0x`: hex digits, an optional fraction, an optional
/// binary exponent (`p`).
fn parse_hex(s: &str) -> Option<f64> {
    let (mantissa, exponent) = match s.find(['p', 'P']) {
        Some(p) => (&s[..p], s[p + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut value = 0.0f64;
    for c in int_part.chars().chain(frac_part.chars()) {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let scale = exponent.saturating_sub(4i32.saturating_mul(frac_part.len() as i32));
    // In two halves: 2^scale alone may not be representable where the product is.
    let scaled = value * 2f64.powi(scale / 2) * 2f64.powi(scale - scale / 2);
    // ERANGE: overflow, or a non-zero number that vanished (an exact subnormal is fine).
    if scaled.is_infinite() || (value != 0.0 && scaled == 0.0) {
        return None;
    }
    Some(scaled)
}

/// Redis's `sortCompare`: numeric by score then by the element's bytes; ALPHA by the BY values
/// or the elements, binary for STORE and with `strcoll` otherwise (byte order in the C locale,
/// up to a NUL as for any C string).
fn compare(a: &Item, b: &Item, alpha: bool, by_pattern: bool, store: bool) -> Ordering {
    if !alpha {
        return a
            .score
            .partial_cmp(&b.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.element.cmp(&b.element));
    }
    let (x, y) = if by_pattern {
        match (&a.by_value, &b.by_value) {
            (Some(x), Some(y)) => (x, y),
            (x, y) => return x.is_some().cmp(&y.is_some()),
        }
    } else {
        (&a.element, &b.element)
    };
    if store {
        x.cmp(y)
    } else {
        c_str(x).cmp(c_str(y))
    }
}

/// Redis's LIMIT arithmetic: the output is `start..end` (exclusive) of `len` elements.
fn limit_range(offset: i64, count: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let mut start = offset.clamp(0, len);
    let count = count.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    let start = start.max(0) as usize;
    let end = (end + 1).max(0) as usize;
    (start, end.max(start))
}

fn run_sort(ctx: &mut ConnCtx<'_>, readonly: bool) -> Result<Step, OpError> {
    let mut opts = parse(ctx.args, readonly)?;
    let db = ctx.client.db;
    let shards = ctx.env.shards;
    let sorts_by_keys = !opts.dont_sort && opts.by.is_some();
    let gets_keys = opts
        .gets
        .iter()
        .any(|g| c_str(g) != b"#" && c_str(g).contains(&b'*'));
    let locks: Vec<(usize, Lock)> = if sorts_by_keys || gets_keys {
        (0..shards).map(|s| (s, Lock::All)).collect()
    } else {
        let keys = std::iter::once(&opts.source)
            .chain(opts.store.as_ref())
            .map(|k| (db, k.clone()));
        by_shard(keys, shards)
            .into_iter()
            .map(|(s, keys)| (s, Lock::Keys(keys.into_iter().map(|(_, k)| k).collect())))
            .collect()
    };
    let source = opts.source.clone();
    let read_source: ShardOp = Box::new(move |shard: &mut Shard| {
        let now = shard.env.now;
        let entry = without_recording(shard, |shard| shard.ks.read(db, &source, now).cloned());
        HopOut::Entries(vec![entry])
    });
    let source_shard = key_shard(&opts.source, shards);
    Ok(Step::Hop {
        locks,
        ops: vec![(source_shard, read_source)],
        last: !sorts_by_keys && !gets_keys && opts.store.is_none(),
        then: Box::new(move |outs| {
            let entry = match outs.into_iter().next() {
                Some(HopOut::Entries(mut e)) => e.pop().flatten(),
                _ => None,
            };
            match elements(entry) {
                Ok((kind, items)) => {
                    // A set has no order to keep: STORE sorts it by bytes so the stored list
                    // is the same everywhere (Redis does the same for replication).
                    if opts.dont_sort && kind == Kind::Set && opts.store.is_some() {
                        opts.dont_sort = false;
                        opts.alpha = true;
                        opts.by = None;
                    }
                    order(opts, kind, items, db, shards)
                }
                Err(e) => Step::Reply(e.into()),
            }
        }),
    })
}

/// Orders the source's elements (fetching the BY values first when sorting by a pattern),
/// then goes on to the output.
fn order(opts: SortArgs, kind: Kind, mut elements: Vec<Bytes>, db: usize, shards: usize) -> Step {
    let (start, end) = limit_range(opts.offset, opts.count, elements.len());
    if opts.dont_sort {
        if opts.desc && kind != Kind::Set {
            elements.reverse();
        }
        elements.truncate(end);
        elements.drain(..start);
        return output(opts, elements, db, shards);
    }
    let by = match &opts.by {
        Some(pattern) => elements.iter().map(|e| resolve(pattern, e)).collect(),
        None => Vec::new(),
    };
    fetch(by, db, shards, move |by_values| {
        let by_pattern = opts.by.is_some();
        let mut items = Vec::with_capacity(elements.len());
        let mut by_values = by_values.into_iter();
        for element in elements {
            let by_value = if by_pattern {
                by_values.next().flatten()
            } else {
                None
            };
            let mut score = 0.0;
            if !opts.alpha {
                // A missing BY key sorts as 0.
                let text = if by_pattern {
                    by_value.as_deref()
                } else {
                    Some(&element[..])
                };
                if let Some(text) = text {
                    match parse_score(text) {
                        Some(s) => score = s,
                        None => {
                            return Step::Reply(Reply::error(
                                "ERR One or more scores can't be converted into double",
                            ))
                        }
                    }
                }
            }
            items.push(Item {
                element,
                score,
                by_value,
            });
        }
        let store = opts.store.is_some();
        let (alpha, desc) = (opts.alpha, opts.desc);
        items.sort_by(|a, b| {
            let cmp = compare(a, b, alpha, by_pattern, store);
            if desc {
                cmp.reverse()
            } else {
                cmp
            }
        });
        let sorted = items
            .into_iter()
            .take(end)
            .skip(start)
            .map(|i| i.element)
            .collect();
        output(opts, sorted, db, shards)
    })
}

/// The output range's elements, or their GET values (fetched), replied or stored.
fn output(opts: SortArgs, elements: Vec<Bytes>, db: usize, shards: usize) -> Step {
    let lookups: Vec<Lookup> = if opts.gets.is_empty() {
        elements.into_iter().map(Lookup::Known).collect()
    } else {
        elements
            .iter()
            .flat_map(|e| opts.gets.iter().map(move |g| resolve(g, e)))
            .collect()
    };
    let store = opts.store;
    fetch(lookups, db, shards, move |values| match store {
        None => Step::Reply(Reply::Array(
            values
                .into_iter()
                .map(|v| v.map_or(Reply::Null, Reply::Bulk))
                .collect(),
        )),
        Some(dest) => store_list(dest, values, db, shards),
    })
}

/// STORE: the destination becomes the list of values (nil as the empty string), or is deleted
/// when there are none; the reply is their number.
fn store_list(dest: Bytes, values: Vec<Option<Bytes>>, db: usize, shards: usize) -> Step {
    let count = values.len() as i64;
    let list: VecDeque<Bytes> = values.into_iter().map(Option::unwrap_or_default).collect();
    let dest_shard = key_shard(&dest, shards);
    let write: ShardOp = Box::new(move |shard: &mut Shard| {
        let now = shard.env.now;
        if list.is_empty() {
            if shard.ks.db(db).remove(&dest).is_some() {
                shard.ks.notify(notify::GENERIC, "del", db, &dest);
            }
        } else {
            shard.ks.db(db).set(&dest, Value::List(Box::new(list)), now);
            shard.ks.notify(notify::LIST, "sortstore", db, &dest);
        }
        HopOut::Reply(Reply::OK)
    });
    Step::Hop {
        locks: Vec::new(),
        ops: vec![(dest_shard, write)],
        last: true,
        then: Box::new(move |_| Step::Reply(Reply::Int(count))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(l: Lookup) -> (Vec<u8>, Option<Vec<u8>>) {
        match l {
            Lookup::Key(k) => (k.to_vec(), None),
            Lookup::Field(k, f) => (k.to_vec(), Some(f.to_vec())),
            Lookup::Known(v) => (v.to_vec(), Some(b"#".to_vec())),
            Lookup::Nothing => (Vec::new(), None),
        }
    }

    #[test]
    fn patterns_resolve_as_redis_does() {
        let e = Bytes::from_static(b"7");
        let r = |p: &str| key_of(resolve(p.as_bytes(), &e));
        assert_eq!(r("w_*"), (b"w_7".to_vec(), None));
        assert_eq!(r("w_*_x*"), (b"w_7_x*".to_vec(), None));
        assert_eq!(r("h_*->f"), (b"h_7".to_vec(), Some(b"f".to_vec())));
        assert_eq!(r("h_*->f->g"), (b"h_7".to_vec(), Some(b"f->g".to_vec())));
        // `->` with nothing after it is part of the key; `->` before the `*` is too.
        assert_eq!(r("h_*->"), (b"h_7->".to_vec(), None));
        assert_eq!(r("a->b*"), (b"a->b7".to_vec(), None));
        assert_eq!(r("#"), (b"7".to_vec(), Some(b"#".to_vec())));
        assert_eq!(r("nosort"), (Vec::new(), None));
        assert_eq!(r(""), (Vec::new(), None));
    }

    #[test]
    fn scores_parse_as_strtod() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b" \t-2"), Some(-2.0));
        assert_eq!(parse_score(b""), Some(0.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-0x1p4"), Some(-16.0));
        assert_eq!(parse_score(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"3\0junk"), Some(3.0));
        for bad in [
            &b"  "[..],
            b"1 ",
            b"abc",
            b"nan",
            b"1e400",
            b"1e-400",
            b"0x",
            b"--1",
            b"1e",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_score(b"0e-400"), Some(0.0));
        // glibc: an inexact decimal subnormal is ERANGE, an exact hexadecimal one is not.
        assert_eq!(parse_score(b"1e-310"), None);
        assert_eq!(parse_score(b"0x1p-1074"), Some(f64::from_bits(1)));
        assert_eq!(parse_score(b"0x1p1024"), None);
    }

    #[test]
    fn limits_follow_redis() {
        assert_eq!(limit_range(0, -1, 5), (0, 5));
        assert_eq!(limit_range(1, 2, 5), (1, 3));
        assert_eq!(limit_range(-3, 2, 5), (0, 2));
        assert_eq!(limit_range(4, 10, 5), (4, 5));
        assert_eq!(limit_range(5, 1, 5), (4, 4));
        assert_eq!(limit_range(0, 0, 5), (0, 0));
        assert_eq!(limit_range(0, -1, 0), (0, 0));
        assert_eq!(limit_range(i64::MAX, i64::MAX, 3), (2, 2));
        assert_eq!(limit_range(i64::MIN, i64::MIN, 3), (0, 3));
    }

    #[test]
    fn options_parse_as_redis_does() {
        let args = |line: &str| -> Vec<Bytes> {
            line.split(' ')
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect()
        };
        let line = "sort k BY nosort BY w_* LIMIT 1 2 GET # DESC ALPHA STORE d";
        let Ok(o) = parse(&args(line), false) else {
            panic!("{line} is valid");
        };
        assert!(o.dont_sort && o.desc && o.alpha);
        assert_eq!((o.offset, o.count, o.gets.len()), (1, 2, 1));
        assert_eq!(o.store.as_deref(), Some(&b"d"[..]));
        assert!(matches!(
            parse(&args("sort k STORE d"), true),
            Err(OpError::Syntax)
        ));
        assert!(matches!(
            parse(&args("sort k LIMIT 1"), false),
            Err(OpError::Syntax)
        ));
        assert!(matches!(
            parse(&args("sort k LIMIT x 1"), false),
            Err(OpError::NotInteger)
        ));
        assert!(matches!(
            parse(&args("sort k BY"), false),
            Err(OpError::Syntax)
        ));
    }

    #[test]
    fn key_specs_find_source_and_last_store() {
        let keys = |line: &str| {
            let args: Vec<Bytes> = line
                .split(' ')
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect();
            let spec = super::super::lookup(&args[0]).expect("in the table");
            spec.key_positions(&args)
        };
        assert_eq!(keys("sort k"), vec![1]);
        assert_eq!(keys("sort k STORE d"), vec![1, 3]);
        assert_eq!(keys("sort k STORE d1 GET # STORE d2"), vec![1, 7]);
        assert_eq!(keys("sort k GET store STORE d"), vec![1, 5]);
        assert_eq!(keys("sort_ro k GET #"), vec![1]);
    }
}
