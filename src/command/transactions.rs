//! MULTI, EXEC, DISCARD, WATCH and UNWATCH. Queued commands run as one plan
//! (`shard::txn::commands_plan`): every key of every command is locked on its shard, so no other
//! client sees part of a transaction, whichever shards its keys live on.
//!
//! WATCH registers the client on the shard of each key (`Keyspace::watch`); a write that touches a
//! watched key there (tracked by `Shard::tracked`, plans' hops included), a FLUSH, a SWAPDB or the
//! key's TTL passing breaks the watch. EXEC locks the watched keys with the others, and its first
//! hop checks and drops the watches under those locks: a broken one makes EXEC reply nil and run
//! nothing.

use bytes::Bytes;

use super::{spec, CommandSpec, ConnCtx, Group, KeySpec, OpError, Run};
use crate::flags;
use crate::resp::Reply;
use crate::shard::{txn, Step};

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "multi",
        1,
        flags!(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY),
        KeySpec::NONE,
        Group::Transactions,
        Run::Conn(multi),
    )
    .doc("Starts a transaction.", "1.2.0", "O(1)", ""),
    spec(
        "exec",
        1,
        flags!(NOSCRIPT | LOADING | STALE),
        KeySpec::NONE,
        Group::Transactions,
        Run::Conn(exec),
    )
    .doc(
        "Executes all commands in a transaction.",
        "1.2.0",
        "Depends on commands in the transaction",
        "",
    ),
    spec(
        "discard",
        1,
        flags!(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY),
        KeySpec::NONE,
        Group::Transactions,
        Run::Conn(discard),
    )
    .doc(
        "Discards a transaction.",
        "2.0.0",
        "O(N), when N is the number of queued commands",
        "",
    ),
    spec(
        "watch",
        -2,
        flags!(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY),
        KeySpec::ALL,
        Group::Transactions,
        Run::Conn(watch),
    )
    .doc(
        "Monitors changes to keys to determine the execution of a transaction.",
        "2.2.0",
        "O(1) for every key.",
        "key [key ...]",
    ),
    spec(
        "unwatch",
        1,
        flags!(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY),
        KeySpec::NONE,
        Group::Transactions,
        Run::Conn(unwatch),
    )
    .doc(
        "Forgets about watched keys of a transaction.",
        "2.2.0",
        "O(1)",
        "",
    ),
];

/// Commands a transaction queues: every key command, the keyless PING and ECHO, and PUBLISH
/// (delivered once the transaction's writes are in place).
pub fn queueable(spec: &CommandSpec) -> bool {
    matches!(spec.run, Run::Keys(_)) || matches!(spec.name, "ping" | "echo" | "publish" | "select")
}

/// The database a queued SELECT switches to, if its argument names one.
fn selected(args: &[Bytes], databases: usize) -> Option<usize> {
    args.get(1)
        .and_then(|a| crate::resp::parse_i64(a))
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&d| d < databases)
}

/// The database each queued command runs in: `db`, then whatever a SELECT before it chose.
pub fn databases_of(commands: &[txn::PlannedCommand], db: usize, databases: usize) -> Vec<usize> {
    let mut current = db;
    commands
        .iter()
        .map(|(spec, args)| {
            if spec.name == "select" {
                current = selected(args, databases).unwrap_or(current);
            }
            current
        })
        .collect()
}

/// The reply of a SELECT inside EXEC, as Redis checks it there.
pub fn select_reply(args: &[Bytes], databases: usize) -> Reply {
    match args.get(1).and_then(|a| crate::resp::parse_i64(a)) {
        None => OpError::NotInteger.into(),
        Some(_) if selected(args, databases).is_none() => OpError::DbIndexOutOfRange.into(),
        Some(_) => Reply::OK,
    }
}

/// Whether a command is handled at once inside MULTI rather than queued.
pub fn controls_transaction(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "quit" | "watch" | "unwatch" | "reset"
    )
}

/// The reply of a queued keyless command (PING, ECHO).
pub fn keyless_reply(spec: &CommandSpec, args: &[Bytes]) -> Reply {
    match (spec.name, args.get(1)) {
        ("ping", None) => Reply::status("PONG"),
        ("ping" | "echo", Some(arg)) => Reply::Bulk(arg.clone()),
        _ => Reply::error("ERR internal: command cannot run in a transaction"),
    }
}

