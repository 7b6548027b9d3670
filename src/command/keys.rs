//! Generic key commands (Redis's `db.c` and `expire.c`): existence, deletion, renaming, copying,
//! TTLs, OBJECT, DUMP and RESTORE (`cluster.c`; the format lives in `persist`), and the keyspace
//! walks (KEYS, SCAN, RANDOMKEY) that visit every shard.

use bytes::Bytes;

use super::{
    int_arg, is_opt, spec, CmdResult, CommandSpec, ConnCtx, Ctx, Group, KeySpec, OpError, Run,
};
use crate::flags;
use crate::glob;
use crate::keyspace::{notify, Entry};
use crate::resp::Reply;
use crate::shard::{HopOut, Lock, Shard, Step};
use crate::slot::{slot_shard, SLOT_COUNT};

pub static COMMANDS: &[CommandSpec] = &[
    spec("del", -2, flags!(WRITE), KeySpec::ALL, Group::Generic, Run::Keys(del))
        .doc("Deletes one or more keys.", "1.0.0", "O(N)", "key [key ...]"),
    spec("unlink", -2, flags!(WRITE | FAST), KeySpec::ALL, Group::Generic, Run::Keys(del)).doc(
        "Asynchronously deletes one or more keys.",
        "4.0.0",
        "O(1) for each key removed regardless of its size.",
        "key [key ...]",
    ),
    spec("exists", -2, flags!(READONLY | FAST), KeySpec::ALL, Group::Generic, Run::Keys(exists))
        .doc("Determines whether one or more keys exist.", "1.0.0", "O(N)", "key [key ...]"),
    spec("type", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::Generic, Run::Keys(type_))
        .doc("Determines the type of value stored at a key.", "1.0.0", "O(1)", "key"),
    spec("touch", -2, flags!(READONLY | FAST), KeySpec::ALL, Group::Generic, Run::Keys(touch)).doc(
        "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        "3.2.1",
        "O(N)",
        "key [key ...]",
    ),
    spec("rename", 3, flags!(WRITE), KeySpec::TWO, Group::Generic, Run::Keys(rename))
        .doc("Renames a key and overwrites the destination.", "1.0.0", "O(1)", "key newkey"),
    spec("renamenx", 3, flags!(WRITE | FAST), KeySpec::TWO, Group::Generic, Run::Keys(renamenx))
        .doc("Renames a key only when the target key name doesn't exist.", "1.0.0", "O(1)", "key newkey"),
    spec("copy", -3, flags!(WRITE | DENYOOM), KeySpec::TWO, Group::Generic, Run::Keys(copy))
        .doc("Copies the value of a key to a new key.", "6.2.0", "O(N)", "source destination [DB destination-db] [REPLACE]")
        .dest_db(copy_destination_db),
    spec("move", 3, flags!(WRITE | FAST), KeySpec::ONE, Group::Generic, Run::Keys(move_))
        .doc("Moves a key to another database.", "1.0.0", "O(1)", "key db"),
    spec("randomkey", 1, flags!(READONLY), KeySpec::NONE, Group::Generic, Run::Conn(randomkey))
        .doc("Returns a random key name from the database.", "1.0.0", "O(1)", ""),
    spec("keys", 2, flags!(READONLY | DANGEROUS), KeySpec::NONE, Group::Generic, Run::Conn(keys))
        .doc("Returns all key names that match a pattern.", "1.0.0", "O(N)", "pattern"),
    spec("scan", -2, flags!(READONLY), KeySpec::NONE, Group::Generic, Run::Conn(scan)).doc(
        "Iterates over the key names in the database.",
        "2.8.0",
        "O(1) for every call. O(N) for a complete iteration.",
        "cursor [MATCH pattern] [COUNT count] [TYPE type]",
    ),
    spec("expire", -3, flags!(WRITE | FAST), KeySpec::ONE, Group::Generic, Run::Keys(expire))
        .doc("Sets the expiration time of a key in seconds.", "1.0.0", "O(1)", "key seconds [NX|XX|GT|LT]"),
    spec("pexpire", -3, flags!(WRITE | FAST), KeySpec::ONE, Group::Generic, Run::Keys(pexpire))
        .doc("Sets the expiration time of a key in milliseconds.", "2.6.0", "O(1)", "key milliseconds [NX|XX|GT|LT]"),
    spec("expireat", -3, flags!(WRITE | FAST), KeySpec::ONE, Group::Generic, Run::Keys(expireat))
        .doc("Sets the expiration time of a key to a Unix timestamp.", "1.2.0", "O(1)", "key unix-time-seconds [NX|XX|GT|LT]"),
    spec("pexpireat", -3, flags!(WRITE | FAST), KeySpec::ONE, Group::Generic, Run::Keys(pexpireat)).doc(
        "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        "2.6.0",
        "O(1)",
        "key unix-time-milliseconds [NX|XX|GT|LT]",
    ),
    spec("persist", 2, flags!(WRITE | FAST), KeySpec::ONE, Group::Generic, Run::Keys(persist))
        .doc("Removes the expiration time of a key.", "2.2.0", "O(1)", "key"),
    spec("ttl", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::Generic, Run::Keys(ttl))
        .doc("Returns the expiration time in seconds of a key.", "1.0.0", "O(1)", "key"),
    spec("pttl", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::Generic, Run::Keys(pttl))
        .doc("Returns the expiration time in milliseconds of a key.", "2.6.0", "O(1)", "key"),
    spec("expiretime", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::Generic, Run::Keys(expiretime))
        .doc("Returns the expiration time of a key as a Unix timestamp.", "7.0.0", "O(1)", "key"),
    spec("pexpiretime", 2, flags!(READONLY | FAST), KeySpec::ONE, Group::Generic, Run::Keys(pexpiretime))
        .doc("Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0", "O(1)", "key"),
    spec("dump", 2, flags!(READONLY), KeySpec::ONE, Group::Generic, Run::Keys(dump)).doc(
        "Returns a serialized representation of the value stored at a key.",
        "2.6.0",
        "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size.",
        "key",
    ),
    spec("restore", -4, flags!(WRITE | DENYOOM | DANGEROUS), KeySpec::ONE, Group::Generic, Run::Keys(restore)).doc(
        "Creates a key from the serialized representation of a value.",
        "2.6.0",
        "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size.",
        "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
    ),
    spec("object", -2, flags!(NONE), KeySpec::NONE, Group::Generic, Run::Parent)
        .doc("A container for object introspection commands.", "2.2.3", "Depends on subcommand.", "")
        .subs(OBJECT_SUBCOMMANDS),
];

