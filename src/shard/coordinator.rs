//! The coordinator side of multi-shard plans (see `txn` for the protocol): a connection's shard
//! schedules a plan's transaction on every shard it locks, sends its hops, gathers their outputs
//! and replies, or schedules again after a refusal.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::txn::{CoordRef, Coordinator, Stage};
use super::{HopOut, Msg, Origin, Shard, Step};
use crate::resp::Reply;

impl Shard {
    // ---- coordinating plans ---------------------------------------------------------------

    /// Starts running a command's plan for `origin`; `command` is counted in the command
    /// statistics when the plan replies.
    pub(super) fn start_step(&mut self, origin: Origin, step: Step, command: &'static str) {
        match step {
            Step::Reply(reply) => self.deliver(origin, reply),
            Step::Close => self.kill_origin(origin),
            Step::Defer(answer_later) => answer_later(origin),
            Step::Block(plan) => self.park(origin, command, plan.command, plan.db, plan.wait),
            Step::Hop {
                locks,
                ops,
                last,
                then,
            } => {
                let ops = self.journal_ops(command, ops);
                let id = self.next_coord;
                self.next_coord += 1;
                let has_locks = !locks.is_empty();
                let coord = Coordinator {
                    origin,
                    command,
                    started: Instant::now(),
                    txid: 0,
                    locks,
                    holding: Vec::new(),
                    stage: Stage::Scheduling {
                        waiting: 0,
                        rejected: false,
                        ops,
                        last,
                        then,
                    },
                };
                self.coords.insert(id, coord);
                if has_locks {
                    self.schedule(id);
                } else {
                    self.send_hops(id);
                }
            }
        }
    }

    pub(super) fn schedule(&mut self, id: u64) {
        let Some(c) = self.coords.get_mut(&id) else {
            return;
        };
        c.txid = self.env.server.next_txid.fetch_add(1, Ordering::Relaxed) + 1;
        if let Stage::Scheduling {
            waiting, rejected, ..
        } = &mut c.stage
        {
            *waiting = c.locks.len();
            *rejected = false;
        }
        let coord = CoordRef {
            shard: self.env.id,
            id,
        };
        let msgs: Vec<(usize, Msg)> = c
            .locks
            .iter()
            .map(|(s, lock)| {
                (
                    *s,
                    Msg::Schedule {
                        txid: c.txid,
                        coord,
                        lock: lock.clone(),
                    },
                )
            })
            .collect();
        for (dest, msg) in msgs {
            self.send(dest, msg);
        }
    }

    pub(super) fn on_scheduled(&mut self, id: u64, shard: usize, ok: bool) {
        let Some(c) = self.coords.get_mut(&id) else {
            return;
        };
        let Stage::Scheduling {
            waiting, rejected, ..
        } = &mut c.stage
        else {
            return;
        };
        *waiting -= 1;
        if ok {
            c.holding.push(shard);
        } else {
            *rejected = true;
        }
        if *waiting > 0 {
            return;
        }
        if *rejected {
            let txid = c.txid;
            for s in std::mem::take(&mut c.holding) {
                self.send(s, Msg::Release { txid });
            }
            self.stats.tx_retries += 1;
            self.schedule(id);
        } else {
            self.send_hops(id);
        }
    }

    pub(super) fn send_hops(&mut self, id: u64) {
        let Some(c) = self.coords.get_mut(&id) else {
            return;
        };
        let Stage::Scheduling {
            ops, last, then, ..
        } = std::mem::replace(
            &mut c.stage,
            Stage::Running {
                outs: Vec::new(),
                waiting: 0,
                then: Box::new(|_| Step::Reply(Reply::OK)),
            },
        )
        else {
            return;
        };
        let coord = CoordRef {
            shard: self.env.id,
            id,
        };
        let txid = c.txid;
        let mut msgs = Vec::with_capacity(ops.len());
        for (index, (dest, op)) in ops.into_iter().enumerate() {
            let release = last && c.holding.contains(&dest);
            if release {
                c.holding.retain(|&s| s != dest);
            }
            let txid = if c.holding.contains(&dest) || release {
                txid
            } else {
                0
            };
            msgs.push((
                dest,
                Msg::Hop {
                    txid,
                    coord,
                    index,
                    op,
                    release,
                },
            ));
        }
        let n = msgs.len();
        c.stage = Stage::Running {
            outs: (0..n).map(|_| None).collect(),
            waiting: n,
            then,
        };
        for (dest, msg) in msgs {
            self.send(dest, msg);
        }
        if n == 0 {
            self.finish_hop(id);
        }
    }

    pub(super) fn on_hop_done(&mut self, id: u64, index: usize, out: HopOut) {
        let Some(c) = self.coords.get_mut(&id) else {
            return;
        };
        let Stage::Running { outs, waiting, .. } = &mut c.stage else {
            return;
        };
        if let Some(slot) = outs.get_mut(index) {
            *slot = Some(out);
            *waiting -= 1;
        }
        if *waiting == 0 {
            self.finish_hop(id);
        }
    }

    pub(super) fn finish_hop(&mut self, id: u64) {
        let Some(mut c) = self.coords.remove(&id) else {
            return;
        };
        let Stage::Running { outs, then, .. } = c.stage else {
            return;
        };
        let step_result = then(outs.into_iter().flatten().collect());
        match step_result {
            Step::Reply(_) | Step::Close | Step::Defer(_) | Step::Block(_) => {
                for s in std::mem::take(&mut c.holding) {
                    self.send(s, Msg::Release { txid: c.txid });
                }
                match step_result {
                    Step::Defer(answer_later) => answer_later(c.origin),
                    Step::Block(plan) => {
                        self.park(c.origin, c.command, plan.command, plan.db, plan.wait)
                    }
                    Step::Reply(reply) => {
                        self.stats
                            .record(c.command, c.started.elapsed(), reply.is_error());
                        self.unpark_origin(c.origin);
                        self.deliver(c.origin, reply);
                    }
                    _ => self.kill_origin(c.origin),
                }
            }
            Step::Hop {
                ops, last, then, ..
            } => {
                let ops = self.journal_ops(c.command, ops);
                c.stage = Stage::Scheduling {
                    waiting: 0,
                    rejected: false,
                    ops,
                    last,
                    then,
                };
                self.coords.insert(id, c);
                self.send_hops(id);
            }
        }
    }

    /// Runs a plan step at once when all its work is unlocked and on this shard (every fan-out
    /// of a one-shard server, PUBLISH included): no coordinator, no messages, no turn lost.
    /// Hops without locks run on arrival anyway, so the outcome is the same.
    pub(super) fn run_local_step(&mut self, step: Step, command: &'static str) -> Step {
        match step {
            Step::Hop {
                locks, ops, then, ..
            } if locks.is_empty() && ops.iter().all(|(s, _)| *s == self.env.id) => {
                let ops = self.journal_ops(command, ops);
                let outs = ops.into_iter().map(|(_, op)| op(self)).collect();
                let next = then(outs);
                self.run_local_step(next, command)
            }
            step => step,
        }
    }

    /// A write plan's hops log what they change, and break the watches they touch, on each shard.
    fn journal_ops(
        &self,
        command: &'static str,
        ops: Vec<(usize, super::ShardOp)>,
    ) -> Vec<(usize, super::ShardOp)> {
        // Another shard may hold watches or a log even when this one has neither.
        if !super::journal::journaled(command) {
            return ops;
        }
        ops.into_iter()
            .map(|(shard, op)| (shard, Shard::logged_hop(op)))
            .collect()
    }
}
