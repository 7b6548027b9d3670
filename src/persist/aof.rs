//! The append-only log (`[persistence] aof_enabled`): one log per shard, so shards never share a
//! file or a lock, group-committed once per loop turn (one write, and with `aof_fsync = "always"`
//! one fdatasync, covers every write of the turn, before any of their replies leave).
//!
//! What is logged is chosen so replay is exact whatever the shard count at restart:
//! - CMD: a single-key command that is deterministic and has no relative time (SET k v, INCR,
//!   LPUSH, HSET, XADD with an explicit ID, XACK, ...), replayed through the same handler on the shard owning the key.
//! - PUT / DEL: the resulting state of every key any other write touched (SPOP, EXPIRE, SET EX,
//!   multi-key and multi-shard commands, MULTI/EXEC): the value in Redis's RDB encoding and the
//!   absolute expiry, so nothing random or time-relative is replayed.
//! - FLUSH / SWAP: FLUSHDB/FLUSHALL and SWAPDB, scoped to the slots the logging shard owned.
//!
//! ```text
//! file    magic "FERRITEAOF\0\x01" (12) | shard u16 | shards u16 | generation u64
//! record  len u32 | crc64 u64 (of body) | body
//! body    kind u8, then  CMD   db u16 | argc u32 | (len u32 | bytes)*
//!                        PUT   db u16 | expire_at u64 | key_len u32 | key | value (RDB)
//!                        DEL   db u16 | key_len u32 | key
//!                        FLUSH db u16 (ALL_DBS = every database)
//!                        SWAP  a u16 | b u16
//! ```
//! A shard starts a new generation when a checkpoint's snapshot begins on it; the checkpoint
//! records that generation, start-up replays only generations from it on, and a successful
//! checkpoint deletes the older files (BGREWRITEAOF is such a checkpoint). A record cut short at
//! the end of a log (a crash mid-write) ends the replay of that log; nothing acknowledged under
//! `always` can be in it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::crc64::crc64;
use super::Reader;
use crate::command::{self, Ctx};
use crate::keyspace::{Entry, Keyspace};
use crate::slot::{key_shard, SLOT_COUNT};

const MAGIC: &[u8; 12] = b"FERRITEAOF\0\x01";
const HEADER_LEN: usize = 24;
pub const ALL_DBS: u16 = u16::MAX;
/// Largest record accepted on replay.
const MAX_RECORD: usize = 1 << 30;

const CMD: u8 = 1;
const PUT: u8 = 2;
const DEL: u8 = 3;
const FLUSH: u8 = 4;
const SWAP: u8 = 5;

/// When the log reaches the disk.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// Before any reply to the writes of a loop turn leaves: nothing acknowledged is lost.
    Always,
    /// Once a second, from a helper thread: at most about a second of writes is lost.
    #[default]
    Everysec,
    /// When the kernel decides.
    No,
}

/// Single-key commands logged as themselves: deterministic, and no relative time in them.
fn logged_as_command(name: &str, args: &[Bytes]) -> bool {
    match name {
        "set" => args.len() == 3,
        "incr" | "decr" | "incrby" | "decrby" | "append" | "setrange" | "lpush" | "rpush"
        | "lpushx" | "rpushx" | "lpop" | "rpop" | "lset" | "lrem" | "ltrim" | "hset" | "hmset"
        | "hdel" | "hincrby" | "hsetnx" | "sadd" | "srem" | "zadd" | "zrem" | "zincrby" => true,
        "del" | "unlink" => args.len() == 2,
        "xdel" | "xack" | "xgroup|destroy" | "xgroup|delconsumer" => true,
        "xadd" => command::streams::xadd_replays_exactly(args),
        // `$` is resolved when the command runs; an explicit ID is not.
        "xgroup|create" | "xgroup|setid" => args.get(4).is_some_and(|id| &id[..] != b"$"),
        _ => false,
    }
}

/// Whether a key command is logged as its command (else as the state of the keys it touched).
pub fn as_command(spec: &command::CommandSpec, args: &[Bytes]) -> bool {
    logged_as_command(spec.name, args)
}

/// The slots shard `shard` of `shards` owns (contiguous ranges, as `slot::slot_shard` maps them).
fn shard_slots(shard: usize, shards: usize) -> Range<usize> {
    let start = (0..SLOT_COUNT).find(|&s| crate::slot::slot_shard(s as u16, shards) == shard);
    match start {
        Some(start) => {
            let end = (start..SLOT_COUNT)
                .find(|&s| crate::slot::slot_shard(s as u16, shards) != shard)
                .unwrap_or(SLOT_COUNT);
            start..end
        }
        None => 0..0,
    }
}

