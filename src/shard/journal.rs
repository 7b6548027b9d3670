//! What a shard notes about its writes: for the append-only log (`persist::aof`), which writes
//! are logged as commands and which as the state of the keys they touched, with the group commit
//! at the end of each loop turn, before any reply of the turn leaves the shard (outbox, sockets,
//! dataplane); and for WATCH, which watched keys a write touched.

use bytes::Bytes;

use super::{Shard, ShardOp};
use crate::command::{self, CommandSpec, Flags};
use crate::persist::aof;

/// Whether a plan for `command` changes data (so its hops are logged).
pub(super) fn journaled(command: &str) -> bool {
    command == "exec"
        || command::lookup(command.as_bytes()).is_some_and(|s| s.flags.has(Flags::WRITE))
}

impl Shard {
    /// Runs a key command on this shard, logging it when the log is on.
    pub(super) fn run_logged(
        &mut self,
        spec: &'static CommandSpec,
        db: usize,
        args: &[Bytes],
        run: impl FnOnce(&mut Shard) -> crate::resp::Reply,
    ) -> crate::resp::Reply {
        if !spec.flags.has(Flags::WRITE) || (self.aof.is_none() && !self.tracks_keys()) {
            return run(self);
        }
        if aof::as_command(spec, args) || self.aof.is_none() {
            let reply = if self.tracks_keys() {
                self.tracked(false, run)
            } else {
                run(self)
            };
            if !reply.is_error() {
                if let Some(log) = self.aof.as_mut() {
                    log.command(db, args);
                }
            }
            return reply;
        }
        self.tracked(true, run)
    }

    /// Whether writes must note the keys they touch: for WATCH, or to wake blocked commands.
    fn tracks_keys(&self) -> bool {
        self.ks.has_watches() || self.blocking.has_waiters()
    }

    /// Runs a write `f` noting every key it reaches; then breaks the watches of those keys,
    /// marks them ready for the commands blocked on them and, when `log_effects`, logs their
    /// states.
    pub(super) fn tracked<T>(&mut self, log_effects: bool, f: impl FnOnce(&mut Shard) -> T) -> T {
        let log_effects = log_effects && self.aof.is_some();
        if !log_effects && !self.tracks_keys() {
            return f(self);
        }
        self.ks.set_recording(true);
        let out = f(self);
        self.ks.set_recording(false);
        let databases = self.ks.databases();
        for index in 0..databases {
            let (keys, cleared) = self.ks.db(index).take_touched();
            if cleared {
                self.ks.touch_watched_db(index);
            }
            for key in &keys {
                self.ks.touch_watched(index, key);
                // Only a key that holds something can serve a waiter (a DEL wakes no one).
                if self.blocking.has_waiters() && self.ks.db(index).stored(key).is_some() {
                    self.blocking.touched(index, key);
                }
            }
            let Some(log) = self.aof.as_mut().filter(|_| log_effects) else {
                continue;
            };
            if cleared {
                log.flush_db(index as u16);
            }
            let db = self.ks.db(index);
            for key in keys {
                match db.stored(&key) {
                    Some(entry) => log.put(index, &key, entry),
                    None => log.del(index, &key),
                }
            }
        }
        for (a, b) in self.ks.take_swaps() {
            self.ks.touch_watched_db(a);
            self.ks.touch_watched_db(b);
            if let Some(log) = self.aof.as_mut().filter(|_| log_effects) {
                log.swap(a, b);
            }
        }
        out
    }

    /// Wraps a write plan's hop so the shard running it logs what it changed and breaks the
    /// watches it touched.
    pub(super) fn logged_hop(op: ShardOp) -> ShardOp {
        Box::new(move |shard: &mut Shard| shard.tracked(true, op))
    }

    /// The group commit: the turn's records go to the file (and to disk, under `always`).
    pub(super) fn journal_commit(&mut self) {
        let Some(log) = self.aof.as_mut() else {
            return;
        };
        if let Err(e) = log.commit() {
            self.aof_errors += 1;
            tracing::error!(shard = self.env.id, error = %e, "writing the append-only log failed");
        }
    }

    /// Under `everysec`, hands the log file to the fsync thread once a second if written since.
    pub(super) fn journal_sync_request(&mut self) {
        let Some(log) = self.aof.as_mut() else {
            return;
        };
        if self.aof_last_sync.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        self.aof_last_sync = std::time::Instant::now();
        if let (Some(file), Some(syncer)) = (log.take_unsynced(), &self.env.server.aof_syncer) {
            syncer.request(file);
        }
    }
}
