//! Sorted set commands (Redis's `t_zset.c`) over [`ZSetValue`], with Redis 7's option parsing,
//! error texts and error precedence (what is checked before the key is looked up, and after).
//!
//! Scores reply as [`Reply::Double`]: a RESP3 double, a bulk string in RESP2. The multi-key
//! commands (ZUNIONSTORE, ZINTERCARD, ZMPOP, ZRANGESTORE, ...) are written against one keyspace;
//! their `numkeys key [key ...]` layouts are key specs in the table ([`KeyRange::NUMKEYS`],
//! [`KeyRange::DEST_THEN_NUMKEYS`]), and across shards the runtime runs them atomically
//! (`shard::txn::keys_plan`), as it does the set family.
//!
//! ZSCAN returns the whole set in one call (cursor 0), scores formatted as Redis's `d2string`.

use std::collections::HashMap;

use bytes::Bytes;
use rand::seq::index::sample;
use rand::Rng;

use super::{
    is_opt, spec, timeout_secs_arg, CmdResult, CommandSpec, Ctx, Group, KeyRange, KeySpec, OpError,
    Run, WouldBlock,
};
use crate::flags;
use crate::glob;
use crate::keyspace::{notify, SetValue, Value, ZSetValue};
use crate::resp::{parse_i64, Reply};

const G: Group = Group::SortedSet;
/// Supersets of the keys of `dest numkeys key ...` and `numkeys key ...` layouts, for routing;
/// the commands' key specs give the exact keys.
const DEST_NUMKEYS: KeySpec = KeySpec::ALL;
const NUMKEYS: KeySpec = KeySpec {
    first: 2,
    last: -1,
    step: 1,
};