pub fn file_name(shard: usize, generation: u64) -> String {
    format!("appendonly-shard{shard:04}-{generation:012}.aof")
}

/// (shard, generation) of a log file name.
fn parse_name(name: &str) -> Option<(usize, u64)> {
    let rest = name
        .strip_prefix("appendonly-shard")?
        .strip_suffix(".aof")?;
    let (shard, generation) = rest.split_once('-')?;
    Some((shard.parse().ok()?, generation.parse().ok()?))
}

/// The logs in `dir` as (shard, generation, path), in shard then generation order.
pub fn list(dir: &Path) -> Vec<(usize, u64, PathBuf)> {
    let mut all: Vec<_> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            parse_name(&name).map(|(s, g)| (s, g, e.path()))
        })
        .collect();
    all.sort();
    all
}

/// The once-a-second fsync of `everysec`: shards hand their current file over (never blocking
/// on it) and a helper thread syncs it, so no shard waits on the disk.
pub struct Syncer {
    queue: crossbeam_queue::ArrayQueue<Arc<File>>,
    thread: std::thread::Thread,
}

impl Syncer {
    pub fn start() -> io::Result<Arc<Syncer>> {
        let (tx, rx) = std::sync::mpsc::channel::<Arc<Syncer>>();
        let handle = std::thread::Builder::new()
            .name("aof-fsync".into())
            .spawn(move || {
                let Ok(syncer) = rx.recv() else {
                    return;
                };
                loop {
                    while let Some(file) = syncer.queue.pop() {
                        if let Err(e) = file.sync_data() {
                            tracing::error!(error = %e, "fsync of the append-only log failed");
                        }
                    }
                    std::thread::park_timeout(std::time::Duration::from_millis(200));
                }
            })?;
        let syncer = Arc::new(Syncer {
            queue: crossbeam_queue::ArrayQueue::new(1024),
            thread: handle.thread().clone(),
        });
        let _ = tx.send(syncer.clone());
        Ok(syncer)
    }

    /// Asks for `file` to be synced soon; a full queue means a sync is already due anyway.
    pub fn request(&self, file: Arc<File>) {
        let _ = self.queue.push(file);
        self.thread.unpark();
    }
}

/// One shard's log: records of the current loop turn wait in `pending` until `commit`.
pub struct ShardLog {
    dir: PathBuf,
    shard: usize,
    shards: usize,
    pub generation: u64,
    file: Arc<File>,
    pending: Vec<u8>,
    policy: FsyncPolicy,
    /// Bytes written to the current file.
    pub written: u64,
    /// Written since the last sync request (`everysec`).
    pub unsynced: bool,
}

impl ShardLog {
    /// Opens a new generation after the newest one this shard has in `dir`.
    pub fn open(
        dir: &Path,
        shard: usize,
        shards: usize,
        policy: FsyncPolicy,
    ) -> io::Result<ShardLog> {
        fs::create_dir_all(dir)?;
        let generation = list(dir)
            .iter()
            .filter(|(s, _, _)| *s == shard)
            .map(|(_, g, _)| g + 1)
            .max()
            .unwrap_or(0);
        let file = create(dir, shard, shards, generation)?;
        Ok(ShardLog {
            dir: dir.to_path_buf(),
            shard,
            shards,
            generation,
            file: Arc::new(file),
            pending: Vec::with_capacity(64 << 10),
            policy,
            written: HEADER_LEN as u64,
            unsynced: false,
        })
    }

    pub fn policy(&self) -> FsyncPolicy {
        self.policy
    }

    /// The file to sync, once per second under `everysec`, if anything was written since.
    pub fn take_unsynced(&mut self) -> Option<Arc<File>> {
        std::mem::take(&mut self.unsynced).then(|| self.file.clone())
    }

    /// Starts the next generation (a checkpoint's snapshot begins on this shard now).
    pub fn rotate(&mut self) -> io::Result<u64> {
        self.commit()?;
        let generation = self.generation + 1;
        let file = create(&self.dir, self.shard, self.shards, generation)?;
        self.file.sync_data()?;
        self.file = Arc::new(file);
        self.generation = generation;
        self.written = HEADER_LEN as u64;
        Ok(generation)
    }

    fn record(&mut self, body: impl FnOnce(&mut Vec<u8>)) {
        let at = self.pending.len();
        self.pending.extend_from_slice(&[0u8; 12]);
        body(&mut self.pending);
        let len = (self.pending.len() - at - 12) as u32;
        let crc = crc64(0, &self.pending[at + 12..]);
        self.pending[at..at + 4].copy_from_slice(&len.to_le_bytes());
        self.pending[at + 4..at + 12].copy_from_slice(&crc.to_le_bytes());
    }

