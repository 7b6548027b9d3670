//! String commands (Redis's `t_string.c`): GET, SET and its options, counters, ranges, LCS.

use bytes::{Bytes, BytesMut};

use super::{
    float_arg, int_arg, is_opt, spec, CmdResult, CommandSpec, Ctx, Group, KeySpec, OpError, Run,
};
use crate::flags;
use crate::keyspace::{notify, Entry, Value};
use crate::resp::{parse_i64, Reply};

pub static COMMANDS: &[CommandSpec] = &[
    spec("get", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::String, Run::Keys(get))
        .doc("Returns the string value of a key.", "1.0.0", "O(1)", "key"),
    spec("set", -3, flags!(WRITE | DENYOOM), KeySpec::ONE, Group::String, Run::Keys(set)).doc(
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        "1.0.0",
        "O(1)",
        "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
    ),
    spec("setnx", 3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::String, Run::Keys(setnx))
        .doc("Set the string value of a key only when the key doesn't exist.", "1.0.0", "O(1)", "key value"),
    spec("setex", 4, flags!(WRITE | DENYOOM), KeySpec::ONE, Group::String, Run::Keys(setex)).doc(
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        "2.0.0",
        "O(1)",
        "key seconds value",
    ),
    spec("psetex", 4, flags!(WRITE | DENYOOM), KeySpec::ONE, Group::String, Run::Keys(psetex)).doc(
        "Sets both string value and expiration time in milliseconds of a key.",
        "2.6.0",
        "O(1)",
        "key milliseconds value",
    ),
    spec("mget", -2, flags!(READONLY | FAST), KeySpec::ALL, Group::String, Run::Keys(mget))
        .doc("Atomically returns the string values of one or more keys.", "1.0.0", "O(N)", "key [key ...]"),
    spec("mset", -3, flags!(WRITE | DENYOOM), KeySpec::PAIRS, Group::String, Run::Keys(mset))
        .doc("Atomically creates or modifies the string values of one or more keys.", "1.0.1", "O(N)", "key value [key value ...]"),
    spec("msetnx", -3, flags!(WRITE | DENYOOM), KeySpec::PAIRS, Group::String, Run::Keys(msetnx)).doc(
        "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        "1.0.1",
        "O(N)",
        "key value [key value ...]",
    ),
    spec("getset", 3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::String, Run::Keys(getset))
        .doc("Returns the previous string value of a key after setting it to a new value.", "1.0.0", "O(1)", "key value"),
    spec("getdel", 2, flags!(WRITE | FAST), KeySpec::ONE, Group::String, Run::Keys(getdel))
        .doc("Returns the string value of a key after deleting the key.", "6.2.0", "O(1)", "key"),
    spec("getex", -2, flags!(WRITE | FAST), KeySpec::ONE, Group::String, Run::Keys(getex)).doc(
        "Returns the string value of a key after setting its expiration time.",
        "6.2.0",
        "O(1)",
        "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
    ),
    spec("append", 3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::String, Run::Keys(append)).doc(
        "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        "2.0.0",
        "O(1)",
        "key value",
    ),
    spec("strlen", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::String, Run::Keys(strlen))
        .doc("Returns the length of a string value.", "2.2.0", "O(1)", "key"),
    spec("incr", 2, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::String, Run::Keys(incr))
        .doc("Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0", "O(1)", "key"),
    spec("decr", 2, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::String, Run::Keys(decr))
        .doc("Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0", "O(1)", "key"),
    spec("incrby", 3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::String, Run::Keys(incrby)).doc(
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        "1.0.0",
        "O(1)",
        "key increment",
    ),
    spec("decrby", 3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::String, Run::Keys(decrby)).doc(
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        "1.0.0",
        "O(1)",
        "key decrement",
    ),
    spec("incrbyfloat", 3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, Group::String, Run::Keys(incrbyfloat)).doc(
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        "2.6.0",
        "O(1)",
        "key increment",
    ),
    spec("getrange", 4, flags!(READONLY), KeySpec::ONE, Group::String, Run::Keys(getrange))
        .doc("Returns a substring of the string stored at a key.", "2.4.0", "O(N)", "key start end"),
    spec("substr", 4, flags!(READONLY), KeySpec::ONE, Group::String, Run::Keys(getrange))
        .doc("Returns a substring from a string value.", "1.0.0", "O(N)", "key start end"),
    spec("setrange", 4, flags!(WRITE | DENYOOM), KeySpec::ONE, Group::String, Run::Keys(setrange)).doc(
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        "2.2.0",
        "O(1)",
        "key offset value",
    ),
    spec("lcs", -3, flags!(READONLY), KeySpec::TWO, Group::String, Run::Keys(lcs)).doc(
        "Finds the longest common substring.",
        "7.0.0",
        "O(N*M)",
        "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
    ),
];

