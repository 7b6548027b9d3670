//! Stream commands (Redis 7.0's `t_stream.c`) over [`StreamValue`]: option parsing, error texts
//! and their precedence, and reply shapes (XREAD and XINFO answer maps in RESP3) as
//! redis-server 7.0 has them.
//!
//! XREAD and XREADGROUP name their keys after `STREAMS` (a keyword key spec); across shards the
//! runtime runs them atomically like any multi-key command. BLOCK is parsed and checked but
//! never waits here: when nothing is ready the reply is the null array Redis sends on timeout.
//! [`serve_xread`] and [`serve_xreadgroup`] are the "is anything ready, then serve it" halves a
//! blocking runtime can call again when a key changes.

use std::borrow::Cow;

use bytes::Bytes;

use super::{
    help_reply, int_arg, is_opt, spec, BeginSearch, CmdResult, CommandSpec, Ctx, FindKeys, Group,
    KeyRange, KeySpec, OpError, Run, WouldBlock,
};
use crate::flags;
use crate::keyspace::stream::{Consumer, Group as ConsumerGroup, StreamId, Trim};
use crate::keyspace::{notify, StreamValue};
use crate::resp::{parse_i64, Reply};

const G: Group = Group::Stream;
/// `XGROUP <sub> key ...` and `XINFO <sub> key ...`.
const SUB_KEY: KeySpec = KeySpec {
    first: 2,
    last: 2,
    step: 1,
};
/// The keys of XREAD and XREADGROUP: the first half of what follows `STREAMS` (searched for
/// after `GROUP group consumer` in XREADGROUP, as Redis's key spec does).
const XREAD_KEYS: &[KeyRange] = &[after_streams(1)];
const XREADGROUP_KEYS: &[KeyRange] = &[after_streams(4)];

const fn after_streams(startfrom: i32) -> KeyRange {
    KeyRange {
        begin: BeginSearch::Keyword {
            keyword: "STREAMS",
            startfrom,
        },
        find: FindKeys::Range {
            lastkey: -1,
            keystep: 1,
            limit: 2,
        },
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    spec("xadd", -5, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, G, Run::Keys(xadd))
        .doc("Appends a new message to a stream. Creates the key if it doesn't exist.", "5.0.0", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.", "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]"),
    spec("xlen", 2, flags!(READONLY | FAST), KeySpec::ONE, G, Run::Keys(xlen))
        .doc("Return the number of messages in a stream.", "5.0.0", "O(1)", "key"),
    spec("xrange", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(xrange))
        .doc("Returns the messages from a stream within a range of IDs.", "5.0.0", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", "key start end [COUNT count]"),
    spec("xrevrange", -4, flags!(READONLY), KeySpec::ONE, G, Run::Keys(xrevrange))
        .doc("Returns the messages from a stream within a range of IDs in reverse order.", "5.0.0", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", "key end start [COUNT count]"),
    spec("xdel", -3, flags!(WRITE | FAST), KeySpec::ONE, G, Run::Keys(xdel))
        .doc("Returns the number of messages after removing them from a stream.", "5.0.0", "O(1) for each single item to delete in the stream, regardless of the stream size.", "key id [id ...]"),
    spec("xtrim", -4, flags!(WRITE), KeySpec::ONE, G, Run::Keys(xtrim))
        .doc("Deletes messages from the beginning of a stream.", "5.0.0", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.", "key MAXLEN|MINID [=|~] threshold [LIMIT count]"),
    spec("xread", -4, flags!(READONLY | BLOCKING), KeySpec::ALL, G, Run::Keys(xread))
        .key_specs(XREAD_KEYS)
        .doc("Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.", "5.0.0", "", "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]"),
    spec("xreadgroup", -7, flags!(WRITE | BLOCKING), KeySpec::ALL, G, Run::Keys(xreadgroup))
        .key_specs(XREADGROUP_KEYS)
        .doc("Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.", "5.0.0", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.", "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]"),
    spec("xack", -4, flags!(WRITE | FAST), KeySpec::ONE, G, Run::Keys(xack))
        .doc("Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", "5.0.0", "O(1) for each message ID processed.", "key group id [id ...]"),
    spec("xpending", -3, flags!(READONLY), KeySpec::ONE, G, Run::Keys(xpending))
        .doc("Returns the information and entries from a stream consumer group's pending entries list.", "5.0.0", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.", "key group [[IDLE min-idle-time] start end count [consumer]]"),
    spec("xclaim", -6, flags!(WRITE | FAST), KeySpec::ONE, G, Run::Keys(xclaim))
        .doc("Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.", "5.0.0", "O(log N) with N being the number of messages in the PEL of the consumer group.", "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]"),
    spec("xautoclaim", -6, flags!(WRITE | FAST), KeySpec::ONE, G, Run::Keys(xautoclaim))
        .doc("Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.", "6.2.0", "O(1) if COUNT is small.", "key group consumer min-idle-time start [COUNT count] [JUSTID]"),
    spec("xsetid", -3, flags!(WRITE | DENYOOM | FAST), KeySpec::ONE, G, Run::Keys(xsetid))
        .doc("An internal command for replicating stream values.", "5.0.0", "O(1)", "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]"),
    spec("xgroup", -2, flags!(NONE), KeySpec::NONE, G, Run::Parent)
        .doc("A container for consumer groups commands.", "5.0.0", "Depends on subcommand.", "")
        .subs(XGROUP_SUBCOMMANDS),
    spec("xinfo", -2, flags!(NONE), KeySpec::NONE, G, Run::Parent)
        .doc("A container for stream introspection commands.", "5.0.0", "Depends on subcommand.", "")
        .subs(XINFO_SUBCOMMANDS),
];

static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    spec(
        "xgroup|create",
        -5,
        flags!(WRITE | DENYOOM),
        SUB_KEY,
        G,
        Run::Keys(xgroup_create),
    )
    .doc(
        "Creates a consumer group.",
        "5.0.0",
        "O(1)",
        "key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]",
    ),
    spec(
        "xgroup|setid",
        -5,
        flags!(WRITE),
        SUB_KEY,
        G,
        Run::Keys(xgroup_setid),
    )
    .doc(
        "Sets the last-delivered ID of a consumer group.",
        "5.0.0",
        "O(1)",
        "key group id|$ [ENTRIESREAD entries-read]",
    ),
    spec(
        "xgroup|destroy",
        4,
        flags!(WRITE),
        SUB_KEY,
        G,
        Run::Keys(xgroup_destroy),
    )
    .doc(
        "Destroys a consumer group.",
        "5.0.0",
        "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        "key group",
    ),
    spec(
        "xgroup|createconsumer",
        5,
        flags!(WRITE | DENYOOM),
        SUB_KEY,
        G,
        Run::Keys(xgroup_createconsumer),
    )
    .doc(
        "Creates a consumer in a consumer group.",
        "6.2.0",
        "O(1)",
        "key group consumer",
    ),
    spec(
        "xgroup|delconsumer",
        5,
        flags!(WRITE),
        SUB_KEY,
        G,
        Run::Keys(xgroup_delconsumer),
    )
    .doc(
        "Deletes a consumer from a consumer group.",
        "5.0.0",
        "O(1)",
        "key group consumer",
    ),
    spec(
        "xgroup|help",
        2,
        flags!(LOADING | STALE),
        KeySpec::NONE,
        G,
        Run::Conn(xgroup_help),
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
        "O(1)",
        "",
    ),
];

static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    spec(
        "xinfo|stream",
        -3,
        flags!(READONLY),
        SUB_KEY,
        G,
        Run::Keys(xinfo_stream),
    )
    .doc(
        "Returns information about a stream.",
        "5.0.0",
        "O(1)",
        "key [FULL [COUNT count]]",
    ),
    spec(
        "xinfo|groups",
        3,
        flags!(READONLY),
        SUB_KEY,
        G,
        Run::Keys(xinfo_groups),
    )
    .doc(
        "Returns a list of the consumer groups of a stream.",
        "5.0.0",
        "O(1)",
        "key",
    ),
    spec(
        "xinfo|consumers",
        4,
        flags!(READONLY),
        SUB_KEY,
        G,
        Run::Keys(xinfo_consumers),
    )
    .doc(
        "Returns a list of the consumers in a consumer group.",
        "5.0.0",
        "O(1)",
        "key group",
    ),
    spec(
        "xinfo|help",
        2,
        flags!(LOADING | STALE),
        KeySpec::NONE,
        G,
        Run::Conn(xinfo_help),
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
        "O(1)",
        "",
    ),
];

// ---- errors and parsing ---------------------------------------------------------------------

fn err(msg: &'static str) -> OpError {
    OpError::other(msg)
}

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const NO_SUCH_KEY: &str = "ERR no such key";

fn lossy(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// `NOGROUP` for XPENDING, XCLAIM and XAUTOCLAIM.
fn no_key_or_group(key: &[u8], group: &[u8]) -> OpError {
    OpError::other(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        lossy(key),
        lossy(group)
    ))
}

/// `NOGROUP` for XGROUP and XINFO CONSUMERS.
fn no_group_for_key(group: &[u8], key: &[u8]) -> OpError {
    OpError::other(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        lossy(group),
        lossy(key)
    ))
}

/// Redis's `addReplySubcommandSyntaxError`.
fn subcommand_syntax(args: &[Bytes]) -> OpError {
    let sub = args.get(1).map_or(Cow::Borrowed(""), |a| lossy(a));
    let cmd = args
        .first()
        .map_or(String::new(), |a| lossy(a).to_ascii_uppercase());
    OpError::other(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP."
    ))
}

/// An unsigned decimal as Redis's `string2ull` reads an ID part.
fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Redis's `streamGenericParseIDOrReply`: `ms-seq`, `ms` (the sequence is `missing_seq`), and
/// unless `strict`, `-` and `+`. With `seq_auto`, `ms-*` is accepted and reported by the flag.
fn parse_id_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_auto: bool,
) -> Result<(StreamId, bool), OpError> {
    if arg.len() > 127 {
        return Err(err(INVALID_ID));
    }
    match arg {
        b"-" | b"+" if strict => return Err(err(INVALID_ID)),
        b"-" => return Ok((StreamId::MIN, false)),
        b"+" => return Ok((StreamId::MAX, false)),
        _ => {}
    }
    let (ms, seq) = match arg.iter().position(|&b| b == b'-') {
        Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
        None => (arg, None),
    };
    let ms = parse_u64(ms).ok_or_else(|| err(INVALID_ID))?;
    match seq {
        Some(b"*") if seq_auto => Ok((StreamId::new(ms, 0), true)),
        Some(seq) => parse_u64(seq)
            .map(|seq| (StreamId::new(ms, seq), false))
            .ok_or_else(|| err(INVALID_ID)),
        None => Ok((StreamId::new(ms, missing_seq), false)),
    }
}

