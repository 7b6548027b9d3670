//! Taking checkpoints without stopping the shards (BGSAVE, SAVE, scheduled and shutdown saves).
//!
//! A save is a [`SaveJob`]: a writer thread opens `<dir>/<name>.ferrite.backup.tmp`, asks every
//! shard to begin a snapshot (`Msg::Snapshot`), and writes the RECORDS chunks each shard hands it
//! through the shard's own bounded lock-free queue. A shard snapshots each of its databases as of
//! the loop turn the message arrived (`keyspace::DbSnapshot`: a slot is written out before anything
//! touches it), so each shard's part is one point in time, and it keeps serving meanwhile: it writes
//! at most one block per loop turn and waits when its queue is full. When every shard has ended its
//! part, the writer adds the end marker, fsyncs the file, renames it into place, fsyncs the
//! directory and deletes checkpoints beyond `checkpoint_keep`. Any error abandons the temporary
//! file and leaves earlier checkpoints untouched (DESIGN rule 10).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use super::checkpoint::{CheckpointWriter, RECORDS};
use crate::config::PersistenceConfig;
use crate::resp::Reply;
use crate::server::Server;
use crate::shard::{Msg, Origin};

/// File name suffix of checkpoints, as the operations guide names them.
pub const SUFFIX: &str = ".ferrite.backup";
/// Chunks a shard may have queued to the writer before it waits.
const QUEUE_DEPTH: usize = 64;

/// What a shard hands the writer.
pub enum Chunk {
    /// A RECORDS payload.
    Records(Vec<u8>),
    /// The shard's part is complete: it wrote this many records, and its log (if on) went on
    /// in this generation from the snapshot's point in time.
    End(u64, Option<u64>),
}

/// One save in progress, shared by the writer thread and the shards.
pub struct SaveJob {
    queues: Vec<ArrayQueue<Chunk>>,
    /// Set when the save failed: shards drop their snapshots.
    pub aborted: AtomicBool,
    writer: Thread,
}

impl SaveJob {
    /// Offers a chunk from `shard`; gives it back when the queue is full.
    /// (A shard the job does not know of has nothing to hand in: its chunk is dropped.)
    pub fn push(&self, shard: usize, chunk: Chunk) -> Result<(), Chunk> {
        let Some(queue) = self.queues.get(shard) else {
            return Ok(());
        };
        queue.push(chunk)?;
        self.writer.unpark();
        Ok(())
    }
}

/// Why a save did not start.
#[derive(Debug, PartialEq, Eq)]
pub enum StartError {
    InProgress,
}

/// The server's persistence state: what INFO persistence, LASTSAVE and the metrics report.
pub struct Persistence {
    pub config: PersistenceConfig,
    in_progress: AtomicBool,
    /// BGSAVE SCHEDULE asked for a save once the current one ends.
    scheduled: AtomicBool,
    /// Unix seconds of the last successful save (the start time until the first one).
    pub last_save: AtomicU64,
    pub last_ok: AtomicBool,
    pub last_duration_ms: AtomicU64,
    /// Unix ms when the save in progress began.
    pub current_started_ms: AtomicU64,
    pub saves: AtomicU64,
    pub failures: AtomicU64,
    pub last_bytes: AtomicU64,
    pub last_records: AtomicU64,
    /// SAVE callers waiting for the save in progress.
    waiters: Mutex<Vec<Origin>>,
}

impl Persistence {
    pub fn new(config: PersistenceConfig, started_unix: u64) -> Persistence {
        Persistence {
            config,
            in_progress: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
            last_save: AtomicU64::new(started_unix),
            last_ok: AtomicBool::new(true),
            last_duration_ms: AtomicU64::new(0),
            current_started_ms: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            last_bytes: AtomicU64::new(0),
            last_records: AtomicU64::new(0),
            waiters: Mutex::new(Vec::new()),
        }
    }

    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::SeqCst)
    }

    /// BGSAVE SCHEDULE while a save runs: start another when it ends.
    pub fn schedule(&self) {
        self.scheduled.store(true, Ordering::SeqCst);
    }
}

