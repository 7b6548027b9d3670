//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, INFO, CONFIG and SHUTDOWN. Those that
//! touch the whole keyspace lock every shard (`Lock::All`) so they are atomic like in Redis.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{
    help_reply, int_arg, is_opt, spec, CommandSpec, ConnCtx, Flags, Group, KeySpec, OpError, Run,
};
use crate::config::Settings;
use crate::flags;
use crate::glob;
use crate::keyspace::{notify, thresholds, Db};
use crate::resp::Reply;
use crate::server::Server;
use crate::shard::{pubsub_unique, HopOut, Lock, Shard, ShardInfo, ShardStats, Step};

pub static COMMANDS: &[CommandSpec] = &[
    spec("dbsize", 1, flags!(READONLY | FAST), KeySpec::NONE, Group::Server, Run::Conn(dbsize))
        .doc("Returns the number of keys in the database.", "1.0.0", "O(1)", ""),
    spec("flushdb", -1, flags!(WRITE | DANGEROUS), KeySpec::NONE, Group::Server, Run::Conn(flushdb))
        .doc("Remove all keys from the current database.", "1.0.0", "O(N) where N is the number of keys in the selected database", "[ASYNC|SYNC]"),
    spec("flushall", -1, flags!(WRITE | DANGEROUS), KeySpec::NONE, Group::Server, Run::Conn(flushall))
        .doc("Removes all keys from all databases.", "1.0.0", "O(N) where N is the total number of keys in all databases", "[ASYNC|SYNC]"),
    spec("swapdb", 3, flags!(WRITE | FAST | DANGEROUS), KeySpec::NONE, Group::Server, Run::Conn(swapdb))
        .doc("Swaps two Redis databases.", "4.0.0", "O(N) where N is the count of clients watching or blocking on keys from both databases.", "index1 index2"),
    spec("time", 1, flags!(LOADING | STALE | FAST), KeySpec::NONE, Group::Server, Run::Conn(time))
        .doc("Returns the server time.", "2.6.0", "O(1)", ""),
    spec("info", -1, flags!(LOADING | STALE | SENTINEL | DANGEROUS), KeySpec::NONE, Group::Server, Run::Conn(info))
        .doc("Returns information and statistics about the server.", "1.0.0", "O(1)", "[section [section ...]]"),
    spec("shutdown", -1, flags!(ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY), KeySpec::NONE, Group::Server, Run::Conn(shutdown))
        .doc("Synchronously saves the database(s) to disk and shuts down the Redis server.", "1.0.0", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)", "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"),
    spec("save", 1, flags!(ADMIN | NOSCRIPT | NO_MULTI), KeySpec::NONE, Group::Server, Run::Conn(save))
        .doc("Synchronously saves the database(s) to disk.", "1.0.0", "O(N) where N is the total number of keys in all databases", ""),
    spec("bgsave", -1, flags!(ADMIN | NOSCRIPT), KeySpec::NONE, Group::Server, Run::Conn(bgsave))
        .doc("Asynchronously saves the database(s) to disk.", "1.0.0", "O(1)", "[SCHEDULE]"),
    spec("bgrewriteaof", 1, flags!(ADMIN | NOSCRIPT), KeySpec::NONE, Group::Server, Run::Conn(bgrewriteaof))
        .doc("Asynchronously rewrites the append-only file to disk.", "1.0.0", "O(1)", ""),
    spec("lastsave", 1, flags!(LOADING | STALE | FAST), KeySpec::NONE, Group::Server, Run::Conn(lastsave))
        .doc("Returns the Unix timestamp of the last successful save to disk.", "1.0.0", "O(1)", ""),
    spec("config", -2, flags!(NONE), KeySpec::NONE, Group::Server, Run::Parent)
        .doc("A container for server configuration commands.", "2.0.0", "Depends on subcommand.", "")
        .subs(CONFIG_SUBCOMMANDS),
];