    pub fn command(&mut self, db: usize, args: &[Bytes]) {
        self.record(|out| {
            out.push(CMD);
            out.extend_from_slice(&(db as u16).to_le_bytes());
            out.extend_from_slice(&(args.len() as u32).to_le_bytes());
            for a in args {
                out.extend_from_slice(&(a.len() as u32).to_le_bytes());
                out.extend_from_slice(a);
            }
        });
    }

    pub fn put(&mut self, db: usize, key: &[u8], entry: &Entry) {
        self.record(|out| {
            out.push(PUT);
            out.extend_from_slice(&(db as u16).to_le_bytes());
            out.extend_from_slice(&entry.expire_at.to_le_bytes());
            out.extend_from_slice(&(key.len() as u32).to_le_bytes());
            out.extend_from_slice(key);
            super::value::encode_value(&entry.value, out);
        });
    }

    pub fn del(&mut self, db: usize, key: &[u8]) {
        self.record(|out| {
            out.push(DEL);
            out.extend_from_slice(&(db as u16).to_le_bytes());
            out.extend_from_slice(&(key.len() as u32).to_le_bytes());
            out.extend_from_slice(key);
        });
    }

    pub fn flush_db(&mut self, db: u16) {
        self.record(|out| {
            out.push(FLUSH);
            out.extend_from_slice(&db.to_le_bytes());
        });
    }

    pub fn swap(&mut self, a: usize, b: usize) {
        self.record(|out| {
            out.push(SWAP);
            out.extend_from_slice(&(a as u16).to_le_bytes());
            out.extend_from_slice(&(b as u16).to_le_bytes());
        });
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Writes the turn's records; with `always`, waits until they are on disk.
    pub fn commit(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        (&*self.file).write_all(&self.pending)?;
        self.written += self.pending.len() as u64;
        self.pending.clear();
        self.unsynced = true;
        if self.policy == FsyncPolicy::Always {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Deletes this shard's generations before `generation` (a checkpoint covers them).
    pub fn remove_before(dir: &Path, shard: usize, generation: u64) {
        for (s, g, path) in list(dir) {
            if s == shard && g < generation {
                if let Err(e) = fs::remove_file(&path) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot delete an old log");
                }
            }
        }
    }
}

fn create(dir: &Path, shard: usize, shards: usize, generation: u64) -> io::Result<File> {
    let path = dir.join(file_name(shard, generation));
    let mut file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&path)?;
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&(shard as u16).to_le_bytes());
    header.extend_from_slice(&(shards as u16).to_le_bytes());
    header.extend_from_slice(&generation.to_le_bytes());
    file.write_all(&header)?;
    file.sync_data()?;
    File::open(dir)?.sync_all()?;
    Ok(file)
}

/// Replays the logs in `dir` onto `keyspaces`: for each old shard, the generations from
/// `from[shard]` on (0 for shards the checkpoint did not cover). Returns records applied.
pub fn replay(
    dir: &Path,
    from: &dyn Fn(usize) -> u64,
    keyspaces: &mut [Keyspace],
    max_string: u64,
) -> Result<u64, String> {
    let mut applied = 0;
    for (shard, generation, path) in list(dir) {
        if generation < from(shard) {
            continue;
        }
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let n = replay_file(&bytes, keyspaces, max_string)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        tracing::info!(path = %path.display(), records = n, "log replayed");
        applied += n;
    }
    Ok(applied)
}

fn replay_file(bytes: &[u8], keyspaces: &mut [Keyspace], max_string: u64) -> Result<u64, String> {
    let header = bytes.get(..HEADER_LEN).ok_or("shorter than a log header")?;
    if &header[..12] != MAGIC {
        return Err("not a Ferrite log (bad magic)".into());
    }
    let shard = u16::from_le_bytes([header[12], header[13]]) as usize;
    let shards = u16::from_le_bytes([header[14], header[15]]) as usize;
    let slots = shard_slots(shard, shards.max(1));
    let mut at = HEADER_LEN;
    let mut applied = 0;
    while at < bytes.len() {
        let Some(head) = bytes.get(at..at + 12) else {
            tracing::warn!(at, "a record cut short ends the log (interrupted write)");
            break;
        };
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u64::from_le_bytes(head[4..12].try_into().unwrap_or_default());
        let Some(body) = bytes
            .get(at + 12..at + 12 + len)
            .filter(|_| len <= MAX_RECORD)
        else {
            tracing::warn!(at, "a record cut short ends the log (interrupted write)");
            break;
        };
        if crc64(0, body) != crc {
            if at + 12 + len == bytes.len() {
                tracing::warn!(at, "a torn last record ends the log (interrupted write)");
                break;
            }
            return Err(format!(
                "the record at byte {at} fails its checksum (corrupted)"
            ));
        }
        apply(body, keyspaces, &slots, max_string)
            .map_err(|e| format!("the record at byte {at}: {e}"))?;
        applied += 1;
        at += 12 + len;
    }
    Ok(applied)
}