/// A strict ID (`-` and `+` refused), the sequence defaulting to 0.
fn strict_id(arg: &[u8]) -> Result<StreamId, OpError> {
    parse_id_generic(arg, 0, true, false).map(|(id, _)| id)
}

/// One end of a range: `-`, `+`, an ID, or `(ID` (exclusive), with `missing_seq` for `ms`.
fn range_bound(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), OpError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let (id, _) = parse_id_generic(&arg[1..], missing_seq, true, false)?;
        Ok((id, true))
    } else {
        parse_id_generic(arg, missing_seq, false, false).map(|(id, _)| (id, false))
    }
}

/// The start of a range, exclusive starts moved up one.
fn range_start(arg: &[u8]) -> Result<StreamId, OpError> {
    match range_bound(arg, 0)? {
        (id, true) => id
            .next()
            .ok_or_else(|| err("ERR invalid start ID for the interval")),
        (id, false) => Ok(id),
    }
}

/// The end of a range, exclusive ends moved down one.
fn range_end(arg: &[u8]) -> Result<StreamId, OpError> {
    match range_bound(arg, u64::MAX)? {
        (id, true) => id
            .prev()
            .ok_or_else(|| err("ERR invalid end ID for the interval")),
        (id, false) => Ok(id),
    }
}

fn int_arg_or(arg: &[u8], msg: &'static str) -> Result<i64, OpError> {
    parse_i64(arg).ok_or_else(|| err(msg))
}

fn id_reply(id: StreamId) -> Reply {
    Reply::bulk_str(&id.to_string())
}

/// An entry as Redis replies with it: `[id, [field, value, ...]]`.
fn entry_reply(id: StreamId, fields: &[Bytes]) -> Reply {
    Reply::Array(vec![
        id_reply(id),
        Reply::Array(fields.iter().cloned().map(Reply::Bulk).collect()),
    ])
}

fn entries_reply<'a>(entries: impl Iterator<Item = (StreamId, &'a [Bytes])>) -> Reply {
    Reply::Array(entries.map(|(id, f)| entry_reply(id, f)).collect())
}

/// The entry `id` for XCLAIM-style replies: the entry, or a null when it is gone.
fn entry_or_null(s: &StreamValue, id: StreamId) -> Reply {
    s.get(id).map_or(Reply::Null, |f| entry_reply(id, f))
}

fn opt_int(v: Option<u64>) -> Reply {
    v.map_or(Reply::Null, |n| Reply::Int(n as i64))
}

/// A field name of an XINFO map.
fn field_name(s: &'static str) -> Reply {
    Reply::bulk_str(s)
}

// ---- XADD, XTRIM ----------------------------------------------------------------------------

/// The trimming options shared by XADD and XTRIM.
struct TrimArgs {
    rule: Option<Trim>,
    approx: bool,
    /// 0: no limit.
    limit: u64,
}

/// What XADD parsed: trimming, NOMKSTREAM, the ID (None for `*`; the flag for `ms-*`) and the
/// index of the first field.
struct AddArgs {
    trim: TrimArgs,
    no_mkstream: bool,
    id: Option<(StreamId, bool)>,
    fields_at: usize,
}

