//! The command table (DESIGN rule 6) and the types command families are written against.
//!
//! Every command is one [`CommandSpec`]: name, arity, flags, key positions, ACL categories (derived
//! from flags and group, as Redis derives them) and documentation. Routing, `COMMAND` and its
//! subcommands, arity and auth checks all read the table; nothing re-derives a command's keys by
//! name. Families live one per file, each with its table entries beside its handlers:
//! - [`Run::Keys`] handlers run on the shard that owns the command's keys, against that shard's
//!   keyspace; when the keys span shards the runtime runs the same handler atomically over copies
//!   of the entries and writes the result back (see `shard::txn`).
//! - [`Run::Conn`] handlers run on the connection's shard with the connection's state and may fan
//!   out to every shard.

pub mod bitmaps;
pub mod connection;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod introspection;
pub mod keys;
pub mod lists;
pub mod pubsub;
pub mod server;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod transactions;
pub mod zsets;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use bytes::Bytes;

use crate::keyspace::{notify, Collection, Db, Keyspace};
use crate::resp::{parse_i64, Reply};
use crate::shard::{ClientState, ShardEnv, Step};

/// Command flags, with Redis's names (as `COMMAND INFO` prints them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags(u32);

impl Flags {
    pub const NONE: Flags = Flags(0);
    pub const WRITE: Flags = Flags(1);
    pub const READONLY: Flags = Flags(1 << 1);
    pub const DENYOOM: Flags = Flags(1 << 2);
    pub const ADMIN: Flags = Flags(1 << 3);
    pub const NOSCRIPT: Flags = Flags(1 << 4);
    pub const LOADING: Flags = Flags(1 << 5);
    pub const STALE: Flags = Flags(1 << 6);
    pub const FAST: Flags = Flags(1 << 7);
    pub const NO_AUTH: Flags = Flags(1 << 8);
    pub const ALLOW_BUSY: Flags = Flags(1 << 9);
    pub const NO_MULTI: Flags = Flags(1 << 10);
    pub const SENTINEL: Flags = Flags(1 << 11);
    /// Not a Redis flag: an ACL category that Redis sets by hand on a few commands.
    pub const DANGEROUS: Flags = Flags(1 << 12);
    /// May wait for a key to get data (BLPOP, BZPOPMIN, XREAD BLOCK ...): see [`WouldBlock`].
    pub const BLOCKING: Flags = Flags(1 << 13);
    pub const PUBSUB: Flags = Flags(1 << 14);

    // In the order Redis's COMMAND INFO lists them.
    const NAMES: [(Flags, &'static str); 14] = [
        (Flags::WRITE, "write"),
        (Flags::READONLY, "readonly"),
        (Flags::DENYOOM, "denyoom"),
        (Flags::ADMIN, "admin"),
        (Flags::PUBSUB, "pubsub"),
        (Flags::NOSCRIPT, "noscript"),
        (Flags::BLOCKING, "blocking"),
        (Flags::LOADING, "loading"),
        (Flags::STALE, "stale"),
        (Flags::FAST, "fast"),
        (Flags::NO_AUTH, "no_auth"),
        (Flags::ALLOW_BUSY, "allow_busy"),
        (Flags::NO_MULTI, "no_multi"),
        (Flags::SENTINEL, "sentinel"),
    ];

    pub const fn or(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    pub const fn has(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Flags::NAMES
            .into_iter()
            .filter(move |(f, _)| self.has(*f))
            .map(|(_, n)| n)
    }
}

/// Shorthand for building flag sets in the tables.
#[macro_export]
macro_rules! flags {
    ($($f:ident)|*) => { $crate::command::Flags::NONE$(.or($crate::command::Flags::$f))* };
}

/// Where a command's keys are: Redis's legacy (first, last, step) triple. `last` counts from the
/// end when negative (-1: the last argument). `first == 0` means no keys. For a command whose
/// keys the triple cannot describe (`ZUNION numkeys key [key ...]`), the triple covers every
/// argument that may be a key (a superset, safe for routing and locking) and the command's
/// [`KeyRange`]s (Valkey's key specs, [`CommandSpec::key_specs`]) give the exact keys.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

/// Valkey's `begin_search`: where a run of keys starts looking.
#[derive(Clone, Copy, Debug)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(usize),
    /// After the first argument equal to `keyword` (case-insensitively), searching from
    /// `startfrom` forwards, or backwards from the end when negative.
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
}

/// Valkey's `find_keys`: which arguments from the start found by [`BeginSearch`] are keys.
#[derive(Clone, Copy, Debug)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative to the start; negative counts from the end) every
    /// `keystep`; with a negative `lastkey`, `limit` > 1 keeps only 1/limit of what remains.
    Range {
        lastkey: i32,
        keystep: usize,
        limit: usize,
    },
    /// The argument at `keynumidx` (relative to the start) says how many keys follow, from
    /// `firstkey` (relative to the start) every `keystep`.
    Keynum {
        keynumidx: usize,
        firstkey: usize,
        keystep: usize,
    },
}