/// The string at `key` for a read: None if missing, WRONGTYPE if another type.
fn read_str(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, OpError> {
    ctx.read(key)
        .map(|e| e.value.str_bytes().ok_or(OpError::WrongType))
        .transpose()
}

/// The string at `key` for a write, without counting a hit or miss.
fn write_str(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, OpError> {
    let now = ctx.now;
    ctx.db()
        .get(key, now)
        .map(|e| e.value.str_bytes().ok_or(OpError::WrongType))
        .transpose()
}

/// The string at `key` as a bulk reply (nil when missing), without copying it.
fn str_reply(ctx: &mut Ctx<'_>, key: &[u8], count_read: bool) -> CmdResult {
    let now = ctx.now;
    let entry = if count_read {
        ctx.read(key)
    } else {
        ctx.db().get(key, now)
    };
    entry.map_or(Ok(Reply::Null), |e| {
        e.value.str_reply().ok_or(OpError::WrongType)
    })
}

fn store(ctx: &mut Ctx<'_>, key: &[u8], value: &[u8]) {
    let now = ctx.now;
    ctx.db().set(key, Value::string(value), now);
    ctx.notify(notify::STRING, "set", key);
}

fn get(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    str_reply(ctx, &key, true)
}

/// Expiry options shared by SET and GETEX.
#[derive(Clone, Copy, PartialEq)]
enum ExpireOpt {
    None,
    /// Absolute time in ms.
    At(u64),
    KeepTtl,
    Persist,
}

/// Parses `EX|PX|EXAT|PXAT <n>` at `args[i]` into an absolute time, with Redis's checks.
fn parse_expire(
    ctx: &Ctx<'_>,
    opt: &[u8],
    value: &[u8],
    cmd: &'static str,
) -> Result<u64, OpError> {
    let n = int_arg(value)?;
    let (ms, relative) = if is_opt(opt, "ex") || is_opt(opt, "exat") {
        (
            n.checked_mul(1000).ok_or(OpError::InvalidExpire(cmd))?,
            is_opt(opt, "ex"),
        )
    } else {
        (n, is_opt(opt, "px"))
    };
    if n <= 0 {
        return Err(OpError::InvalidExpire(cmd));
    }
    let at = if relative {
        ms.checked_add(ctx.now as i64)
            .ok_or(OpError::InvalidExpire(cmd))?
    } else {
        ms
    };
    Ok(at as u64)
}

/// EX, PX, EXAT and PXAT: the options that take a time.
const TIMED: [&str; 4] = ["ex", "px", "exat", "pxat"];

/// Collects the expiry option of SET or GETEX the way Redis parses it: the same option may be
/// repeated (its last value wins), two different ones conflict. Returns false on a conflict.
struct ExpireParse<'a> {
    kind: Option<&'static str>,
    value: &'a [u8],
}

impl<'a> ExpireParse<'a> {
    fn new() -> Self {
        ExpireParse {
            kind: None,
            value: &[],
        }
    }

    /// Takes `kind` (with `value` for a timed one) unless another kind was given before.
    fn take(&mut self, kind: &'static str, value: &'a [u8]) -> bool {
        if self.kind.is_some_and(|k| k != kind) {
            return false;
        }
        self.kind = Some(kind);
        self.value = value;
        true
    }

    fn finish(self, ctx: &Ctx<'_>, cmd: &'static str) -> Result<ExpireOpt, OpError> {
        Ok(match self.kind {
            None => ExpireOpt::None,
            Some("keepttl") => ExpireOpt::KeepTtl,
            Some("persist") => ExpireOpt::Persist,
            Some(timed) => ExpireOpt::At(parse_expire(ctx, timed.as_bytes(), self.value, cmd)?),
        })
    }
}

fn set(ctx: &mut Ctx<'_>) -> CmdResult {
    let (mut nx, mut xx, mut get) = (false, false, false);
    let args = ctx.args;
    let mut opt = ExpireParse::new();
    let mut i = 3;
    while i < args.len() {
        let a = &args[i][..];
        let timed = TIMED.iter().find(|o| is_opt(a, o));
        if is_opt(a, "nx") && !xx {
            nx = true;
        } else if is_opt(a, "xx") && !nx {
            xx = true;
        } else if is_opt(a, "get") {
            get = true;
        } else if is_opt(a, "keepttl") && opt.take("keepttl", &[]) {
        } else if let (Some(t), Some(v)) = (timed, args.get(i + 1)) {
            if !opt.take(t, v) {
                return Err(OpError::Syntax);
            }
            i += 1;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    let expire = opt.finish(ctx, "set")?;
    let key = ctx.args[1].clone();
    let now = ctx.now;
    let old = if get {
        str_reply(ctx, &key, false)?
    } else {
        Reply::Null
    };
    let exists = if get {
        old != Reply::Null
    } else {
        (nx || xx) && ctx.db().contains(&key, now)
    };
    if (nx && exists) || (xx && !exists) {
        return Ok(old);
    }
    let value = Value::string(&ctx.args[2]);
    ctx.notify(notify::STRING, "set", &key);
    if let ExpireOpt::At(_) = expire {
        ctx.notify(notify::GENERIC, "expire", &key);
    }
    match expire {
        ExpireOpt::KeepTtl => ctx.db().set_keep_ttl(&key, value, now),
        ExpireOpt::At(at) => ctx.db().put(
            &key,
            Entry {
                value,
                expire_at: at,
                access: now,
            },
        ),
        _ => ctx.db().set(&key, value, now),
    }
    Ok(if get { old } else { Reply::OK })
}

fn setnx(ctx: &mut Ctx<'_>) -> CmdResult {
    let now = ctx.now;
    let (k, v) = (ctx.args[1].clone(), ctx.args[2].clone());
    if ctx.db().contains(&k, now) {
        return Ok(Reply::Int(0));
    }
    store(ctx, &k, &v);
    Ok(Reply::Int(1))
}

fn setex_generic(ctx: &mut Ctx<'_>, unit: &[u8], cmd: &'static str) -> CmdResult {
    let at = parse_expire(ctx, unit, ctx.arg(2), cmd)?;
    let now = ctx.now;
    let value = Value::string(&ctx.args[3]);
    let key = ctx.args[1].clone();
    ctx.db().put(
        &key,
        Entry {
            value,
            expire_at: at,
            access: now,
        },
    );
    ctx.notify(notify::STRING, "set", &key);
    ctx.notify(notify::GENERIC, "expire", &key);
    Ok(Reply::OK)
}

fn setex(ctx: &mut Ctx<'_>) -> CmdResult {
    setex_generic(ctx, b"ex", "setex")
}

fn psetex(ctx: &mut Ctx<'_>) -> CmdResult {
    setex_generic(ctx, b"px", "psetex")
}

fn mget(ctx: &mut Ctx<'_>) -> CmdResult {
    let keys: Vec<Bytes> = ctx.args[1..].to_vec();
    let values = keys
        .iter()
        .map(|k| {
            ctx.read(k)
                .and_then(|e| e.value.str_reply())
                .unwrap_or(Reply::Null)
        })
        .collect();
    Ok(Reply::Array(values))
}

fn mset_pairs(ctx: &Ctx<'_>) -> Result<Vec<(Bytes, Bytes)>, OpError> {
    if ctx.args.len() % 2 == 0 {
        let name = String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase();
        return Err(OpError::other(format!(
            "ERR wrong number of arguments for '{name}' command"
        )));
    }
    Ok(ctx.args[1..]
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect())
}

fn mset(ctx: &mut Ctx<'_>) -> CmdResult {
    for (k, v) in mset_pairs(ctx)? {
        store(ctx, &k, &v);
    }
    Ok(Reply::OK)
}

fn msetnx(ctx: &mut Ctx<'_>) -> CmdResult {
    let pairs = mset_pairs(ctx)?;
    let now = ctx.now;
    if pairs.iter().any(|(k, _)| ctx.db().contains(k, now)) {
        return Ok(Reply::Int(0));
    }
    for (k, v) in pairs {
        store(ctx, &k, &v);
    }
    Ok(Reply::Int(1))
}

fn getset(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, value) = (ctx.args[1].clone(), ctx.args[2].clone());
    let old = str_reply(ctx, &key, false)?;
    store(ctx, &key, &value);
    Ok(old)
}

fn getdel(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let old = str_reply(ctx, &key, true)?;
    if old != Reply::Null {
        ctx.db().remove(&key);
        ctx.notify(notify::GENERIC, "del", &key);
    }
    Ok(old)
}

fn getex(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let mut opt = ExpireParse::new();
    let mut i = 2;
    while i < args.len() {
        let a = &args[i][..];
        let timed = TIMED.iter().find(|o| is_opt(a, o));
        if is_opt(a, "persist") && opt.take("persist", &[]) {
        } else if let (Some(t), Some(v)) = (timed, args.get(i + 1)) {
            if !opt.take(t, v) {
                return Err(OpError::Syntax);
            }
            i += 1;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    let expire = opt.finish(ctx, "getex")?;
    let key = ctx.args[1].clone();
    let value = str_reply(ctx, &key, true)?;
    if value == Reply::Null {
        return Ok(value);
    }
    let now = ctx.now;
    match expire {
        ExpireOpt::At(at) if at <= now => {
            ctx.db().remove(&key);
            ctx.notify(notify::GENERIC, "del", &key);
        }
        ExpireOpt::At(at) => {
            ctx.db().set_expire(&key, at, now);
            ctx.notify(notify::GENERIC, "expire", &key);
        }
        ExpireOpt::Persist => {
            let had_ttl = ctx.db().peek(&key, now).is_some_and(|e| e.expire_at != 0);
            ctx.db().set_expire(&key, 0, now);
            if had_ttl {
                ctx.notify(notify::GENERIC, "persist", &key);
            }
        }
        _ => {}
    }
    Ok(value)
}

fn too_big() -> OpError {
    OpError::other("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
}

fn append(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, tail) = (ctx.args[1].clone(), ctx.args[2].clone());
    let now = ctx.now;
    let current = write_str(ctx, &key)?;
    let len = current.as_ref().map_or(0, |c| c.len()) + tail.len();
    if len as u64 > ctx.max_string {
        return Err(too_big());
    }
    let mut joined = BytesMut::with_capacity(len);
    joined.extend_from_slice(current.as_deref().unwrap_or(&[]));
    joined.extend_from_slice(&tail);
    ctx.db()
        .set_keep_ttl(&key, Value::from_bytes(joined.freeze()), now);
    ctx.notify(notify::STRING, "append", &key);
    Ok(Reply::Int(len as i64))
}

fn strlen(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    Ok(Reply::Int(
        read_str(ctx, &key)?.map_or(0, |s| s.len() as i64),
    ))
}

fn incr_generic(ctx: &mut Ctx<'_>, by: i64) -> CmdResult {
    let key = ctx.args[1].clone();
    let now = ctx.now;
    let current = match write_str(ctx, &key)? {
        None => 0,
        Some(s) => parse_i64(&s).ok_or(OpError::NotInteger)?,
    };
    let next = current.checked_add(by).ok_or(OpError::Overflow)?;
    ctx.db()
        .set_keep_ttl(&key, Value::string(next.to_string().as_bytes()), now);
    ctx.notify(notify::STRING, "incrby", &key);
    Ok(Reply::Int(next))
}

fn incr(ctx: &mut Ctx<'_>) -> CmdResult {
    incr_generic(ctx, 1)
}

fn decr(ctx: &mut Ctx<'_>) -> CmdResult {
    incr_generic(ctx, -1)
}

fn incrby(ctx: &mut Ctx<'_>) -> CmdResult {
    let by = int_arg(ctx.arg(2))?;
    incr_generic(ctx, by)
}

fn decrby(ctx: &mut Ctx<'_>) -> CmdResult {
    let by = int_arg(ctx.arg(2))?;
    let by = by
        .checked_neg()
        .ok_or_else(|| OpError::other("ERR decrement would overflow"))?;
    incr_generic(ctx, by)
}

fn incrbyfloat(ctx: &mut Ctx<'_>) -> CmdResult {
    let by = float_arg(ctx.arg(2))?;
    let key = ctx.args[1].clone();
    let now = ctx.now;
    let stored = write_str(ctx, &key)?;
    let current = match &stored {
        None => 0.0,
        Some(s) => float_arg(s)?,
    };
    let next = current + by;
    if !next.is_finite() {
        return Err(OpError::other(
            "ERR increment would produce NaN or Infinity",
        ));
    }
    let text = decimal_sum(stored.as_deref().unwrap_or(b"0"), ctx.arg(2))
        .unwrap_or_else(|| crate::resp::format_double(next));
    ctx.db()
        .set_keep_ttl(&key, Value::string(text.as_bytes()), now);
    ctx.notify(notify::STRING, "incrbyfloat", &key);
    Ok(Reply::bulk(text))
}

/// Plain decimals (`-12.5`), as an integer and a count of fractional digits.
fn parse_decimal(s: &[u8]) -> Option<(i128, u32)> {
    let (neg, body) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    let (int, frac) = match body.iter().position(|&c| c == b'.') {
        Some(dot) => (&body[..dot], &body[dot + 1..]),
        None => (body, &body[..0]),
    };
    if int.len() + frac.len() == 0 || int.len() + frac.len() > 36 {
        return None;
    }
    let mut m: i128 = 0;
    for &c in int.iter().chain(frac) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m * 10 + (c - b'0') as i128;
    }
    Some((if neg { -m } else { m }, frac.len() as u32))
}

/// INCRBYFLOAT's sum of two plain decimals, computed exactly and printed as Redis prints its
/// long double (`%.17Lf`, trailing zeros dropped), so `0.1` three times is `0.3` as in Redis
/// rather than f64's `0.30000000000000004`. None for anything else (exponents, huge values),
/// which takes the f64 path.
pub(super) fn decimal_sum(a: &[u8], b: &[u8]) -> Option<String> {
    let ((ma, sa), (mb, sb)) = (parse_decimal(a)?, parse_decimal(b)?);
    let scale = sa.max(sb);
    let align = |m: i128, s: u32| m.checked_mul(10i128.checked_pow(scale - s)?);
    let mut sum = align(ma, sa)?.checked_add(align(mb, sb)?)?;
    let mut scale = scale;
    if scale > 17 {
        // Round half away from zero to 17 fractional digits.
        let div = 10i128.pow(scale - 17);
        let rem = sum % div;
        sum /= div;
        if rem.abs() * 2 >= div {
            sum += if rem < 0 { -1 } else { 1 };
        }
        scale = 17;
    }
    let digits = sum.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    let frac = frac.trim_end_matches('0');
    let sign = if sum < 0 { "-" } else { "" };
    Some(if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}

/// Clamps Redis-style inclusive (start, end) indexes, negatives from the end, to a byte range.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if end < 0 {
        end = 0;
    }
    if end >= len {
        end = len - 1;
    }
    (len > 0 && start <= end).then_some((start as usize, end as usize + 1))
}

fn getrange(ctx: &mut Ctx<'_>) -> CmdResult {
    let (start, end) = (int_arg(ctx.arg(2))?, int_arg(ctx.arg(3))?);
    let key = ctx.args[1].clone();
    let Some(s) = read_str(ctx, &key)? else {
        return Ok(Reply::bulk(Bytes::new()));
    };
    // Redis: both negative and start > end gives an empty string.
    if start < 0 && end < 0 && start > end {
        return Ok(Reply::bulk(Bytes::new()));
    }
    Ok(Reply::Bulk(
        clamp_range(start, end, s.len()).map_or_else(Bytes::new, |(a, b)| s.slice(a..b)),
    ))
}

fn setrange(ctx: &mut Ctx<'_>) -> CmdResult {
    let offset = int_arg(ctx.arg(2))?;
    if offset < 0 {
        return Err(OpError::other("ERR offset is out of range"));
    }
    let (key, patch) = (ctx.args[1].clone(), ctx.args[3].clone());
    let now = ctx.now;
    let current = write_str(ctx, &key)?;
    if patch.is_empty() {
        return Ok(Reply::Int(current.map_or(0, |c| c.len() as i64)));
    }
    let end = offset as u64 + patch.len() as u64;
    if end > ctx.max_string {
        return Err(too_big());
    }
    let mut buf = BytesMut::from(current.as_deref().unwrap_or(&[]));
    if (buf.len() as u64) < end {
        buf.resize(end as usize, 0);
    }
    buf[offset as usize..end as usize].copy_from_slice(&patch);
    let len = buf.len();
    ctx.db()
        .set_keep_ttl(&key, Value::from_bytes(buf.freeze()), now);
    ctx.notify(notify::STRING, "setrange", &key);
    Ok(Reply::Int(len as i64))
}

/// Memory LCS may use for its table; beyond it the command is refused, as Redis refuses.
const LCS_MAX_TABLE: u64 = 512 * 1024 * 1024;

fn lcs(ctx: &mut Ctx<'_>) -> CmdResult {
    let (mut get_len, mut get_idx, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut i = 3;
    while i < ctx.args.len() {
        let a = ctx.arg(i);
        if is_opt(a, "idx") {
            get_idx = true;
        } else if is_opt(a, "len") {
            get_len = true;
        } else if is_opt(a, "withmatchlen") {
            with_len = true;
        } else if is_opt(a, "minmatchlen") && i + 1 < ctx.args.len() {
            min_len = int_arg(ctx.arg(i + 1))?.max(0);
            i += 1;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    let (ka, kb) = (ctx.args[1].clone(), ctx.args[2].clone());
    let as_str = |r: Result<Option<Bytes>, OpError>| {
        r.map_err(|_| OpError::other("ERR The specified keys must contain string values"))
            .map(Option::unwrap_or_default)
    };
    let a = as_str(read_str(ctx, &ka))?;
    let b = as_str(read_str(ctx, &kb))?;
    if get_idx && get_len {
        return Err(OpError::other(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    if (a.len() as u64 + 1) * (b.len() as u64 + 1) * 4 > LCS_MAX_TABLE {
        return Err(OpError::other(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    // table[i][j] = LCS length of a[..i] and b[..j].
    let w = b.len() + 1;
    let mut table = vec![0u32; (a.len() + 1) * w];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[a.len() * w + b.len()] as i64;
    if get_len {
        return Ok(Reply::Int(total));
    }
    // Walk back from the end collecting the common string and, for IDX, the matching ranges.
    let (mut i, mut j) = (a.len(), b.len());
    let mut common = Vec::with_capacity(total as usize);
    let mut matches = Vec::new();
    let mut current: Option<(usize, usize, usize, usize)> = None; // a_start, a_end, b_start, b_end
    let emit = |m: (usize, usize, usize, usize), matches: &mut Vec<Reply>| {
        let len = (m.1 - m.0 + 1) as i64;
        if len >= min_len {
            let mut item = vec![
                Reply::Array(vec![Reply::Int(m.0 as i64), Reply::Int(m.1 as i64)]),
                Reply::Array(vec![Reply::Int(m.2 as i64), Reply::Int(m.3 as i64)]),
            ];
            if with_len {
                item.push(Reply::Int(len));
            }
            matches.push(Reply::Array(item));
        }
    };
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            common.push(a[i - 1]);
            let (ai, bj) = (i - 1, j - 1);
            current = match current {
                Some((as_, ae, bs, be)) if as_ == ai + 1 && bs == bj + 1 => Some((ai, ae, bj, be)),
                Some(m) => {
                    emit(m, &mut matches);
                    Some((ai, ai, bj, bj))
                }
                None => Some((ai, ai, bj, bj)),
            };
            i -= 1;
            j -= 1;
        } else if table[(i - 1) * w + j] > table[i * w + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    if let Some(m) = current {
        emit(m, &mut matches);
    }
    if !get_idx {
        common.reverse();
        return Ok(Reply::bulk(common));
    }
    Ok(Reply::Map(vec![
        (Reply::bulk_str("matches"), Reply::Array(matches)),
        (Reply::bulk_str("len"), Reply::Int(total)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::decimal_sum;

    #[test]
    fn incrbyfloat_prints_like_redis() {
        assert_eq!(decimal_sum(b"0.2", b"0.1").as_deref(), Some("0.3"));
        assert_eq!(decimal_sum(b"10.50", b"0.1").as_deref(), Some("10.6"));
        assert_eq!(decimal_sum(b"5", b"-5").as_deref(), Some("0"));
        assert_eq!(decimal_sum(b"-1.5", b"0.25").as_deref(), Some("-1.25"));
        assert_eq!(decimal_sum(b"3", b"2").as_deref(), Some("5"));
        assert_eq!(decimal_sum(b"1e3", b"1"), None);
    }
}