/// Redis's `streamParseAddOrTrimArgsOrReply`.
fn parse_add_or_trim(args: &[Bytes], xadd: bool) -> Result<AddArgs, OpError> {
    let mut trim = TrimArgs {
        rule: None,
        approx: false,
        limit: 0,
    };
    let mut limit_given = false;
    let mut no_mkstream = false;
    let mut id = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (is_opt(opt, "maxlen") || is_opt(opt, "minid")) && more > 0 {
            if trim.rule.is_some() {
                return Err(err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"));
            }
            trim.approx = false;
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                trim.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let threshold = &args[i + 1][..];
            trim.rule = Some(if is_opt(opt, "maxlen") {
                let max = int_arg(threshold)?;
                if max < 0 {
                    return Err(err("ERR The MAXLEN argument must be >= 0."));
                }
                Trim::MaxLen(max as u64)
            } else {
                Trim::MinId(strict_id(threshold)?)
            });
            i += 1;
        } else if is_opt(opt, "limit") && more > 0 {
            let limit = int_arg(&args[i + 1])?;
            if limit < 0 {
                return Err(err("ERR The LIMIT argument must be >= 0."));
            }
            trim.limit = limit as u64;
            limit_given = true;
            i += 1;
        } else if xadd && is_opt(opt, "nomkstream") {
            no_mkstream = true;
        } else if xadd {
            id = Some(parse_id_generic(opt, 0, true, true)?);
            break;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    if trim.limit > 0 && trim.rule.is_none() {
        return Err(err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && trim.rule.is_none() {
        return Err(err(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !trim.approx {
            return Err(err(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if trim.approx {
        // Redis's default: 100 * stream-node-max-entries.
        trim.limit = 100 * crate::keyspace::stream::NODE_MAX_ENTRIES;
    } else {
        trim.limit = 0;
    }
    Ok(AddArgs {
        trim,
        no_mkstream,
        id,
        fields_at: i + 1,
    })
}

fn xadd(ctx: &mut Ctx<'_>) -> CmdResult {
    let parsed = parse_add_or_trim(ctx.args, true)?;
    let fields = ctx.args.get(parsed.fields_at..).unwrap_or_default();
    if fields.len() < 2 || fields.len() % 2 == 1 {
        return Err(err("ERR wrong number of arguments for 'xadd' command"));
    }
    if let Some((id, false)) = parsed.id {
        if id == StreamId::MIN {
            return Err(err("ERR The ID specified in XADD must be greater than 0-0"));
        }
    }
    let key = ctx.args[1].clone();
    let now = ctx.now;
    let s = match ctx.write_as::<StreamValue>(&key, !parsed.no_mkstream)? {
        Some(s) => s,
        None => return Ok(Reply::Null),
    };
    if s.last_id == StreamId::MAX {
        return Err(err(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let too_small =
        || err("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    let id = match parsed.id {
        None => s.next_auto_id(now).ok_or_else(too_small)?,
        Some((id, false)) => id,
        // Redis 7.0 answers `ms-*` after `ms-18446744073709551615` with this text (its errno is
        // not set to EDOM on that path).
        Some((id, true)) if id.ms == s.last_id.ms => match s.last_id.seq.checked_add(1) {
            Some(seq) => StreamId::new(id.ms, seq),
            None => return Err(err("ERR Elements are too large to be stored")),
        },
        Some((id, true)) => id,
    };
    if id <= s.last_id {
        return Err(too_small());
    }
    s.append(id, fields.to_vec());
    let trimmed = match parsed.trim.rule {
        Some(rule) => s.trim(rule, parsed.trim.approx, parsed.trim.limit),
        None => 0,
    };
    ctx.notify(notify::STREAM, "xadd", &key);
    if trimmed > 0 {
        ctx.notify(notify::STREAM, "xtrim", &key);
    }
    Ok(id_reply(id))
}

/// Whether an XADD gives the same result replayed on the same stream: an explicit `ms-seq` ID
/// and exact trimming (`*` and `ms-*` read the clock; `~` and LIMIT depend on node layout).
pub fn xadd_replays_exactly(args: &[Bytes]) -> bool {
    parse_add_or_trim(args, true)
        .is_ok_and(|a| matches!(a.id, Some((_, false))) && !a.trim.approx && a.trim.limit == 0)
}

fn xtrim(ctx: &mut Ctx<'_>) -> CmdResult {
    let parsed = parse_add_or_trim(ctx.args, false)?;
    let key = ctx.args[1].clone();
    let Some(s) = ctx.write_as::<StreamValue>(&key, false)? else {
        return Ok(Reply::Int(0));
    };
    let removed = match parsed.trim.rule {
        Some(rule) => s.trim(rule, parsed.trim.approx, parsed.trim.limit),
        None => 0,
    };
    if removed > 0 {
        ctx.notify(notify::STREAM, "xtrim", &key);
    }
    Ok(Reply::Int(removed as i64))
}

// ---- XLEN, XRANGE, XREVRANGE, XDEL ----------------------------------------------------------

fn xlen(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.args[1].clone();
    Ok(Reply::Int(
        ctx.read_as::<StreamValue>(&key)?.map_or(0, |s| s.len()) as i64,
    ))
}

fn xrange(ctx: &mut Ctx<'_>) -> CmdResult {
    range_generic(ctx, false)
}

fn xrevrange(ctx: &mut Ctx<'_>) -> CmdResult {
    range_generic(ctx, true)
}

fn range_generic(ctx: &mut Ctx<'_>, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (3, 2) } else { (2, 3) };
    let start = range_start(ctx.arg(start_arg))?;
    let end = range_end(ctx.arg(end_arg))?;
    let mut count: Option<usize> = None;
    let mut i = 4;
    while i < ctx.args.len() {
        if is_opt(&ctx.args[i], "count") && i + 1 < ctx.args.len() {
            count = Some(int_arg(&ctx.args[i + 1])?.max(0) as usize);
            i += 2;
        } else {
            return Err(OpError::Syntax);
        }
    }
    if count == Some(0) {
        return Ok(Reply::NullArray);
    }
    let key = ctx.args[1].clone();
    let Some(s) = ctx.read_as::<StreamValue>(&key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    Ok(entries_reply(
        s.range(start, end, rev).take(count.unwrap_or(usize::MAX)),
    ))
}

fn xdel(ctx: &mut Ctx<'_>) -> CmdResult {
    let ids = ctx.args[2..]
        .iter()
        .map(|a| strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let key = ctx.args[1].clone();
    let Some(s) = ctx.write_as::<StreamValue>(&key, false)? else {
        return Ok(Reply::Int(0));
    };
    let deleted = s.delete(&ids);
    if deleted > 0 {
        ctx.notify(notify::STREAM, "xdel", &key);
    }
    Ok(Reply::Int(deleted as i64))
}

// ---- XREAD, XREADGROUP ----------------------------------------------------------------------

/// What XREAD and XREADGROUP parsed.
pub struct ReadArgs {
    /// 0: no limit.
    pub count: usize,
    /// BLOCK's timeout in milliseconds (0: forever), when given: checked here, and left to the
    /// blocking runtime, which waits on the keys when the serving half finds nothing ready.
    pub block: Option<u64>,
    /// GROUP's group and consumer.
    pub group: Option<(Bytes, Bytes)>,
    pub noack: bool,
    /// Index of the first key; as many IDs follow the keys.
    pub streams_at: usize,
    pub streams: usize,
}

/// Parses XREAD's (or with `group_cmd` XREADGROUP's) options, with Redis's errors.
pub fn parse_read(args: &[Bytes], group_cmd: bool) -> Result<ReadArgs, OpError> {
    let mut r = ReadArgs {
        count: 0,
        block: None,
        group: None,
        noack: false,
        streams_at: 0,
        streams: 0,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if is_opt(opt, "block") && more > 0 {
            i += 1;
            let ms = int_arg_or(&args[i], "ERR timeout is not an integer or out of range")?;
            if ms < 0 {
                return Err(err("ERR timeout is negative"));
            }
            r.block = Some(ms as u64);
        } else if is_opt(opt, "count") && more > 0 {
            i += 1;
            r.count = int_arg(&args[i])?.max(0) as usize;
        } else if is_opt(opt, "streams") && more > 0 {
            r.streams_at = i + 1;
            let n = args.len() - r.streams_at;
            if n % 2 != 0 {
                let (name, symbol) = if group_cmd {
                    ("XREADGROUP", '>')
                } else {
                    ("XREAD", '$')
                };
                return Err(OpError::other(format!("ERR Unbalanced {name} list of streams: for each stream key an ID or '{symbol}' must be specified.")));
            }
            r.streams = n / 2;
            break;
        } else if is_opt(opt, "group") && more >= 2 {
            if !group_cmd {
                return Err(err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."));
            }
            r.group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if is_opt(opt, "noack") {
            if !group_cmd {
                return Err(err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."));
            }
            r.noack = true;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    if r.streams_at == 0 {
        return Err(OpError::Syntax);
    }
    if group_cmd && r.group.is_none() {
        return Err(err("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

/// An XREADGROUP start: the consumer's pending entries after `After`, or with `NewInGroup`
/// (`>`) entries past the group's last delivered ID.
#[derive(Clone, Copy)]
pub enum ReadFrom {
    After(StreamId),
    NewInGroup,
}

/// The reply of a read over several streams: a map in RESP3, [key, entries] arrays in RESP2.
fn streams_reply(served: Vec<(Bytes, Reply)>) -> Option<Reply> {
    if served.is_empty() {
        return None;
    }
    Some(Reply::MapOrPairArrays(
        served
            .into_iter()
            .map(|(k, v)| (Reply::Bulk(k), v))
            .collect(),
    ))
}

fn xread(ctx: &mut Ctx<'_>) -> CmdResult {
    let r = parse_read(ctx.args, false)?;
    let mut from = Vec::with_capacity(r.streams);
    for j in 0..r.streams {
        let key = ctx.args[r.streams_at + j].clone();
        let id_arg = ctx.args[r.streams_at + r.streams + j].clone();
        let stream = ctx.read_as::<StreamValue>(&key)?;
        let after = match &id_arg[..] {
            b"$" => stream.map_or(StreamId::MIN, |s| s.last_id),
            b">" => return Err(err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")),
            a => strict_id(a)?,
        };
        from.push((key, after));
    }
    if let Some(reply) = serve_xread(ctx, &from, r.count) {
        return Ok(reply);
    }
    let Some(timeout_ms) = r.block else {
        return Ok(Reply::NullArray);
    };
    // Waiting: `$` means the last entry as of now, so the retries read from there.
    let mut retry = ctx.args.to_vec();
    for (j, (_, after)) in from.iter().enumerate() {
        if let Some(arg) = retry.get_mut(r.streams_at + r.streams + j) {
            *arg = Bytes::from(after.to_string());
        }
    }
    Err(OpError::Blocked(Box::new(WouldBlock {
        timeout_ms,
        on_timeout: Reply::NullArray,
        cannot_wait: Reply::NullArray,
        retry_args: Some(retry),
    })))
}

/// XREAD's serving half: the entries after each stream's start, for the streams that have any;
/// None when no stream has (a blocking XREAD would then wait). Its starts are resolved IDs, so
/// calling it again later serves what arrived since.
pub fn serve_xread(ctx: &mut Ctx<'_>, from: &[(Bytes, StreamId)], count: usize) -> Option<Reply> {
    let limit = if count == 0 { usize::MAX } else { count };
    let mut served = Vec::new();
    for (key, after) in from {
        let Ok(Some(s)) = ctx.read_as::<StreamValue>(key) else {
            continue;
        };
        let Some(start) = after.next() else { continue };
        if s.last_entry().is_some_and(|(last, _)| last > *after) {
            served.push((
                key.clone(),
                entries_reply(s.range(start, StreamId::MAX, false).take(limit)),
            ));
        }
    }
    streams_reply(served)
}

fn xreadgroup(ctx: &mut Ctx<'_>) -> CmdResult {
    let r = parse_read(ctx.args, true)?;
    let Some((group, consumer)) = r.group.clone() else {
        return Err(err("ERR Missing GROUP option for XREADGROUP"));
    };
    let mut from = Vec::with_capacity(r.streams);
    for j in 0..r.streams {
        let key = ctx.args[r.streams_at + j].clone();
        let id_arg = ctx.args[r.streams_at + r.streams + j].clone();
        let exists = ctx
            .read_as::<StreamValue>(&key)?
            .is_some_and(|s| s.groups.contains_key(&group));
        if !exists {
            return Err(OpError::other(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                lossy(&key),
                lossy(&group)
            )));
        }
        let start = match &id_arg[..] {
            b"$" => return Err(err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")),
            b">" => ReadFrom::NewInGroup,
            a => ReadFrom::After(strict_id(a)?),
        };
        from.push((key, start));
    }
    let read = GroupRead {
        group,
        consumer,
        count: r.count,
        noack: r.noack,
    };
    match (serve_xreadgroup(ctx, &from, &read)?, r.block) {
        (Some(reply), _) => Ok(reply),
        // Only `>` finds nothing (history always answers): wait for new entries.
        (None, Some(timeout_ms)) => Err(WouldBlock::err(timeout_ms, Reply::NullArray)),
        (None, None) => Ok(Reply::NullArray),
    }
}

/// The group, consumer and options of an XREADGROUP.
pub struct GroupRead {
    pub group: Bytes,
    pub consumer: Bytes,
    /// 0: no limit.
    pub count: usize,
    pub noack: bool,
}

/// XREADGROUP's serving half: history from the consumer's PEL for explicit IDs, new entries
/// (delivered, and pending unless NOACK) for `>`; None when no stream had anything to serve.
pub fn serve_xreadgroup(
    ctx: &mut Ctx<'_>,
    from: &[(Bytes, ReadFrom)],
    read: &GroupRead,
) -> Result<Option<Reply>, OpError> {
    let now = ctx.now;
    let mut served = Vec::new();
    for (key, start) in from {
        let Some(s) = ctx.write_as::<StreamValue>(key, false)? else {
            continue;
        };
        let Some(g) = s.groups.get(&read.group) else {
            continue;
        };
        let reply = match *start {
            ReadFrom::After(after) => Some(serve_history(s, read, after, now)),
            ReadFrom::NewInGroup => {
                let last = g.last_id;
                // Redis 7.0 meets (and creates) the consumer only on streams it serves.
                s.last_entry()
                    .is_some_and(|(id, _)| id > last)
                    .then(|| serve_new(s, read, last, now))
            }
        };
        if let Some(reply) = reply {
            served.push((key.clone(), reply));
        }
    }
    Ok(streams_reply(served))
}

/// The consumer of `read`, created if needed, seen now.
fn touch<'a>(s: &'a mut StreamValue, read: &GroupRead, now: u64) -> Option<&'a mut Consumer> {
    let g = s.groups.get_mut(&read.group)?;
    Some(g.touch_consumer(&read.consumer, now).0)
}

/// Entries of the consumer's PEL after `after`: each delivered again (a null for one deleted
/// since).
fn serve_history(s: &mut StreamValue, read: &GroupRead, after: StreamId, now: u64) -> Reply {
    let Some(ids) = touch(s, read, now).map(|c| {
        let limit = if read.count == 0 {
            usize::MAX
        } else {
            read.count
        };
        let ids: Vec<StreamId> = match after.next() {
            Some(start) => c.pending.range(start..).take(limit).copied().collect(),
            None => Vec::new(),
        };
        ids
    }) else {
        return Reply::Array(Vec::new());
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match s.get(id) {
            Some(fields) => {
                out.push(entry_reply(id, fields));
                if let Some(nack) = s
                    .groups
                    .get_mut(&read.group)
                    .and_then(|g| g.pending.get_mut(&id))
                {
                    nack.delivery_time = now;
                    nack.delivery_count = nack.delivery_count.saturating_add(1);
                }
            }
            None => out.push(Reply::Array(vec![id_reply(id), Reply::NullArray])),
        }
    }
    Reply::Array(out)
}

/// Entries after the group's last ID, delivered to the consumer.
fn serve_new(s: &mut StreamValue, read: &GroupRead, last: StreamId, now: u64) -> Reply {
    touch(s, read, now);
    let limit = if read.count == 0 {
        usize::MAX
    } else {
        read.count
    };
    let entries: Vec<(StreamId, Reply)> = match last.next() {
        Some(start) => s
            .range(start, StreamId::MAX, false)
            .take(limit)
            .map(|(id, f)| (id, entry_reply(id, f)))
            .collect(),
        None => Vec::new(),
    };
    for (id, _) in &entries {
        s.advance_group(&read.group, *id);
        if !read.noack {
            if let Some(g) = s.groups.get_mut(&read.group) {
                g.assign(*id, &read.consumer, now, 1);
                if let Some(c) = g.consumers.get_mut(&read.consumer) {
                    c.active_time = now;
                }
            }
        }
    }
    Reply::Array(entries.into_iter().map(|(_, r)| r).collect())
}

// ---- XACK, XPENDING, XCLAIM, XAUTOCLAIM -----------------------------------------------------

fn xack(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, group) = (ctx.args[1].clone(), ctx.args[2].clone());
    let has_group = ctx
        .read_as::<StreamValue>(&key)?
        .is_some_and(|s| s.groups.contains_key(&group));
    if !has_group {
        return Ok(Reply::Int(0));
    }
    let ids = ctx.args[3..]
        .iter()
        .map(|a| strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(g) = ctx
        .write_as::<StreamValue>(&key, false)?
        .and_then(|s| s.groups.get_mut(&group))
    else {
        return Ok(Reply::Int(0));
    };
    Ok(Reply::Int(
        ids.into_iter().filter(|id| g.ack(*id)).count() as i64
    ))
}

fn xpending(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(OpError::Syntax);
    }
    let mut extended = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0i64;
        if is_opt(&args[3], "idle") {
            min_idle = int_arg(&args[4])?;
            if argc < 8 {
                return Err(OpError::Syntax);
            }
            at += 2;
        }
        let count = int_arg(ctx.arg(at + 2))?.max(0) as usize;
        let start = range_start(ctx.arg(at))?;
        let end = range_end(ctx.arg(at + 1))?;
        let consumer = args.get(at + 3).cloned();
        extended = Some((min_idle, start, end, count, consumer));
    }
    let (key, group) = (args[1].clone(), args[2].clone());
    let now = ctx.now;
    let g = ctx
        .read_as::<StreamValue>(&key)?
        .and_then(|s| s.groups.get(&group))
        .ok_or_else(|| no_key_or_group(&key, &group))?;
    let Some((min_idle, start, end, count, consumer)) = extended else {
        let (Some(first), Some(last)) = (g.pending.keys().next(), g.pending.keys().next_back())
        else {
            return Ok(Reply::Array(vec![
                Reply::Int(0),
                Reply::Null,
                Reply::Null,
                Reply::NullArray,
            ]));
        };
        let owners = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pending.is_empty())
            .map(|(name, c)| {
                Reply::Array(vec![
                    Reply::Bulk(name.clone()),
                    Reply::bulk_str(&c.pending.len().to_string()),
                ])
            })
            .collect();
        return Ok(Reply::Array(vec![
            Reply::Int(g.pending.len() as i64),
            id_reply(*first),
            id_reply(*last),
            Reply::Array(owners),
        ]));
    };
    if start > end {
        return Ok(Reply::Array(Vec::new()));
    }
    let ids: Box<dyn Iterator<Item = StreamId>> = match &consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) => Box::new(c.pending.range(start..=end).copied()),
            None => return Ok(Reply::Array(Vec::new())),
        },
        None => Box::new(g.pending.range(start..=end).map(|(id, _)| *id)),
    };
    let mut out = Vec::new();
    for id in ids {
        if out.len() >= count {
            break;
        }
        let Some(nack) = g.pending.get(&id) else {
            continue;
        };
        let idle = now.saturating_sub(nack.delivery_time) as i64;
        if min_idle > 0 && idle < min_idle {
            continue;
        }
        out.push(Reply::Array(vec![
            id_reply(id),
            Reply::Bulk(nack.consumer.clone()),
            Reply::Int(idle),
            Reply::Int(nack.delivery_count as i64),
        ]));
    }
    Ok(Reply::Array(out))
}

/// The stream at `key` and its group `group` for XCLAIM and XAUTOCLAIM, or their NOGROUP.
fn claim_target<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &Bytes,
    group: &Bytes,
) -> Result<&'c mut StreamValue, OpError> {
    match ctx.write_as::<StreamValue>(key, false)? {
        Some(s) if s.groups.contains_key(group) => Ok(s),
        _ => Err(no_key_or_group(key, group)),
    }
}

/// Drops pending entry `id` (its entry is gone) from the group.
fn forget_pending(s: &mut StreamValue, group: &Bytes, id: StreamId) {
    if let Some(g) = s.groups.get_mut(group) {
        g.ack(id);
    }
}

fn xclaim(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let (key, group, consumer) = (args[1].clone(), args[2].clone(), args[3].clone());
    let now = ctx.now;
    // Errors in order: the key and group, then min-idle-time, then the options.
    claim_target(ctx, &key, &group)?;
    let min_idle =
        int_arg_or(&args[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0) as u64;
    let mut j = 5;
    let mut ids = Vec::new();
    while j < args.len() {
        match strict_id(&args[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j][..];
        if is_opt(opt, "force") {
            force = true;
        } else if is_opt(opt, "justid") {
            justid = true;
        } else if is_opt(opt, "idle") && more > 0 {
            j += 1;
            let idle = int_arg_or(&args[j], "ERR Invalid IDLE option argument for XCLAIM")?;
            delivery = Some((now as i64).saturating_sub(idle));
        } else if is_opt(opt, "time") && more > 0 {
            j += 1;
            delivery = Some(int_arg_or(
                &args[j],
                "ERR Invalid TIME option argument for XCLAIM",
            )?);
        } else if is_opt(opt, "retrycount") && more > 0 {
            j += 1;
            retry = Some(int_arg_or(
                &args[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?);
        } else if is_opt(opt, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(&args[j])?;
        } else {
            return Err(OpError::other(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                lossy(opt)
            )));
        }
        j += 1;
    }
    let delivery_time = match delivery {
        Some(t) if t >= 0 && t as u64 <= now => t as u64,
        _ => now,
    };
    let s = claim_target(ctx, &key, &group)?;
    if let Some(g) = s.groups.get_mut(&group) {
        if last_id > g.last_id {
            g.last_id = last_id;
        }
    }
    let mut out = Vec::new();
    let mut consumer_seen = false;
    for id in ids {
        if !s.contains(id) {
            forget_pending(s, &group, id);
            continue;
        }
        let Some(g) = s.groups.get_mut(&group) else {
            break;
        };
        let existing = g
            .pending
            .get(&id)
            .map(|n| (n.delivery_time, n.delivery_count));
        let (prev_count, check_idle) = match existing {
            Some((time, count)) => (count, Some(time)),
            None if force => (1, None),
            None => continue,
        };
        if let Some(time) = check_idle {
            if min_idle > 0 && now.saturating_sub(time) < min_idle {
                continue;
            }
        }
        if !consumer_seen {
            g.touch_consumer(&consumer, now);
            consumer_seen = true;
        }
        let count = match retry {
            Some(n) if n >= 0 => n as u64,
            _ if justid => prev_count,
            _ => prev_count.saturating_add(1),
        };
        g.assign(id, &consumer, delivery_time, count);
        if let Some(c) = g.consumers.get_mut(&consumer) {
            c.active_time = now;
        }
        out.push(if justid {
            id_reply(id)
        } else {
            entry_or_null(s, id)
        });
    }
    Ok(Reply::Array(out))
}

fn xautoclaim(ctx: &mut Ctx<'_>) -> CmdResult {
    const ATTEMPTS_FACTOR: u64 = 10;
    let args = ctx.args;
    let (key, group, consumer) = (args[1].clone(), args[2].clone(), args[3].clone());
    let now = ctx.now;
    let min_idle = int_arg_or(
        &args[4],
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    )?
    .max(0) as u64;
    let start = range_start(&args[5])?;
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is_opt(&args[j], "count") && more > 0 {
            let max = (i64::MAX / 16) as u64;
            count = parse_i64(&args[j + 1])
                .filter(|&n| n >= 1 && n as u64 <= max)
                .ok_or_else(|| err("ERR COUNT must be > 0"))? as u64;
            j += 1;
        } else if is_opt(&args[j], "justid") {
            justid = true;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    let s = claim_target(ctx, &key, &group)?;
    let mut attempts = count * ATTEMPTS_FACTOR;
    // The IDs the scan can reach: one per attempt, and the next one for the cursor.
    let pending: Vec<StreamId> = s
        .groups
        .get(&group)
        .map(|g| {
            g.pending
                .range(start..)
                .map(|(id, _)| *id)
                .take(usize::try_from(attempts.saturating_add(1)).unwrap_or(usize::MAX))
                .collect()
        })
        .unwrap_or_default();
    let mut next = 0usize;
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut consumer_seen = false;
    while attempts > 0 && count > 0 && next < pending.len() {
        attempts -= 1;
        let id = pending[next];
        next += 1;
        if !s.contains(id) {
            forget_pending(s, &group, id);
            deleted.push(id_reply(id));
            count -= 1;
            continue;
        }
        let Some(g) = s.groups.get_mut(&group) else {
            break;
        };
        let Some(nack) = g.pending.get(&id) else {
            continue;
        };
        if min_idle > 0 && now.saturating_sub(nack.delivery_time) < min_idle {
            continue;
        }
        let times = nack.delivery_count.saturating_add(u64::from(!justid));
        if !consumer_seen {
            g.touch_consumer(&consumer, now);
            consumer_seen = true;
        }
        g.assign(id, &consumer, now, times);
        if let Some(c) = g.consumers.get_mut(&consumer) {
            c.active_time = now;
        }
        claimed.push(if justid {
            id_reply(id)
        } else {
            entry_or_null(s, id)
        });
        count -= 1;
    }
    let cursor = pending.get(next).copied().unwrap_or(StreamId::MIN);
    Ok(Reply::Array(vec![
        id_reply(cursor),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ]))
}

// ---- XSETID ---------------------------------------------------------------------------------

fn xsetid(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let id = strict_id(&args[2])?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is_opt(&args[i], "entriesadded") && more > 0 {
            let n = int_arg(&args[i + 1])?;
            if n < 0 {
                return Err(err("ERR entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if is_opt(&args[i], "maxdeletedid") && more > 0 {
            max_deleted = strict_id(&args[i + 1])?;
            if id < max_deleted {
                return Err(err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    let key = args[1].clone();
    let s = ctx
        .write_as::<StreamValue>(&key, false)?
        .ok_or_else(|| err(NO_SUCH_KEY))?;
    if let Some((top, _)) = s.last_entry() {
        if id < top {
            return Err(err(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added.is_some_and(|n| (s.len() as u64) > n) {
            return Err(err("ERR The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    if id < s.max_deleted_id {
        return Err(err(
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id",
        ));
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if max_deleted != StreamId::MIN {
        s.max_deleted_id = max_deleted;
    }
    ctx.notify(notify::STREAM, "xsetid", &key);
    Ok(Reply::OK)
}

// ---- XGROUP ---------------------------------------------------------------------------------

/// ENTRIESREAD's value: a count, or -1 for unknown.
fn entries_read_arg(arg: &[u8]) -> Result<Option<u64>, OpError> {
    match int_arg(arg)? {
        -1 => Ok(None),
        n if n >= 0 => Ok(Some(n as u64)),
        _ => Err(err("ERR value for ENTRIESREAD must be positive or -1")),
    }
}

const XGROUP_NEEDS_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

/// The stream of an XGROUP subcommand other than CREATE ... MKSTREAM, and its group when
/// `need_group`.
fn xgroup_stream<'c>(
    ctx: &'c mut Ctx<'_>,
    need_group: bool,
) -> Result<&'c mut StreamValue, OpError> {
    let (key, group) = (ctx.args[2].clone(), ctx.args[3].clone());
    let s = ctx
        .write_as::<StreamValue>(&key, false)?
        .ok_or_else(|| err(XGROUP_NEEDS_KEY))?;
    if need_group && !s.groups.contains_key(&group) {
        return Err(no_group_for_key(&group, &key));
    }
    Ok(s)
}

fn xgroup_create(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let mut mkstream = false;
    let mut entries_read = None;
    let mut i = 5;
    while i < args.len() {
        if is_opt(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if is_opt(&args[i], "entriesread") && i + 1 < args.len() {
            entries_read = entries_read_arg(&args[i + 1])?;
            i += 2;
        } else {
            return Err(subcommand_syntax(args));
        }
    }
    let (key, group, id_arg) = (args[2].clone(), args[3].clone(), args[4].clone());
    let exists = ctx.write_as::<StreamValue>(&key, false)?.is_some();
    if !exists && !mkstream {
        return Err(err(XGROUP_NEEDS_KEY));
    }
    if args.len() > 8 {
        return Err(subcommand_syntax(args));
    }
    let id = match &id_arg[..] {
        b"$" => ctx
            .read_as::<StreamValue>(&key)?
            .map_or(StreamId::MIN, |s| s.last_id),
        a => strict_id(a)?,
    };
    let s = ctx.create_as::<StreamValue>(&key)?;
    if s.groups.contains_key(&group) {
        return Err(err("BUSYGROUP Consumer Group name already exists"));
    }
    s.groups.insert(group, ConsumerGroup::new(id, entries_read));
    ctx.notify(notify::STREAM, "xgroup-create", &key);
    Ok(Reply::OK)
}

fn xgroup_setid(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let entries_read = match args.len() {
        5 => None,
        7 if is_opt(&args[5], "entriesread") => entries_read_arg(&args[6])?,
        _ => return Err(subcommand_syntax(args)),
    };
    let (group, id_arg) = (args[3].clone(), args[4].clone());
    let s = xgroup_stream(ctx, true)?;
    let id = match &id_arg[..] {
        b"$" => s.last_id,
        a => parse_id_generic(a, 0, false, false)?.0,
    };
    if let Some(g) = s.groups.get_mut(&group) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    let key = ctx.args[2].clone();
    ctx.notify(notify::STREAM, "xgroup-setid", &key);
    Ok(Reply::OK)
}

fn xgroup_destroy(ctx: &mut Ctx<'_>) -> CmdResult {
    let group = ctx.args[3].clone();
    let s = xgroup_stream(ctx, false)?;
    let destroyed = s.groups.remove(&group).is_some();
    if destroyed {
        let key = ctx.args[2].clone();
        ctx.notify(notify::STREAM, "xgroup-destroy", &key);
    }
    Ok(Reply::Int(destroyed as i64))
}

fn xgroup_createconsumer(ctx: &mut Ctx<'_>) -> CmdResult {
    let (group, consumer) = (ctx.args[3].clone(), ctx.args[4].clone());
    let now = ctx.now;
    let s = xgroup_stream(ctx, true)?;
    let created = s.groups.get_mut(&group).is_some_and(|g| {
        !g.consumers.contains_key(&consumer) && g.touch_consumer(&consumer, now).1
    });
    if created {
        let key = ctx.args[2].clone();
        ctx.notify(notify::STREAM, "xgroup-createconsumer", &key);
    }
    Ok(Reply::Int(created as i64))
}

fn xgroup_delconsumer(ctx: &mut Ctx<'_>) -> CmdResult {
    let (group, consumer) = (ctx.args[3].clone(), ctx.args[4].clone());
    let s = xgroup_stream(ctx, true)?;
    let pending = s
        .groups
        .get_mut(&group)
        .and_then(|g| g.delete_consumer(&consumer));
    if pending.is_some() {
        let key = ctx.args[2].clone();
        ctx.notify(notify::STREAM, "xgroup-delconsumer", &key);
    }
    Ok(Reply::Int(pending.unwrap_or(0) as i64))
}

fn xgroup_help(_: &mut super::ConnCtx<'_>) -> Result<crate::shard::Step, OpError> {
    Ok(crate::shard::Step::Reply(help_reply(
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    )))
}

// ---- XINFO ----------------------------------------------------------------------------------

fn xinfo_help(_: &mut super::ConnCtx<'_>) -> Result<crate::shard::Step, OpError> {
    Ok(crate::shard::Step::Reply(help_reply(
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    )))
}

/// The stream of an XINFO subcommand, or `no such key`.
fn info_stream<'c>(ctx: &'c mut Ctx<'_>) -> Result<&'c StreamValue, OpError> {
    let key = ctx.args[2].clone();
    ctx.read_as::<StreamValue>(&key)?
        .ok_or_else(|| err(NO_SUCH_KEY))
}

fn xinfo_stream(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = ctx.args;
    let s = info_stream(ctx)?;
    let extra = &args[3..];
    let full = match extra {
        [] => None,
        [f] if is_opt(f, "full") => Some(10),
        [f, c, n] if is_opt(f, "full") && is_opt(c, "count") => {
            let n = int_arg(n)?;
            Some(if n < 0 { 10 } else { n as usize })
        }
        _ => return Err(subcommand_syntax(args)),
    };
    let mut map = vec![
        (field_name("length"), Reply::Int(s.len() as i64)),
        (
            field_name("radix-tree-keys"),
            Reply::Int(s.nodes().len() as i64),
        ),
        (
            field_name("radix-tree-nodes"),
            Reply::Int(s.rax_nodes() as i64),
        ),
        (field_name("last-generated-id"), id_reply(s.last_id)),
        (
            field_name("max-deleted-entry-id"),
            id_reply(s.max_deleted_id),
        ),
        (
            field_name("entries-added"),
            Reply::Int(s.entries_added as i64),
        ),
        (field_name("recorded-first-entry-id"), id_reply(s.first_id)),
    ];
    let Some(count) = full else {
        let edge =
            |e: Option<(StreamId, &[Bytes])>| e.map_or(Reply::Null, |(id, f)| entry_reply(id, f));
        map.push((field_name("groups"), Reply::Int(s.groups.len() as i64)));
        map.push((field_name("first-entry"), edge(s.first_entry())));
        map.push((field_name("last-entry"), edge(s.last_entry())));
        return Ok(Reply::Map(map));
    };
    let limit = if count == 0 { usize::MAX } else { count };
    map.push((
        field_name("entries"),
        entries_reply(s.range(StreamId::MIN, StreamId::MAX, false).take(limit)),
    ));
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pending = g
                .pending
                .iter()
                .take(limit)
                .map(|(id, n)| {
                    Reply::Array(vec![
                        id_reply(*id),
                        Reply::Bulk(n.consumer.clone()),
                        Reply::Int(n.delivery_time as i64),
                        Reply::Int(n.delivery_count as i64),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let pel = c
                        .pending
                        .iter()
                        .take(limit)
                        .filter_map(|id| {
                            let n = g.pending.get(id)?;
                            Some(Reply::Array(vec![
                                id_reply(*id),
                                Reply::Int(n.delivery_time as i64),
                                Reply::Int(n.delivery_count as i64),
                            ]))
                        })
                        .collect();
                    Reply::Map(vec![
                        (field_name("name"), Reply::Bulk(cname.clone())),
                        (field_name("seen-time"), Reply::Int(c.seen_time as i64)),
                        (field_name("pel-count"), Reply::Int(c.pending.len() as i64)),
                        (field_name("pending"), Reply::Array(pel)),
                    ])
                })
                .collect();
            Reply::Map(vec![
                (field_name("name"), Reply::Bulk(name.clone())),
                (field_name("last-delivered-id"), id_reply(g.last_id)),
                (field_name("entries-read"), opt_int(g.entries_read)),
                (field_name("lag"), opt_int(s.lag(g))),
                (field_name("pel-count"), Reply::Int(g.pending.len() as i64)),
                (field_name("pending"), Reply::Array(pending)),
                (field_name("consumers"), Reply::Array(consumers)),
            ])
        })
        .collect();
    map.push((field_name("groups"), Reply::Array(groups)));
    Ok(Reply::Map(map))
}

fn xinfo_groups(ctx: &mut Ctx<'_>) -> CmdResult {
    let s = info_stream(ctx)?;
    Ok(Reply::Array(
        s.groups
            .iter()
            .map(|(name, g)| {
                Reply::Map(vec![
                    (field_name("name"), Reply::Bulk(name.clone())),
                    (
                        field_name("consumers"),
                        Reply::Int(g.consumers.len() as i64),
                    ),
                    (field_name("pending"), Reply::Int(g.pending.len() as i64)),
                    (field_name("last-delivered-id"), id_reply(g.last_id)),
                    (field_name("entries-read"), opt_int(g.entries_read)),
                    (field_name("lag"), opt_int(s.lag(g))),
                ])
            })
            .collect(),
    ))
}

fn xinfo_consumers(ctx: &mut Ctx<'_>) -> CmdResult {
    let (key, group) = (ctx.args[2].clone(), ctx.args[3].clone());
    let now = ctx.now;
    let s = info_stream(ctx)?;
    let g = s
        .groups
        .get(&group)
        .ok_or_else(|| no_group_for_key(&group, &key))?;
    Ok(Reply::Array(
        g.consumers
            .iter()
            .map(|(name, c)| {
                Reply::Map(vec![
                    (field_name("name"), Reply::Bulk(name.clone())),
                    (field_name("pending"), Reply::Int(c.pending.len() as i64)),
                    (
                        field_name("idle"),
                        Reply::Int(now.saturating_sub(c.seen_time) as i64),
                    ),
                ])
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{Keyspace, Value};
    use proptest::prelude::*;

    const TOKENS: &[&str] = &[
        "s",
        "t",
        "g",
        "g2",
        "c",
        "c2",
        "f",
        "v",
        "0",
        "1",
        "-1",
        "2",
        "100",
        "1-0",
        "2-1",
        "3-0",
        "$",
        ">",
        "*",
        "+",
        "-",
        "(1-0",
        "(+",
        "5-*",
        "x",
        "",
        "18446744073709551615-18446744073709551615",
        "18446744073709551615-*",
        "(18446744073709551615-18446744073709551615",
        "9223372036854775807",
        "MAXLEN",
        "MINID",
        "~",
        "=",
        "LIMIT",
        "NOMKSTREAM",
        "COUNT",
        "BLOCK",
        "STREAMS",
        "GROUP",
        "NOACK",
        "IDLE",
        "TIME",
        "RETRYCOUNT",
        "FORCE",
        "JUSTID",
        "LASTID",
        "MKSTREAM",
        "ENTRIESREAD",
        "ENTRIESADDED",
        "MAXDELETEDID",
        "FULL",
    ];

    /// Commands that build state for the random ones to work on.
    const SEEDS: &[&str] = &[
        "xadd s 1-0 f v",
        "xadd s 2-* f v x y",
        "xadd s * f v",
        "xadd t 7-0 f v",
        "xgroup create s g 0 MKSTREAM",
        "xgroup create t g2 $ MKSTREAM",
        "xreadgroup GROUP g c COUNT 2 STREAMS s >",
        "xreadgroup GROUP g c2 STREAMS s >",
        "xclaim s g c2 0 1-0 2-1 FORCE",
        "xdel s 1-0",
    ];

    type Handler = fn(&mut Ctx<'_>) -> CmdResult;

    /// Every key-running stream command with its handler, subcommands included.
    fn handlers() -> Vec<(&'static CommandSpec, Handler)> {
        COMMANDS
            .iter()
            .flat_map(|c| std::iter::once(c).chain(c.subcommands))
            .filter_map(|c| match c.run {
                Run::Keys(h) => Some((c, h)),
                _ => None,
            })
            .collect()
    }

    fn run(ks: &mut Keyspace, now: u64, args: &[Bytes]) {
        let name = std::str::from_utf8(&args[0]).unwrap_or_default();
        let sub = args.get(1).and_then(|a| std::str::from_utf8(a).ok());
        let found = handlers().into_iter().find(|(spec, _)| {
            spec.name == name || sub.is_some_and(|sub| spec.name == format!("{name}|{sub}"))
        });
        let Some((spec, handler)) = found else {
            return;
        };
        if !spec.arity_ok(args.len()) {
            return;
        }
        let mut ctx = Ctx {
            ks,
            db: 0,
            args,
            now,
            max_string: 512 << 20,
        };
        let _ = handler(&mut ctx);
        for key in [&b"s"[..], b"t"] {
            if let Some(Value::Stream(s)) = ks.db(0).peek(key, now).map(|e| &e.value) {
                s.assert_consistent();
            }
        }
    }

    fn line(l: &str) -> Vec<Bytes> {
        l.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    /// The seeds do build groups with pending entries (else the random test tests little).
    #[test]
    fn seeds_build_groups_with_pending_entries() {
        let mut ks = Keyspace::new(1);
        for (i, l) in SEEDS.iter().enumerate() {
            run(&mut ks, 1_000 + i as u64, &line(l));
        }
        let Some(Value::Stream(s)) = ks.db(0).peek(b"s", 2_000).map(|e| &e.value) else {
            panic!("no stream s");
        };
        assert_eq!(s.len(), 2);
        let g = &s.groups[&Bytes::from("g")];
        // 1-0 (deleted since) and 1002-0 claimed by c2, 2-0 still with c.
        assert_eq!(g.pending.len(), 3);
        assert_eq!(g.consumers[&Bytes::from("c2")].pending.len(), 2);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any arguments, after any history: an error or a reply, never a panic, and the
        /// stream's invariants hold after every command.
        #[test]
        fn random_arguments_never_break_a_stream(
            script in proptest::collection::vec(
                prop_oneof![
                    (0..SEEDS.len()).prop_map(|i| line(SEEDS[i])),
                    (0usize..20, proptest::collection::vec(0..TOKENS.len(), 0..10)).prop_map(|(c, toks)| {
                        let cmds = handlers();
                        let (spec, _) = cmds[c % cmds.len()];
                        let mut args: Vec<Bytes> = spec.name.split('|').map(|p| Bytes::copy_from_slice(p.as_bytes())).collect();
                        args.extend(toks.into_iter().map(|t| Bytes::from_static(TOKENS[t].as_bytes())));
                        args
                    }),
                ],
                1..40,
            )
        ) {
            let mut ks = Keyspace::new(1);
            for (i, args) in script.iter().enumerate() {
                run(&mut ks, 1_000 + i as u64, args);
            }
        }
    }
}
