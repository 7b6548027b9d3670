//! The cross-shard message mesh: an N x (N+1) matrix of bounded single-producer queues, one per
//! (destination, source) pair, the extra source being the control plane (Seastar's `smp` queues).
//!
//! A producer never blocks and never drops: a message that finds its queue full waits in the
//! producer's own [`Outbox`] (in order, ahead of later messages to the same shard) and the producer
//! stops reading new requests until the backlog drains. A consumer about to sleep publishes that
//! in `sleeping` and re-checks its queues; a producer wakes it (an eventfd write through
//! `mio::Waker`) only when it is asleep, so busy shards exchange messages without system calls.

use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use super::{HopOut, Msg, Shard};

/// Capacity of each (destination, source) queue.
pub const QUEUE_CAPACITY: usize = 4096;

/// Messages an outbox may hold before its shard stops taking new requests.
pub const OUTBOX_HIGH_WATER: usize = 1024;

#[repr(align(64))]
struct Node {
    sleeping: AtomicBool,
    /// Messages this shard has taken off its queues, for metrics and INFO.
    received: AtomicU64,
    /// Times a producer found one of this shard's queues full.
    full: AtomicU64,
    waker: mio::Waker,
    inbox: Vec<ArrayQueue<Msg>>,
}

pub struct Mesh {
    nodes: Vec<Node>,
}

impl Mesh {
    /// One waker per shard, in shard order; each is registered with that shard's poller.
    pub fn new(wakers: Vec<mio::Waker>) -> Mesh {
        let sources = wakers.len() + 1;
        let nodes = wakers
            .into_iter()
            .map(|waker| Node {
                sleeping: AtomicBool::new(false),
                received: AtomicU64::new(0),
                full: AtomicU64::new(0),
                waker,
                inbox: (0..sources)
                    .map(|_| ArrayQueue::new(QUEUE_CAPACITY))
                    .collect(),
            })
            .collect();
        Mesh { nodes }
    }

    pub fn shards(&self) -> usize {
        self.nodes.len()
    }

    /// The source index the control plane sends from.
    pub fn control_source(&self) -> usize {
        self.nodes.len()
    }

    /// Pushes without waking; hands the message back when the queue is full.
    pub fn try_push(&self, dest: usize, src: usize, msg: Msg) -> Result<(), Msg> {
        let node = &self.nodes[dest];
        node.inbox[src].push(msg).inspect_err(|_| {
            node.full.fetch_add(1, Ordering::Relaxed);
        })
    }

    /// Wakes `dest` if it is asleep (or about to be). Call after a batch of pushes.
    pub fn wake(&self, dest: usize) {
        let node = &self.nodes[dest];
        fence(Ordering::SeqCst);
        // Load before swapping: a busy consumer's line then stays shared instead of bouncing.
        if node.sleeping.load(Ordering::SeqCst) && node.sleeping.swap(false, Ordering::SeqCst) {
            if let Err(e) = node.waker.wake() {
                tracing::error!(shard = dest, error = %e, "cannot wake shard");
            }
        }
    }

    /// Wakes `dest` whatever its state (shutdown, control-plane messages).
    pub fn wake_always(&self, dest: usize) {
        if let Err(e) = self.nodes[dest].waker.wake() {
            tracing::error!(shard = dest, error = %e, "cannot wake shard");
        }
    }

