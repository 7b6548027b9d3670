//! HyperLogLog commands (Redis's `hyperloglog.c`): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST, over
//! string values in Redis's own HLL format (`keyspace::hll`), so that counts, bytes and errors are
//! Redis's. Multi-key PFCOUNT and PFMERGE may span shards: the runtime runs them atomically
//! (`shard::txn::keys_plan`), as it does SUNIONSTORE.

use std::borrow::Cow;

use bytes::Bytes;

use super::bitmaps::edit_string;
use super::{spec, CmdResult, CommandSpec, ConnCtx, Ctx, Group, KeySpec, OpError, Run};
use crate::flags;
use crate::keyspace::hll::{self, HllError};
use crate::keyspace::{notify, Value};
use crate::resp::Reply;
use crate::shard::Step;

const G: Group = Group::HyperLogLog;

/// PFDEBUG's key: the argument after the subcommand.
const PFDEBUG_KEY: KeySpec = KeySpec {
    first: 2,
    last: 2,
    step: 1,
};

pub static COMMANDS: &[CommandSpec] = &[
    spec("pfadd", -2, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, G, Run::Keys(pfadd))
        .doc("Adds the specified elements to the specified HyperLogLog.", "2.8.9", "O(1) to add every element.", "key [element [element ...]]"),
    spec("pfcount", -2, flags!(READONLY), KeySpec::ALL, G, Run::Keys(pfcount)).doc(
        "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        "2.8.9",
        "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        "key [key ...]",
    ),
    spec("pfmerge", -2, flags!(WRITE | DENYOOM), KeySpec::ALL, G, Run::Keys(pfmerge))
        .doc("Merge N different HyperLogLogs into a single one.", "2.8.9", "O(N) to merge N HyperLogLogs, but with high constant times.", "destkey [sourcekey [sourcekey ...]]"),
    spec("pfdebug", 3, flags!(WRITE | DENYOOM | ADMIN), PFDEBUG_KEY, G, Run::Keys(pfdebug))
        .doc("Internal commands for debugging HyperLogLog values", "2.8.9", "N/A", "subcommand key"),
    spec("pfselftest", 1, flags!(ADMIN), KeySpec::NONE, G, Run::Conn(pfselftest))
        .doc("An internal command for testing HyperLogLog values", "2.8.9", "N/A", ""),
];

/// The RESP error for an HLL failure: written here once (STYLE 11).
impl From<HllError> for OpError {
    fn from(e: HllError) -> OpError {
        OpError::Other(Cow::Borrowed(match e {
            HllError::NotHll => "WRONGTYPE Key is not a valid HyperLogLog string value.",
            HllError::Corrupt => "INVALIDOBJ Corrupted HLL object detected",
        }))
    }
}

/// The HLL bytes of a value: WRONGTYPE for another type, Redis's HLL WRONGTYPE for a string
/// that is not an HLL.
fn hll_of(value: &Value) -> Result<&[u8], OpError> {
    let s = value.as_str().ok_or(OpError::WrongType)?;
    hll::validate(s)?;
    Ok(s)
}

/// Runs `f` over the HLL at `key` for a write (no hit or miss counted), creating an empty one
/// when missing: `f` gets the bytes and whether they were just created. The key keeps its TTL;
/// what `f` did to the bytes is kept even when it fails, as Redis edits in place.
fn edit_hll<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut Vec<u8>, bool) -> Result<R, OpError>,
) -> Result<R, OpError> {
    let now = ctx.now;
    let db = ctx.db();
    if let Some(entry) = db.get(key, now) {
        hll_of(&entry.value)?;
        return edit_string(&mut entry.value, |s| f(s, false)).ok_or(OpError::WrongType)?;
    }
    let mut s = hll::new_sparse();
    let out = f(&mut s, true);
    db.set(key, Value::from_bytes(Bytes::from(s)), now);
    out
}

fn pfadd(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    let elements: Vec<Bytes> = ctx.args[2..].to_vec();
    let reply = edit_hll(ctx, &key, |s, created| {
        let mut updated = created;
        for e in &elements {
            updated |= hll::add(s, e)?;
        }
        if updated {
            hll::invalidate_cache(s);
        }
        Ok(Reply::Int(updated as i64))
    })?;
    if reply == Reply::Int(1) {
        ctx.notify(notify::STRING, "pfadd", &key);
    }
    Ok(reply)
}