/// Called on the writer thread with a save's outcome.
pub type OnDone = Box<dyn FnOnce(Result<(), String>) + Send>;

/// Starts a save. `waiter` (SAVE) gets "+OK" or the error when it ends; `done` is called on the
/// writer thread with the outcome (shutdown waits on it).
pub fn start(
    server: &Arc<Server>,
    waiter: Option<Origin>,
    done: Option<OnDone>,
) -> Result<(), StartError> {
    let p = &server.persistence;
    if p.in_progress.swap(true, Ordering::SeqCst) {
        return Err(StartError::InProgress);
    }
    if let Some(origin) = waiter {
        lock(&p.waiters).push(origin);
    }
    p.current_started_ms
        .store(crate::shard::now_ms(), Ordering::SeqCst);
    let server = server.clone();
    let spawned = std::thread::Builder::new()
        .name("checkpoint".into())
        .spawn(move || {
            let result = run_job(&server);
            finish(&server, &result);
            if let Some(done) = done {
                done(result.clone().map(|_| ()));
            }
            if server.persistence.scheduled.swap(false, Ordering::SeqCst) {
                let _ = start(&server, None, None);
            }
        });
    if let Err(e) = spawned {
        p.in_progress.store(false, Ordering::SeqCst);
        tracing::error!(error = %e, "cannot start the checkpoint thread");
    }
    Ok(())
}

/// Outcome of one job: (path, bytes, records).
type JobResult = Result<(PathBuf, u64, u64), String>;