/// One key spec: a start and a rule for the keys from there.
#[derive(Clone, Copy, Debug)]
pub struct KeyRange {
    pub begin: BeginSearch,
    pub find: FindKeys,
}

impl FindKeys {
    /// Just the key where the search began.
    pub const ONE: FindKeys = FindKeys::Range {
        lastkey: 0,
        keystep: 1,
        limit: 0,
    };
}

impl KeyRange {
    /// The destination-then-`numkeys key [key ...]` layout of ZUNIONSTORE and friends.
    pub const DEST_THEN_NUMKEYS: &'static [KeyRange] = &[
        KeyRange {
            begin: BeginSearch::Index(1),
            find: FindKeys::ONE,
        },
        KeyRange {
            begin: BeginSearch::Index(2),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
        },
    ];
    /// The `numkeys key [key ...]` layout of ZUNION, ZMPOP, ZINTERCARD and friends.
    pub const NUMKEYS: &'static [KeyRange] = &[KeyRange {
        begin: BeginSearch::Index(1),
        find: FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            keystep: 1,
        },
    }];

    /// Appends the key positions this spec finds in `args` (never past the end).
    fn find_in(&self, args: &[Bytes], out: &mut Vec<usize>) {
        let argc = args.len();
        let begin = match self.begin {
            BeginSearch::Index(i) => i,
            BeginSearch::Keyword { keyword, startfrom } => {
                let found = if startfrom >= 0 {
                    (startfrom as usize..argc).find(|&i| is_opt(&args[i], keyword))
                } else {
                    let from = (argc as i64 + startfrom as i64).max(0) as usize;
                    (1..=from.min(argc.saturating_sub(1)))
                        .rev()
                        .find(|&i| is_opt(&args[i], keyword))
                };
                match found {
                    Some(i) => i + 1,
                    None => return,
                }
            }
        };
        if begin == 0 || begin >= argc {
            return;
        }
        match self.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    (begin + lastkey as usize).min(argc - 1)
                } else {
                    let last = (argc as i64 + lastkey as i64).max(begin as i64) as usize;
                    if limit > 1 {
                        begin + (last + 1 - begin) / limit - 1
                    } else {
                        last
                    }
                };
                out.extend((begin..=last).step_by(keystep.max(1)));
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let n = args
                    .get(begin + keynumidx)
                    .and_then(|a| parse_i64(a))
                    .filter(|&n| n > 0)
                    .unwrap_or(0) as usize;
                let first = begin + firstkey;
                out.extend(
                    (0..n)
                        .map(|j| first + j * keystep.max(1))
                        .take_while(|&i| i < argc),
                );
            }
        }
    }
}

impl KeySpec {
    pub const NONE: KeySpec = KeySpec {
        first: 0,
        last: 0,
        step: 0,
    };
    pub const ONE: KeySpec = KeySpec {
        first: 1,
        last: 1,
        step: 1,
    };
    pub const TWO: KeySpec = KeySpec {
        first: 1,
        last: 2,
        step: 1,
    };
    pub const ALL: KeySpec = KeySpec {
        first: 1,
        last: -1,
        step: 1,
    };
    pub const PAIRS: KeySpec = KeySpec {
        first: 1,
        last: -1,
        step: 2,
    };