    /// Announces that `shard` is about to block. Returns false (and stays awake) if a message
    /// arrived in the meantime, in which case the caller must not block.
    pub fn prepare_sleep(&self, shard: usize) -> bool {
        let node = &self.nodes[shard];
        node.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if node.inbox.iter().any(|q| !q.is_empty()) {
            node.sleeping.store(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub fn awake(&self, shard: usize) {
        self.nodes[shard].sleeping.store(false, Ordering::Relaxed);
    }

    /// Takes up to `budget` messages for `shard`, round-robin over its sources.
    pub fn drain(&self, shard: usize, budget: usize, mut f: impl FnMut(Msg)) -> usize {
        let node = &self.nodes[shard];
        let mut taken = 0;
        'outer: loop {
            let before = taken;
            for q in &node.inbox {
                for _ in 0..64 {
                    match q.pop() {
                        Some(m) => {
                            f(m);
                            taken += 1;
                        }
                        None => break,
                    }
                    if taken >= budget {
                        break 'outer;
                    }
                }
            }
            if taken == before {
                break;
            }
        }
        node.received.fetch_add(taken as u64, Ordering::Relaxed);
        taken
    }

    /// Messages waiting for `shard` right now (INFO, metrics).
    pub fn depth(&self, shard: usize) -> usize {
        self.nodes[shard].inbox.iter().map(|q| q.len()).sum()
    }

    pub fn received(&self, shard: usize) -> u64 {
        self.nodes[shard].received.load(Ordering::Relaxed)
    }

    pub fn full_events(&self, shard: usize) -> u64 {
        self.nodes[shard].full.load(Ordering::Relaxed)
    }
}

/// Where shards answer a [`Msg::Query`] from a thread that is not a shard (the control plane,
/// the metrics endpoint): a bounded queue, and the asking thread to unpark.
pub struct QueryReply {
    answers: ArrayQueue<(usize, HopOut)>,
    waiter: Thread,
}

impl QueryReply {
    pub fn answer(&self, shard: usize, out: HopOut) {
        if self.answers.push((shard, out)).is_err() {
            tracing::error!(shard, "query answered twice");
        }
        self.waiter.unpark();
    }
}

impl Mesh {
    /// Sends from a thread that is not a shard (control-plane source), waiting while the queue is
    /// full but not past `deadline`; hands the message back on timeout.
    pub fn push_from_outside(
        &self,
        dest: usize,
        mut msg: Msg,
        deadline: Instant,
    ) -> Result<(), Msg> {
        loop {
            match self.try_push(dest, self.control_source(), msg) {
                Ok(()) => {
                    self.wake_always(dest);
                    return Ok(());
                }
                Err(back) if Instant::now() < deadline => {
                    msg = back;
                    self.wake_always(dest);
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(back) => return Err(back),
            }
        }
    }

    /// Runs `op` on every shard and returns the outputs in shard order. Err(shard) names a shard
    /// that did not answer within `timeout`.
    pub fn query_all(
        &self,
        op: impl Fn(&mut Shard) -> HopOut + Send + Clone + 'static,
        timeout: Duration,
    ) -> Result<Vec<HopOut>, usize> {
        let deadline = Instant::now() + timeout;
        let n = self.shards();
        let reply = Arc::new(QueryReply {
            answers: ArrayQueue::new(n),
            waiter: std::thread::current(),
        });
        for dest in 0..n {
            let msg = Msg::Query {
                op: Box::new(op.clone()),
                reply: reply.clone(),
            };
            self.push_from_outside(dest, msg, deadline)
                .map_err(|_| dest)?;
        }
        let mut outs: Vec<Option<HopOut>> = (0..n).map(|_| None).collect();
        let mut got = 0;
        while got < n {
            while let Some((shard, out)) = reply.answers.pop() {
                outs[shard] = Some(out);
                got += 1;
            }
            let now = Instant::now();
            if got < n {
                if now >= deadline {
                    return Err(outs.iter().position(Option::is_none).unwrap_or(0));
                }
                std::thread::park_timeout(deadline - now);
            }
        }
        Ok(outs.into_iter().flatten().collect())
    }
}

/// A shard's outgoing messages that did not fit their queues yet, and the shards to wake.
pub struct Outbox {
    backlog: Vec<VecDeque<Msg>>,
    touched: Vec<bool>,
    backlog_len: usize,
}

impl Outbox {
    pub fn new(shards: usize) -> Outbox {
        Outbox {
            backlog: (0..shards).map(|_| VecDeque::new()).collect(),
            touched: vec![false; shards],
            backlog_len: 0,
        }
    }

    /// Queues `msg` for `dest`, behind any backlog to the same shard.
    pub fn send(&mut self, mesh: &Mesh, src: usize, dest: usize, msg: Msg) {
        self.touched[dest] = true;
        if !self.backlog[dest].is_empty() {
            self.backlog[dest].push_back(msg);
            self.backlog_len += 1;
            return;
        }
        if let Err(msg) = mesh.try_push(dest, src, msg) {
            self.backlog[dest].push_back(msg);
            self.backlog_len += 1;
        }
    }

    /// Moves backlog into queues that have room and wakes every shard sent to since last time.
    pub fn flush(&mut self, mesh: &Mesh, src: usize) {
        if self.backlog_len > 0 {
            for (dest, backlog) in self.backlog.iter_mut().enumerate() {
                while let Some(msg) = backlog.pop_front() {
                    if let Err(msg) = mesh.try_push(dest, src, msg) {
                        backlog.push_front(msg);
                        break;
                    }
                    self.backlog_len -= 1;
                    self.touched[dest] = true;
                }
            }
        }
        for (dest, touched) in self.touched.iter_mut().enumerate() {
            if std::mem::take(touched) {
                mesh.wake(dest);
            }
        }
    }

    pub fn backlog(&self) -> usize {
        self.backlog_len
    }

    pub fn congested(&self) -> bool {
        self.backlog_len >= OUTBOX_HIGH_WATER
    }
}