fn run_job(server: &Arc<Server>) -> JobResult {
    let config = &server.persistence.config;
    let dir = &config.dir;
    fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    remove_stale_temporaries(dir);
    let created = crate::shard::now_ms();
    let name = format!("checkpoint-{created:013}{SUFFIX}");
    let path = dir.join(&name);
    let tmp = dir.join(format!("{name}.tmp"));
    let result = write_checkpoint(server, &tmp, created);
    match result {
        Ok((bytes, records, generations)) => {
            let publish = fs::rename(&tmp, &path).and_then(|_| sync_dir(dir));
            if let Err(e) = publish {
                let _ = fs::remove_file(&tmp);
                return Err(format!("cannot move {} into place: {e}", tmp.display()));
            }
            rotate(dir, config.checkpoint_keep);
            // The checkpoint covers each shard's log before its snapshot's point in time.
            for (shard, generation) in generations {
                super::aof::ShardLog::remove_before(dir, shard, generation);
            }
            Ok((path, bytes, records))
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// (bytes, records, the log generation each shard's snapshot began).
type Written = (u64, u64, Vec<(usize, u64)>);

fn write_checkpoint(server: &Arc<Server>, tmp: &Path, created: u64) -> Result<Written, String> {
    let shards = server.mesh.shards();
    let file = File::create(tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let mut writer = CheckpointWriter::new(BufWriter::with_capacity(1 << 20, file), created)
        .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
    let job = Arc::new(SaveJob {
        queues: (0..shards).map(|_| ArrayQueue::new(QUEUE_DEPTH)).collect(),
        aborted: AtomicBool::new(false),
        writer: std::thread::current(),
    });
    for shard in 0..shards {
        let mut msg = Msg::Snapshot(job.clone());
        while let Err(back) =
            server
                .mesh
                .push_from_outside(shard, msg, Instant::now() + Duration::from_secs(1))
        {
            msg = back;
        }
    }
    let mut generations = Vec::new();
    let outcome = drain(&job, &mut writer, shards, &mut generations);
    let outcome = outcome.and_then(|records| {
        let bytes = writer.written;
        let buffered = writer.finish(shards as u32, records)?;
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((bytes, records, generations))
    });
    outcome.map_err(|e| {
        job.aborted.store(true, Ordering::SeqCst);
        format!("writing {}: {e}", tmp.display())
    })
}

/// Writes what the shards send until every shard has ended its part. Returns the record count.
fn drain<W: Write>(
    job: &SaveJob,
    writer: &mut CheckpointWriter<W>,
    shards: usize,
    generations: &mut Vec<(usize, u64)>,
) -> io::Result<u64> {
    let mut ended = vec![false; shards];
    let mut records = 0;
    while ended.iter().any(|e| !e) {
        let mut progressed = false;
        for (shard, queue) in job.queues.iter().enumerate() {
            while let Some(chunk) = queue.pop() {
                progressed = true;
                match chunk {
                    Chunk::Records(payload) => writer.block(RECORDS, shard as u16, &payload)?,
                    Chunk::End(n, generation) => {
                        writer.shard_end(shard as u16, n, generation)?;
                        if let Some(g) = generation {
                            generations.push((shard, g));
                        }
                        records += n;
                        ended[shard] = true;
                    }
                }
            }
        }
        if !progressed {
            std::thread::park_timeout(Duration::from_millis(5));
        }
    }
    Ok(records)
}

fn finish(server: &Arc<Server>, result: &JobResult) {
    let p = &server.persistence;
    let started = p.current_started_ms.load(Ordering::SeqCst);
    let took = crate::shard::now_ms().saturating_sub(started);
    p.last_duration_ms.store(took, Ordering::SeqCst);
    let reply = match result {
        Ok((path, bytes, records)) => {
            p.last_ok.store(true, Ordering::SeqCst);
            p.last_save
                .store(crate::shard::now_ms() / 1000, Ordering::SeqCst);
            p.saves.fetch_add(1, Ordering::SeqCst);
            p.last_bytes.store(*bytes, Ordering::SeqCst);
            p.last_records.store(*records, Ordering::SeqCst);
            tracing::info!(path = %path.display(), bytes, keys = records, ms = took, "checkpoint saved");
            Reply::OK
        }
        Err(e) => {
            p.last_ok.store(false, Ordering::SeqCst);
            p.failures.fetch_add(1, Ordering::SeqCst);
            tracing::error!(error = %e, "checkpoint failed; earlier checkpoints are untouched");
            Reply::error(format!("ERR checkpoint failed: {e}"))
        }
    };
    let waiters = std::mem::take(&mut *lock(&p.waiters));
    p.in_progress.store(false, Ordering::SeqCst);
    for origin in waiters {
        let mut msg = Msg::Reply {
            origin,
            reply: reply.clone(),
        };
        while let Err(back) = server.mesh.push_from_outside(
            origin.shard,
            msg,
            Instant::now() + Duration::from_secs(1),
        ) {
            msg = back;
        }
    }
}

/// Deletes the oldest checkpoints beyond `keep`.
fn rotate(dir: &Path, keep: usize) {
    let mut all = list(dir);
    if all.len() <= keep {
        return;
    }
    all.truncate(all.len() - keep);
    for old in all {
        if let Err(e) = fs::remove_file(&old) {
            tracing::warn!(path = %old.display(), error = %e, "cannot delete an old checkpoint");
        }
    }
}

/// Deletes temporary files a save killed midway left behind (only one save runs at a time).
fn remove_stale_temporaries(dir: &Path) {
    let stale = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok);
    for entry in stale {
        let path = entry.path();
        if path.to_string_lossy().ends_with(&format!("{SUFFIX}.tmp")) {
            tracing::info!(path = %path.display(), "removing the leftover of an interrupted save");
            let _ = fs::remove_file(&path);
        }
    }
}

/// The checkpoints in `dir`, oldest first (names sort by creation time).
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(SUFFIX))
                .collect()
        })
        .unwrap_or_default();
    all.sort();
    all
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