    /// Argument indexes of the keys in `args` (`args[0]` is the command name).
    pub fn positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let (first, step) = (self.first.max(0) as usize, self.step.max(1) as usize);
        let last = if self.last < 0 {
            argc as i64 + self.last as i64
        } else {
            (self.last as i64).min(argc as i64 - 1)
        };
        let end = if first == 0 {
            0
        } else {
            (last + 1).max(0) as usize
        };
        (first..end.max(first)).step_by(step)
    }
}

/// Documentation group; also gives the ACL category of the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    Hash,
    List,
    Set,
    SortedSet,
    Transactions,
    Connection,
    Server,
    Geo,
    Bitmap,
    HyperLogLog,
    PubSub,
    Stream,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::Hash => "hash",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Transactions => "transactions",
            Group::List => "list",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Geo => "geo",
            Group::Bitmap => "bitmap",
            Group::HyperLogLog => "hyperloglog",
            Group::PubSub => "pubsub",
            Group::Stream => "stream",
        }
    }

    fn acl_category(self) -> Option<&'static str> {
        match self {
            Group::Generic => Some("@keyspace"),
            Group::String => Some("@string"),
            Group::Hash => Some("@hash"),
            Group::Set => Some("@set"),
            Group::SortedSet => Some("@sortedset"),
            Group::Transactions => Some("@transaction"),
            Group::List => Some("@list"),
            Group::Connection => Some("@connection"),
            Group::Server => None,
            Group::Geo => Some("@geo"),
            Group::Bitmap => Some("@bitmap"),
            Group::HyperLogLog => Some("@hyperloglog"),
            Group::PubSub => Some("@pubsub"),
            Group::Stream => Some("@stream"),
        }
    }
}

