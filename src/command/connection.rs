//! Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT and CLIENT. They run on the
//! connection's own shard; CLIENT LIST, INFO and KILL visit every shard's connections.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::{
    help_reply, int_arg, is_opt, spec, CommandSpec, ConnCtx, Group, KeySpec, OpError, Run,
};
use crate::flags;
use crate::resp::{Protocol, Reply};
use crate::shard::{ClientState, Conn, HopOut, Shard, Step};

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "ping",
        -1,
        flags!(FAST | SENTINEL),
        KeySpec::NONE,
        Group::Connection,
        Run::Conn(ping),
    )
    .doc(
        "Returns the server's liveliness response.",
        "1.0.0",
        "O(1)",
        "[message]",
    ),
    spec(
        "echo",
        2,
        flags!(FAST),
        KeySpec::NONE,
        Group::Connection,
        Run::Conn(echo),
    )
    .doc("Returns the given string.", "1.0.0", "O(1)", "message"),
    spec(
        "quit",
        -1,
        flags!(ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH),
        KeySpec::NONE,
        Group::Connection,
        Run::Conn(quit),
    )
    .doc("Closes the connection.", "1.0.0", "O(1)", ""),
    spec(
        "reset",
        1,
        flags!(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY),
        KeySpec::NONE,
        Group::Connection,
        Run::Conn(reset),
    )
    .doc("Resets the connection.", "6.2.0", "O(1)", ""),
    spec(
        "hello",
        -1,
        flags!(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY),
        KeySpec::NONE,
        Group::Connection,
        Run::Conn(hello),
    )
    .doc(
        "Handshakes with the Redis server.",
        "6.0.0",
        "O(1)",
        "[protover [AUTH username password] [SETNAME clientname]]",
    ),
    spec(
        "auth",
        -2,
        flags!(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY),
        KeySpec::NONE,
        Group::Connection,
        Run::Conn(auth),
    )
    .doc(
        "Authenticates the connection.",
        "1.0.0",
        "O(N) where N is the number of passwords defined for the user",
        "[username] password",
    ),
    spec(
        "select",
        2,
        flags!(LOADING | STALE | FAST),
        KeySpec::NONE,
        Group::Connection,
        Run::Conn(select),
    )
    .doc("Changes the selected database.", "1.0.0", "O(1)", "index"),
    spec(
        "client",
        -2,
        flags!(SENTINEL),
        KeySpec::NONE,
        Group::Connection,
        Run::Parent,
    )
    .doc(
        "A container for client connection commands.",
        "2.4.0",
        "Depends on subcommand.",
        "",
    )
    .subs(CLIENT_SUBCOMMANDS),
];