fn pfcount(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.args.len() > 2 {
        // The union of several HLLs, none of them modified.
        let keys: Vec<Bytes> = ctx.args[1..].to_vec();
        let mut max = Box::new([0u8; hll::REGISTERS]);
        for k in &keys {
            if let Some(e) = ctx.read(k) {
                hll::merge_into(&mut max, hll_of(&e.value)?)?;
            }
        }
        return Ok(Reply::Int(hll::count_raw(&max) as i64));
    }
    let key = ctx.args[1].clone();
    let Some(entry) = ctx.read(&key) else {
        return Ok(Reply::Int(0));
    };
    let s = hll_of(&entry.value)?;
    if let Some(card) = hll::cached(s) {
        return Ok(Reply::Int(card as i64));
    }
    let card = hll::count(s)?;
    // Refresh the cached count in the value, as Redis does (a read command that writes).
    edit_string(&mut entry.value, |s| hll::set_cache(s, card));
    Ok(Reply::Int(card as i64))
}

fn pfmerge(ctx: &mut Ctx<'_>) -> CmdResult {
    let keys: Vec<Bytes> = ctx.args[1..].to_vec();
    let mut max = Box::new([0u8; hll::REGISTERS]);
    let mut dense = false;
    for k in &keys {
        if let Some(e) = ctx.read(k) {
            let s = hll_of(&e.value)?;
            dense |= hll::encoding(s) == hll::DENSE;
            hll::merge_into(&mut max, s)?;
        }
    }
    let reply = edit_hll(ctx, &keys[0], |s, _| {
        if dense {
            hll::to_dense(s)?;
        }
        for (i, &v) in max.iter().enumerate() {
            if v != 0 {
                // Every input was checked while merging: this cannot fail, and Redis ignores
                // the outcome here too.
                let _ = hll::set_register(s, i, v);
            }
        }
        hll::invalidate_cache(s);
        Ok(Reply::OK)
    })?;
    ctx.notify(notify::STRING, "pfadd", &keys[0]);
    Ok(reply)
}

fn pfdebug(ctx: &mut Ctx<'_>) -> CmdResult {
    let sub = String::from_utf8_lossy(ctx.arg(1)).into_owned();
    let key = ctx.args[2].clone();
    let now = ctx.now;
    let Some(entry) = ctx.db().get(&key, now) else {
        return Err(OpError::other("ERR The specified key does not exist"));
    };
    let encoding = hll::encoding(hll_of(&entry.value)?);
    match sub.to_ascii_lowercase().as_str() {
        "getreg" => {
            let regs = edit_string(&mut entry.value, |s| {
                hll::to_dense(s)?;
                let regs = s.get(hll::HDR_SIZE..).unwrap_or_default();
                Ok::<_, HllError>(
                    (0..hll::REGISTERS)
                        .map(|i| Reply::Int(hll::dense_get(regs, i) as i64))
                        .collect(),
                )
            })
            .ok_or(OpError::WrongType)??;
            Ok(Reply::Array(regs))
        }
        "decode" => {
            if encoding != hll::SPARSE {
                return Err(OpError::other("ERR HLL encoding is not sparse"));
            }
            Ok(Reply::bulk(hll::decode(
                entry.value.as_str().unwrap_or_default(),
            )))
        }
        "encoding" => Ok(Reply::status(if encoding == hll::DENSE {
            "dense"
        } else {
            "sparse"
        })),
        "todense" => {
            let converted =
                edit_string(&mut entry.value, hll::to_dense).ok_or(OpError::WrongType)??;
            Ok(Reply::Int(converted as i64))
        }
        _ => Err(OpError::other(format!(
            "ERR Unknown PFDEBUG subcommand '{sub}'"
        ))),
    }
}

fn pfselftest(_ctx: &mut ConnCtx<'_>) -> Result<Step, OpError> {
    Ok(Step::Reply(match hll::self_test() {
        Ok(()) => Reply::OK,
        Err(msg) => Reply::error(msg),
    }))
}
