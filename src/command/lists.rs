//! List commands (Redis's `t_list.c`) over a `VecDeque`. One body serves each family of
//! end-specific commands (LPUSH/RPUSH/LPUSHX/RPUSHX, LPOP/RPOP), the way Redis's
//! `pushGenericCommand` does. The blocking ones (BLPOP, BLMOVE, BLMPOP ...) are the same bodies
//! answering [`WouldBlock`] when there is nothing to pop; the shard runtime does the waiting.

use std::collections::VecDeque;

use bytes::Bytes;

use super::{
    int_arg, is_opt, spec, timeout_secs_arg, BeginSearch, CmdResult, CommandSpec, Ctx, FindKeys,
    Group, KeyRange, KeySpec, OpError, Run, WouldBlock,
};
use crate::flags;
use crate::keyspace::{notify, Value};
use crate::resp::Reply;

type List = VecDeque<Bytes>;

pub static COMMANDS: &[CommandSpec] = &[
    spec("lpush", -3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::List, Run::Keys(lpush))
        .doc("Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added", "key element [element ...]"),
    spec("rpush", -3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::List, Run::Keys(rpush))
        .doc("Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added", "key element [element ...]"),
    spec("lpushx", -3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::List, Run::Keys(lpushx))
        .doc("Prepends one or more elements to a list only when the list exists.", "2.2.0", "O(1) for each element added", "key element [element ...]"),
    spec("rpushx", -3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::List, Run::Keys(rpushx))
        .doc("Appends an element to a list only when the list exists.", "2.2.0", "O(1) for each element added", "key element [element ...]"),
    spec("lpop", -2, flags!(WRITE | FAST), KeySpec::ONE, Group::List, Run::Keys(lpop))
        .doc("Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "1.0.0", "O(N) where N is the number of elements returned", "key [count]"),
    spec("rpop", -2, flags!(WRITE | FAST), KeySpec::ONE, Group::List, Run::Keys(rpop))
        .doc("Returns and removes the last elements of the list. Deletes the list if the last element was popped.", "1.0.0", "O(N) where N is the number of elements returned", "key [count]"),
    // Routing may over-count (every argument from the first key on); the key spec is exact.
    spec("lmpop", -4, flags!(WRITE), KeySpec { first: 2, last: -1, step: 1 }, Group::List, Run::Keys(lmpop))
        .key_specs(KeyRange::NUMKEYS)
        .doc("Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "numkeys key [key ...] LEFT|RIGHT [COUNT count]"),
    spec("llen", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::List, Run::Keys(llen))
        .doc("Returns the length of a list.", "1.0.0", "O(1)", "key"),
    spec("lrange", 4, flags!(READONLY), KeySpec::ONE, Group::List, Run::Keys(lrange))
        .doc("Returns a range of elements from a list.", "1.0.0", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", "key start stop"),
    spec("lindex", 3, flags!(READONLY), KeySpec::ONE, Group::List, Run::Keys(lindex))
        .doc("Returns an element from a list by its index.", "1.0.0", "O(N) where N is the number of elements to traverse to get to the element at index.", "key index"),
    spec("lset", 4, flags!(WRITE | DENYOOM), KeySpec::ONE, Group::List, Run::Keys(lset))
        .doc("Sets the value of an element in a list by its index.", "1.0.0", "O(N) where N is the length of the list.", "key index element"),
    spec("linsert", 5, flags!(WRITE | DENYOOM), KeySpec::ONE, Group::List, Run::Keys(linsert))
        .doc("Inserts an element before or after another element in a list.", "2.2.0", "O(N) where N is the number of elements to traverse before seeing the value pivot.", "key BEFORE|AFTER pivot element"),
    spec("lrem", 4, flags!(WRITE), KeySpec::ONE, Group::List, Run::Keys(lrem))
        .doc("Removes elements from a list. Deletes the list if the last element was removed.", "1.0.0", "O(N+M) where N is the length of the list and M is the number of elements removed.", "key count element"),
    spec("ltrim", 4, flags!(WRITE), KeySpec::ONE, Group::List, Run::Keys(ltrim))
        .doc("Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "1.0.0", "O(N) where N is the number of elements to be removed by the operation.", "key start stop"),
    spec("lpos", -3, flags!(READONLY), KeySpec::ONE, Group::List, Run::Keys(lpos))
        .doc("Returns the index of matching elements in a list.", "6.0.6", "O(N) where N is the number of elements in the list, for the average case.", "key element [RANK rank] [COUNT num-matches] [MAXLEN len]"),
    spec("lmove", 5, flags!(WRITE | DENYOOM), KeySpec::TWO, Group::List, Run::Keys(lmove))
        .doc("Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "6.2.0", "O(1)", "source destination LEFT|RIGHT LEFT|RIGHT"),
    spec("rpoplpush", 3, flags!(WRITE | DENYOOM), KeySpec::TWO, Group::List, Run::Keys(rpoplpush))
        .doc("Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "1.2.0", "O(1)", "source destination"),
    spec("blpop", -3, flags!(WRITE | BLOCKING), KeySpec { first: 1, last: -2, step: 1 }, Group::List, Run::Keys(blpop))
        .doc("Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", "O(N) where N is the number of provided keys.", "key [key ...] timeout"),
    spec("brpop", -3, flags!(WRITE | BLOCKING), KeySpec { first: 1, last: -2, step: 1 }, Group::List, Run::Keys(brpop))
        .doc("Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", "O(N) where N is the number of provided keys.", "key [key ...] timeout"),
    spec("blmove", 6, flags!(WRITE | DENYOOM | BLOCKING), KeySpec::TWO, Group::List, Run::Keys(blmove))
        .doc("Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "6.2.0", "O(1)", "source destination LEFT|RIGHT LEFT|RIGHT timeout"),
    spec("brpoplpush", 4, flags!(WRITE | DENYOOM | BLOCKING), KeySpec::TWO, Group::List, Run::Keys(brpoplpush))
        .doc("Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "2.2.0", "O(1)", "source destination timeout"),
    spec("blmpop", -5, flags!(WRITE | BLOCKING), KeySpec { first: 3, last: -1, step: 1 }, Group::List, Run::Keys(blmpop))
        .key_specs(TIMEOUT_THEN_NUMKEYS)
        .doc("Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]"),
];

/// The `timeout numkeys key [key ...]` layout of BLMPOP and BZMPOP.
pub const TIMEOUT_THEN_NUMKEYS: &[KeyRange] = &[KeyRange {
    begin: BeginSearch::Index(2),
    find: FindKeys::Keynum {
        keynumidx: 0,
        firstkey: 1,
        keystep: 1,
    },
}];

#[derive(Clone, Copy, PartialEq)]
enum End {
    Left,
    Right,
}

impl End {
    fn push_event(self) -> &'static str {
        match self {
            End::Left => "lpush",
            End::Right => "rpush",
        }
    }

    fn pop_event(self) -> &'static str {
        match self {
            End::Left => "lpop",
            End::Right => "rpop",
        }
    }
}

fn end_arg(arg: &[u8]) -> Result<End, OpError> {
    if is_opt(arg, "left") {
        Ok(End::Left)
    } else if is_opt(arg, "right") {
        Ok(End::Right)
    } else {
        Err(OpError::Syntax)
    }
}

fn push(list: &mut List, end: End, value: Bytes) {
    match end {
        End::Left => list.push_front(value),
        End::Right => list.push_back(value),
    }
}

fn pop(list: &mut List, end: End) -> Option<Bytes> {
    match end {
        End::Left => list.pop_front(),
        End::Right => list.pop_back(),
    }
}

fn lmpop(ctx: &mut Ctx<'_>) -> CmdResult {
    mpop_generic(ctx, 1)
}

/// BLMPOP timeout numkeys ...: LMPOP, waiting while every list is empty.
fn blmpop(ctx: &mut Ctx<'_>) -> CmdResult {
    let timeout = timeout_secs_arg(&ctx.args[1])?;
    match mpop_generic(ctx, 2)? {
        Reply::NullArray => Err(WouldBlock::err(timeout, Reply::NullArray)),
        reply => Ok(reply),
    }
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], with numkeys at `args[first]`: pops
/// from the first non-empty list, with Redis 7.0's checks in its order.
fn mpop_generic(ctx: &mut Ctx<'_>, first: usize) -> CmdResult {
    let positive = |arg: &[u8], msg: &'static str| {
        int_arg(arg)
            .ok()
            .filter(|&n| n >= 1)
            .map(|n| n as usize)
            .ok_or_else(|| OpError::other(msg))
    };
    let numkeys = positive(&ctx.args[first], "ERR numkeys should be greater than 0")?;
    let where_idx = numkeys.saturating_add(first + 1);
    let end = match ctx.args.get(where_idx) {
        Some(a) if is_opt(a, "left") => End::Left,
        Some(a) if is_opt(a, "right") => End::Right,
        _ => return Err(OpError::Syntax),
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < ctx.args.len() {
        if count.is_none() && is_opt(&ctx.args[j], "count") && j + 1 < ctx.args.len() {
            j += 1;
            count = Some(positive(
                &ctx.args[j],
                "ERR count should be greater than 0",
            )?);
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    let count = count.unwrap_or(1);
    let keys: Vec<Bytes> = ctx.args[first + 1..where_idx].to_vec();
    for key in keys {
        let Some(list) = ctx.write_as::<List>(&key, false)? else {
            continue;
        };
        let popped: Vec<Reply> = (0..count.min(list.len()))
            .filter_map(|_| pop(list, end))
            .map(Reply::Bulk)
            .collect();
        ctx.notify(notify::LIST, end.pop_event(), &key);
        ctx.drop_if_empty::<List>(&key);
        return Ok(Reply::Array(vec![Reply::Bulk(key), Reply::Array(popped)]));
    }
    Ok(Reply::NullArray)
}

/// LPUSH, RPUSH, LPUSHX, RPUSHX.
fn push_generic(ctx: &mut Ctx<'_>, end: End, create: bool) -> CmdResult {
    let key = ctx.args[1].clone();
    let values: Vec<Bytes> = ctx.args[2..]
        .iter()
        .map(|v| Bytes::copy_from_slice(v))
        .collect();
    let Some(list) = ctx.write_as::<List>(&key, create)? else {
        return Ok(Reply::Int(0));
    };
    for v in values {
        push(list, end, v);
    }
    let len = list.len();
    ctx.notify(notify::LIST, end.push_event(), &key);
    Ok(Reply::Int(len as i64))
}

fn lpush(ctx: &mut Ctx<'_>) -> CmdResult {
    push_generic(ctx, End::Left, true)
}

fn rpush(ctx: &mut Ctx<'_>) -> CmdResult {
    push_generic(ctx, End::Right, true)
}

fn lpushx(ctx: &mut Ctx<'_>) -> CmdResult {
    push_generic(ctx, End::Left, false)
}

fn rpushx(ctx: &mut Ctx<'_>) -> CmdResult {
    push_generic(ctx, End::Right, false)
}

/// LPOP and RPOP, with Redis's count semantics (a count replies with an array, nil when the key
/// is missing).
fn pop_generic(ctx: &mut Ctx<'_>, end: End) -> CmdResult {
    let count = match ctx.args.get(2) {
        None => None,
        Some(c) if ctx.args.len() == 3 => {
            let n = int_arg(c)
                .map_err(|_| OpError::other("ERR value is out of range, must be positive"))?;
            if n < 0 {
                return Err(OpError::other(
                    "ERR value is out of range, must be positive",
                ));
            }
            Some(n as usize)
        }
        Some(_) => return Err(OpError::Syntax),
    };
    let key = ctx.args[1].clone();
    let Some(list) = ctx.write_as::<List>(&key, false)? else {
        return Ok(if count.is_some() {
            Reply::NullArray
        } else {
            Reply::Null
        });
    };
    let reply = match count {
        None => pop(list, end).map_or(Reply::Null, Reply::Bulk),
        Some(n) => Reply::Array(
            (0..n.min(list.len()))
                .filter_map(|_| pop(list, end))
                .map(Reply::Bulk)
                .collect(),
        ),
    };
    if !matches!(&reply, Reply::Array(items) if items.is_empty()) {
        ctx.notify(notify::LIST, end.pop_event(), &key);
    }
    ctx.drop_if_empty::<List>(&key);
    Ok(reply)
}

fn lpop(ctx: &mut Ctx<'_>) -> CmdResult {
    pop_generic(ctx, End::Left)
}

fn rpop(ctx: &mut Ctx<'_>) -> CmdResult {
    pop_generic(ctx, End::Right)
}

fn llen(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    Ok(Reply::Int(
        ctx.read_as::<List>(&key)?.map_or(0, |l| l.len() as i64),
    ))
}

/// Redis's inclusive (start, stop) with negatives from the end, clamped; None when empty.
fn range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    (start <= stop && start < len).then_some((start as usize, stop as usize))
}

fn lrange(ctx: &mut Ctx<'_>) -> CmdResult {
    let (start, stop) = (int_arg(&ctx.args[2])?, int_arg(&ctx.args[3])?);
    let key = ctx.args[1].clone();
    let Some(list) = ctx.read_as::<List>(&key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    Ok(Reply::Array(match range(start, stop, list.len()) {
        Some((a, b)) => list.range(a..=b).map(|v| Reply::Bulk(v.clone())).collect(),
        None => Vec::new(),
    }))
}

/// An index counted from the end when negative; None when out of range.
fn index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn lindex(ctx: &mut Ctx<'_>) -> CmdResult {
    let i = int_arg(&ctx.args[2])?;
    let key = ctx.args[1].clone();
    let Some(list) = ctx.read_as::<List>(&key)? else {
        return Ok(Reply::Null);
    };
    Ok(index(i, list.len())
        .and_then(|i| list.get(i))
        .map_or(Reply::Null, |v| Reply::Bulk(v.clone())))
}

fn lset(ctx: &mut Ctx<'_>) -> CmdResult {
    let i = int_arg(&ctx.args[2])?;
    let (key, value) = (ctx.args[1].clone(), Bytes::copy_from_slice(&ctx.args[3]));
    let list = ctx
        .write_as::<List>(&key, false)?
        .ok_or(OpError::NoSuchKey)?;
    let i = index(i, list.len()).ok_or_else(|| OpError::other("ERR index out of range"))?;
    list[i] = value;
    ctx.notify(notify::LIST, "lset", &key);
    Ok(Reply::OK)
}

fn linsert(ctx: &mut Ctx<'_>) -> CmdResult {
    let after = if is_opt(&ctx.args[2], "after") {
        true
    } else if is_opt(&ctx.args[2], "before") {
        false
    } else {
        return Err(OpError::Syntax);
    };
    let (key, pivot, value) = (
        ctx.args[1].clone(),
        ctx.args[3].clone(),
        Bytes::copy_from_slice(&ctx.args[4]),
    );
    let Some(list) = ctx.write_as::<List>(&key, false)? else {
        return Ok(Reply::Int(0));
    };
    let Some(at) = list.iter().position(|v| *v == pivot) else {
        return Ok(Reply::Int(-1));
    };
    list.insert(at + after as usize, value);
    let len = list.len();
    ctx.notify(notify::LIST, "linsert", &key);
    Ok(Reply::Int(len as i64))
}

fn lrem(ctx: &mut Ctx<'_>) -> CmdResult {
    let count = int_arg(&ctx.args[2])?;
    let (key, value) = (ctx.args[1].clone(), ctx.args[3].clone());
    let Some(list) = ctx.write_as::<List>(&key, false)? else {
        return Ok(Reply::Int(0));
    };
    // count > 0: first matches from the head; < 0: from the tail; 0: all.
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut positions: Vec<usize> = list
        .iter()
        .enumerate()
        .filter(|(_, v)| **v == value)
        .map(|(i, _)| i)
        .collect();
    if count < 0 {
        positions.reverse();
    }
    positions.truncate(limit);
    positions.sort_unstable_by(|a, b| b.cmp(a));
    for &i in &positions {
        list.remove(i);
    }
    if !positions.is_empty() {
        ctx.notify(notify::LIST, "lrem", &key);
    }
    ctx.drop_if_empty::<List>(&key);
    Ok(Reply::Int(positions.len() as i64))
}

fn ltrim(ctx: &mut Ctx<'_>) -> CmdResult {
    let (start, stop) = (int_arg(&ctx.args[2])?, int_arg(&ctx.args[3])?);
    let key = ctx.args[1].clone();
    let Some(list) = ctx.write_as::<List>(&key, false)? else {
        return Ok(Reply::OK);
    };
    match range(start, stop, list.len()) {
        Some((a, b)) => {
            list.truncate(b + 1);
            list.drain(..a);
        }
        None => list.clear(),
    }
    ctx.notify(notify::LIST, "ltrim", &key);
    ctx.drop_if_empty::<List>(&key);
    Ok(Reply::OK)
}

fn lpos(ctx: &mut Ctx<'_>) -> CmdResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut i = 3;
    while i < ctx.args.len() {
        let value = ctx.args.get(i + 1).ok_or(OpError::Syntax)?;
        let n = int_arg(value)?;
        if is_opt(&ctx.args[i], "rank") {
            if n == 0 || n == i64::MIN {
                return Err(OpError::other("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
            rank = n;
        } else if is_opt(&ctx.args[i], "count") {
            if n < 0 {
                return Err(OpError::other("ERR COUNT can't be negative"));
            }
            count = Some(n);
        } else if is_opt(&ctx.args[i], "maxlen") {
            if n < 0 {
                return Err(OpError::other("ERR MAXLEN can't be negative"));
            }
            maxlen = n;
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    let (key, element) = (ctx.args[1].clone(), ctx.args[2].clone());
    let list = ctx.read_as::<List>(&key)?;
    let len = list.map_or(0, |l| l.len());
    let scan = if maxlen == 0 {
        len
    } else {
        (maxlen as usize).min(len)
    };
    let mut found = Vec::new();
    if let Some(list) = list {
        let wanted = match count {
            Some(0) => usize::MAX,
            Some(c) => c as usize,
            None => 1,
        };
        let mut skip = rank.unsigned_abs() - 1;
        let order: Box<dyn Iterator<Item = usize>> = if rank > 0 {
            Box::new(0..scan)
        } else {
            Box::new((len - scan..len).rev())
        };
        for i in order {
            if list[i] == element {
                if skip > 0 {
                    skip -= 1;
                } else {
                    found.push(Reply::Int(i as i64));
                    if found.len() >= wanted {
                        break;
                    }
                }
            }
        }
    }
    Ok(match count {
        Some(_) => Reply::Array(found),
        None => found.pop().unwrap_or(Reply::Null),
    })
}

/// LMOVE and RPOPLPUSH: pop from one end of `src`, push to one end of `dst`, atomically.
fn move_generic(ctx: &mut Ctx<'_>, from: End, to: End) -> CmdResult {
    let (src, dst) = (ctx.args[1].clone(), ctx.args[2].clone());
    let now = ctx.now;
    // Redis checks the destination's type before popping anything.
    let dst_wrong = ctx
        .db()
        .peek(&dst, now)
        .is_some_and(|e| !matches!(e.value, Value::List(_)));
    if dst_wrong
        && ctx
            .db()
            .peek(&src, now)
            .is_some_and(|e| matches!(e.value, Value::List(_)))
    {
        return Err(OpError::WrongType);
    }
    let Some(list) = ctx.write_as::<List>(&src, false)? else {
        return Ok(Reply::Null);
    };
    let Some(value) = pop(list, from) else {
        return Ok(Reply::Null);
    };
    match ctx.write_as::<List>(&dst, true)? {
        Some(target) => push(target, to, value.clone()),
        None => return Err(OpError::WrongType),
    }
    // Redis's order: the push, then the pop, then the emptied source's deletion.
    ctx.notify(notify::LIST, to.push_event(), &dst);
    ctx.notify(notify::LIST, from.pop_event(), &src);
    ctx.drop_if_empty::<List>(&src);
    Ok(Reply::Bulk(value))
}

fn lmove(ctx: &mut Ctx<'_>) -> CmdResult {
    let (from, to) = (end_arg(&ctx.args[3])?, end_arg(&ctx.args[4])?);
    move_generic(ctx, from, to)
}

fn rpoplpush(ctx: &mut Ctx<'_>) -> CmdResult {
    move_generic(ctx, End::Right, End::Left)
}

/// BLPOP and BRPOP: pop from the first non-empty list, or wait.
fn bpop_generic(ctx: &mut Ctx<'_>, end: End) -> CmdResult {
    let last = ctx.args.len() - 1;
    let timeout = timeout_secs_arg(&ctx.args[last])?;
    for i in 1..last {
        let key = ctx.args[i].clone();
        let Some(list) = ctx.write_as::<List>(&key, false)? else {
            continue;
        };
        if let Some(value) = pop(list, end) {
            ctx.notify(notify::LIST, end.pop_event(), &key);
            ctx.drop_if_empty::<List>(&key);
            return Ok(Reply::Array(vec![Reply::Bulk(key), Reply::Bulk(value)]));
        }
    }
    Err(WouldBlock::err(timeout, Reply::NullArray))
}

fn blpop(ctx: &mut Ctx<'_>) -> CmdResult {
    bpop_generic(ctx, End::Left)
}

fn brpop(ctx: &mut Ctx<'_>) -> CmdResult {
    bpop_generic(ctx, End::Right)
}

/// BLMOVE and BRPOPLPUSH: LMOVE, waiting while the source is empty.
fn bmove_generic(ctx: &mut Ctx<'_>, from: End, to: End, timeout: u64) -> CmdResult {
    match move_generic(ctx, from, to)? {
        Reply::Null => Err(WouldBlock::err(timeout, Reply::Null)),
        reply => Ok(reply),
    }
}

fn blmove(ctx: &mut Ctx<'_>) -> CmdResult {
    let (from, to) = (end_arg(&ctx.args[3])?, end_arg(&ctx.args[4])?);
    let timeout = timeout_secs_arg(&ctx.args[5])?;
    bmove_generic(ctx, from, to, timeout)
}

fn brpoplpush(ctx: &mut Ctx<'_>) -> CmdResult {
    let timeout = timeout_secs_arg(&ctx.args[3])?;
    bmove_generic(ctx, End::Right, End::Left, timeout)
}