const CLIENT_FLAGS: super::Flags = flags!(NOSCRIPT | LOADING | STALE | SENTINEL);

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    spec("client|id", 2, CLIENT_FLAGS, KeySpec::NONE, Group::Connection, Run::Conn(client_id))
        .doc("Returns the unique client ID of the connection.", "5.0.0", "O(1)", ""),
    spec("client|setname", 3, CLIENT_FLAGS, KeySpec::NONE, Group::Connection, Run::Conn(client_setname))
        .doc("Sets the connection name.", "2.6.9", "O(1)", "connection-name"),
    spec("client|getname", 2, CLIENT_FLAGS, KeySpec::NONE, Group::Connection, Run::Conn(client_getname))
        .doc("Returns the name of the connection.", "2.6.9", "O(1)", ""),
    spec("client|list", -2, CLIENT_FLAGS.or(flags!(ADMIN)), KeySpec::NONE, Group::Connection, Run::Conn(client_list))
        .doc("Lists open connections.", "2.4.0", "O(N) where N is the number of client connections", "[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]"),
    spec("client|info", 2, CLIENT_FLAGS, KeySpec::NONE, Group::Connection, Run::Conn(client_info))
        .doc("Returns information about the connection.", "6.2.0", "O(1)", ""),
    spec("client|kill", -3, CLIENT_FLAGS.or(flags!(ADMIN)), KeySpec::NONE, Group::Connection, Run::Conn(client_kill))
        .doc("Terminates open connections.", "2.4.0", "O(N) where N is the number of client connections", "ip:port | [ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]"),
    spec("client|setinfo", 4, CLIENT_FLAGS, KeySpec::NONE, Group::Connection, Run::Conn(client_setinfo))
        .doc("Sets information specific to the client or connection.", "7.2.0", "O(1)", "LIB-NAME libname|LIB-VER libver"),
    spec("client|no-evict", 3, CLIENT_FLAGS.or(flags!(ADMIN)), KeySpec::NONE, Group::Connection, Run::Conn(client_no_evict))
        .doc("Sets the client eviction mode of the connection.", "7.0.0", "O(1)", "ON|OFF"),
    spec("client|unblock", -3, CLIENT_FLAGS.or(flags!(ADMIN)), KeySpec::NONE, Group::Connection, Run::Conn(client_unblock))
        .doc("Unblocks a client blocked by a blocking command from a different connection.", "5.0.0", "O(log N) where N is the number of client connections", "client-id [TIMEOUT|ERROR]"),
    spec("client|help", 2, flags!(LOADING | STALE | SENTINEL), KeySpec::NONE, Group::Connection, Run::Conn(client_help))
        .doc("Returns helpful text about the different subcommands.", "5.0.0", "O(1)", ""),
];

type ConnResult = Result<Step, OpError>;

fn reply(r: Reply) -> ConnResult {
    Ok(Step::Reply(r))
}

fn ping(ctx: &mut ConnCtx<'_>) -> ConnResult {
    // A RESP2 subscriber's PING is answered in the shape of a message, as in Redis.
    if ctx.client.proto == Protocol::Resp2 && ctx.client.subscription_count() > 0 {
        let arg = ctx.args.get(1).cloned().unwrap_or_default();
        return reply(Reply::Array(vec![
            Reply::bulk_str("pong"),
            Reply::Bulk(arg),
        ]));
    }
    match ctx.args.len() {
        1 => reply(Reply::status("PONG")),
        2 => reply(Reply::Bulk(ctx.args[1].clone())),
        _ => reply(Reply::error(
            "ERR wrong number of arguments for 'ping' command",
        )),
    }
}

fn echo(ctx: &mut ConnCtx<'_>) -> ConnResult {
    reply(Reply::Bulk(ctx.args[1].clone()))
}

/// RESET: the connection as a new one would be (no transaction, watches, subscriptions or
/// name; database 0, RESP2, the default user's authentication), as Redis 7.0 resets it.
fn reset(ctx: &mut ConnCtx<'_>) -> ConnResult {
    ctx.client.multi = None;
    super::pubsub::unsubscribe_everything(ctx);
    ctx.client.db = 0;
    ctx.client.proto = Protocol::Resp2;
    ctx.client.name = None;
    ctx.client.no_evict = false;
    ctx.client.authenticated = ctx.env.settings.requirepass.is_empty();
    Ok(match super::transactions::unwatch_all(ctx) {
        Step::Hop {
            locks, ops, last, ..
        } => Step::Hop {
            locks,
            ops,
            last,
            then: Box::new(|_| Step::Reply(Reply::status("RESET"))),
        },
        _ => Step::Reply(Reply::status("RESET")),
    })
}