const OBJECT_KEY: KeySpec = KeySpec {
    first: 2,
    last: 2,
    step: 1,
};

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    spec(
        "object|encoding",
        3,
        flags!(READONLY),
        OBJECT_KEY,
        Group::Generic,
        Run::Keys(object_encoding),
    )
    .doc(
        "Returns the internal encoding of a Redis object.",
        "2.2.3",
        "O(1)",
        "key",
    ),
    spec(
        "object|freq",
        3,
        flags!(READONLY),
        OBJECT_KEY,
        Group::Generic,
        Run::Keys(object_freq),
    )
    .doc(
        "Returns the logarithmic access frequency counter of a Redis object.",
        "4.0.0",
        "O(1)",
        "key",
    ),
    spec(
        "object|idletime",
        3,
        flags!(READONLY),
        OBJECT_KEY,
        Group::Generic,
        Run::Keys(object_idletime),
    )
    .doc(
        "Returns the time since the last access to a Redis object.",
        "2.2.3",
        "O(1)",
        "key",
    ),
    spec(
        "object|refcount",
        3,
        flags!(READONLY),
        OBJECT_KEY,
        Group::Generic,
        Run::Keys(object_refcount),
    )
    .doc(
        "Returns the reference count of a value of a key.",
        "2.2.3",
        "O(1)",
        "key",
    ),
    spec(
        "object|help",
        2,
        flags!(LOADING | STALE),
        KeySpec::NONE,
        Group::Generic,
        Run::Conn(object_help),
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "6.2.0",
        "O(1)",
        "",
    ),
];

fn del(ctx: &mut Ctx<'_>) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db;
    let mut removed = 0;
    for k in &ctx.args[1..] {
        if ctx.ks.db(db).remove_live(k, now).is_some() {
            ctx.ks.notify(notify::GENERIC, "del", db, k);
            removed += 1;
        }
    }
    Ok(Reply::Int(removed))
}

