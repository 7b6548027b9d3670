//! Start-up loading: the newest good checkpoint in `[persistence] dir`, or the file given with
//! `--restore` (a Ferrite checkpoint or a Redis RDB file). Runs on the control plane before the
//! shards start, filling one keyspace per shard by each key's slot.
//!
//! A file is loaded into fresh keyspaces and used only if all of it reads back: a corrupt or
//! truncated file is refused with a message naming it and what is wrong, the keyspaces built so
//! far are dropped, and the data directory is not touched.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::checkpoint::{self, CheckpointError};
use super::saver;
use crate::keyspace::{Entry, Keyspace};
use crate::slot::key_shard;

/// What was loaded, for the start-up log and INFO.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub keys: u64,
    pub expired_skipped: u64,
    pub created_ms: u64,
    pub format: &'static str,
    /// The log generation each old shard's snapshot began (from a checkpoint taken with the log on).
    pub aof_from: Vec<(u16, u64)>,
}

/// Fills `shards` keyspaces from `restore` if given, else from the newest checkpoint in `dir`
/// that reads back whole (older ones are tried when a newer one is damaged).
pub fn initial_keyspaces(
    dir: &Path,
    restore: Option<&Path>,
    shards: usize,
    databases: usize,
) -> Result<(Vec<Keyspace>, Option<Loaded>), String> {
    let fresh = || {
        (0..shards)
            .map(|_| Keyspace::new(databases))
            .collect::<Vec<_>>()
    };
    if let Some(file) = restore {
        let mut keyspaces = fresh();
        let loaded = load_file(file, &mut keyspaces).map_err(|e| {
            format!(
                "--restore {}: {e}; nothing was loaded and the data directory was not touched",
                file.display()
            )
        })?;
        return Ok((keyspaces, Some(loaded)));
    }
    for path in saver::list(dir).into_iter().rev() {
        let mut keyspaces = fresh();
        match load_file(&path, &mut keyspaces) {
            Ok(loaded) => return Ok((keyspaces, Some(loaded))),
            Err(e) => tracing::error!(
                path = %path.display(),
                error = %e,
                "skipping a checkpoint that does not read back; trying an older one"
            ),
        }
    }
    Ok((fresh(), None))
}

/// Loads one file, Ferrite checkpoint or Redis RDB, by its magic bytes.
pub fn load_file(path: &Path, keyspaces: &mut [Keyspace]) -> Result<Loaded, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 5];
    input
        .read_exact(&mut magic)
        .map_err(|_| "too short to be a checkpoint or an RDB file".to_string())?;
    let input = std::io::Cursor::new(magic).chain(input);
    let progress = Progress::new(path, size);
    if &magic == b"REDIS" {
        return super::rdb_file::load(input, keyspaces, progress).map(|(keys, expired)| Loaded {
            path: path.to_path_buf(),
            keys,
            expired_skipped: expired,
            created_ms: 0,
            format: "redis-rdb",
            aof_from: Vec::new(),
        });
    }
    load_checkpoint(input, keyspaces, progress).map(|(summary, keys, expired)| Loaded {
        path: path.to_path_buf(),
        keys,
        expired_skipped: expired,
        created_ms: summary.created_ms,
        format: "ferrite-checkpoint",
        aof_from: summary.aof_from,
    })
}

fn load_checkpoint<R: Read>(
    input: R,
    keyspaces: &mut [Keyspace],
    mut progress: Progress,
) -> Result<(checkpoint::Summary, u64, u64), String> {
    let now = crate::shard::now_ms();
    let shards = keyspaces.len();
    let (mut keys, mut expired) = (0u64, 0u64);
    let summary = checkpoint::read(input, |payload| {
        for record in checkpoint::records(payload) {
            let record = record.ok_or(CheckpointError::MalformedRecord { at: 0 })?;
            if record.expire_at != 0 && record.expire_at <= now {
                expired += 1;
                continue;
            }
            let value = super::value::decode_value(record.value)
                .map_err(|e| CheckpointError::Io(format!("a value does not decode: {e}")))?;
            let ks = &mut keyspaces[key_shard(record.key, shards)];
            let db = record.db as usize;
            if db >= ks.databases() {
                return Err(CheckpointError::Io(format!(
                    "a key belongs to database {db}, but [server] databases = {}",
                    ks.databases()
                )));
            }
            let mut entry = Entry::new(value);
            entry.expire_at = record.expire_at;
            ks.db(db).put(record.key, entry);
            keys += 1;
        }
        progress.tick(keys, payload.len() as u64);
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    progress.done(keys);
    Ok((summary, keys, expired))
}

/// Logs loading progress (percent and keys/s) about once a second for large files.
pub struct Progress {
    path: String,
    size: u64,
    read: u64,
    started: Instant,
    last: Instant,
}

impl Progress {
    pub fn new(path: &Path, size: u64) -> Progress {
        Progress {
            path: path.display().to_string(),
            size,
            read: 0,
            started: Instant::now(),
            last: Instant::now(),
        }
    }

    /// `bytes` more were read; `keys` loaded so far.
    pub fn tick(&mut self, keys: u64, bytes: u64) {
        self.read = self.read.saturating_add(bytes);
        if self.last.elapsed().as_secs() >= 1 {
            self.last = Instant::now();
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            tracing::info!(
                path = %self.path,
                percent = format!("{:.0}", 100.0 * self.read.min(self.size) as f64 / self.size.max(1) as f64),
                keys,
                keys_per_sec = format!("{:.0}", keys as f64 / secs),
                "loading"
            );
        }
    }

    pub fn done(&self, keys: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        tracing::info!(
            path = %self.path,
            keys,
            secs = format!("{secs:.2}"),
            keys_per_sec = format!("{:.0}", keys as f64 / secs),
            "loaded"
        );
    }
}
