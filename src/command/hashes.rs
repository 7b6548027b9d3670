//! Hash commands (Redis's `t_hash.c`): HSET and friends over [`HashValue`].

use bytes::Bytes;
use rand::seq::SliceRandom;
use rand::Rng;

use super::{
    float_arg, int_arg, is_opt, spec, CmdResult, CommandSpec, Ctx, Group, KeySpec, OpError, Run,
};
use crate::flags;
use crate::glob;
use crate::keyspace::{notify, HashValue};
use crate::resp::{parse_i64, Reply};

pub static COMMANDS: &[CommandSpec] = &[
    spec("hset", -4, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hset))
        .doc("Creates or modifies the value of a field in a hash.", "2.0.0", "O(1) for each field/value pair added", "key field value [field value ...]"),
    spec("hmset", -4, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hmset))
        .doc("Sets the values of multiple fields.", "2.0.0", "O(N) where N is the number of fields being set.", "key field value [field value ...]"),
    spec("hsetnx", 4, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hsetnx))
        .doc("Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0", "O(1)", "key field value"),
    spec("hget", 3, flags!(READONLY | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hget))
        .doc("Returns the value of a field in a hash.", "2.0.0", "O(1)", "key field"),
    spec("hmget", -3, flags!(READONLY | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hmget))
        .doc("Returns the values of all fields in a hash.", "2.0.0", "O(N) where N is the number of fields being requested.", "key field [field ...]"),
    spec("hdel", -3, flags!(WRITE | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hdel))
        .doc("Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0", "O(N) where N is the number of fields to be removed.", "key field [field ...]"),
    spec("hlen", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hlen))
        .doc("Returns the number of fields in a hash.", "2.0.0", "O(1)", "key"),
    spec("hstrlen", 3, flags!(READONLY | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hstrlen))
        .doc("Returns the length of the value of a field.", "3.2.0", "O(1)", "key field"),
    spec("hexists", 3, flags!(READONLY | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hexists))
        .doc("Determines whether a field exists in a hash.", "2.0.0", "O(1)", "key field"),
    spec("hkeys", 2, flags!(READONLY), KeySpec::ONE, Group::Hash, Run::Keys(hkeys))
        .doc("Returns all fields in a hash.", "2.0.0", "O(N) where N is the size of the hash.", "key"),
    spec("hvals", 2, flags!(READONLY), KeySpec::ONE, Group::Hash, Run::Keys(hvals))
        .doc("Returns all values in a hash.", "2.0.0", "O(N) where N is the size of the hash.", "key"),
    spec("hgetall", 2, flags!(READONLY), KeySpec::ONE, Group::Hash, Run::Keys(hgetall))
        .doc("Returns all fields and values in a hash.", "2.0.0", "O(N) where N is the size of the hash.", "key"),
    spec("hincrby", 4, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hincrby))
        .doc("Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "2.0.0", "O(1)", "key field increment"),
    spec("hincrbyfloat", 4, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::Hash, Run::Keys(hincrbyfloat))
        .doc("Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "2.6.0", "O(1)", "key field increment"),
    spec("hrandfield", -2, flags!(READONLY), KeySpec::ONE, Group::Hash, Run::Keys(hrandfield))
        .doc("Returns one or more random fields from a hash.", "6.2.0", "O(N) where N is the number of fields returned", "key [count [WITHVALUES]]"),
    spec("hscan", -3, flags!(READONLY), KeySpec::ONE, Group::Hash, Run::Keys(hscan))
        .doc("Iterates over fields and values of a hash.", "2.8.0", "O(1) for every call. O(N) for a complete iteration.", "key cursor [MATCH pattern] [COUNT count]"),
];

fn pairs(ctx: &Ctx<'_>) -> Result<Vec<(Bytes, Bytes)>, OpError> {
    if ctx.args.len() % 2 != 0 {
        let name = String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase();
        return Err(OpError::other(format!(
            "ERR wrong number of arguments for '{name}' command"
        )));
    }
    Ok(ctx.args[2..]
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect())
}

fn hset(ctx: &mut Ctx<'_>) -> CmdResult {
    let pairs = pairs(ctx)?;
    let key = ctx.args[1].clone();
    let h = ctx.create_as::<HashValue>(&key)?;
    let added = pairs.iter().filter(|(f, v)| h.set(f, v)).count();
    ctx.notify(notify::HASH, "hset", &key);
    Ok(Reply::Int(added as i64))
}

fn hmset(ctx: &mut Ctx<'_>) -> CmdResult {
    hset(ctx).map(|_| Reply::OK)
}

fn hsetnx(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, field, value) = (
        ctx.args[1].clone(),
        ctx.args[2].clone(),
        ctx.args[3].clone(),
    );
    let h = ctx.create_as::<HashValue>(&key)?;
    let added = h.get(&field).is_none() && h.set(&field, &value);
    if added {
        ctx.notify(notify::HASH, "hset", &key);
    }
    Ok(Reply::Int(added as i64))
}

