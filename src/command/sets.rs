//! Set commands (Redis's `t_set.c`) over [`SetValue`]. The multi-key ones (SINTER, SUNIONSTORE,
//! SMOVE, ...) are written against one keyspace; across shards the runtime runs them atomically
//! (`shard::txn::keys_plan`).

use bytes::Bytes;
use rand::seq::SliceRandom;
use rand::Rng;

use super::{
    int_arg, is_opt, spec, CmdResult, CommandSpec, Ctx, Group, KeyRange, KeySpec, OpError, Run,
};
use crate::flags;
use crate::glob;
use crate::keyspace::{notify, SetValue, Value};
use crate::resp::Reply;

pub static COMMANDS: &[CommandSpec] = &[
    spec("sadd", -3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::Set, Run::Keys(sadd))
        .doc("Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added", "key member [member ...]"),
    spec("srem", -3, flags!(WRITE | FAST), KeySpec::ONE, Group::Set, Run::Keys(srem))
        .doc("Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0", "O(N) where N is the number of members to be removed.", "key member [member ...]"),
    spec("sismember", 3, flags!(READONLY | FAST), KeySpec::ONE, Group::Set, Run::Keys(sismember))
        .doc("Determines whether a member belongs to a set.", "1.0.0", "O(1)", "key member"),
    spec("smismember", -3, flags!(READONLY | FAST), KeySpec::ONE, Group::Set, Run::Keys(smismember))
        .doc("Determines whether multiple members belong to a set.", "6.2.0", "O(N) where N is the number of elements being checked for membership", "key member [member ...]"),
    spec("smembers", 2, flags!(READONLY), KeySpec::ONE, Group::Set, Run::Keys(smembers))
        .doc("Returns all members of a set.", "1.0.0", "O(N) where N is the set cardinality.", "key"),
    spec("scard", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::Set, Run::Keys(scard))
        .doc("Returns the number of members in a set.", "1.0.0", "O(1)", "key"),
    spec("spop", -2, flags!(WRITE | FAST), KeySpec::ONE, Group::Set, Run::Keys(spop))
        .doc("Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", "key [count]"),
    spec("srandmember", -2, flags!(READONLY), KeySpec::ONE, Group::Set, Run::Keys(srandmember))
        .doc("Get one or multiple random members from a set", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", "key [count]"),
    spec("smove", 4, flags!(WRITE | FAST), KeySpec::TWO, Group::Set, Run::Keys(smove))
        .doc("Moves a member from one set to another.", "1.0.0", "O(1)", "source destination member"),
    spec("sinter", -2, flags!(READONLY), KeySpec::ALL, Group::Set, Run::Keys(sinter))
        .doc("Returns the intersect of multiple sets.", "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "key [key ...]"),
    spec("sunion", -2, flags!(READONLY), KeySpec::ALL, Group::Set, Run::Keys(sunion))
        .doc("Returns the union of multiple sets.", "1.0.0", "O(N) where N is the total number of elements in all given sets.", "key [key ...]"),
    spec("sdiff", -2, flags!(READONLY), KeySpec::ALL, Group::Set, Run::Keys(sdiff))
        .doc("Returns the difference of multiple sets.", "1.0.0", "O(N) where N is the total number of elements in all given sets.", "key [key ...]"),
    // Routing may over-count (every argument from the first key on); the key spec is exact.
    spec("sintercard", -3, flags!(READONLY), KeySpec { first: 2, last: -1, step: 1 }, Group::Set, Run::Keys(sintercard))
        .key_specs(KeyRange::NUMKEYS)
        .doc("Returns the number of members of the intersect of multiple sets.", "7.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "numkeys key [key ...] [LIMIT limit]"),
    spec("sinterstore", -3, flags!(WRITE | DENYOOM), KeySpec::ALL, Group::Set, Run::Keys(sinterstore))
        .doc("Stores the intersect of multiple sets in a key.", "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "destination key [key ...]"),
    spec("sunionstore", -3, flags!(WRITE | DENYOOM), KeySpec::ALL, Group::Set, Run::Keys(sunionstore))
        .doc("Stores the union of multiple sets in a key.", "1.0.0", "O(N) where N is the total number of elements in all given sets.", "destination key [key ...]"),
    spec("sdiffstore", -3, flags!(WRITE | DENYOOM), KeySpec::ALL, Group::Set, Run::Keys(sdiffstore))
        .doc("Stores the difference of multiple sets in a key.", "1.0.0", "O(N) where N is the total number of elements in all given sets.", "destination key [key ...]"),
    spec("sscan", -3, flags!(READONLY), KeySpec::ONE, Group::Set, Run::Keys(sscan))
        .doc("Iterates over members of a set.", "2.8.0", "O(1) for every call. O(N) for a complete iteration.", "key cursor [MATCH pattern] [COUNT count]"),
];

fn set_reply(members: Vec<Bytes>) -> Reply {
    Reply::Set(members.into_iter().map(Reply::Bulk).collect())
}

fn sadd(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let members: Vec<Bytes> = ctx.args[2..].to_vec();
    let s = ctx.create_as::<SetValue>(&key)?;
    let added = members.iter().filter(|m| s.insert(m)).count();
    if added > 0 {
        ctx.notify(notify::SET, "sadd", &key);
    }
    Ok(Reply::Int(added as i64))
}

fn srem(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let members: Vec<Bytes> = ctx.args[2..].to_vec();
    let Some(s) = ctx.write_as::<SetValue>(&key, false)? else {
        return Ok(Reply::Int(0));
    };
    let removed = members.iter().filter(|m| s.remove(m)).count();
    if removed > 0 {
        ctx.notify(notify::SET, "srem", &key);
    }
    ctx.drop_if_empty::<SetValue>(&key);
    Ok(Reply::Int(removed as i64))
}

fn sismember(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, member) = (ctx.args[1].clone(), ctx.args[2].clone());
    Ok(Reply::Int(
        ctx.read_as::<SetValue>(&key)?
            .is_some_and(|s| s.contains(&member)) as i64,
    ))
}

fn smismember(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let members: Vec<Bytes> = ctx.args[2..].to_vec();
    let s = ctx.read_as::<SetValue>(&key)?;
    Ok(Reply::Array(
        members
            .iter()
            .map(|m| Reply::Int(s.is_some_and(|s| s.contains(m)) as i64))
            .collect(),
    ))
}

fn smembers(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    Ok(set_reply(
        ctx.read_as::<SetValue>(&key)?
            .map(SetValue::members)
            .unwrap_or_default(),
    ))
}

fn scard(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    Ok(Reply::Int(
        ctx.read_as::<SetValue>(&key)?.map_or(0, |s| s.len() as i64),
    ))
}

/// SPOP and SRANDMEMBER's count: `positive_only` refuses negatives as SPOP does.
fn count_arg(ctx: &Ctx<'_>, positive_only: bool) -> Result<Option<i64>, OpError> {
    match ctx.args.len() {
        2 => Ok(None),
        3 => {
            let out_of_range = || OpError::other("ERR value is out of range, must be positive");
            match int_arg(&ctx.args[2]) {
                Ok(n) if positive_only && n < 0 => Err(out_of_range()),
                Err(_) if positive_only => Err(out_of_range()),
                other => other.map(Some),
            }
        }
        _ => Err(OpError::Syntax),
    }
}

fn spop(ctx: &mut Ctx<'_>) -> CmdResult {
    let count = count_arg(ctx, true)?;
    let key = ctx.args[1].clone();
    let Some(s) = ctx.write_as::<SetValue>(&key, false)? else {
        return Ok(if count.is_some() {
            Reply::Set(Vec::new())
        } else {
            Reply::Null
        });
    };
    let mut rng = rand::thread_rng();
    let mut members = Vec::new();
    for _ in 0..count.map_or(1, |c| c as usize).min(s.len()) {
        if let Some(m) = s.nth(rng.gen_range(0..s.len())) {
            s.remove(&m);
            members.push(m);
        }
    }
    if !members.is_empty() {
        ctx.notify(notify::SET, "spop", &key);
    }
    ctx.drop_if_empty::<SetValue>(&key);
    Ok(match count {
        None => members.pop().map_or(Reply::Null, Reply::Bulk),
        Some(_) => set_reply(members),
    })
}

fn srandmember(ctx: &mut Ctx<'_>) -> CmdResult {
    let count = count_arg(ctx, false)?;
    let key = ctx.args[1].clone();
    let Some(s) = ctx.read_as::<SetValue>(&key)? else {
        return Ok(if count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Null
        });
    };
    let mut rng = rand::thread_rng();
    let Some(n) = count else {
        return Ok(s
            .nth(rng.gen_range(0..s.len()))
            .map_or(Reply::Null, Reply::Bulk));
    };
    // A negative count may repeat members; a positive one returns distinct members.
    if n < 0 {
        return Ok(Reply::Array(
            (0..n.unsigned_abs().min(1 << 24))
                .filter_map(|_| s.nth(rng.gen_range(0..s.len())))
                .map(Reply::Bulk)
                .collect(),
        ));
    }
    let members = s.members();
    Ok(Reply::Array(
        members
            .choose_multiple(&mut rng, n as usize)
            .map(|m| Reply::Bulk(m.clone()))
            .collect(),
    ))
}

fn smove(ctx: &mut Ctx<'_>) -> CmdResult {
    let (src, dst, member) = (
        ctx.args[1].clone(),
        ctx.args[2].clone(),
        ctx.args[3].clone(),
    );
    let now = ctx.now;
    // Redis checks both types before moving anything.
    let src_is_set = match ctx.db().peek(&src, now) {
        None => return Ok(Reply::Int(0)),
        Some(e) => matches!(e.value, Value::Set(_)),
    };
    let dst_ok = ctx
        .db()
        .peek(&dst, now)
        .is_none_or(|e| matches!(e.value, Value::Set(_)));
    if !src_is_set || !dst_ok {
        return Err(OpError::WrongType);
    }
    if src == dst {
        return Ok(Reply::Int(
            ctx.read_as::<SetValue>(&src)?
                .is_some_and(|s| s.contains(&member)) as i64,
        ));
    }
    let moved = ctx
        .write_as::<SetValue>(&src, false)?
        .is_some_and(|s| s.remove(&member));
    if !moved {
        return Ok(Reply::Int(0));
    }
    ctx.notify(notify::SET, "srem", &src);
    ctx.drop_if_empty::<SetValue>(&src);
    if ctx.create_as::<SetValue>(&dst)?.insert(&member) {
        ctx.notify(notify::SET, "sadd", &dst);
    }
    Ok(Reply::Int(1))
}

#[derive(Clone, Copy)]
enum SetOp {
    Inter,
    Union,
    Diff,
}

/// Computes the operation over `keys` (missing keys are empty sets).
fn combine(ctx: &mut Ctx<'_>, keys: &[Bytes], op: SetOp) -> Result<Vec<Bytes>, OpError> {
    let mut sets = Vec::with_capacity(keys.len());
    for k in keys {
        sets.push(ctx.read_as::<SetValue>(k)?.cloned());
    }
    let Some((first, rest)) = sets.split_first() else {
        return Ok(Vec::new());
    };
    let mut result: Vec<Bytes> = first.as_ref().map(SetValue::members).unwrap_or_default();
    match op {
        SetOp::Inter => result.retain(|m| {
            rest.iter()
                .all(|s| s.as_ref().is_some_and(|s| s.contains(m)))
        }),
        SetOp::Diff => result.retain(|m| {
            !rest
                .iter()
                .any(|s| s.as_ref().is_some_and(|s| s.contains(m)))
        }),
        SetOp::Union => {
            let mut all = first.clone().unwrap_or_default();
            for s in rest.iter().flatten() {
                for m in s.members() {
                    all.insert(&m);
                }
            }
            result = all.members();
        }
    }
    Ok(result)
}

fn sinter(ctx: &mut Ctx<'_>) -> CmdResult {
    let keys = ctx.args[1..].to_vec();
    combine(ctx, &keys, SetOp::Inter).map(set_reply)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit], with Redis 7.0's checks in its order.
fn sintercard(ctx: &mut Ctx<'_>) -> CmdResult {
    let numkeys = int_arg(&ctx.args[1])
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| OpError::other("ERR numkeys should be greater than 0"))?;
    let numkeys = numkeys as usize;
    if numkeys > ctx.args.len() - 2 {
        return Err(OpError::other(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < ctx.args.len() {
        if is_opt(&ctx.args[j], "limit") && j + 1 < ctx.args.len() {
            j += 1;
            limit = int_arg(&ctx.args[j])
                .ok()
                .filter(|&n| n >= 0)
                .ok_or_else(|| OpError::other("ERR LIMIT can't be negative"))?
                as usize;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    let keys = ctx.args[2..2 + numkeys].to_vec();
    let n = combine(ctx, &keys, SetOp::Inter)?.len();
    Ok(Reply::Int(match limit {
        0 => n,
        l => n.min(l),
    } as i64))
}

fn sunion(ctx: &mut Ctx<'_>) -> CmdResult {
    let keys = ctx.args[1..].to_vec();
    combine(ctx, &keys, SetOp::Union).map(set_reply)
}

fn sdiff(ctx: &mut Ctx<'_>) -> CmdResult {
    let keys = ctx.args[1..].to_vec();
    combine(ctx, &keys, SetOp::Diff).map(set_reply)
}

/// The STORE forms: the result replaces the destination (deleted when empty).
fn store(ctx: &mut Ctx<'_>, op: SetOp) -> CmdResult {
    let dst = ctx.args[1].clone();
    let keys = ctx.args[2..].to_vec();
    let members = combine(ctx, &keys, op)?;
    let now = ctx.now;
    let existed = ctx.db().remove_live(&dst, now).is_some();
    if !members.is_empty() {
        let mut s = SetValue::default();
        for m in &members {
            s.insert(m);
        }
        ctx.db().set(&dst, Value::Set(s), now);
        let event = match op {
            SetOp::Inter => "sinterstore",
            SetOp::Union => "sunionstore",
            SetOp::Diff => "sdiffstore",
        };
        ctx.notify(notify::SET, event, &dst);
    } else if existed {
        ctx.notify(notify::GENERIC, "del", &dst);
    }
    Ok(Reply::Int(members.len() as i64))
}

fn sinterstore(ctx: &mut Ctx<'_>) -> CmdResult {
    store(ctx, SetOp::Inter)
}

fn sunionstore(ctx: &mut Ctx<'_>) -> CmdResult {
    store(ctx, SetOp::Union)
}

fn sdiffstore(ctx: &mut Ctx<'_>) -> CmdResult {
    store(ctx, SetOp::Diff)
}

/// SSCAN returns the whole set in one call (cursor 0), as Redis does for intsets.
fn sscan(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let pattern = super::collection_scan_args(ctx.args)?;
    let members = ctx
        .read_as::<SetValue>(&key)?
        .map(SetValue::members)
        .unwrap_or_default();
    let items = members
        .into_iter()
        .filter(|m| {
            pattern
                .as_deref()
                .is_none_or(|p| glob::matches(p, m, false))
        })
        .map(Reply::Bulk)
        .collect();
    Ok(Reply::Array(vec![
        Reply::bulk_str("0"),
        Reply::Array(items),
    ]))
}