const CONFIG_FLAGS: Flags = flags!(ADMIN | NOSCRIPT | LOADING | STALE);

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    spec(
        "config|get",
        -3,
        CONFIG_FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(config_get),
    )
    .doc(
        "Returns the effective values of configuration parameters.",
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "parameter [parameter ...]",
    ),
    spec(
        "config|set",
        -4,
        CONFIG_FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(config_set),
    )
    .doc(
        "Sets configuration parameters in-flight.",
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "parameter value [parameter value ...]",
    ),
    spec(
        "config|resetstat",
        2,
        CONFIG_FLAGS,
        KeySpec::NONE,
        Group::Server,
        Run::Conn(config_resetstat),
    )
    .doc("Resets the server's statistics.", "2.0.0", "O(1)", ""),
    spec(
        "config|help",
        2,
        flags!(LOADING | STALE),
        KeySpec::NONE,
        Group::Server,
        Run::Conn(config_help),
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
        "O(1)",
        "",
    ),
];

type ConnResult = Result<Step, OpError>;

fn sum_ints(outs: Vec<HopOut>) -> i64 {
    outs.into_iter()
        .map(|o| {
            if let Reply::Int(n) = o.into_reply() {
                n
            } else {
                0
            }
        })
        .sum()
}

fn dbsize(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let db = ctx.client.db;
    Ok(Step::fan_out(
        0..ctx.env.shards,
        Some(Lock::All),
        move |shard: &mut Shard| HopOut::Reply(Reply::Int(shard.ks.db(db).len() as i64)),
        |outs| Reply::Int(sum_ints(outs)),
    ))
}

/// Parses FLUSHDB/FLUSHALL's optional ASYNC|SYNC.
fn flush_async(ctx: &ConnCtx<'_>) -> Result<bool, OpError> {
    match ctx.args.get(1) {
        None => Ok(false),
        Some(a) if ctx.args.len() == 2 && is_opt(a, "async") => Ok(true),
        Some(a) if ctx.args.len() == 2 && is_opt(a, "sync") => Ok(false),
        Some(_) => Err(OpError::Syntax),
    }
}

/// Frees emptied databases: on a helper thread for ASYNC, so the shard keeps serving.
fn dispose(old: Vec<Db>, background: bool) {
    if background && old.iter().any(|d| !d.is_empty()) {
        let _ = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || drop(old));
    }
}

fn flush(ctx: &mut ConnCtx<'_>, only: Option<usize>) -> ConnResult {
    let background = flush_async(ctx)?;
    Ok(Step::fan_out(
        0..ctx.env.shards,
        Some(Lock::All),
        move |shard: &mut Shard| {
            let old = shard
                .ks
                .dbs()
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| only.is_none_or(|o| o == *i))
                .map(|(_, d)| d.clear())
                .collect();
            dispose(old, background);
            HopOut::Reply(Reply::OK)
        },
        |_| Reply::OK,
    ))
}

fn flushdb(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let db = ctx.client.db;
    flush(ctx, Some(db))
}

fn flushall(ctx: &mut ConnCtx<'_>) -> ConnResult {
    flush(ctx, None)
}

fn swapdb(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let databases = ctx.env.server.config.server.databases;
    let a = int_arg(&ctx.args[1]).map_err(|_| OpError::other("ERR invalid first DB index"))?;
    let b = int_arg(&ctx.args[2]).map_err(|_| OpError::other("ERR invalid second DB index"))?;
    let index = |n: i64| {
        usize::try_from(n)
            .ok()
            .filter(|&n| n < databases)
            .ok_or(OpError::DbIndexOutOfRange)
    };
    let (a, b) = (index(a)?, index(b)?);
    Ok(Step::fan_out(
        0..ctx.env.shards,
        Some(Lock::All),
        move |shard: &mut Shard| {
            shard.ks.swap(a, b);
            HopOut::Reply(Reply::OK)
        },
        |_| Reply::OK,
    ))
}

fn time(_: &mut ConnCtx<'_>) -> ConnResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Step::Reply(Reply::Array(vec![
        Reply::bulk(now.as_secs().to_string()),
        Reply::bulk(now.subsec_micros().to_string()),
    ])))
}

fn shutdown(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let mut save = None;
    for a in &ctx.args[1..] {
        if is_opt(a, "abort") {
            return Err(OpError::other("ERR No shutdown in progress."));
        }
        if is_opt(a, "save") {
            save = Some(true);
        } else if is_opt(a, "nosave") {
            save = Some(false);
        } else if !is_opt(a, "now") && !is_opt(a, "force") {
            return Err(OpError::Syntax);
        }
    }
    tracing::info!(client = ctx.client.id, addr = %ctx.client.addr, ?save, "SHUTDOWN");
    ctx.env.server.request_shutdown(save);
    Ok(Step::Close)
}