/// A length-prefixed byte string (`len u32 | bytes`).
fn prefixed<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], String> {
    let n = r.u32_le().map_err(|e| e.to_string())?;
    r.bytes(n as usize).map_err(|e| e.to_string())
}

fn db_index(ks: &Keyspace, db: u16) -> Result<usize, String> {
    let db = db as usize;
    if db < ks.databases() {
        Ok(db)
    } else {
        Err(format!(
            "database {db} is beyond [server] databases = {}",
            ks.databases()
        ))
    }
}

fn apply(
    body: &[u8],
    keyspaces: &mut [Keyspace],
    slots: &Range<usize>,
    max_string: u64,
) -> Result<(), String> {
    let shards = keyspaces.len();
    let (&kind, rest) = body.split_first().ok_or("empty record")?;
    let mut c = Reader::new(rest);
    let u16 = |c: &mut Reader<'_>| c.u16_le().map_err(|e| e.to_string());
    match kind {
        CMD => {
            let db = u16(&mut c)?;
            let argc = c.u32_le().map_err(|e| e.to_string())? as usize;
            let mut args = Vec::with_capacity(argc.min(1024));
            for _ in 0..argc {
                args.push(Bytes::copy_from_slice(prefixed(&mut c)?));
            }
            let name = args.first().ok_or("a command without a name")?;
            let mut spec = command::lookup(name).ok_or("an unknown command")?;
            if !spec.subcommands.is_empty() {
                spec = args
                    .get(1)
                    .and_then(|sub| spec.subcommand(sub))
                    .ok_or("an unknown subcommand")?;
            }
            let command::Run::Keys(handler) = spec.run else {
                return Err("not a key command".into());
            };
            let key = spec
                .key_positions(&args)
                .first()
                .and_then(|&i| args.get(i))
                .ok_or("a command without a key")?;
            let ks = &mut keyspaces[key_shard(key, shards)];
            let db = db_index(ks, db)?;
            // Time 0: nothing counts as expired during replay, so a command meets its key as it
            // was when it ran; keys whose TTL has passed since expire on first access as usual.
            let mut ctx = Ctx {
                ks,
                db,
                args: &args,
                now: 0,
                max_string,
            };
            // An error reply replays as it happened: the command changed nothing then either.
            let _ = handler(&mut ctx);
        }
        PUT => {
            let db = u16(&mut c)?;
            let expire_at = u64::from_le_bytes(c.array::<8>().map_err(|e| e.to_string())?);
            let key = prefixed(&mut c)?;
            let value = super::value::decode_value(c.rest()).map_err(|e| e.to_string())?;
            let ks = &mut keyspaces[key_shard(key, shards)];
            let db = db_index(ks, db)?;
            let mut entry = Entry::new(value);
            entry.expire_at = expire_at;
            ks.db(db).put(key, entry);
        }
        DEL => {
            let db = u16(&mut c)?;
            let key = prefixed(&mut c)?;
            let ks = &mut keyspaces[key_shard(key, shards)];
            let db = db_index(ks, db)?;
            ks.db(db).remove(key);
        }
        FLUSH => {
            let db = u16(&mut c)?;
            for ks in keyspaces.iter_mut() {
                for (i, d) in ks.dbs().iter_mut().enumerate() {
                    if db == ALL_DBS || db as usize == i {
                        d.remove_slots(slots.clone());
                    }
                }
            }
        }
        SWAP => {
            let (a, b) = (u16(&mut c)? as usize, u16(&mut c)? as usize);
            for ks in keyspaces.iter_mut() {
                let (a, b) = (db_index(ks, a as u16)?, db_index(ks, b as u16)?);
                if a != b {
                    let (da, db) = ks.two_dbs(a, b);
                    da.swap_slots(db, slots.clone());
                }
            }
        }
        other => return Err(format!("unknown record kind {other}")),
    }
    Ok(())
}
