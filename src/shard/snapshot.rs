//! A shard's part of a checkpoint (see `persist::saver`): on `Msg::Snapshot` every database begins
//! a point-in-time snapshot (`keyspace::DbSnapshot`); each loop turn then writes at most one block's
//! worth of slots and hands finished chunks to the writer through the job's queue for this shard.
//! A full queue (slow disk) makes the shard wait a turn, never block; an aborted job is dropped.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Shard;
use crate::persist::checkpoint::BLOCK_TARGET;
use crate::persist::saver::{Chunk, SaveJob};

pub struct ShardSnapshot {
    job: Arc<SaveJob>,
    /// The log generation that began with this snapshot, if the log is on.
    aof_generation: Option<u64>,
    /// A chunk the writer's queue had no room for yet.
    waiting: Option<Chunk>,
}

impl ShardSnapshot {
    /// Whether the writer's queue was full at the last attempt (the loop then naps a little).
    pub fn stalled(&self) -> bool {
        self.waiting.is_some()
    }
}

impl Shard {
    pub(super) fn snapshot_begin(&mut self, job: Arc<SaveJob>, aof_generation: Option<u64>) {
        if let Some(old) = self.snapshot.take() {
            // A previous job this shard never finished was abandoned by its writer.
            old.job.aborted.store(true, Ordering::SeqCst);
        }
        for (index, db) in self.ks.dbs().iter_mut().enumerate() {
            db.snapshot_begin(index as u16);
        }
        self.snapshot = Some(ShardSnapshot {
            job,
            aof_generation,
            waiting: None,
        });
    }

    /// One turn of snapshot work: at most one block written, chunks handed to the writer.
    pub(super) fn snapshot_step(&mut self) {
        let Some(snap) = self.snapshot.as_mut() else {
            return;
        };
        let id = self.env.id;
        if snap.job.aborted.load(Ordering::SeqCst) {
            for db in self.ks.dbs() {
                db.snapshot_end();
            }
            self.snapshot = None;
            return;
        }
        if let Some(chunk) = snap.waiting.take() {
            let was_end = matches!(chunk, Chunk::End(..));
            if let Err(back) = snap.job.push(id, chunk) {
                snap.waiting = Some(back);
                return;
            }
            if was_end {
                self.snapshot = None;
                return;
            }
        }
        let mut all_done = true;
        let mut budget = BLOCK_TARGET;
        for db in self.ks.dbs() {
            let done = db.snapshot_step(budget);
            all_done &= done;
            let Some(state) = db.snapshot_mut() else {
                continue;
            };
            if state.out.len() >= BLOCK_TARGET || (done && !state.out.is_empty()) {
                let payload = std::mem::take(&mut state.out);
                budget = budget.saturating_sub(payload.len());
                if let Err(back) = snap.job.push(id, Chunk::Records(payload)) {
                    snap.waiting = Some(back);
                    return;
                }
            }
            if budget == 0 {
                return;
            }
        }
        if !all_done {
            return;
        }
        let records: u64 = self
            .ks
            .dbs()
            .iter_mut()
            .filter_map(|db| db.snapshot_end())
            .map(|s| s.records)
            .sum();
        let job = snap.job.clone();
        let aof_generation = snap.aof_generation;
        self.snapshot = None;
        if let Err(back) = job.push(id, Chunk::End(records, aof_generation)) {
            // Keep the end marker until the writer makes room.
            self.snapshot = Some(ShardSnapshot {
                job,
                aof_generation,
                waiting: Some(back),
            });
        }
    }
}