// ---- persistence --------------------------------------------------------------------------

/// SAVE: a checkpoint like BGSAVE's (the shards keep serving other clients meanwhile), with the
/// reply held back until it is on disk.
fn save(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let server = ctx.env.server.clone();
    if server.persistence.in_progress() {
        return Err(OpError::other("ERR Background save already in progress"));
    }
    Ok(Step::Defer(Box::new(move |origin| {
        if crate::persist::saver::start(&server, Some(origin), None).is_err() {
            let _ = server.mesh.push_from_outside(
                origin.shard,
                crate::shard::Msg::Reply {
                    origin,
                    reply: Reply::error("ERR Background save already in progress"),
                },
                std::time::Instant::now() + std::time::Duration::from_secs(1),
            );
        }
    })))
}

fn bgsave(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let schedule = match ctx.args.get(1) {
        None => false,
        Some(a) if is_opt(a, "schedule") && ctx.args.len() == 2 => true,
        Some(_) => return Err(OpError::Syntax),
    };
    match crate::persist::saver::start(&ctx.env.server, None, None) {
        Ok(()) => Ok(Step::Reply(Reply::status("Background saving started"))),
        Err(_) if schedule => {
            ctx.env.server.persistence.schedule();
            Ok(Step::Reply(Reply::status("Background saving scheduled")))
        }
        Err(_) => Err(OpError::other(
            "ERR Background save already in progress. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        )),
    }
}

/// BGREWRITEAOF: Ferrite's logs are truncated by a checkpoint, so rewriting them is taking one.
fn bgrewriteaof(ctx: &mut ConnCtx<'_>) -> ConnResult {
    match crate::persist::saver::start(&ctx.env.server, None, None) {
        Ok(()) => Ok(Step::Reply(Reply::status(
            "Background append only file rewriting started",
        ))),
        Err(_) => {
            ctx.env.server.persistence.schedule();
            Ok(Step::Reply(Reply::status(
                "Background append only file rewriting scheduled",
            )))
        }
    }
}

fn lastsave(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let last = ctx.env.server.persistence.last_save.load(Ordering::SeqCst);
    Ok(Step::Reply(Reply::Int(last as i64)))
}

// ---- INFO ---------------------------------------------------------------------------------

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "cluster",
    "keyspace",
];
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "commandstats",
    "cluster",
    "keyspace",
];

fn info(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let mut sections: Vec<&'static str> = Vec::new();
    if ctx.args.len() == 1 {
        sections.extend(DEFAULT_SECTIONS);
    }
    for a in &ctx.args[1..] {
        if is_opt(a, "all") || is_opt(a, "everything") {
            sections.extend(ALL_SECTIONS);
        } else if is_opt(a, "default") {
            sections.extend(DEFAULT_SECTIONS);
        } else if let Some(s) = ALL_SECTIONS.iter().find(|s| is_opt(a, s)) {
            sections.push(s);
        }
    }
    let server = ctx.env.server.clone();
    let hz = ctx.env.settings.hz;
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        |shard: &mut Shard| HopOut::Info(Box::new(shard.info())),
        move |outs| {
            let infos: Vec<ShardInfo> = outs.into_iter().filter_map(HopOut::into_info).collect();
            Reply::Verbatim("txt", info_text(&server, hz, &infos, &sections))
        },
    ))
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n}B")
    } else {
        format!("{v:.2}{}", UNITS[unit])
    }
}

fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

fn os_name() -> String {
    // SAFETY: uname fills the struct we pass; the fields are NUL-terminated C strings.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&u.sysname),
        field(&u.release),
        field(&u.machine)
    )
}