pub static COMMANDS: &[CommandSpec] = &[
    spec("zadd", -4, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, G, Run::Keys(zadd))
        .doc("Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"),
    spec("zincrby", 4, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, G, Run::Keys(zincrby))
        .doc("Increments the score of a member in a sorted set.", "1.2.0", "O(log(N)) where N is the number of elements in the sorted set.", "key increment member"),
    spec("zrem", -3, flags!(WRITE | FAST), KeySpec::ONE, G, Run::Keys(zrem))
        .doc("Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", "key member [member ...]"),
    spec("zcard", 2, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(zcard))
        .doc("Returns the number of members in a sorted set.", "1.2.0", "O(1)", "key"),
    spec("zcount", 4, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(zcount))
        .doc("Returns the count of members in a sorted set that have scores within a range.", "2.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "key min max"),
    spec("zlexcount", 4, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(zlexcount))
        .doc("Returns the number of members in a sorted set within a lexicographical range.", "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.", "key min max"),
    spec("zscore", 3, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(zscore))
        .doc("Returns the score of a member in a sorted set.", "1.2.0", "O(1)", "key member"),
    spec("zmscore", -3, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(zmscore))
        .doc("Returns the score of one or more members in a sorted set.", "6.2.0", "O(N) where N is the number of members being requested.", "key member [member ...]"),
    spec("zrank", -3, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(zrank))
        .doc("Returns the index of a member in a sorted set ordered by ascending scores.", "2.0.0", "O(log(N))", "key member [WITHSCORE]"),
    spec("zrevrank", -3, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(zrevrank))
        .doc("Returns the index of a member in a sorted set ordered by descending scores.", "2.0.0", "O(log(N))", "key member [WITHSCORE]"),
    spec("zrange", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(zrange))
        .doc("Returns members in a sorted set within a range of indexes.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"),
    spec("zrangestore", -5, flags!(WRITE | DENYOOM), KeySpec::TWO, G, Run::Keys(zrangestore))
        .doc("Stores a range of members from sorted set in a key.", "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]"),
    spec("zrangebyscore", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(zrangebyscore))
        .doc("Returns members in a sorted set within a range of scores.", "1.0.5", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.", "key min max [WITHSCORES] [LIMIT offset count]"),
    spec("zrevrangebyscore", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(zrevrangebyscore))
        .doc("Returns members in a sorted set within a range of scores in reverse order.", "2.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.", "key max min [WITHSCORES] [LIMIT offset count]"),
    spec("zrangebylex", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(zrangebylex))
        .doc("Returns members in a sorted set within a lexicographical range.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.", "key min max [LIMIT offset count]"),
    spec("zrevrangebylex", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(zrevrangebylex))
        .doc("Returns members in a sorted set within a lexicographical range in reverse order.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.", "key max min [LIMIT offset count]"),
    spec("zrevrange", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(zrevrange))
        .doc("Returns members in a sorted set within a range of indexes in reverse order.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "key start stop [WITHSCORES]"),
    spec("zremrangebyrank", 4, flags!(WRITE), KeySpec::ONE, G, Run::Keys(zremrangebyrank))
        .doc("Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "2.0.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "key start stop"),
    spec("zremrangebyscore", 4, flags!(WRITE), KeySpec::ONE, G, Run::Keys(zremrangebyscore))
        .doc("Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "key min max"),
    spec("zremrangebylex", 4, flags!(WRITE), KeySpec::ONE, G, Run::Keys(zremrangebylex))
        .doc("Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "key min max"),
    spec("zpopmin", -2, flags!(WRITE | FAST), KeySpec::ONE, G, Run::Keys(zpopmin))
        .doc("Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "key [count]"),
    spec("zpopmax", -2, flags!(WRITE | FAST), KeySpec::ONE, G, Run::Keys(zpopmax))
        .doc("Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "key [count]"),
    spec("zmpop", -4, flags!(WRITE), NUMKEYS, G, Run::Keys(zmpop))
        .key_specs(KeyRange::NUMKEYS)
        .doc("Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "numkeys key [key ...] MIN|MAX [COUNT count]"),
    spec("bzpopmin", -3, flags!(WRITE | FAST | BLOCKING), KeySpec { first: 1, last: -2, step: 1 }, G, Run::Keys(bzpopmin))
        .doc("Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "key [key ...] timeout"),
    spec("bzpopmax", -3, flags!(WRITE | FAST | BLOCKING), KeySpec { first: 1, last: -2, step: 1 }, G, Run::Keys(bzpopmax))
        .doc("Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "key [key ...] timeout"),
    spec("bzmpop", -5, flags!(WRITE | BLOCKING), KeySpec { first: 3, last: -1, step: 1 }, G, Run::Keys(bzmpop))
        .key_specs(super::lists::TIMEOUT_THEN_NUMKEYS)
        .doc("Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "timeout numkeys key [key ...] MIN|MAX [COUNT count]"),
    spec("zrandmember", -2, flags!(READONLY), KeySpec::ONE, G, Run::Keys(zrandmember))
        .doc("Returns one or more random members from a sorted set.", "6.2.0", "O(N) where N is the number of members returned", "key [count [WITHSCORES]]"),
    spec("zunion", -3, flags!(READONLY), NUMKEYS, G, Run::Keys(zunion))
        .key_specs(KeyRange::NUMKEYS)
        .doc("Returns the union of multiple sorted sets.", "6.2.0", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"),
    spec("zinter", -3, flags!(READONLY), NUMKEYS, G, Run::Keys(zinter))
        .key_specs(KeyRange::NUMKEYS)
        .doc("Returns the intersect of multiple sorted sets.", "6.2.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"),
    spec("zdiff", -3, flags!(READONLY), NUMKEYS, G, Run::Keys(zdiff))
        .key_specs(KeyRange::NUMKEYS)
        .doc("Returns the difference between multiple sorted sets.", "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "numkeys key [key ...] [WITHSCORES]"),
    spec("zunionstore", -4, flags!(WRITE | DENYOOM), DEST_NUMKEYS, G, Run::Keys(zunionstore))
        .key_specs(KeyRange::DEST_THEN_NUMKEYS)
        .doc("Stores the union of multiple sorted sets in a key.", "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]"),
    spec("zinterstore", -4, flags!(WRITE | DENYOOM), DEST_NUMKEYS, G, Run::Keys(zinterstore))
        .key_specs(KeyRange::DEST_THEN_NUMKEYS)
        .doc("Stores the intersect of multiple sorted sets in a key.", "2.0.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]"),
    spec("zdiffstore", -4, flags!(WRITE | DENYOOM), DEST_NUMKEYS, G, Run::Keys(zdiffstore))
        .key_specs(KeyRange::DEST_THEN_NUMKEYS)
        .doc("Stores the difference of multiple sorted sets in a key.", "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "destination numkeys key [key ...]"),
    spec("zintercard", -3, flags!(READONLY), NUMKEYS, G, Run::Keys(zintercard))
        .key_specs(KeyRange::NUMKEYS)
        .doc("Returns the number of members of the intersect of multiple sorted sets.", "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", "numkeys key [key ...] [LIMIT limit]"),
    spec("zscan", -3, flags!(READONLY), KeySpec::ONE, G, Run::Keys(zscan))
        .doc("Iterates over members and scores of a sorted set.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", "key cursor [MATCH pattern] [COUNT count]"),
];

// ---- errors and parsing ---------------------------------------------------------------------

fn err(msg: &'static str) -> OpError {
    OpError::other(msg)
}

const NAN_ERR: &str = "ERR resulting score is not a number (NaN)";
const SCORE_RANGE_ERR: &str = "ERR min or max is not a float";
const LEX_RANGE_ERR: &str = "ERR min or max not valid string range item";

/// Parses a double as C's `strtod` does for Redis's `getDoubleFromObject`: the whole argument,
/// no leading space, `inf`/`-inf`/`+inf` allowed, NaN and overflow refused.
fn parse_double(arg: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        "" => return None,
        t => {
            let v: f64 = t.parse().ok()?;
            // Overflow is ERANGE for strtod, where Rust rounds to infinity.
            if v.is_infinite() {
                return None;
            }
            v
        }
    };
    (!v.is_nan()).then_some(v)
}

/// A score argument (ZADD, ZINCRBY).
fn score_arg(arg: &[u8]) -> Result<f64, OpError> {
    parse_double(arg).ok_or(OpError::NotFloat)
}

/// One end of a score range: `1.5`, `(1.5`, `-inf`, `+inf`.
#[derive(Clone, Copy, Debug)]
struct ScoreBound {
    value: f64,
    exclusive: bool,
}

fn score_bound(arg: &[u8]) -> Result<ScoreBound, OpError> {
    let (exclusive, text) = match arg.strip_prefix(b"(") {
        Some(rest) => (true, rest),
        None => (false, arg),
    };
    // strtod reads an empty string as 0 and Redis does not object.
    let value = if text.is_empty() {
        Some(0.0)
    } else {
        parse_double(text)
    };
    value
        .map(|value| ScoreBound { value, exclusive })
        .ok_or_else(|| err(SCORE_RANGE_ERR))
}

fn score_range(min: &[u8], max: &[u8]) -> Result<(ScoreBound, ScoreBound), OpError> {
    Ok((score_bound(min)?, score_bound(max)?))
}

/// One end of a lex range: `-`, `+`, `[member`, `(member`.
#[derive(Clone, Debug)]
enum LexBound {
    Min,
    Max,
    Inclusive(Bytes),
    Exclusive(Bytes),
}

fn lex_bound(arg: &Bytes) -> Result<LexBound, OpError> {
    match arg.first() {
        Some(b'-') if arg.len() == 1 => Ok(LexBound::Min),
        Some(b'+') if arg.len() == 1 => Ok(LexBound::Max),
        Some(b'[') => Ok(LexBound::Inclusive(arg.slice(1..))),
        Some(b'(') => Ok(LexBound::Exclusive(arg.slice(1..))),
        _ => Err(err(LEX_RANGE_ERR)),
    }
}

fn lex_range(min: &Bytes, max: &Bytes) -> Result<(LexBound, LexBound), OpError> {
    Ok((lex_bound(min)?, lex_bound(max)?))
}

/// The ranks `lo..hi` of the elements with scores in the range.
fn score_ranks(z: &ZSetValue, min: ScoreBound, max: ScoreBound) -> (usize, usize) {
    let lo = if min.exclusive {
        z.count_while(|s, _| s <= min.value)
    } else {
        z.count_while(|s, _| s < min.value)
    };
    let hi = if max.exclusive {
        z.count_while(|s, _| s < max.value)
    } else {
        z.count_while(|s, _| s <= max.value)
    };
    (lo, hi.max(lo))
}

/// The ranks `lo..hi` of the members in a lex range (meaningful when all scores are equal, as
/// Redis documents).
fn lex_ranks(z: &ZSetValue, min: &LexBound, max: &LexBound) -> (usize, usize) {
    let end = |b: &LexBound, low: bool| match b {
        LexBound::Min => 0,
        LexBound::Max => z.len(),
        LexBound::Inclusive(x) if low => z.count_while(|_, m| m < &x[..]),
        LexBound::Exclusive(x) if low => z.count_while(|_, m| m <= &x[..]),
        LexBound::Inclusive(x) => z.count_while(|_, m| m <= &x[..]),
        LexBound::Exclusive(x) => z.count_while(|_, m| m < &x[..]),
    };
    let (lo, hi) = (end(min, true), end(max, false));
    (lo, hi.max(lo))
}

/// Redis's rank clamping (`start`/`end` may count from the end): None when the range is empty.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

fn int(arg: &[u8]) -> Result<i64, OpError> {
    parse_i64(arg).ok_or(OpError::NotInteger)
}

// ---- replies --------------------------------------------------------------------------------

type Items = Vec<(Bytes, f64)>;

/// Members, with their scores as pairs when asked (an array of pairs in RESP3, flat in RESP2).
fn items_reply(items: Items, withscores: bool) -> Reply {
    if withscores {
        Reply::Pairs(
            items
                .into_iter()
                .map(|(m, s)| (Reply::Bulk(m), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::Array(items.into_iter().map(|(m, _)| Reply::Bulk(m)).collect())
    }
}

fn collect(it: Box<dyn Iterator<Item = (&[u8], f64)> + '_>) -> Items {
    it.map(|(m, s)| (Bytes::copy_from_slice(m), s)).collect()
}

/// Replaces `dst` with a sorted set of `items` (deleting it when there are none); returns the
/// count. `hint` is the size Redis announces when it creates the destination.
fn store_items(
    ctx: &mut Ctx<'_>,
    dst: &[u8],
    items: Items,
    hint: usize,
    event: &'static str,
) -> usize {
    let now = ctx.now;
    let existed = ctx.db().remove_live(dst, now).is_some();
    let n = items.len();
    if n > 0 {
        let mut z = ZSetValue::with_hint(hint, 0);
        for (m, s) in &items {
            z.insert(m, *s);
        }
        ctx.db().set(dst, Value::ZSet(z), now);
        ctx.notify(notify::ZSET, event, dst);
    } else if existed {
        ctx.notify(notify::GENERIC, "del", dst);
    }
    n
}

// ---- ZADD, ZINCRBY, ZREM --------------------------------------------------------------------

#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// Redis's `zaddGenericCommand` (ZINCRBY is ZADD ... INCR with the score at index 2).
fn add_generic(ctx: &mut Ctx<'_>, mut f: AddFlags, mut idx: usize) -> CmdResult {
    let key = ctx.args[1].clone();
    if !f.incr {
        while let Some(a) = ctx.args.get(idx) {
            let flag = match a.to_ascii_lowercase().as_slice() {
                b"nx" => &mut f.nx,
                b"xx" => &mut f.xx,
                b"gt" => &mut f.gt,
                b"lt" => &mut f.lt,
                b"ch" => &mut f.ch,
                b"incr" => &mut f.incr,
                _ => break,
            };
            *flag = true;
            idx += 1;
        }
    }
    let rest = &ctx.args[idx.min(ctx.args.len())..];
    if rest.is_empty() || rest.len() % 2 != 0 {
        return Err(OpError::Syntax);
    }
    if f.nx && f.xx {
        return Err(err(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if [f.gt, f.lt, f.nx].iter().filter(|&&o| o).count() > 1 {
        return Err(err(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && rest.len() > 2 {
        return Err(err(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks_exact(2) {
        pairs.push((score_arg(&p[0])?, p[1].clone()));
    }
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0usize);
    let mut last = 0.0;
    let exists = ctx.write_as::<ZSetValue>(&key, false)?.is_some();
    if !exists {
        if f.xx {
            return Ok(if f.incr { Reply::Null } else { Reply::Int(0) });
        }
        // Redis 7.0 picks the encoding from the first member alone.
        let first = pairs.first().map_or(0, |(_, m)| m.len());
        let now = ctx.now;
        ctx.db()
            .set(&key, Value::ZSet(ZSetValue::with_hint(0, first)), now);
    }
    let z = ctx.create_as::<ZSetValue>(&key)?;
    let mut nan = false;
    for (score, member) in &pairs {
        match z.score(member) {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                let mut new = *score;
                if f.incr {
                    new += cur;
                    if new.is_nan() {
                        nan = true;
                        break;
                    }
                }
                if (f.lt && new >= cur) || (f.gt && new <= cur) {
                    continue;
                }
                if new != cur {
                    z.insert(member, new);
                    updated += 1;
                }
                last = new;
                processed += 1;
            }
            None if !f.xx => {
                z.insert(member, *score);
                added += 1;
                last = *score;
                processed += 1;
            }
            None => {}
        }
    }
    if added + updated > 0 {
        ctx.notify(notify::ZSET, if f.incr { "zincr" } else { "zadd" }, &key);
    }
    ctx.drop_if_empty::<ZSetValue>(&key);
    if nan {
        return Err(err(NAN_ERR));
    }
    Ok(if f.incr {
        if processed > 0 {
            Reply::Double(last)
        } else {
            Reply::Null
        }
    } else {
        Reply::Int(if f.ch { added + updated } else { added })
    })
}

fn zadd(ctx: &mut Ctx<'_>) -> CmdResult {
    add_generic(ctx, AddFlags::default(), 2)
}

fn zincrby(ctx: &mut Ctx<'_>) -> CmdResult {
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    add_generic(ctx, f, 2)
}

fn zrem(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let members = ctx.args[2..].to_vec();
    let Some(z) = ctx.write_as::<ZSetValue>(&key, false)? else {
        return Ok(Reply::Int(0));
    };
    let removed = members.iter().filter(|m| z.remove(m).is_some()).count();
    if removed > 0 {
        ctx.notify(notify::ZSET, "zrem", &key);
    }
    ctx.drop_if_empty::<ZSetValue>(&key);
    Ok(Reply::Int(removed as i64))
}

// ---- reads of one key -----------------------------------------------------------------------

fn zcard(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    Ok(Reply::Int(
        ctx.read_as::<ZSetValue>(&key)?
            .map_or(0, |z| z.len() as i64),
    ))
}

fn zcount(ctx: &mut Ctx<'_>) -> CmdResult {
    let (min, max) = score_range(&ctx.args[2], &ctx.args[3])?;
    let key = ctx.args[1].clone();
    Ok(Reply::Int(ctx.read_as::<ZSetValue>(&key)?.map_or(0, |z| {
        let (lo, hi) = score_ranks(z, min, max);
        (hi - lo) as i64
    })))
}

fn zlexcount(ctx: &mut Ctx<'_>) -> CmdResult {
    let (min, max) = lex_range(&ctx.args[2], &ctx.args[3])?;
    let key = ctx.args[1].clone();
    Ok(Reply::Int(ctx.read_as::<ZSetValue>(&key)?.map_or(0, |z| {
        let (lo, hi) = lex_ranks(z, &min, &max);
        (hi - lo) as i64
    })))
}

fn zscore(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, member) = (ctx.args[1].clone(), ctx.args[2].clone());
    Ok(ctx
        .read_as::<ZSetValue>(&key)?
        .and_then(|z| z.score(&member))
        .map_or(Reply::Null, Reply::Double))
}

fn zmscore(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let members = ctx.args[2..].to_vec();
    let z = ctx.read_as::<ZSetValue>(&key)?;
    Ok(Reply::Array(
        members
            .iter()
            .map(|m| {
                z.and_then(|z| z.score(m))
                    .map_or(Reply::Null, Reply::Double)
            })
            .collect(),
    ))
}

/// ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE.
fn rank_generic(ctx: &mut Ctx<'_>, rev: bool) -> CmdResult {
    let withscore = match ctx.args.len() {
        3 => false,
        4 if is_opt(&ctx.args[3], "withscore") => true,
        4 => return Err(OpError::Syntax),
        _ => {
            let name = if rev { "zrevrank" } else { "zrank" };
            return Err(OpError::other(format!(
                "ERR wrong number of arguments for '{name}' command"
            )));
        }
    };
    let (key, member) = (ctx.args[1].clone(), ctx.args[2].clone());
    let missing = if withscore {
        Reply::NullArray
    } else {
        Reply::Null
    };
    let Some(z) = ctx.read_as::<ZSetValue>(&key)? else {
        return Ok(missing);
    };
    let (Some(rank), Some(score)) = (z.rank(&member), z.score(&member)) else {
        return Ok(missing);
    };
    let rank = if rev { z.len() - 1 - rank } else { rank } as i64;
    Ok(if withscore {
        Reply::Array(vec![Reply::Int(rank), Reply::Double(score)])
    } else {
        Reply::Int(rank)
    })
}

fn zrank(ctx: &mut Ctx<'_>) -> CmdResult {
    rank_generic(ctx, false)
}

fn zrevrank(ctx: &mut Ctx<'_>) -> CmdResult {
    rank_generic(ctx, true)
}

// ---- ZRANGE and its older forms -------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
    Lex,
}

enum Bounds {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

struct RangeQuery {
    bounds: Bounds,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// Negative: no limit.
    limit: i64,
}

/// Redis's `zrangeGenericCommand` argument handling: `start` indexes the key; `by` and `rev`
/// are fixed by the older command forms, left open (None) for ZRANGE and ZRANGESTORE.
fn parse_range(
    args: &[Bytes],
    start: usize,
    store: bool,
    mut by: Option<By>,
    mut rev: Option<bool>,
) -> Result<RangeQuery, OpError> {
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = start + 3;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && is_opt(a, "withscores") {
            withscores = true;
        } else if is_opt(a, "limit") && left >= 2 {
            offset = int(&args[j + 1])?;
            limit = int(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && is_opt(a, "rev") {
            rev = Some(true);
        } else if by.is_none() && is_opt(a, "bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && is_opt(a, "byscore") {
            by = Some(By::Score);
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    let (by, rev) = (by.unwrap_or(By::Rank), rev.unwrap_or(false));
    if limit != -1 && by == By::Rank {
        return Err(err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(err(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut a, mut b) = (&args[start + 1], &args[start + 2]);
    if rev && by != By::Rank {
        // The range is given as max, min.
        std::mem::swap(&mut a, &mut b);
    }
    let bounds = match by {
        By::Rank => Bounds::Rank(int(a)?, int(b)?),
        By::Score => {
            let (min, max) = score_range(a, b)?;
            Bounds::Score(min, max)
        }
        By::Lex => {
            let (min, max) = lex_range(a, b)?;
            Bounds::Lex(min, max)
        }
    };
    Ok(RangeQuery {
        bounds,
        rev,
        withscores,
        offset,
        limit,
    })
}

/// The elements a range query selects, in reply order; and for a rank range the count Redis
/// announces when it creates a ZRANGESTORE destination.
fn select(z: &ZSetValue, q: &RangeQuery) -> (Items, usize) {
    let len = z.len();
    let (lo, hi) = match &q.bounds {
        Bounds::Rank(start, end) => {
            let Some((start, end)) = rank_span(*start, *end, len) else {
                return (Vec::new(), 0);
            };
            let (lo, hi) = if q.rev {
                (len - 1 - end, len - start)
            } else {
                (start, end + 1)
            };
            return (collect(z.range(lo, hi, q.rev)), hi - lo);
        }
        Bounds::Score(min, max) => score_ranks(z, *min, *max),
        Bounds::Lex(min, max) => lex_ranks(z, min, max),
    };
    if q.offset < 0 || (q.offset > 0 && q.offset as u64 >= len as u64) {
        return (Vec::new(), 0);
    }
    let it = z.range(lo, hi, q.rev).skip(q.offset as usize);
    let items = if q.limit < 0 {
        it.map(|(m, s)| (Bytes::copy_from_slice(m), s)).collect()
    } else {
        it.take(q.limit.min(len as i64) as usize)
            .map(|(m, s)| (Bytes::copy_from_slice(m), s))
            .collect()
    };
    (items, 0)
}

fn range_generic(ctx: &mut Ctx<'_>, by: Option<By>, rev: Option<bool>) -> CmdResult {
    let q = parse_range(ctx.args, 1, false, by, rev)?;
    let key = ctx.args[1].clone();
    let Some(z) = ctx.read_as::<ZSetValue>(&key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    Ok(items_reply(select(z, &q).0, q.withscores))
}

fn zrange(ctx: &mut Ctx<'_>) -> CmdResult {
    range_generic(ctx, None, None)
}

fn zrevrange(ctx: &mut Ctx<'_>) -> CmdResult {
    range_generic(ctx, Some(By::Rank), Some(true))
}

fn zrangebyscore(ctx: &mut Ctx<'_>) -> CmdResult {
    range_generic(ctx, Some(By::Score), Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx<'_>) -> CmdResult {
    range_generic(ctx, Some(By::Score), Some(true))
}

fn zrangebylex(ctx: &mut Ctx<'_>) -> CmdResult {
    range_generic(ctx, Some(By::Lex), Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx<'_>) -> CmdResult {
    range_generic(ctx, Some(By::Lex), Some(true))
}

fn zrangestore(ctx: &mut Ctx<'_>) -> CmdResult {
    let q = parse_range(ctx.args, 2, true, None, None)?;
    let (dst, src) = (ctx.args[1].clone(), ctx.args[2].clone());
    let (items, hint) = match ctx.read_as::<ZSetValue>(&src)? {
        Some(z) => select(z, &q),
        None => (Vec::new(), 0),
    };
    Ok(Reply::Int(
        store_items(ctx, &dst, items, hint, "zrangestore") as i64,
    ))
}

// ---- removals by range ----------------------------------------------------------------------

/// Removes the ranks `lo..hi` of `key`'s set (parsed before the lookup, as Redis does).
fn remove_ranks(
    ctx: &mut Ctx<'_>,
    event: &'static str,
    ranks: impl FnOnce(&ZSetValue) -> (usize, usize),
) -> CmdResult {
    let key = ctx.args[1].clone();
    let Some(z) = ctx.write_as::<ZSetValue>(&key, false)? else {
        return Ok(Reply::Int(0));
    };
    let (lo, hi) = ranks(z);
    let doomed: Vec<Bytes> = z
        .range(lo, hi, false)
        .map(|(m, _)| Bytes::copy_from_slice(m))
        .collect();
    for m in &doomed {
        z.remove(m);
    }
    if !doomed.is_empty() {
        ctx.notify(notify::ZSET, event, &key);
    }
    ctx.drop_if_empty::<ZSetValue>(&key);
    Ok(Reply::Int(doomed.len() as i64))
}

fn zremrangebyrank(ctx: &mut Ctx<'_>) -> CmdResult {
    let (start, end) = (int(&ctx.args[2])?, int(&ctx.args[3])?);
    remove_ranks(ctx, "zremrangebyrank", |z| {
        rank_span(start, end, z.len()).map_or((0, 0), |(s, e)| (s, e + 1))
    })
}

fn zremrangebyscore(ctx: &mut Ctx<'_>) -> CmdResult {
    let (min, max) = score_range(&ctx.args[2], &ctx.args[3])?;
    remove_ranks(ctx, "zremrangebyscore", |z| score_ranks(z, min, max))
}

fn zremrangebylex(ctx: &mut Ctx<'_>) -> CmdResult {
    let (min, max) = lex_range(&ctx.args[2], &ctx.args[3])?;
    remove_ranks(ctx, "zremrangebylex", |z| lex_ranks(z, &min, &max))
}

// ---- pops -----------------------------------------------------------------------------------

fn pop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

/// Removes up to `count` elements from the low (or high) end.
fn pop_items(z: &mut ZSetValue, max: bool, count: usize) -> Items {
    let n = count.min(z.len());
    let items = if max {
        collect(z.range(z.len() - n, z.len(), true))
    } else {
        collect(z.range(0, n, false))
    };
    for (m, _) in &items {
        z.remove(m);
    }
    items
}

fn pop_generic(ctx: &mut Ctx<'_>, max: bool) -> CmdResult {
    if ctx.args.len() > 3 {
        return Err(OpError::Syntax);
    }
    let count = match ctx.args.get(2) {
        None => None,
        Some(a) => match parse_i64(a) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err(err("ERR value is out of range, must be positive")),
        },
    };
    let key = ctx.args[1].clone();
    let Some(z) = ctx.write_as::<ZSetValue>(&key, false)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let items = pop_items(z, max, count.unwrap_or(1));
    if !items.is_empty() {
        ctx.notify(notify::ZSET, pop_event(max), &key);
    }
    ctx.drop_if_empty::<ZSetValue>(&key);
    Ok(match count {
        // A single pop is one flat [member, score] in both protocols.
        None => Reply::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Double(s)])
                .collect(),
        ),
        Some(_) => items_reply(items, true),
    })
}

fn zpopmin(ctx: &mut Ctx<'_>) -> CmdResult {
    pop_generic(ctx, false)
}

fn zpopmax(ctx: &mut Ctx<'_>) -> CmdResult {
    pop_generic(ctx, true)
}

fn zmpop(ctx: &mut Ctx<'_>) -> CmdResult {
    mpop_generic(ctx, 1)
}

/// BZMPOP timeout numkeys ...: ZMPOP, waiting while every sorted set is empty.
fn bzmpop(ctx: &mut Ctx<'_>) -> CmdResult {
    let timeout = timeout_secs_arg(&ctx.args[1])?;
    match mpop_generic(ctx, 2)? {
        Reply::NullArray => Err(WouldBlock::err(timeout, Reply::NullArray)),
        reply => Ok(reply),
    }
}

/// BZPOPMIN and BZPOPMAX: one [key, member, score] from the first non-empty sorted set, or wait.
fn bpop_generic(ctx: &mut Ctx<'_>, max: bool) -> CmdResult {
    let last = ctx.args.len() - 1;
    let timeout = timeout_secs_arg(&ctx.args[last])?;
    for i in 1..last {
        let key = ctx.args[i].clone();
        let Some(z) = ctx.write_as::<ZSetValue>(&key, false)? else {
            continue;
        };
        if let Some((member, score)) = pop_items(z, max, 1).pop() {
            ctx.notify(notify::ZSET, pop_event(max), &key);
            ctx.drop_if_empty::<ZSetValue>(&key);
            return Ok(Reply::Array(vec![
                Reply::Bulk(key),
                Reply::Bulk(member),
                Reply::Double(score),
            ]));
        }
    }
    Err(WouldBlock::err(timeout, Reply::NullArray))
}

fn bzpopmin(ctx: &mut Ctx<'_>) -> CmdResult {
    bpop_generic(ctx, false)
}

fn bzpopmax(ctx: &mut Ctx<'_>) -> CmdResult {
    bpop_generic(ctx, true)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count], with numkeys at `args[first]`.
fn mpop_generic(ctx: &mut Ctx<'_>, first: usize) -> CmdResult {
    let numkeys = parse_i64(&ctx.args[first])
        .filter(|&n| n >= 1)
        .ok_or_else(|| err("ERR numkeys should be greater than 0"))? as u64;
    let where_idx = numkeys.saturating_add(first as u64 + 1);
    if where_idx >= ctx.args.len() as u64 {
        return Err(OpError::Syntax);
    }
    let where_idx = where_idx as usize;
    let max = if is_opt(&ctx.args[where_idx], "min") {
        false
    } else if is_opt(&ctx.args[where_idx], "max") {
        true
    } else {
        return Err(OpError::Syntax);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < ctx.args.len() {
        if count.is_none() && is_opt(&ctx.args[j], "count") && j + 1 < ctx.args.len() {
            j += 1;
            count = Some(
                parse_i64(&ctx.args[j])
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| err("ERR count should be greater than 0"))?
                    as usize,
            );
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    let keys = ctx.args[first + 1..where_idx].to_vec();
    for key in keys {
        let Some(z) = ctx.write_as::<ZSetValue>(&key, false)? else {
            continue;
        };
        let items = pop_items(z, max, count.unwrap_or(1));
        ctx.notify(notify::ZSET, pop_event(max), &key);
        ctx.drop_if_empty::<ZSetValue>(&key);
        let items = items
            .into_iter()
            .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
            .collect();
        return Ok(Reply::Array(vec![Reply::Bulk(key), Reply::Array(items)]));
    }
    Ok(Reply::NullArray)
}

// ---- ZRANDMEMBER ----------------------------------------------------------------------------

/// The most elements one ZRANDMEMBER with a negative count returns (Redis has no bound; a
/// reply must have one).
const MAX_RANDOM_REPLY: u64 = 1 << 24;

fn zrandmember(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let Some(count_arg) = ctx.args.get(2) else {
        let Some(z) = ctx.read_as::<ZSetValue>(&key)? else {
            return Ok(Reply::Null);
        };
        let i = rand::thread_rng().gen_range(0..z.len().max(1));
        return Ok(z.get(i).map_or(Reply::Null, |(m, _)| Reply::bulk_copy(m)));
    };
    let count = match parse_i64(count_arg) {
        Some(i64::MIN) => {
            return Err(err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
        }
        Some(n) => n,
        None => return Err(OpError::NotInteger),
    };
    let withscores = match ctx.args.get(3) {
        None => false,
        Some(a) if ctx.args.len() == 4 && is_opt(a, "withscores") => true,
        Some(_) => return Err(OpError::Syntax),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(err("ERR value is out of range"));
    }
    let Some(z) = ctx.read_as::<ZSetValue>(&key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let mut rng = rand::thread_rng();
    let items: Items = if count < 0 {
        // May repeat members.
        (0..count.unsigned_abs().min(MAX_RANDOM_REPLY))
            .filter_map(|_| z.get(rng.gen_range(0..z.len())))
            .map(|(m, s)| (Bytes::copy_from_slice(m), s))
            .collect()
    } else {
        let n = (count as u64).min(z.len() as u64) as usize;
        let mut picks = sample(&mut rng, z.len(), n).into_vec();
        picks.sort_unstable();
        picks
            .into_iter()
            .filter_map(|i| z.get(i))
            .map(|(m, s)| (Bytes::copy_from_slice(m), s))
            .collect()
    };
    Ok(items_reply(items, withscores))
}

// ---- ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD ---------------------------------

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's `zunionInterAggregate`.
    fn apply(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if val < *target {
                    *target = val;
                }
            }
            Aggregate::Max => {
                if val > *target {
                    *target = val;
                }
            }
        }
    }
}

/// One input: its elements (a plain set's members score 1) and weight.
struct Source {
    items: Items,
    weight: f64,
}

/// What a combine command asked for, besides its inputs.
struct Combined {
    items: Items,
    withscores: bool,
}

/// Redis's `zunionInterDiffGenericCommand`: `numkeys_idx` is where numkeys is; `dest` for the
/// STORE forms; `card_limit` for ZINTERCARD (Some(0): no limit yet). Sorted-set and plain-set
/// inputs are both accepted, as in Redis.
fn combine(
    ctx: &mut Ctx<'_>,
    numkeys_idx: usize,
    op: SetOp,
    dest: bool,
    cardinality: bool,
) -> Result<(Combined, Option<u64>), OpError> {
    let args = ctx.args;
    let setnum = int(&args[numkeys_idx])?;
    if setnum < 1 {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        return Err(OpError::other(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum as u64 > (args.len() - numkeys_idx - 1) as u64 {
        return Err(OpError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &args[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    let mut sources = Vec::with_capacity(setnum);
    for key in keys {
        let items = match ctx.read(key).map(|e| &e.value) {
            None => Vec::new(),
            Some(Value::ZSet(z)) => collect(z.iter()),
            Some(Value::Set(s)) => set_items(s),
            Some(_) => return Err(OpError::WrongType),
        };
        sources.push(Source { items, weight: 1.0 });
    }
    let (mut aggregate, mut withscores, mut limit) = (Aggregate::Sum, false, None);
    let mut j = numkeys_idx + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        let weighted = op != SetOp::Diff && !cardinality;
        if weighted && remaining > setnum && is_opt(a, "weights") {
            for (k, src) in sources.iter_mut().enumerate() {
                src.weight = parse_double(&args[j + 1 + k])
                    .ok_or_else(|| err("ERR weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if weighted && remaining >= 2 && is_opt(a, "aggregate") {
            let v = &args[j + 1];
            aggregate = if is_opt(v, "sum") {
                Aggregate::Sum
            } else if is_opt(v, "min") {
                Aggregate::Min
            } else if is_opt(v, "max") {
                Aggregate::Max
            } else {
                return Err(OpError::Syntax);
            };
            j += 2;
        } else if !dest && !cardinality && is_opt(a, "withscores") {
            withscores = true;
            j += 1;
        } else if cardinality && remaining >= 2 && is_opt(a, "limit") {
            let n = parse_i64(&args[j + 1])
                .filter(|&n| n >= 0)
                .ok_or_else(|| err("ERR LIMIT can't be negative"))?;
            limit = Some(n as u64);
            j += 2;
        } else {
            return Err(OpError::Syntax);
        }
    }
    let items = match op {
        SetOp::Union => union(sources, aggregate),
        SetOp::Inter => inter(sources, aggregate, limit.filter(|&l| l > 0)),
        SetOp::Diff => diff(sources),
    };
    Ok((Combined { items, withscores }, limit))
}

fn set_items(s: &SetValue) -> Items {
    s.members().into_iter().map(|m| (m, 1.0)).collect()
}

/// The first weighted score of an element, as Redis takes it (NaN from `inf * 0` reads as 0).
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Sorts a result into reply order.
fn sorted(mut items: Items) -> Items {
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    items
}

fn union(mut sources: Vec<Source>, aggregate: Aggregate) -> Items {
    // Redis walks the inputs from the smallest; the order of additions shows in float sums.
    sources.sort_by_key(|s| s.items.len());
    let mut acc: indexmap::IndexMap<Bytes, f64> = indexmap::IndexMap::new();
    for src in &sources {
        for (m, s) in &src.items {
            let score = weighted(*s, src.weight);
            match acc.get_mut(m) {
                Some(t) => aggregate.apply(t, score),
                None => {
                    acc.insert(m.clone(), score);
                }
            }
        }
    }
    sorted(acc.into_iter().collect())
}

fn inter(mut sources: Vec<Source>, aggregate: Aggregate, limit: Option<u64>) -> Items {
    sources.sort_by_key(|s| s.items.len());
    let Some((first, rest)) = sources.split_first() else {
        return Vec::new();
    };
    let maps: Vec<(HashMap<&Bytes, f64>, f64)> = rest
        .iter()
        .map(|s| (s.items.iter().map(|(m, v)| (m, *v)).collect(), s.weight))
        .collect();
    let mut out = Vec::new();
    'next: for (m, s) in &first.items {
        let mut score = weighted(*s, first.weight);
        for (map, weight) in &maps {
            match map.get(m) {
                Some(v) => aggregate.apply(&mut score, v * weight),
                None => continue 'next,
            }
        }
        out.push((m.clone(), score));
        if limit.is_some_and(|l| out.len() as u64 >= l) {
            break;
        }
    }
    sorted(out)
}

fn diff(sources: Vec<Source>) -> Items {
    let Some((first, rest)) = sources.split_first() else {
        return Vec::new();
    };
    let others: Vec<std::collections::HashSet<&Bytes>> = rest
        .iter()
        .map(|s| s.items.iter().map(|(m, _)| m).collect())
        .collect();
    let out = first
        .items
        .iter()
        .filter(|(m, _)| !others.iter().any(|o| o.contains(m)))
        .cloned()
        .collect();
    sorted(out)
}

fn combine_reply(ctx: &mut Ctx<'_>, op: SetOp) -> CmdResult {
    let (c, _) = combine(ctx, 1, op, false, false)?;
    Ok(items_reply(c.items, c.withscores))
}

fn combine_store(ctx: &mut Ctx<'_>, op: SetOp) -> CmdResult {
    let (c, _) = combine(ctx, 2, op, true, false)?;
    let dst = ctx.args[1].clone();
    let n = c.items.len();
    let event = match op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    };
    Ok(Reply::Int(store_items(ctx, &dst, c.items, n, event) as i64))
}

fn zunion(ctx: &mut Ctx<'_>) -> CmdResult {
    combine_reply(ctx, SetOp::Union)
}

fn zinter(ctx: &mut Ctx<'_>) -> CmdResult {
    combine_reply(ctx, SetOp::Inter)
}

fn zdiff(ctx: &mut Ctx<'_>) -> CmdResult {
    combine_reply(ctx, SetOp::Diff)
}

fn zunionstore(ctx: &mut Ctx<'_>) -> CmdResult {
    combine_store(ctx, SetOp::Union)
}

fn zinterstore(ctx: &mut Ctx<'_>) -> CmdResult {
    combine_store(ctx, SetOp::Inter)
}

fn zdiffstore(ctx: &mut Ctx<'_>) -> CmdResult {
    combine_store(ctx, SetOp::Diff)
}

fn zintercard(ctx: &mut Ctx<'_>) -> CmdResult {
    let (c, limit) = combine(ctx, 1, SetOp::Inter, false, true)?;
    let n = c.items.len() as u64;
    Ok(Reply::Int(match limit {
        Some(l) if l > 0 => n.min(l),
        _ => n,
    } as i64))
}

// ---- ZSCAN ----------------------------------------------------------------------------------

/// Formats a score as Redis's `d2string` does (ZSCAN replies): integers in the exact range of
/// a double as integers, otherwise C's `%.17g`.
pub fn d2string(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    if v > -4503599627370495.0 && v < 4503599627370496.0 && v == v.trunc() {
        return format!("{}", v as i64);
    }
    crate::resp::format_g17(v)
}

fn zscan(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let pattern = super::collection_scan_args(ctx.args)?;
    let mut items = Vec::new();
    if let Some(z) = ctx.read_as::<ZSetValue>(&key)? {
        for (m, s) in z.iter() {
            if pattern
                .as_deref()
                .is_none_or(|p| glob::matches(p, m, false))
            {
                items.push(Reply::bulk_copy(m));
                items.push(Reply::bulk(d2string(s)));
            }
        }
    }
    Ok(Reply::Array(vec![
        Reply::bulk_str("0"),
        Reply::Array(items),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d2string_matches_redis() {
        assert_eq!(d2string(1.1), "1.1000000000000001");
        assert_eq!(d2string(0.1), "0.10000000000000001");
        assert_eq!(d2string(1e20), "1e+20");
        assert_eq!(d2string(3.0), "3");
        assert_eq!(d2string(-2.5), "-2.5");
        assert_eq!(d2string(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(d2string(f64::NEG_INFINITY), "-inf");
        assert_eq!(d2string(123456.789), "123456.789");
    }

    #[test]
    fn parses_like_strtod() {
        assert_eq!(parse_double(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_double(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b"1e500"), None);
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert!(score_bound(b"(").is_ok_and(|b| b.exclusive && b.value == 0.0));
        assert!(lex_bound(&Bytes::from_static(b"a")).is_err());
        assert!(lex_bound(&Bytes::from_static(b"+x")).is_err());
    }

    #[test]
    fn rank_spans_clamp_like_redis() {
        assert_eq!(rank_span(0, -1, 3), Some((0, 2)));
        assert_eq!(rank_span(-100, 100, 3), Some((0, 2)));
        assert_eq!(rank_span(2, 1, 3), None);
        assert_eq!(rank_span(3, 5, 3), None);
        assert_eq!(rank_span(0, 0, 0), None);
    }
}