fn hget(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, field) = (ctx.args[1].clone(), ctx.args[2].clone());
    Ok(ctx
        .read_as::<HashValue>(&key)?
        .and_then(|h| h.get(&field))
        .map_or(Reply::Null, Reply::bulk_copy))
}

fn hmget(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let fields: Vec<Bytes> = ctx.args[2..].to_vec();
    let h = ctx.read_as::<HashValue>(&key)?;
    Ok(Reply::Array(
        fields
            .iter()
            .map(|f| {
                h.and_then(|h| h.get(f))
                    .map_or(Reply::Null, Reply::bulk_copy)
            })
            .collect(),
    ))
}

fn hdel(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let fields: Vec<Bytes> = ctx.args[2..].to_vec();
    let Some(h) = ctx.write_as::<HashValue>(&key, false)? else {
        return Ok(Reply::Int(0));
    };
    let removed = fields.iter().filter(|f| h.remove(f)).count();
    if removed > 0 {
        ctx.notify(notify::HASH, "hdel", &key);
    }
    ctx.drop_if_empty::<HashValue>(&key);
    Ok(Reply::Int(removed as i64))
}

fn hlen(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    Ok(Reply::Int(
        ctx.read_as::<HashValue>(&key)?
            .map_or(0, |h| h.len() as i64),
    ))
}

fn hstrlen(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, field) = (ctx.args[1].clone(), ctx.args[2].clone());
    Ok(Reply::Int(
        ctx.read_as::<HashValue>(&key)?
            .and_then(|h| h.get(&field))
            .map_or(0, |v| v.len() as i64),
    ))
}

fn hexists(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, field) = (ctx.args[1].clone(), ctx.args[2].clone());
    Ok(Reply::Int(
        ctx.read_as::<HashValue>(&key)?
            .is_some_and(|h| h.get(&field).is_some()) as i64,
    ))
}

fn all(ctx: &mut Ctx<'_>, shape: fn(&[u8], &[u8], &mut Vec<Reply>)) -> CmdResult {
    let key = ctx.args[1].clone();
    let mut out = Vec::new();
    if let Some(h) = ctx.read_as::<HashValue>(&key)? {
        for (f, v) in h.iter() {
            shape(f, v, &mut out);
        }
    }
    Ok(Reply::Array(out))
}

fn hkeys(ctx: &mut Ctx<'_>) -> CmdResult {
    all(ctx, |f, _, out| out.push(Reply::bulk_copy(f)))
}

fn hvals(ctx: &mut Ctx<'_>) -> CmdResult {
    all(ctx, |_, v, out| out.push(Reply::bulk_copy(v)))
}

fn hgetall(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let pairs = ctx
        .read_as::<HashValue>(&key)?
        .map(|h| {
            h.iter()
                .map(|(f, v)| (Reply::bulk_copy(f), Reply::bulk_copy(v)))
                .collect()
        })
        .unwrap_or_default();
    Ok(Reply::Map(pairs))
}

/// The current value of a hash field for an increment, parsed by `parse`.
fn field_number<T>(
    ctx: &mut Ctx<'_>,
    parse: impl Fn(&[u8]) -> Option<T>,
    not_a: &'static str,
) -> Result<Option<T>, OpError> {
    let (key, field) = (ctx.args[1].clone(), ctx.args[2].clone());
    let h = ctx.create_as::<HashValue>(&key)?;
    match h.get(&field) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| OpError::other(not_a)),
    }
}