fn info_text(server: &Arc<Server>, hz: u32, infos: &[ShardInfo], sections: &[&str]) -> String {
    let mut stats = ShardStats::default();
    for i in infos {
        stats.merge(&i.stats);
    }
    let sum = |f: fn(&ShardInfo) -> u64| infos.iter().map(f).sum::<u64>();
    let clients = server.clients.load(Ordering::Relaxed);
    let mut out = String::new();
    for (n, section) in sections.iter().enumerate() {
        if n > 0 {
            out.push_str("\r\n");
        }
        let title = match *section {
            "cpu" => "CPU".to_string(),
            s => s[..1].to_ascii_uppercase() + &s[1..],
        };
        let _ = write!(out, "# {title}\r\n");
        let mut line = |k: &str, v: &dyn std::fmt::Display| {
            let _ = write!(out, "{k}:{v}\r\n");
        };
        match *section {
            "server" => {
                let uptime = server.uptime_secs();
                line("redis_version", &crate::REDIS_VERSION);
                line("ferrite_version", &env!("CARGO_PKG_VERSION"));
                line("redis_git_sha1", &"00000000");
                line("redis_git_dirty", &0);
                line("redis_mode", &"standalone");
                line("os", &os_name());
                line("arch_bits", &64);
                line("multiplexing_api", &"epoll");
                line("process_id", &std::process::id());
                line("process_supervised", &"no");
                line("run_id", &server.run_id);
                line("tcp_port", &server.addr.port());
                line("server_time_usec", &(crate::shard::now_ms() * 1000));
                line("uptime_in_seconds", &uptime);
                line("uptime_in_days", &(uptime / 86400));
                line("hz", &hz);
                line("configured_hz", &hz);
                line("shards", &server.mesh.shards());
                line(
                    "executable",
                    &std::env::current_exe()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                );
                line(
                    "config_file",
                    &server
                        .config_file
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                );
            }
            "clients" => {
                line("connected_clients", &clients);
                line("cluster_connections", &0);
                line("maxclients", &server.maxclients.load(Ordering::Relaxed));
                line("blocked_clients", &sum(|i| i.blocked_clients as u64));
                line("tracking_clients", &0);
            }
            "memory" => {
                let used = crate::metrics::allocated_bytes();
                let rss = crate::metrics::resident_bytes();
                let dataset = sum(|i| i.dataset_bytes as u64);
                line("used_memory", &used);
                line("used_memory_human", &human_bytes(used));
                line("used_memory_rss", &rss);
                line("used_memory_rss_human", &human_bytes(rss));
                line("used_memory_dataset", &dataset);
                line("used_memory_clients", &sum(|i| i.buffer_bytes as u64));
                line("maxmemory", &0);
                line("maxmemory_human", &"0B");
                line("maxmemory_policy", &"noeviction");
                line("mem_allocator", &"mimalloc");
            }
            "persistence" => {
                let p = &server.persistence;
                let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::SeqCst);
                let in_progress = p.in_progress();
                line("loading", &0);
                line("async_loading", &0);
                line(
                    "rdb_changes_since_last_save",
                    &sum(|i| i.changes_since_save),
                );
                line("rdb_bgsave_in_progress", &(in_progress as u8));
                line("rdb_last_save_time", &load(&p.last_save));
                line(
                    "rdb_last_bgsave_status",
                    &if p.last_ok.load(Ordering::SeqCst) {
                        "ok"
                    } else {
                        "err"
                    },
                );
                let last_ms = load(&p.last_duration_ms);
                line(
                    "rdb_last_bgsave_time_sec",
                    &if load(&p.saves) + load(&p.failures) == 0 {
                        -1
                    } else {
                        (last_ms / 1000) as i64
                    },
                );
                line(
                    "rdb_current_bgsave_time_sec",
                    &if in_progress {
                        ((crate::shard::now_ms().saturating_sub(load(&p.current_started_ms)))
                            / 1000) as i64
                    } else {
                        -1
                    },
                );
                line("rdb_saves", &load(&p.saves));
                line("rdb_last_cow_size", &0);
                line(
                    "rdb_last_load_keys_loaded",
                    &server.loaded.as_ref().map_or(0, |l| l.keys),
                );
                line(
                    "rdb_last_load_keys_expired",
                    &server.loaded.as_ref().map_or(0, |l| l.expired_skipped),
                );
                let aof = server.config.persistence.aof_enabled;
                line("aof_enabled", &(aof as u8));
                line("aof_rewrite_in_progress", &((aof && in_progress) as u8));
                line("aof_rewrite_scheduled", &0);
                line(
                    "aof_last_bgrewrite_status",
                    &if p.last_ok.load(Ordering::SeqCst) {
                        "ok"
                    } else {
                        "err"
                    },
                );
                line(
                    "aof_last_write_status",
                    &if sum(|i| i.aof_errors) == 0 {
                        "ok"
                    } else {
                        "err"
                    },
                );
            }
            "stats" => {
                line("total_connections_received", &stats.connections_received);
                line("total_commands_processed", &stats.total_commands());
                line("total_net_input_bytes", &stats.net_input_bytes);
                line("total_net_output_bytes", &stats.net_output_bytes);
                line(
                    "rejected_connections",
                    &server.rejected_connections.load(Ordering::Relaxed),
                );
                line("expired_keys", &sum(|i| i.expired_keys));
                line("evicted_keys", &0);
                line("keyspace_hits", &sum(|i| i.keyspace_hits));
                line("keyspace_misses", &sum(|i| i.keyspace_misses));
                line("pubsub_channels", &pubsub_unique(infos, false));
                line("pubsub_patterns", &pubsub_unique(infos, true));
                line(
                    "total_error_replies",
                    &(stats.commands.values().map(|c| c.failed).sum::<u64>()
                        + stats.rejected_calls),
                );
                line("total_protocol_errors", &stats.protocol_errors);
                line(
                    "total_auth_failures",
                    &server.auth_failures.load(Ordering::Relaxed),
                );
                line("multi_shard_commands", &stats.multi_shard);
                line("multi_shard_retries", &stats.tx_retries);
                line("shard_messages_received", &sum(|i| i.messages_received));
                line("shard_queue_full_events", &sum(|i| i.queue_full_events));
                line("shard_queue_depth", &sum(|i| i.queue_depth as u64));
            }
            "replication" => {
                line("role", &"master");
                line("connected_slaves", &0);
                line("master_failover_state", &"no-failover");
                line("master_replid", &format!("{:0<40}", server.run_id));
                line(
                    "master_replid2",
                    &"0000000000000000000000000000000000000000",
                );
                line("master_repl_offset", &0);
                line("second_repl_offset", &-1);
                line("repl_backlog_active", &0);
            }
            "cpu" => {
                let (sys, user) = cpu_times();
                line("used_cpu_sys", &format!("{sys:.6}"));
                line("used_cpu_user", &format!("{user:.6}"));
                line("used_cpu_sys_children", &"0.000000");
                line("used_cpu_user_children", &"0.000000");
            }
            "commandstats" => {
                let mut names: Vec<_> = stats.commands.iter().collect();
                names.sort_by_key(|(n, _)| n.0);
                for (name, c) in names {
                    let per_call = if c.calls > 0 {
                        c.nanos as f64 / 1000.0 / c.calls as f64
                    } else {
                        0.0
                    };
                    line(
                        &format!("cmdstat_{}", name.0),
                        &format!("calls={},usec={},usec_per_call={per_call:.2},rejected_calls=0,failed_calls={}", c.calls, c.nanos / 1000, c.failed),
                    );
                }
            }
            "cluster" => line("cluster_enabled", &0),
            "keyspace" => {
                let databases = infos.first().map_or(0, |i| i.keys.len());
                for db in 0..databases {
                    let keys: usize = infos.iter().map(|i| i.keys[db].0).sum();
                    let expires: usize = infos.iter().map(|i| i.keys[db].1).sum();
                    if keys > 0 {
                        line(
                            &format!("db{db}"),
                            &format!("keys={keys},expires={expires},avg_ttl=0"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    out
}

// ---- CONFIG -------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Memory,
    Text,
}

/// A parameter `CONFIG GET`/`SET` knows. Live ones act on [`Settings`]; inert ones are stored
/// (see `Settings::inert`) so tools that read or set them work.
struct Param {
    name: &'static str,
    kind: Kind,
    mutable: bool,
    /// Default of an inert parameter; None for a live one.
    inert_default: Option<&'static str>,
}

const fn live(name: &'static str, kind: Kind, mutable: bool) -> Param {
    Param {
        name,
        kind,
        mutable,
        inert_default: None,
    }
}

const fn inert(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        kind,
        mutable: true,
        inert_default: Some(default),
    }
}

const PARAMS: &[Param] = &[
    live("bind", Kind::Text, false),
    live("port", Kind::Int, false),
    live("databases", Kind::Int, false),
    live("cluster-enabled", Kind::Bool, false),
    live("requirepass", Kind::Text, true),
    live("maxclients", Kind::Int, true),
    live("proto-max-bulk-len", Kind::Memory, true),
    live("client-query-buffer-limit", Kind::Memory, true),
    live("hz", Kind::Int, true),
    live("notify-keyspace-events", Kind::Text, true),
    // The compact-encoding thresholds (keyspace::thresholds), under Redis's names and aliases.
    live("hash-max-listpack-entries", Kind::Int, true),
    live("hash-max-ziplist-entries", Kind::Int, true),
    live("hash-max-listpack-value", Kind::Memory, true),
    live("hash-max-ziplist-value", Kind::Memory, true),
    live("set-max-intset-entries", Kind::Int, true),
    live("set-max-listpack-entries", Kind::Int, true),
    live("set-max-listpack-value", Kind::Memory, true),
    live("zset-max-listpack-entries", Kind::Int, true),
    live("zset-max-ziplist-entries", Kind::Int, true),
    live("zset-max-listpack-value", Kind::Memory, true),
    live("zset-max-ziplist-value", Kind::Memory, true),
    inert("save", Kind::Text, ""),
    inert("appendonly", Kind::Bool, "no"),
    inert("appendfsync", Kind::Text, "everysec"),
    inert("dir", Kind::Text, "."),
    inert("dbfilename", Kind::Text, "dump.rdb"),
    inert("maxmemory", Kind::Memory, "0"),
    inert("maxmemory-policy", Kind::Text, "noeviction"),
    inert("timeout", Kind::Int, "0"),
    inert("tcp-keepalive", Kind::Int, "300"),
    inert("loglevel", Kind::Text, "notice"),
    inert("slowlog-log-slower-than", Kind::Int, "10000"),
    inert("slowlog-max-len", Kind::Int, "128"),
    inert("latency-monitor-threshold", Kind::Int, "0"),
    inert("lazyfree-lazy-user-del", Kind::Bool, "no"),
    inert("protected-mode", Kind::Bool, "no"),
    inert("io-threads", Kind::Int, "1"),
];

fn param_value(p: &Param, server: &Server, s: &Settings) -> String {
    if let Some(t) = thresholds::find(p.name) {
        return t.get().to_string();
    }
    match p.name {
        "bind" => server.config.server.bind.clone(),
        "port" => server.addr.port().to_string(),
        "databases" => server.config.server.databases.to_string(),
        "cluster-enabled" => if server.config.cluster.enabled {
            "yes"
        } else {
            "no"
        }
        .into(),
        "requirepass" => s.requirepass.clone(),
        "maxclients" => server.maxclients.load(Ordering::Relaxed).to_string(),
        "proto-max-bulk-len" => s.proto_max_bulk_len.to_string(),
        "client-query-buffer-limit" => s.client_query_buffer_limit.to_string(),
        "hz" => s.hz.to_string(),
        "notify-keyspace-events" => notify::format(notify::flags()),
        name => s
            .inert
            .get(name)
            .cloned()
            .unwrap_or_else(|| p.inert_default.unwrap_or_default().to_string()),
    }
}

/// Parses `100`, `1k`, `5mb`, `2gb` as Redis's `memtoull` does.
fn parse_memory(v: &str) -> Option<u64> {
    let lower = v.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn config_get(ctx: &mut ConnCtx<'_>) -> ConnResult {
    let mut pairs: Vec<(Reply, Reply)> = Vec::new();
    for pattern in &ctx.args[2..] {
        for p in PARAMS {
            if glob::matches(pattern, p.name.as_bytes(), true)
                && !pairs.iter().any(|(k, _)| *k == Reply::bulk_str(p.name))
            {
                let value = param_value(p, &ctx.env.server, &ctx.env.settings);
                pairs.push((Reply::bulk_str(p.name), Reply::bulk(value)));
            }
        }
    }
    Ok(Step::Reply(Reply::Map(pairs)))
}

fn config_set(ctx: &mut ConnCtx<'_>) -> ConnResult {
    if ctx.args.len() % 2 != 0 {
        return Err(OpError::Syntax);
    }
    let mut changes: Vec<(&'static str, String)> = Vec::new();
    for pair in ctx.args[2..].chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
        let value = String::from_utf8_lossy(&pair[1]).into_owned();
        let Some(p) = PARAMS.iter().find(|p| p.name == name) else {
            return Err(OpError::other(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        let fail = |why: &str| {
            OpError::other(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
            ))
        };
        if !p.mutable {
            return Err(fail("can't set immutable config"));
        }
        if changes.iter().any(|(n, _)| *n == p.name) {
            return Err(fail("duplicate parameter"));
        }
        let value = match p.kind {
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                v @ ("yes" | "no") => v.to_string(),
                _ => return Err(fail("argument must be 'yes' or 'no'")),
            },
            Kind::Int => value
                .parse::<i64>()
                .map_err(|_| fail("argument couldn't be parsed into an integer"))?
                .to_string(),
            Kind::Memory => parse_memory(&value)
                .ok_or_else(|| fail("argument must be a memory value"))?
                .to_string(),
            Kind::Text => value,
        };
        let value = match numeric_bounds(p.name) {
            Some((lo, hi)) => {
                let n: i64 = value.parse().unwrap_or(i64::MIN);
                if n < lo || n > hi {
                    return Err(fail(&format!(
                        "argument must be between {lo} and {hi} inclusive"
                    )));
                }
                // Redis accepts any hz and clamps it to what the server can do.
                if p.name == "hz" {
                    n.clamp(1, 500).to_string()
                } else {
                    value
                }
            }
            None => value,
        };
        if p.name == "notify-keyspace-events" && notify::parse(&value).is_none() {
            return Err(fail(
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
            ));
        }
        changes.push((p.name, value));
    }
    // Process-wide, read by every shard (see keyspace::notify).
    if let Some(flags) = changes
        .iter()
        .find(|(n, _)| *n == "notify-keyspace-events")
        .and_then(|(_, v)| notify::parse(v))
    {
        notify::set_flags(flags);
    }
    // Process-wide, so set here once rather than by every shard.
    for (name, value) in &changes {
        if let (Some(t), Ok(v)) = (thresholds::find(name), value.parse()) {
            t.set(v);
        }
    }
    if let Some((_, v)) = changes.iter().find(|(n, _)| *n == "maxclients") {
        ctx.env
            .server
            .maxclients
            .store(v.parse().unwrap_or(1), Ordering::Relaxed);
    }
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        move |shard: &mut Shard| {
            apply_settings(&mut shard.env.settings, &changes);
            HopOut::Reply(Reply::OK)
        },
        |_| Reply::OK,
    ))
}

/// The ranges Redis enforces on numeric parameters that matter here (its error text quotes them).
fn numeric_bounds(name: &str) -> Option<(i64, i64)> {
    match name {
        "hz" => Some((0, i32::MAX as i64)),
        "maxclients" => Some((1, u32::MAX as i64)),
        "proto-max-bulk-len" | "client-query-buffer-limit" => Some((1024 * 1024, i64::MAX)),
        name if thresholds::find(name).is_some() => Some((0, i64::MAX)),
        _ => None,
    }
}

fn apply_settings(s: &mut Settings, changes: &[(&'static str, String)]) {
    for (name, value) in changes {
        match *name {
            "requirepass" => s.requirepass = value.clone(),
            "proto-max-bulk-len" => {
                s.proto_max_bulk_len = value.parse().unwrap_or(s.proto_max_bulk_len)
            }
            "client-query-buffer-limit" => {
                s.client_query_buffer_limit = value.parse().unwrap_or(s.client_query_buffer_limit)
            }
            "hz" => s.hz = value.parse().unwrap_or(s.hz),
            "maxclients" | "notify-keyspace-events" => {}
            name if thresholds::find(name).is_some() => {}
            _ => {
                s.inert.insert(name, value.clone());
            }
        }
    }
}

fn config_resetstat(ctx: &mut ConnCtx<'_>) -> ConnResult {
    ctx.env
        .server
        .rejected_connections
        .store(0, Ordering::Relaxed);
    ctx.env.server.auth_failures.store(0, Ordering::Relaxed);
    Ok(Step::fan_out(
        0..ctx.env.shards,
        None,
        |shard: &mut Shard| {
            shard.stats.reset();
            shard.ks.hits = 0;
            shard.ks.misses = 0;
            HopOut::Reply(Reply::OK)
        },
        |_| Reply::OK,
    ))
}

fn config_help(_: &mut ConnCtx<'_>) -> ConnResult {
    Ok(Step::Reply(help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    )))
}