fn quit(ctx: &mut ConnCtx<'_>) -> ConnResult {
    ctx.client.close_after_reply = true;
    reply(Reply::OK)
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a username/password pair for the default user; counts failures.
fn authenticate(ctx: &mut ConnCtx<'_>, user: &[u8], pass: &[u8]) -> Result<(), OpError> {
    let required = ctx.env.settings.requirepass.as_bytes();
    let ok = user == b"default" && (required.is_empty() || same_secret(pass, required));
    if ok {
        ctx.client.authenticated = true;
        Ok(())
    } else {
        ctx.env.server.auth_failures.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(client = ctx.client.id, addr = %ctx.client.addr, "authentication failed");
        Err(OpError::other(
            "WRONGPASS invalid username-password pair or user is disabled.",
        ))
    }
}

fn auth(ctx: &mut ConnCtx<'_>) -> ConnResult {
    match ctx.args.len() {
        2 => {
            if ctx.env.settings.requirepass.is_empty() {
                return Err(OpError::other("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
            }
            let pass = ctx.args[1].clone();
            authenticate(ctx, b"default", &pass)?;
        }
        3 => {
            let (user, pass) = (ctx.args[1].clone(), ctx.args[2].clone());
            authenticate(ctx, &user, &pass)?;
        }
        _ => return Err(OpError::Syntax),
    }
    reply(Reply::OK)
}

/// Redis accepts names of printable ASCII without spaces.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn hello(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let mut proto = ctx.client.proto;
    if let Some(ver) = ctx.args.get(1) {
        let ver = int_arg(ver).map_err(|_| {
            OpError::other("ERR Protocol version is not an integer or out of range")
        })?;
        proto = match ver {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(OpError::other("NOPROTO unsupported protocol version")),
        };
    }
    let mut name = None;
    let mut i = 2;
    while i < ctx.args.len() {
        let opt = &ctx.args[i];
        if is_opt(opt, "auth") && i + 2 < ctx.args.len() {
            let (user, pass) = (ctx.args[i + 1].clone(), ctx.args[i + 2].clone());
            authenticate(ctx, &user, &pass)?;
            i += 3;
        } else if is_opt(opt, "setname") && i + 1 < ctx.args.len() {
            name = Some(ctx.args[i + 1].clone());
            i += 2;
        } else {
            return Err(OpError::other(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if !ctx.client.authenticated {
        return Err(OpError::other("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(name) = name {
        if !valid_name(&name) {
            return Err(OpError::other(
                "ERR Client names cannot contain spaces, newlines or special characters.",
            ));
        }
        ctx.client.name = (!name.is_empty()).then_some(name);
    }
    ctx.client.proto = proto;
    let field = |k: &str| Reply::bulk_str(k);
    reply(Reply::Map(vec![
        (field("server"), field("redis")),
        (field("version"), field(crate::REDIS_VERSION)),
        (
            field("proto"),
            Reply::Int(if proto == Protocol::Resp3 { 3 } else { 2 }),
        ),
        (field("id"), Reply::Int(ctx.client.id as i64)),
        (field("mode"), field("standalone")),
        (field("role"), field("master")),
        (field("modules"), Reply::Array(Vec::new())),
    ]))
}

fn select(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let n = int_arg(&ctx.args[1])?;
    let db = usize::try_from(n)
        .ok()
        .filter(|&d| d < ctx.env.server.config.server.databases)
        .ok_or(OpError::DbIndexOutOfRange)?;
    ctx.client.db = db;
    reply(Reply::OK)
}

fn client_id(ctx: &mut ConnCtx<'_>) -> ConnResult {
    reply(Reply::Int(ctx.client.id as i64))
}

fn client_setname(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let name = ctx.args[2].clone();
    if !valid_name(&name) {
        return Err(OpError::other(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    ctx.client.name = (!name.is_empty()).then_some(name);
    reply(Reply::OK)
}

fn client_getname(ctx: &mut ConnCtx<'_>) -> ConnResult {
    reply(ctx.client.name.clone().map_or(Reply::Null, Reply::Bulk))
}

fn client_setinfo(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let (attr, value) = (ctx.args[2].clone(), ctx.args[3].clone());
    let field = if is_opt(&attr, "lib-name") {
        &mut ctx.client.lib_name
    } else if is_opt(&attr, "lib-ver") {
        &mut ctx.client.lib_ver
    } else {
        return Err(OpError::other(format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(&attr)
        )));
    };
    if !valid_name(&value) {
        return Err(OpError::other(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(&attr).to_ascii_uppercase()
        )));
    }
    *field = (!value.is_empty()).then_some(value);
    reply(Reply::OK)
}

fn client_no_evict(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let a = &ctx.args[2];
    ctx.client.no_evict = if is_opt(a, "on") {
        true
    } else if is_opt(a, "off") {
        false
    } else {
        return Err(OpError::Syntax);
    };
    reply(Reply::OK)
}

/// One `CLIENT LIST` line, in Redis's field order.
pub fn client_line(conn: &Conn, now: u64) -> String {
    let c: &ClientState = &conn.client;
    let text = |b: &Option<Bytes>| {
        b.as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
            .into_owned()
    };
    let mut flags = String::new();
    if c.close_after_reply {
        flags.push('A');
    }
    if c.no_evict {
        flags.push('e');
    }
    if conn.waits_on_keys {
        flags.push('b');
    }
    if c.subscription_count() > 0 {
        flags.push('P');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let mut line = String::new();
    let _ = writeln!(
        line,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp=0 obl={} oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        text(&c.name),
        now.saturating_sub(c.created) / 1000,
        now.saturating_sub(c.last_interaction) / 1000,
        flags,
        c.db,
        c.subscriptions.as_ref().map_or(0, |s| s.channels.len()),
        c.subscriptions.as_ref().map_or(0, |s| s.patterns.len()),
        c.subscriptions.as_ref().map_or(0, |s| s.shard_channels.len()),
        conn.rbuf.len(),
        conn.rbuf.capacity() - conn.rbuf.len(),
        conn.rbuf.capacity(),
        conn.unsent(),
        conn.wbuf.capacity(),
        conn.rbuf.capacity() + conn.wbuf.capacity(),
        c.last_cmd,
        if c.proto == Protocol::Resp3 { 3 } else { 2 },
        text(&c.lib_name),
        text(&c.lib_ver),
    );
    line
}

/// Lists the clients accepted by `filter` on every shard.
fn list_clients(
    shards: Vec<usize>,
    filter: impl Fn(&ClientState) -> bool + Send + Clone + 'static,
) -> Step {
    Step::fan_out(
        shards,
        None,
        move |shard: &mut Shard| {
            let now = shard.env.now;
            let text: String = shard
                .clients()
                .filter(|c| filter(&c.client))
                .map(|c| client_line(c, now))
                .collect();
            HopOut::Reply(Reply::bulk(text))
        },
        |outs| {
            let mut all = String::new();
            for out in outs {
                if let Reply::Bulk(b) = out.into_reply() {
                    all.push_str(&String::from_utf8_lossy(&b));
                }
            }
            Reply::Verbatim("txt", all)
        },
    )
}

fn client_list(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut kind: Option<String> = None;
    let mut i = 2;
    while i < ctx.args.len() {
        let a = &ctx.args[i];
        if is_opt(a, "type") && i + 1 < ctx.args.len() {
            let t = &ctx.args[i + 1];
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|n| is_opt(t, n))
            {
                return Err(OpError::other(format!(
                    "ERR Unknown client type '{}'",
                    String::from_utf8_lossy(t)
                )));
            }
            kind = Some(String::from_utf8_lossy(t).to_ascii_lowercase());
            i += 2;
        } else if is_opt(a, "id") && i + 1 < ctx.args.len() {
            let mut list = Vec::new();
            for v in &ctx.args[i + 1..] {
                let id = int_arg(v)
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| OpError::other("ERR Invalid client ID"))?;
                list.push(id as u64);
            }
            ids = Some(list);
            i = ctx.args.len();
        } else {
            return Err(OpError::Syntax);
        }
    }
    let shards = (0..ctx.env.shards).collect();
    Ok(list_clients(shards, move |c| {
        ids.as_ref().is_none_or(|ids| ids.contains(&c.id))
            && kind.as_ref().is_none_or(|k| k == c.kind())
    }))
}

fn client_info(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let id = ctx.client.id;
    Ok(list_clients(vec![ctx.env.id], move |c| c.id == id))
}

/// CLIENT KILL filters (the new form); the old `ip:port` form is ADDR with an OK/error reply.
#[derive(Clone, Default)]
struct KillFilter {
    id: Option<u64>,
    addr: Option<String>,
    laddr: Option<String>,
    user_ok: bool,
    /// TYPE's client type, lower case.
    kind: Option<String>,
    skip: Option<u64>,
}

impl KillFilter {
    fn matches(&self, c: &ClientState) -> bool {
        self.user_ok
            && self.kind.as_ref().is_none_or(|k| k == c.kind())
            && self.id.is_none_or(|id| id == c.id)
            && self.addr.as_ref().is_none_or(|a| *a == c.addr.to_string())
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| *a == c.laddr.to_string())
            && self.skip != Some(c.id)
    }
}

fn client_kill(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let old_form = ctx.args.len() == 3;
    let mut filter = KillFilter {
        user_ok: true,
        ..KillFilter::default()
    };
    if old_form {
        filter.addr = Some(String::from_utf8_lossy(&ctx.args[2]).into_owned());
    } else {
        filter.skip = Some(ctx.client.id);
        let mut i = 2;
        while i < ctx.args.len() {
            let (a, v) = (&ctx.args[i], ctx.args.get(i + 1).ok_or(OpError::Syntax)?);
            let text = String::from_utf8_lossy(v).into_owned();
            if is_opt(a, "id") {
                let id = int_arg(v)
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| OpError::other("ERR client-id should be greater than 0"))?;
                filter.id = Some(id as u64);
            } else if is_opt(a, "addr") {
                filter.addr = Some(text);
            } else if is_opt(a, "laddr") {
                filter.laddr = Some(text);
            } else if is_opt(a, "user") {
                filter.user_ok = text == "default";
            } else if is_opt(a, "type") {
                if !["normal", "master", "replica", "slave", "pubsub"]
                    .iter()
                    .any(|n| is_opt(v, n))
                {
                    return Err(OpError::other(format!("ERR Unknown client type '{text}'")));
                }
                filter.kind = Some(text.to_ascii_lowercase());
            } else if is_opt(a, "skipme") {
                filter.skip = if is_opt(v, "yes") {
                    Some(ctx.client.id)
                } else if is_opt(v, "no") {
                    None
                } else {
                    return Err(OpError::Syntax);
                };
            } else {
                return Err(OpError::Syntax);
            }
            i += 2;
        }
    }
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        move |shard: &mut Shard| {
            HopOut::Reply(Reply::Int(shard.kill_clients(|c| filter.matches(c)) as i64))
        },
        move |outs| {
            let killed: i64 = outs
                .into_iter()
                .map(|o| {
                    if let Reply::Int(n) = o.into_reply() {
                        n
                    } else {
                        0
                    }
                })
                .sum();
            match (old_form, killed) {
                (true, 0) => Reply::error("ERR No such client"),
                (true, _) => Reply::OK,
                (false, n) => Reply::Int(n),
            }
        },
    ))
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: the client may wait on any shard (its keys' shard, or
/// its own when parked across shards), so every shard is asked.
fn client_unblock(ctx: &mut ConnCtx<'_>) -> ConnResult {
    if ctx.args.len() > 4 {
        return Err(OpError::other(
            "ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.",
        ));
    }
    let id = int_arg(&ctx.args[2])?;
    let error = match ctx.args.get(3) {
        None => false,
        Some(a) if is_opt(a, "timeout") => false,
        Some(a) if is_opt(a, "error") => true,
        Some(_) => {
            return Err(OpError::other(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        move |s: &mut Shard| HopOut::Reply(Reply::Int(s.unblock_client(id as u64, error) as i64)),
        |outs| {
            let found = outs
                .into_iter()
                .any(|o| matches!(o.into_reply(), Reply::Int(1)));
            Reply::Int(found as i64)
        },
    ))
}

fn client_help(_: &mut ConnCtx<'_>) -> ConnResult {
    reply(help_reply(
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "    * ID <client-id> [<client-id> ...]",
            "      Return clients of specified IDs only.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
        ],
    ))
}