/// How a command runs.
pub enum Run {
    /// On the shard owning its keys, against that shard's keyspace.
    Keys(fn(&mut Ctx<'_>) -> CmdResult),
    /// On the connection's shard, with the connection's state; may fan out to every shard.
    Conn(fn(&mut ConnCtx<'_>) -> Result<Step, OpError>),
    /// A container: the second argument names a subcommand.
    Parent,
}

pub struct CommandSpec {
    /// Lower case, as `COMMAND INFO` reports it; `parent|sub` for subcommands.
    pub name: &'static str,
    pub arity: i32,
    pub flags: Flags,
    pub keys: KeySpec,
    pub group: Group,
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    /// Argument syntax after the command name, in Redis's documentation notation.
    pub syntax: &'static str,
    pub run: Run,
    pub subcommands: &'static [CommandSpec],
    /// For a command whose last key may live in another database than the selected one (COPY
    /// ... DB n): finds that database in the arguments.
    pub dest_db: Option<FindDb>,
    /// Valkey-style key specs, for commands whose keys `keys` can only over-approximate; empty
    /// when `keys` is exact.
    pub key_specs: &'static [KeyRange],
}

/// Finds, in a command's arguments, the database its last key lives in.
pub type FindDb = fn(&[Bytes]) -> Option<usize>;

/// Starts a table entry; `.doc(..)` and `.subs(..)` complete it.
pub const fn spec(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: KeySpec,
    group: Group,
    run: Run,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        keys,
        group,
        summary: "",
        since: "",
        complexity: "",
        syntax: "",
        run,
        subcommands: &[],
        dest_db: None,
        key_specs: &[],
    }
}

impl CommandSpec {
    /// Documentation for `COMMAND DOCS`: summary, first version, complexity, argument syntax.
    pub const fn doc(
        mut self,
        summary: &'static str,
        since: &'static str,
        complexity: &'static str,
        syntax: &'static str,
    ) -> CommandSpec {
        self.summary = summary;
        self.since = since;
        self.complexity = complexity;
        self.syntax = syntax;
        self
    }

    pub const fn dest_db(mut self, find: FindDb) -> CommandSpec {
        self.dest_db = Some(find);
        self
    }

    /// Exact key positions as key specs (`keys` is then the superset routing uses).
    pub const fn key_specs(mut self, specs: &'static [KeyRange]) -> CommandSpec {
        self.key_specs = specs;
        self
    }

    pub const fn subs(mut self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subcommands;
        self
    }

    /// ACL categories, derived from flags and group the way Redis's `setCommandACLCategories` does.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut cats = Vec::new();
        if self.flags.has(Flags::WRITE) {
            cats.push("@write");
        }
        if self.flags.has(Flags::READONLY) && self.group != Group::Connection {
            cats.push("@read");
        }
        cats.extend(self.group.acl_category());
        if self.flags.has(Flags::ADMIN) {
            cats.extend(["@admin", "@dangerous"]);
        } else if self.flags.has(Flags::DANGEROUS) {
            cats.push("@dangerous");
        }
        if self.flags.has(Flags::BLOCKING) {
            cats.push("@blocking");
        }
        cats.push(if self.flags.has(Flags::FAST) {
            "@fast"
        } else {
            "@slow"
        });
        cats
    }

    pub fn has_keys(&self) -> bool {
        self.keys.first > 0
    }

    /// The exact argument indexes of the keys in `args` (`args[0]` is the command name): from
    /// the key specs when the command has them, else from the legacy triple.
    pub fn key_positions(&self, args: &[Bytes]) -> Vec<usize> {
        if self.key_specs.is_empty() {
            return self.keys.positions(args.len()).collect();
        }
        let mut out = Vec::new();
        for r in self.key_specs {
            r.find_in(args, &mut out);
        }
        out
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }

    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        let sub = std::str::from_utf8(name).ok()?;
        self.subcommands.iter().find(|s| {
            s.name
                .split('|')
                .nth(1)
                .is_some_and(|n| n.eq_ignore_ascii_case(sub))
        })
    }
}

/// All families' tables, in one place.
pub fn families() -> impl Iterator<Item = &'static CommandSpec> {
    [
        connection::COMMANDS,
        server::COMMANDS,
        keys::COMMANDS,
        strings::COMMANDS,
        hashes::COMMANDS,
        sets::COMMANDS,
        zsets::COMMANDS,
        geo::COMMANDS,
        bitmaps::COMMANDS,
        hyperloglog::COMMANDS,
        lists::COMMANDS,
        pubsub::COMMANDS,
        streams::COMMANDS,
        sort::COMMANDS,
        transactions::COMMANDS,
        introspection::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

static TABLE: LazyLock<HashMap<&'static [u8], &'static CommandSpec, ahash::RandomState>> =
    LazyLock::new(|| families().map(|c| (c.name.as_bytes(), c)).collect());

/// Looks a command up by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut lower = [0u8; 32];
    let lower = lower.get_mut(..name.len())?;
    for (d, s) in lower.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    TABLE.get(&lower[..]).copied()
}

/// How many top-level commands the table holds.
pub fn command_count() -> usize {
    TABLE.len()
}

/// A failure a command reports to its client; the text lives here, once (STYLE 11).
#[derive(Debug, Clone, PartialEq)]
pub enum OpError {
    WrongType,
    NotInteger,
    NotFloat,
    Syntax,
    Overflow,
    NoSuchKey,
    /// `invalid expire time in '<command>' command`.
    InvalidExpire(&'static str),
    DbIndexOutOfRange,
    SameObject,
    /// Any other message, code included.
    Other(Cow<'static, str>),
    /// A blocking command found nothing to serve: the runtime parks it on its keys (or, where it
    /// may not wait, as inside MULTI, replies what a timeout replies).
    Blocked(Box<WouldBlock>),
}

/// How a blocking command waits when nothing is ready.
#[derive(Debug, Clone, PartialEq)]
pub struct WouldBlock {
    /// How long to wait, in milliseconds; 0 waits for ever.
    pub timeout_ms: u64,
    /// The reply when the time is up: a null array for every blocking command, as in Redis.
    pub on_timeout: Reply,
    /// The reply where waiting is not allowed (inside MULTI): the command's own "nothing".
    pub cannot_wait: Reply,
    /// Arguments to retry with instead of the original ones (XREAD's `$` becomes the last ID
    /// seen when it blocked).
    pub retry_args: Option<Vec<Bytes>>,
}

impl WouldBlock {
    /// Wait up to `timeout_ms`; replies `cannot_wait` where it may not wait.
    pub fn err(timeout_ms: u64, cannot_wait: Reply) -> OpError {
        OpError::Blocked(Box::new(WouldBlock {
            timeout_ms,
            on_timeout: Reply::NullArray,
            cannot_wait,
            retry_args: None,
        }))
    }
}

/// Redis's `timeout is out of range` bound: a deadline must fit in a signed 64-bit count of ms.
const MAX_TIMEOUT_MS: f64 = (i64::MAX / 2) as f64;

/// A blocking command's timeout in seconds (BLPOP, BZPOPMIN ...), as milliseconds; 0 is for
/// ever. Redis's checks and texts.
pub fn timeout_secs_arg(arg: &[u8]) -> Result<u64, OpError> {
    let secs =
        float_arg(arg).map_err(|_| OpError::other("ERR timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).trunc();
    // Redis converts to a 64-bit integer, and what does not fit comes out negative.
    if ms.is_nan() || ms.abs() >= 9.2e18 {
        return Err(OpError::other("ERR timeout is negative"));
    }
    timeout_ms(ms)
}

fn timeout_ms(ms: f64) -> Result<u64, OpError> {
    if ms < 0.0 {
        return Err(OpError::other("ERR timeout is negative"));
    }
    if ms > MAX_TIMEOUT_MS {
        return Err(OpError::other("ERR timeout is out of range"));
    }
    Ok(ms as u64)
}

impl OpError {
    pub fn other(msg: impl Into<Cow<'static, str>>) -> OpError {
        OpError::Other(msg.into())
    }
}

impl From<OpError> for Reply {
    fn from(e: OpError) -> Reply {
        Reply::error(match e {
            OpError::WrongType => {
                Cow::Borrowed("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            OpError::NotInteger => Cow::Borrowed("ERR value is not an integer or out of range"),
            OpError::NotFloat => Cow::Borrowed("ERR value is not a valid float"),
            OpError::Syntax => Cow::Borrowed("ERR syntax error"),
            OpError::Overflow => Cow::Borrowed("ERR increment or decrement would overflow"),
            OpError::NoSuchKey => Cow::Borrowed("ERR no such key"),
            OpError::InvalidExpire(cmd) => {
                Cow::Owned(format!("ERR invalid expire time in '{cmd}' command"))
            }
            OpError::DbIndexOutOfRange => Cow::Borrowed("ERR DB index is out of range"),
            OpError::SameObject => Cow::Borrowed("ERR source and destination objects are the same"),
            OpError::Other(msg) => msg,
            OpError::Blocked(b) => return b.cannot_wait,
        })
    }
}

pub type CmdResult = Result<Reply, OpError>;

/// What a [`Run::Keys`] handler sees: the keyspace holding its keys, the selected database, its
/// arguments and the current time.
pub struct Ctx<'a> {
    pub ks: &'a mut Keyspace,
    pub db: usize,
    pub args: &'a [Bytes],
    /// Milliseconds since the Unix epoch, fixed for the whole command.
    pub now: u64,
    /// `proto-max-bulk-len`: the largest string a command may build.
    pub max_string: u64,
}

impl Ctx<'_> {
    pub fn db(&mut self) -> &mut Db {
        self.ks.db(self.db)
    }

    /// The collection of type `T` at `key` for a read command (counted as a hit or miss): None
    /// when missing, WRONGTYPE when the key holds another type.
    pub fn read_as<T: Collection>(&mut self, key: &[u8]) -> Result<Option<&T>, OpError> {
        match self.read(key) {
            None => Ok(None),
            Some(e) => T::of(&e.value).map(Some).ok_or(OpError::WrongType),
        }
    }

    /// The collection at `key` for a write: None when missing, unless `create` stores an empty
    /// one first; WRONGTYPE when the key holds another type.
    pub fn write_as<T: Collection>(
        &mut self,
        key: &[u8],
        create: bool,
    ) -> Result<Option<&mut T>, OpError> {
        let now = self.now;
        let db = self.ks.db(self.db);
        match db.get(key, now).map(|e| T::of(&e.value).is_some()) {
            Some(false) => return Err(OpError::WrongType),
            None if create => db.set(key, T::default().into_value(), now),
            None => return Ok(None),
            Some(true) => {}
        }
        Ok(db.get(key, now).and_then(|e| T::of_mut(&mut e.value)))
    }

    /// The collection at `key` for a write that adds to it, created empty when missing.
    pub fn create_as<T: Collection>(&mut self, key: &[u8]) -> Result<&mut T, OpError> {
        self.write_as(key, true)?.ok_or(OpError::WrongType)
    }

    /// Removes `key` once its collection is empty, as Redis does (a `del` event).
    pub fn drop_if_empty<T: Collection>(&mut self, key: &[u8]) {
        let now = self.now;
        let db = self.ks.db(self.db);
        if db
            .peek(key, now)
            .and_then(|e| T::of(&e.value))
            .is_some_and(|c| c.is_empty())
        {
            db.remove(key);
            self.notify(notify::GENERIC, "del", key);
        }
    }

    /// A keyspace event of this command on `key` (see `keyspace::notify`).
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        self.ks.notify(class, event, self.db, key);
    }

    /// A lookup by a read command: counts a keyspace hit or miss.
    pub fn read(&mut self, key: &[u8]) -> Option<&mut crate::keyspace::Entry> {
        self.ks.read(self.db, key, self.now)
    }

    pub fn arg(&self, i: usize) -> &[u8] {
        self.args.get(i).map_or(&[], |a| &a[..])
    }
}

/// What a [`Run::Conn`] handler sees.
pub struct ConnCtx<'a> {
    pub args: &'a [Bytes],
    pub client: &'a mut ClientState,
    pub env: &'a ShardEnv,
    /// The connection's slot on its shard (pub/sub subscribers are registered by it).
    pub token: usize,
    /// The shard's pub/sub registry.
    pub pubsub: &'a mut crate::shard::pubsub::PubSub,
}

/// The arguments of HSCAN and SSCAN (`key cursor [MATCH pattern] [COUNT count]`): checks the
/// cursor and COUNT as Redis does and returns the MATCH pattern. These commands return the whole
/// collection in one call, so the cursor's value does not matter beyond being valid.
pub fn collection_scan_args(args: &[Bytes]) -> Result<Option<Bytes>, OpError> {
    std::str::from_utf8(&args[2])
        .ok()
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or_else(|| OpError::other("ERR invalid cursor"))?;
    let mut pattern = None;
    let mut i = 3;
    while i < args.len() {
        let value = args.get(i + 1).ok_or(OpError::Syntax)?;
        if is_opt(&args[i], "match") {
            pattern = Some(value.clone());
        } else if is_opt(&args[i], "count") {
            if int_arg(value)? < 1 {
                return Err(OpError::Syntax);
            }
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    Ok(pattern)
}

/// Parses an integer argument as Redis does (`ERR value is not an integer or out of range`).
pub fn int_arg(arg: &[u8]) -> Result<i64, OpError> {
    parse_i64(arg).ok_or(OpError::NotInteger)
}

/// Parses a float argument as Redis's `getLongDoubleFromObject` does for INCRBYFLOAT and friends.
pub fn float_arg(arg: &[u8]) -> Result<f64, OpError> {
    let s = std::str::from_utf8(arg).map_err(|_| OpError::NotFloat)?;
    if s.is_empty()
        || s.starts_with(|c: char| c.is_whitespace())
        || s.ends_with(|c: char| c.is_whitespace())
    {
        return Err(OpError::NotFloat);
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => s.parse().map_err(|_| OpError::NotFloat)?,
    };
    if v.is_nan() {
        return Err(OpError::NotFloat);
    }
    Ok(v)
}

/// Case-insensitive comparison of an argument with an option name.
pub fn is_opt(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// The reply of a `<CMD> HELP` subcommand, in Redis's layout.
pub fn help_reply(command: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Reply::Status(Cow::Owned(format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )))];
    out.extend(
        lines
            .iter()
            .map(|l| Reply::Status(Cow::Owned((*l).to_string()))),
    );
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Prints this help."));
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_consistent() {
        for spec in families() {
            assert_eq!(spec.name, spec.name.to_ascii_lowercase(), "{}", spec.name);
            assert!(spec.name.len() <= 32);
            assert!(
                spec.flags.has(Flags::WRITE) as u8 + spec.flags.has(Flags::READONLY) as u8 <= 1
            );
            if let Run::Keys(_) = spec.run {
                assert!(
                    spec.has_keys(),
                    "{} runs on keys but has no key spec",
                    spec.name
                );
            }
            if let Run::Parent = spec.run {
                assert!(!spec.subcommands.is_empty(), "{}", spec.name);
            }
            for sub in spec.subcommands {
                assert!(
                    sub.name.starts_with(&format!("{}|", spec.name)),
                    "{}",
                    sub.name
                );
            }
        }
        assert!(lookup(b"GeT").is_some());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn key_positions_follow_the_spec() {
        let pos = |k: KeySpec, argc| k.positions(argc).collect::<Vec<_>>();
        assert_eq!(pos(KeySpec::ONE, 2), vec![1]);
        assert_eq!(pos(KeySpec::ALL, 4), vec![1, 2, 3]);
        assert_eq!(pos(KeySpec::PAIRS, 5), vec![1, 3]);
        assert_eq!(pos(KeySpec::NONE, 3), Vec::<usize>::new());
        assert_eq!(pos(KeySpec::TWO, 3), vec![1, 2]);
    }

    #[test]
    fn key_specs_find_numkeys_keys() {
        let keys = |line: &str| {
            let args: Vec<Bytes> = line
                .split(' ')
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect();
            let spec = lookup(&args[0]).expect("in the table");
            let superset: Vec<usize> = spec.keys.positions(args.len()).collect();
            let exact = spec.key_positions(&args);
            assert!(exact.iter().all(|i| superset.contains(i)), "{line}");
            exact
        };
        assert_eq!(keys("zunionstore d 2 a b WEIGHTS 1 2"), vec![1, 3, 4]);
        assert_eq!(keys("zunion 2 a b WITHSCORES"), vec![2, 3]);
        assert_eq!(keys("zmpop 1 a MIN COUNT 2"), vec![2]);
        // A numkeys past the end or not a number finds no more than there is.
        assert_eq!(keys("zinter 9 a b"), vec![2, 3]);
        assert_eq!(keys("zinter x a"), Vec::<usize>::new());
        assert_eq!(keys("xread COUNT 2 STREAMS s1 s2 0 0"), vec![4, 5]);
        assert_eq!(keys("xread BLOCK 0 STREAMS s $"), vec![4]);
        assert_eq!(keys("xreadgroup GROUP g c STREAMS s >"), vec![5]);
        // A group named like the keyword does not fool the search.
        assert_eq!(
            keys("xreadgroup GROUP streams c STREAMS a b > >"),
            vec![5, 6]
        );
        assert_eq!(keys("xread STREAMS s"), Vec::<usize>::new());
        let kw = KeyRange {
            begin: BeginSearch::Keyword {
                keyword: "STREAMS",
                startfrom: 1,
            },
            find: FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 2,
            },
        };
        let args: Vec<Bytes> = "xread COUNT 2 STREAMS s1 s2 0 0"
            .split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let mut out = Vec::new();
        kw.find_in(&args, &mut out);
        assert_eq!(out, vec![4, 5]);
    }
}