/// A transaction being queued on a connection.
#[derive(Default)]
pub struct MultiState {
    pub commands: Vec<txn::PlannedCommand>,
    /// A queued command was refused (unknown, wrong arity...): EXEC will abort.
    pub failed: bool,
}

type ConnResult = Result<Step, OpError>;

fn multi(ctx: &mut ConnCtx<'_>) -> ConnResult {
    if ctx.client.multi.is_some() {
        return Err(OpError::other("ERR MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(MultiState::default());
    Ok(Step::Reply(Reply::OK))
}

fn discard(ctx: &mut ConnCtx<'_>) -> ConnResult {
    ctx.client
        .multi
        .take()
        .ok_or_else(|| OpError::other("ERR DISCARD without MULTI"))?;
    Ok(unwatch_all(ctx))
}

fn watch(ctx: &mut ConnCtx<'_>) -> ConnResult {
    if ctx.client.multi.is_some() {
        return Err(OpError::other("ERR WATCH inside MULTI is not allowed"));
    }
    let (client, db, shards) = (ctx.client.id, ctx.client.db, ctx.env.shards);
    let keys: Vec<(usize, Bytes)> = ctx.args[1..].iter().map(|k| (db, k.clone())).collect();
    for key in &keys {
        if !ctx.client.watching.contains(key) {
            ctx.client.watching.push(key.clone());
        }
    }
    Ok(per_shard_op(keys, shards, Reply::OK, move |shard, keys| {
        for (db, key) in keys {
            shard.ks.watch(*db, key, client);
        }
    }))
}

fn unwatch(ctx: &mut ConnCtx<'_>) -> ConnResult {
    Ok(unwatch_all(ctx))
}

/// Drops every watch of the client (UNWATCH, DISCARD, RESET).
pub fn unwatch_all(ctx: &mut ConnCtx<'_>) -> Step {
    let keys = std::mem::take(&mut ctx.client.watching);
    let client = ctx.client.id;
    per_shard_op(keys, ctx.env.shards, Reply::OK, move |shard, keys| {
        shard.ks.unwatch(client, keys)
    })
}

/// Runs `op` on the shard of each group of `keys`, then replies `reply`.
fn per_shard_op(
    keys: Vec<(usize, Bytes)>,
    shards: usize,
    reply: Reply,
    op: impl Fn(&mut crate::shard::Shard, &[(usize, Bytes)]) + Send + Clone + 'static,
) -> Step {
    if keys.is_empty() {
        return Step::Reply(reply);
    }
    let ops = txn::by_shard(keys, shards)
        .into_iter()
        .map(|(shard, group)| {
            let op = op.clone();
            let run: crate::shard::ShardOp = Box::new(move |s: &mut crate::shard::Shard| {
                op(s, &group);
                crate::shard::HopOut::Reply(Reply::OK)
            });
            (shard, run)
        })
        .collect();
    Step::Hop {
        locks: Vec::new(),
        ops,
        last: true,
        then: Box::new(move |_| Step::Reply(reply)),
    }
}

fn exec(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let state = ctx
        .client
        .multi
        .take()
        .ok_or_else(|| OpError::other("ERR EXEC without MULTI"))?;
    if state.failed {
        let keys = std::mem::take(&mut ctx.client.watching);
        let client = ctx.client.id;
        return Ok(per_shard_op(
            keys,
            ctx.env.shards,
            Reply::error("EXECABORT Transaction discarded because of previous errors."),
            move |shard, keys| shard.ks.unwatch(client, keys),
        ));
    }
    let env = ctx.env;
    let databases = env.server.config.server.databases;
    let max_string = env.settings.proto_max_bulk_len;
    let watching = std::mem::take(&mut ctx.client.watching);
    let watch = (!watching.is_empty()).then_some((ctx.client.id, watching));
    let db = ctx.client.db;
    // A SELECT in the transaction stays in force after it, as in Redis.
    if let Some(&last) = databases_of(&state.commands, db, databases).last() {
        ctx.client.db = last;
    }
    Ok(txn::commands_plan(
        state.commands,
        Some(txn::ExecPlan { watch }),
        db,
        env.now,
        env.shards,
        databases,
        max_string,
    ))
}