fn exists(ctx: &mut Ctx<'_>) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db;
    let found = ctx.args[1..]
        .iter()
        .filter(|k| ctx.ks.db(db).contains(k, now))
        .count();
    Ok(Reply::Int(found as i64))
}

fn touch(ctx: &mut Ctx<'_>) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db;
    let found = ctx.args[1..]
        .iter()
        .filter(|k| ctx.ks.db(db).get(k, now).is_some())
        .count();
    Ok(Reply::Int(found as i64))
}

fn type_(ctx: &mut Ctx<'_>) -> CmdResult {
    let now = ctx.now;
    let key = ctx.args[1].clone();
    Ok(Reply::status(
        ctx.db()
            .peek(&key, now)
            .map_or("none", |e| e.value.type_name()),
    ))
}

/// Moves `src` to `dst` keeping its TTL. Returns false if `src` does not exist.
fn rename_generic(ctx: &mut Ctx<'_>, nx: bool) -> Result<bool, OpError> {
    let (src, dst) = (ctx.args[1].clone(), ctx.args[2].clone());
    let now = ctx.now;
    if !ctx.db().contains(&src, now) {
        return Err(OpError::NoSuchKey);
    }
    if src == dst {
        return Ok(!nx);
    }
    if nx && ctx.db().contains(&dst, now) {
        return Ok(false);
    }
    if let Some(entry) = ctx.db().remove(&src) {
        ctx.db().put(&dst, entry);
        ctx.notify(notify::GENERIC, "rename_from", &src);
        ctx.notify(notify::GENERIC, "rename_to", &dst);
    }
    Ok(true)
}

fn rename(ctx: &mut Ctx<'_>) -> CmdResult {
    rename_generic(ctx, false).map(|_| Reply::OK)
}

fn renamenx(ctx: &mut Ctx<'_>) -> CmdResult {
    rename_generic(ctx, true).map(|done| Reply::Int(done as i64))
}

fn db_index(arg: &[u8], databases: usize) -> Result<usize, OpError> {
    let n = int_arg(arg)?;
    usize::try_from(n)
        .ok()
        .filter(|&n| n < databases)
        .ok_or(OpError::DbIndexOutOfRange)
}

