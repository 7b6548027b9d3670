//! MULTI, EXEC and DISCARD. Queued commands run as one plan (`shard::txn::commands_plan`): every
//! key of every command is locked on its shard, so no other client sees part of a transaction,
//! whichever shards its keys live on. WATCH is not implemented yet.

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
];

/// Commands a transaction queues: every key command, and the keyless PING and ECHO.
pub fn queueable(spec: &CommandSpec) -> bool {
    matches!(spec.run, Run::Keys(_)) || matches!(spec.name, "ping" | "echo")
}

/// Whether a command is handled at once inside MULTI rather than queued.
pub fn controls_transaction(spec: &CommandSpec) -> bool {
    matches!(spec.name, "exec" | "discard" | "multi" | "quit")
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
    Ok(Step::Reply(Reply::OK))
}

fn exec(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let state = ctx
        .client
        .multi
        .take()
        .ok_or_else(|| OpError::other("ERR EXEC without MULTI"))?;
    if state.failed {
        return Err(OpError::other(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let env = ctx.env;
    let databases = env.server.config.server.databases;
    let max_string = env.settings.proto_max_bulk_len;
    Ok(txn::commands_plan(
        state.commands,
        ctx.client.db,
        env.now,
        env.shards,
        databases,
        max_string,
        true,
    ))
}