fn hincrby(ctx: &mut Ctx<'_>) -> CmdResult {
    let by = int_arg(&ctx.args[3])?;
    let current = field_number(ctx, parse_i64, "ERR hash value is not an integer")?.unwrap_or(0);
    let next = current.checked_add(by).ok_or(OpError::Overflow)?;
    let (key, field) = (ctx.args[1].clone(), ctx.args[2].clone());
    ctx.create_as::<HashValue>(&key)?
        .set(&field, next.to_string().as_bytes());
    ctx.notify(notify::HASH, "hincrby", &key);
    Ok(Reply::Int(next))
}

fn hincrbyfloat(ctx: &mut Ctx<'_>) -> CmdResult {
    let by = float_arg(&ctx.args[3])?;
    let (key, field) = (ctx.args[1].clone(), ctx.args[2].clone());
    let stored = ctx
        .create_as::<HashValue>(&key)?
        .get(&field)
        .map(<[u8]>::to_vec);
    let current = match &stored {
        None => 0.0,
        Some(v) => float_arg(v).map_err(|_| OpError::other("ERR hash value is not a float"))?,
    };
    let next = current + by;
    if !next.is_finite() {
        return Err(OpError::other(
            "ERR increment would produce NaN or Infinity",
        ));
    }
    let text = super::strings::decimal_sum(stored.as_deref().unwrap_or(b"0"), &ctx.args[3])
        .unwrap_or_else(|| crate::resp::format_double(next));
    ctx.create_as::<HashValue>(&key)?
        .set(&field, text.as_bytes());
    ctx.notify(notify::HASH, "hincrbyfloat", &key);
    Ok(Reply::bulk(text))
}

fn hrandfield(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let count = ctx.args.get(2).map(|c| int_arg(c)).transpose()?;
    let with_values = match ctx.args.get(3) {
        None => false,
        Some(a) if is_opt(a, "withvalues") && ctx.args.len() == 4 => true,
        Some(_) => return Err(OpError::Syntax),
    };
    let Some(h) = ctx.read_as::<HashValue>(&key)? else {
        return Ok(if count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Null
        });
    };
    let fields: Vec<(&[u8], &[u8])> = h.iter().collect();
    let mut rng = rand::thread_rng();
    let Some(count) = count else {
        return Ok(Reply::bulk_copy(fields[rng.gen_range(0..fields.len())].0));
    };
    // A negative count may repeat fields; a positive one returns distinct fields.
    let chosen: Vec<(&[u8], &[u8])> = if count < 0 {
        let n = count.unsigned_abs().min(1 << 24) as usize;
        (0..n)
            .map(|_| fields[rng.gen_range(0..fields.len())])
            .collect()
    } else {
        fields
            .choose_multiple(&mut rng, (count as usize).min(fields.len()))
            .copied()
            .collect()
    };
    Ok(if with_values {
        Reply::Pairs(
            chosen
                .into_iter()
                .map(|(f, v)| (Reply::bulk_copy(f), Reply::bulk_copy(v)))
                .collect(),
        )
    } else {
        Reply::Array(
            chosen
                .into_iter()
                .map(|(f, _)| Reply::bulk_copy(f))
                .collect(),
        )
    })
}

/// HSCAN returns the whole hash in one call (cursor 0), which the SCAN contract allows, as Redis
/// does for its compact encodings.
fn hscan(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let pattern = super::collection_scan_args(ctx.args)?;
    let mut items = Vec::new();
    if let Some(h) = ctx.read_as::<HashValue>(&key)? {
        for (f, v) in h.iter() {
            if pattern
                .as_deref()
                .is_none_or(|p| glob::matches(p, f, false))
            {
                items.push(Reply::bulk_copy(f));
                items.push(Reply::bulk_copy(v));
            }
        }
    }
    Ok(Reply::Array(vec![
        Reply::bulk_str("0"),
        Reply::Array(items),
    ]))
}