fn copy(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut target = ctx.db;
    let mut replace = false;
    let mut i = 3;
    while i < ctx.args.len() {
        let a = ctx.arg(i);
        if is_opt(a, "replace") {
            replace = true;
        } else if is_opt(a, "db") && i + 1 < ctx.args.len() {
            target = db_index(ctx.arg(i + 1), ctx.ks.databases())?;
            i += 1;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    let (src, dst) = (ctx.args[1].clone(), ctx.args[2].clone());
    if src == dst && target == ctx.db {
        return Err(OpError::SameObject);
    }
    let now = ctx.now;
    let Some(entry) = ctx.db().peek(&src, now).cloned() else {
        return Ok(Reply::Int(0));
    };
    let dest = ctx.ks.db(target);
    if dest.contains(&dst, now) && !replace {
        return Ok(Reply::Int(0));
    }
    dest.put(&dst, entry);
    ctx.ks.notify(notify::GENERIC, "copy_to", target, &dst);
    Ok(Reply::Int(1))
}

/// The database COPY writes its destination key into, when `DB n` names one.
fn copy_destination_db(args: &[Bytes]) -> Option<usize> {
    let at = args.iter().skip(3).position(|a| is_opt(a, "db"))? + 4;
    usize::try_from(crate::resp::parse_i64(args.get(at)?)?).ok()
}

fn move_(ctx: &mut Ctx<'_>) -> CmdResult {
    let target = db_index(ctx.arg(2), ctx.ks.databases())?;
    if target == ctx.db {
        return Err(OpError::SameObject);
    }
    let key = ctx.args[1].clone();
    let now = ctx.now;
    let (from, to) = ctx.ks.two_dbs(ctx.db, target);
    if from.peek(&key, now).is_none() || to.contains(&key, now) {
        return Ok(Reply::Int(0));
    }
    if let Some(entry) = from.remove(&key) {
        to.put(&key, entry);
        ctx.notify(notify::GENERIC, "move_from", &key);
        ctx.ks.notify(notify::GENERIC, "move_to", target, &key);
    }
    Ok(Reply::Int(1))
}

/// EXPIRE and friends. `unit_ms` scales the argument; `absolute` says it is a timestamp.
fn expire_generic(ctx: &mut Ctx<'_>, unit_ms: i64, absolute: bool, cmd: &'static str) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &ctx.args[3..] {
        match () {
            _ if is_opt(a, "nx") => nx = true,
            _ if is_opt(a, "xx") => xx = true,
            _ if is_opt(a, "gt") => gt = true,
            _ if is_opt(a, "lt") => lt = true,
            _ => {
                return Err(OpError::other(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(a)
                )))
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(OpError::other(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(OpError::other(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let n = int_arg(ctx.arg(2))?;
    let now = ctx.now;
    let at = n
        .checked_mul(unit_ms)
        .and_then(|ms| {
            if absolute {
                Some(ms)
            } else {
                ms.checked_add(now as i64)
            }
        })
        .ok_or(OpError::InvalidExpire(cmd))?;
    let key = ctx.args[1].clone();
    let Some(entry) = ctx.db().peek(&key, now) else {
        return Ok(Reply::Int(0));
    };
    let current = entry.expire_at;
    // No TTL counts as an infinite one for GT and LT.
    let refused = (nx && current != 0)
        || (xx && current == 0)
        || (gt && (current == 0 || at <= current as i64))
        || (lt && current != 0 && at >= current as i64);
    if refused {
        return Ok(Reply::Int(0));
    }
    if at <= now as i64 {
        ctx.db().remove(&key);
        ctx.notify(notify::GENERIC, "del", &key);
    } else {
        ctx.db().set_expire(&key, at as u64, now);
        ctx.notify(notify::GENERIC, "expire", &key);
    }
    Ok(Reply::Int(1))
}

fn expire(ctx: &mut Ctx<'_>) -> CmdResult {
    expire_generic(ctx, 1000, false, "expire")
}

fn pexpire(ctx: &mut Ctx<'_>) -> CmdResult {
    expire_generic(ctx, 1, false, "pexpire")
}

fn expireat(ctx: &mut Ctx<'_>) -> CmdResult {
    expire_generic(ctx, 1000, true, "expireat")
}

fn pexpireat(ctx: &mut Ctx<'_>) -> CmdResult {
    expire_generic(ctx, 1, true, "pexpireat")
}

fn persist(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let now = ctx.now;
    let had = ctx.db().peek(&key, now).is_some_and(|e| e.expire_at != 0);
    if had {
        ctx.db().set_expire(&key, 0, now);
        ctx.notify(notify::GENERIC, "persist", &key);
    }
    Ok(Reply::Int(had as i64))
}

/// -2 for a missing key, -1 for no TTL, else `f(expire_at)`.
fn ttl_generic(ctx: &mut Ctx<'_>, f: impl Fn(u64, u64) -> i64) -> CmdResult {
    let key = ctx.args[1].clone();
    let now = ctx.now;
    Ok(Reply::Int(match ctx.db().peek(&key, now) {
        None => -2,
        Some(Entry { expire_at: 0, .. }) => -1,
        Some(e) => f(e.expire_at, now),
    }))
}

fn ttl(ctx: &mut Ctx<'_>) -> CmdResult {
    ttl_generic(ctx, |at, now| ((at - now + 500) / 1000) as i64)
}

fn pttl(ctx: &mut Ctx<'_>) -> CmdResult {
    ttl_generic(ctx, |at, now| (at - now) as i64)
}

fn expiretime(ctx: &mut Ctx<'_>) -> CmdResult {
    ttl_generic(ctx, |at, _| ((at + 500) / 1000) as i64)
}

fn pexpiretime(ctx: &mut Ctx<'_>) -> CmdResult {
    ttl_generic(ctx, |at, _| at as i64)
}

fn object_entry<'a>(ctx: &'a mut Ctx<'_>) -> Option<&'a Entry> {
    let key = ctx.args[2].clone();
    let now = ctx.now;
    ctx.db().peek(&key, now)
}

fn object_encoding(ctx: &mut Ctx<'_>) -> CmdResult {
    Ok(object_entry(ctx).map_or(Reply::Null, |e| Reply::bulk_str(e.value.encoding())))
}

fn object_freq(ctx: &mut Ctx<'_>) -> CmdResult {
    match object_entry(ctx) {
        None => Ok(Reply::Null),
        Some(_) => Err(OpError::other(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        )),
    }
}

fn object_idletime(ctx: &mut Ctx<'_>) -> CmdResult {
    let now = ctx.now;
    Ok(object_entry(ctx).map_or(Reply::Null, |e| {
        Reply::Int((now.saturating_sub(e.access) / 1000) as i64)
    }))
}

fn object_refcount(ctx: &mut Ctx<'_>) -> CmdResult {
    Ok(object_entry(ctx).map_or(Reply::Null, |_| Reply::Int(1)))
}

fn object_help(_: &mut ConnCtx<'_>) -> Result<Step, OpError> {
    Ok(Step::Reply(super::help_reply(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )))
}

// ---- DUMP and RESTORE: values in Redis's DUMP format (see `persist::dump`) ---------------------

fn dump(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    Ok(ctx.read(&key).map_or(Reply::Null, |e| {
        Reply::bulk(crate::persist::dump::dump(&e.value))
    }))
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`,
/// checked in Redis's order: options, then BUSYKEY, then the TTL, then the payload. A TTL of 0
/// means none; a TTL already past (ABSTTL) replies OK and creates nothing, deleting the old key
/// under REPLACE. IDLETIME sets the access time OBJECT IDLETIME reports. FREQ is checked as Redis
/// checks it and then ignored: Ferrite keeps no LFU counters. As in Redis, IDLETIME and FREQ
/// exclude each other (the second is a syntax error).
fn restore(ctx: &mut Ctx<'_>) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq) = (None, None);
    let mut i = 4;
    while i < ctx.args.len() {
        let a = ctx.arg(i);
        let has_value = i + 1 < ctx.args.len();
        if is_opt(a, "replace") {
            replace = true;
        } else if is_opt(a, "absttl") {
            absttl = true;
        } else if is_opt(a, "idletime") && has_value && freq.is_none() {
            let secs = int_arg(ctx.arg(i + 1))?;
            if secs < 0 {
                return Err(OpError::other("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(secs as u64);
            i += 1;
        } else if is_opt(a, "freq") && has_value && idle.is_none() {
            let f = int_arg(ctx.arg(i + 1))?;
            if !(0..=255).contains(&f) {
                return Err(OpError::other(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(f);
            i += 1;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    let key = ctx.args[1].clone();
    let now = ctx.now;
    if !replace && ctx.db().contains(&key, now) {
        return Err(OpError::other("BUSYKEY Target key name already exists."));
    }
    let ttl = int_arg(ctx.arg(2))?;
    if ttl < 0 {
        return Err(OpError::other("ERR Invalid TTL value, must be >= 0"));
    }
    let value = crate::persist::dump::restore(&ctx.args[3]).map_err(|e| {
        tracing::debug!(error = %e, "RESTORE refused a payload");
        OpError::other(if e.is_framing() {
            "ERR DUMP payload version or checksum are wrong"
        } else {
            "ERR Bad data format"
        })
    })?;
    if replace {
        ctx.db().remove(&key);
    }
    let expire_at = match ttl as u64 {
        0 => 0,
        at if absttl => at,
        ms => now.saturating_add(ms),
    };
    if expire_at != 0 && expire_at <= now {
        return Ok(Reply::OK);
    }
    let mut entry = Entry::new(value);
    entry.expire_at = expire_at;
    entry.access = idle.map_or(now, |secs: u64| {
        now.saturating_sub(secs.saturating_mul(1000))
    });
    ctx.db().put(&key, entry);
    ctx.notify(notify::GENERIC, "restore", &key);
    Ok(Reply::OK)
}

// ---- keyspace walks: these visit every shard ------------------------------------------------

fn randomkey(ctx: &mut ConnCtx<'_>) -> Result<Step, OpError> {
    let db = ctx.client.db;
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        move |shard: &mut Shard| {
            let now = shard.env.now;
            let key = shard.ks.db(db).random_key(now, &mut shard.rng);
            HopOut::Reply(key.map_or(Reply::Null, |k| Reply::bulk(Bytes::from(k.into_vec()))))
        },
        |outs| {
            let keys: Vec<Reply> = outs
                .into_iter()
                .map(HopOut::into_reply)
                .filter(|r| *r != Reply::Null)
                .collect();
            // Each non-empty shard offered one key; pick one of them at random.
            if keys.is_empty() {
                Reply::Null
            } else {
                keys[rand::random::<usize>() % keys.len()].clone()
            }
        },
    ))
}

fn keys(ctx: &mut ConnCtx<'_>) -> Result<Step, OpError> {
    let db = ctx.client.db;
    let pattern = ctx.args[1].clone();
    Ok(Step::fan_out(
        0..ctx.env.shards,
        Some(Lock::All),
        move |shard: &mut Shard| {
            let now = shard.env.now;
            let all = pattern[..] == b"*"[..];
            let found = shard
                .ks
                .db(db)
                .iter()
                .filter(|(k, e)| {
                    (e.expire_at == 0 || e.expire_at > now)
                        && (all || glob::matches(&pattern, k, false))
                })
                .map(|(k, _)| Reply::bulk(Bytes::copy_from_slice(k)))
                .collect();
            HopOut::Reply(Reply::Array(found))
        },
        concat_arrays,
    ))
}

/// Joins the arrays each shard returned.
pub fn concat_arrays(outs: Vec<HopOut>) -> Reply {
    let mut all = Vec::new();
    for out in outs {
        if let Reply::Array(items) = out.into_reply() {
            all.extend(items);
        }
    }
    Reply::Array(all)
}

/// SCAN's cursor is the hash slot to resume from: slots are walked in order, each on the shard
/// that owns it, and every key present for the whole walk is returned at least once.
fn scan(ctx: &mut ConnCtx<'_>) -> Result<Step, OpError> {
    let cursor: u64 = std::str::from_utf8(&ctx.args[1])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| OpError::other("ERR invalid cursor"))?;
    let mut pattern: Option<Bytes> = None;
    let mut count = 10usize;
    let mut type_filter: Option<String> = None;
    let mut i = 2;
    while i < ctx.args.len() {
        let a = &ctx.args[i];
        let value = ctx.args.get(i + 1).ok_or(OpError::Syntax)?;
        if is_opt(a, "match") {
            pattern = Some(value.clone()).filter(|p| p[..] != b"*"[..]);
        } else if is_opt(a, "count") {
            let n = int_arg(value)?;
            if n < 1 {
                return Err(OpError::Syntax);
            }
            count = n as usize;
        } else if is_opt(a, "type") {
            type_filter = Some(String::from_utf8_lossy(value).to_ascii_lowercase());
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    if cursor >= SLOT_COUNT as u64 {
        return Ok(Step::Reply(scan_reply(0, Vec::new())));
    }
    let db = ctx.client.db;
    let shards = ctx.env.shards;
    let shard = slot_shard(cursor as u16, shards);
    let shard_end = (0..SLOT_COUNT)
        .rev()
        .find(|&s| slot_shard(s as u16, shards) == shard)
        .map_or(SLOT_COUNT, |s| s + 1);
    let op = move |sh: &mut Shard| {
        let now = sh.env.now;
        let mut keys = Vec::new();
        let next = sh.ks.db(db).scan(cursor as u16, count, |k, e| {
            let live = e.expire_at == 0 || e.expire_at > now;
            let type_ok = type_filter
                .as_deref()
                .is_none_or(|t| t == e.value.type_name());
            let match_ok = pattern
                .as_deref()
                .is_none_or(|p| glob::matches(p, k, false));
            if live && type_ok && match_ok {
                keys.push(Reply::bulk(Bytes::copy_from_slice(k)));
            }
        });
        // Stay within this shard's slot range; the next call goes to the next shard.
        let next = match next {
            Some(n) if (n as usize) < shard_end => n as u64,
            _ if shard_end < SLOT_COUNT => shard_end as u64,
            _ => 0,
        };
        HopOut::Reply(scan_reply(next, keys))
    };
    Ok(Step::fan_out([shard], None, op, |mut outs| {
        outs.pop().map_or(Reply::Null, HopOut::into_reply)
    }))
}

fn scan_reply(cursor: u64, keys: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk(cursor.to_string()), Reply::Array(keys)])
}
