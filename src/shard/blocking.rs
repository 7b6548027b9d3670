//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN, BLMPOP, XREAD BLOCK ...): where a command that
//! found nothing to serve waits, and how it is woken.
//!
//! A blocking command's handler answers [`OpError::Blocked`](crate::command::OpError) when there
//! is nothing to serve. Then:
//! - If its keys live on one shard, that shard keeps it as a *local waiter*, queued in arrival
//!   order on each of its keys. A write touching a key with waiters (seen through the same key
//!   recording as WATCH) marks the key ready; right after that write the shard retries the key's
//!   waiters in arrival order, so the first to block is served first and no other command runs
//!   between the write and the wake-up, as in Redis.
//! - If its keys span shards, the connection's shard *parks* it and registers a *remote waiter*
//!   on each shard owning one of its keys. A write there tells the parking shard, which runs the
//!   command's atomic multi-shard plan again. Each registration also reports once when it is in
//!   place, so a write that raced the registration is not missed. Arrival order holds per shard
//!   of registration, not strictly across shards.
//!
//! Deadlines live where the waiting is (local waiters on the keys' shard, parked commands on the
//! connection's shard); the shard loop sleeps no longer than the nearest one. A client that
//! closes while blocked is forgotten everywhere.

use std::collections::{BTreeSet, HashMap, VecDeque};

use ahash::RandomState;
use bytes::Bytes;

use super::txn::{self, PlannedCommand};
use super::{ExecReq, Msg, Origin, Shard};
use crate::command::{OpError, WouldBlock};
use crate::resp::Reply;

/// A blocked command found nothing again after a write: it keeps its place.
type Attempt = Result<Reply, Box<WouldBlock>>;

enum Waiter {
    /// A single-shard command waiting here, retried here.
    Local {
        req: ExecReq,
        keys: Vec<(usize, Bytes)>,
        deadline: u64,
        on_timeout: Reply,
    },
    /// A multi-shard command parked on shard `coord` as `parked`; a write here only tells it.
    Remote {
        keys: Vec<(usize, Bytes)>,
        coord: usize,
        parked: u64,
    },
}

impl Waiter {
    fn keys(&self) -> &[(usize, Bytes)] {
        match self {
            Waiter::Local { keys, .. } | Waiter::Remote { keys, .. } => keys,
        }
    }
}

/// A multi-shard blocking command, parked on its connection's shard.
struct Parked {
    origin: Origin,
    command: &'static str,
    planned: PlannedCommand,
    db: usize,
    deadline: u64,
    on_timeout: Reply,
    /// Shards holding a remote waiter for it.
    shards: Vec<usize>,
    /// Its plan is running again; `again` notes a wake-up meanwhile.
    running: bool,
    again: bool,
    /// Its time ran out while its plan was running.
    expired: bool,
}

/// What waits on one shard.
#[derive(Default)]
pub(super) struct Blocking {
    next_id: u64,
    waiters: HashMap<u64, Waiter, RandomState>,
    /// Waiter ids by key, in arrival order, with the database they wait in.
    by_key: HashMap<Bytes, VecDeque<(usize, u64)>, RandomState>,
    /// Remote waiters by (parking shard, parked id).
    remote: HashMap<(usize, u64), u64, RandomState>,
    /// (deadline in ms since the epoch, parked?, id).
    deadlines: BTreeSet<(u64, bool, u64)>,
    /// Keys with waiters written since the last serve, in the order written.
    ready: VecDeque<(usize, Bytes)>,
    serving: bool,
    parked: HashMap<u64, Parked, RandomState>,
    parked_by_origin: HashMap<(u64, u64), u64, RandomState>,
    /// Clients recently gone while blocked (ids are never reused): a command of theirs still
    /// queued behind a transaction must not start waiting after they were forgotten.
    gone: VecDeque<u64>,
}

/// How many gone clients `Blocking::gone` remembers.
const GONE_REMEMBERED: usize = 1024;

impl Blocking {
    /// Whether writes must report the keys they touch.
    pub fn has_waiters(&self) -> bool {
        !self.by_key.is_empty()
    }

    /// Clients waiting here (INFO blocked_clients); remote waiters count where they are parked.
    pub fn blocked_clients(&self) -> usize {
        self.parked.len()
            + self
                .waiters
                .values()
                .filter(|w| matches!(w, Waiter::Local { .. }))
                .count()
    }

    /// A write touched `key` of `db`.
    pub fn touched(&mut self, db: usize, key: &[u8]) {
        if self
            .by_key
            .get(key)
            .is_some_and(|ids| ids.iter().any(|(d, _)| *d == db))
        {
            self.ready.push_back((db, Bytes::copy_from_slice(key)));
        }
    }

    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Forgets the keys marked ready since `len` (a command that changed nothing).
    pub fn truncate_ready(&mut self, len: usize) {
        self.ready.truncate(len);
    }

    /// The nearest deadline, in ms since the epoch.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.first().map(|d| d.0)
    }

    fn add(&mut self, waiter: Waiter) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let mut seen: Vec<&(usize, Bytes)> = Vec::new();
        for k in waiter.keys() {
            if !seen.contains(&k) {
                seen.push(k);
                self.by_key
                    .entry(k.1.clone())
                    .or_default()
                    .push_back((k.0, id));
            }
        }
        if let Waiter::Local { deadline, .. } = &waiter {
            if *deadline > 0 {
                self.deadlines.insert((*deadline, false, id));
            }
        }
        if let Waiter::Remote { coord, parked, .. } = &waiter {
            self.remote.insert((*coord, *parked), id);
        }
        self.waiters.insert(id, waiter);
        id
    }

    /// Forgets waiter `id` on all its keys.
    fn remove(&mut self, id: u64) -> Option<Waiter> {
        let waiter = self.waiters.remove(&id)?;
        for (_, key) in waiter.keys() {
            if let Some(ids) = self.by_key.get_mut(key) {
                ids.retain(|(_, w)| *w != id);
                if ids.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
        match &waiter {
            Waiter::Local { deadline, .. } => {
                self.deadlines.remove(&(*deadline, false, id));
            }
            Waiter::Remote { coord, parked, .. } => {
                self.remote.remove(&(*coord, *parked));
            }
        }
        Some(waiter)
    }
}

/// The keys of a blocking command, with their databases.
fn command_keys(planned: &PlannedCommand, db: usize) -> Vec<(usize, Bytes)> {
    let (spec, args) = planned;
    spec.key_positions(args)
        .into_iter()
        .map(|i| (db, args[i].clone()))
        .collect()
}

fn deadline(now: u64, timeout_ms: u64) -> u64 {
    if timeout_ms == 0 {
        0
    } else {
        now.saturating_add(timeout_ms)
    }
}

impl Shard {
    /// Keeps a single-shard command that found nothing as a local waiter.
    pub(super) fn block_local(&mut self, mut req: ExecReq, wait: WouldBlock) {
        if self.blocking.gone.contains(&req.origin.conn_id) {
            return;
        }
        if let Some(args) = wait.retry_args {
            req.args = args;
        }
        let keys = command_keys(&(req.spec, req.args.clone()), req.db);
        let deadline = deadline(self.env.now, wait.timeout_ms);
        self.blocking.add(Waiter::Local {
            req,
            keys,
            deadline,
            on_timeout: wait.on_timeout,
        });
    }

    /// Retries the waiters of the keys written since the last call, in arrival order. Runs
    /// after every write while anything waits; writes made by served waiters (BLMOVE's push)
    /// wake further waiters in the same call.
    pub(super) fn serve_blocked(&mut self) {
        if self.blocking.serving || self.blocking.ready.is_empty() {
            return;
        }
        self.blocking.serving = true;
        let mut told: Vec<(usize, u64)> = Vec::new();
        while let Some((db, key)) = self.blocking.ready.pop_front() {
            let ids: Vec<u64> = match self.blocking.by_key.get(&key) {
                Some(ids) => ids
                    .iter()
                    .filter(|(d, _)| *d == db)
                    .map(|(_, id)| *id)
                    .collect(),
                None => continue,
            };
            for id in ids {
                match self.blocking.waiters.get(&id) {
                    Some(Waiter::Remote { coord, parked, .. })
                        if !told.contains(&(*coord, *parked)) =>
                    {
                        told.push((*coord, *parked));
                    }
                    Some(Waiter::Remote { .. }) => {}
                    Some(Waiter::Local { .. }) => self.retry_local(id),
                    None => {}
                }
            }
        }
        self.blocking.serving = false;
        for (coord, parked) in told {
            self.send(
                coord,
                Msg::Do(Box::new(move |s: &mut Shard| s.parked_ready(parked))),
            );
        }
    }

    /// Runs local waiter `id` again: served, it leaves; still nothing, it keeps its place.
    fn retry_local(&mut self, id: u64) {
        let Some(Waiter::Local { req, keys, .. }) = self.blocking.waiters.get(&id) else {
            return;
        };
        // A transaction holds one of its keys: it waits in the queue behind it, as a new
        // request would (and blocks again there if it still finds nothing).
        if self.txq.conflicts(keys.iter().map(|(_, k)| &k[..])) {
            if let Some(Waiter::Local { req, keys, .. }) = self.blocking.remove(id) {
                self.txq
                    .push_local(req, keys.into_iter().map(|(_, k)| k).collect());
            }
            return;
        }
        let (spec, db, args) = (req.spec, req.db, req.args.clone());
        let ready_before = self.blocking.ready_len();
        let attempt: Attempt = match self.run_handler(spec, db, &args) {
            // Redis 7.0 keeps a client blocked while its key holds another type.
            Ok(reply) if reply == Reply::from(OpError::WrongType) => {
                self.blocking.truncate_ready(ready_before);
                return;
            }
            other => other,
        };
        if let Ok(reply) = attempt {
            if let Some(Waiter::Local { req, .. }) = self.blocking.remove(id) {
                self.deliver(req.origin, reply);
            }
        }
    }

    /// Replies to the waiters whose time ran out, here and among the commands parked here.
    pub(super) fn expire_blocked(&mut self) {
        let now = self.env.now;
        while let Some(&(at, parked, id)) = self.blocking.deadlines.first() {
            if at > now {
                break;
            }
            self.blocking.deadlines.pop_first();
            if parked {
                self.parked_timeout(id);
            } else if let Some(Waiter::Local {
                req, on_timeout, ..
            }) = self.blocking.remove(id)
            {
                self.deliver(req.origin, on_timeout);
            }
        }
    }

    /// A multi-shard blocking command's plan found nothing: park it (or, when it was already
    /// parked, go back to waiting).
    pub(super) fn park(
        &mut self,
        origin: Origin,
        command: &'static str,
        planned: PlannedCommand,
        db: usize,
        wait: WouldBlock,
    ) {
        if let Some(&id) = self
            .blocking
            .parked_by_origin
            .get(&(origin.conn_id, origin.seq))
        {
            let Some(p) = self.blocking.parked.get_mut(&id) else {
                return;
            };
            p.running = false;
            if p.expired {
                self.parked_timeout(id);
            } else if std::mem::take(&mut p.again) {
                self.parked_ready(id);
            }
            return;
        }
        // A re-run that finished after its client left (and was unparked) parks nothing.
        let alive = self
            .conns
            .get(origin.token)
            .and_then(Option::as_ref)
            .is_some_and(|c| c.client.id == origin.conn_id);
        if !alive {
            return;
        }
        let (spec, mut args) = planned;
        if let Some(retry) = wait.retry_args {
            args = retry;
        }
        let planned = (spec, args);
        let keys = command_keys(&planned, db);
        self.blocking.next_id += 1;
        let id = self.blocking.next_id;
        let deadline = deadline(self.env.now, wait.timeout_ms);
        if deadline > 0 {
            self.blocking.deadlines.insert((deadline, true, id));
        }
        let coord = self.env.id;
        let groups = txn::by_shard(keys, self.env.shards);
        let shards = groups.iter().map(|(s, _)| *s).collect();
        self.blocking.parked.insert(
            id,
            Parked {
                origin,
                command,
                planned,
                db,
                deadline,
                on_timeout: wait.on_timeout,
                shards,
                running: false,
                again: false,
                expired: false,
            },
        );
        self.blocking
            .parked_by_origin
            .insert((origin.conn_id, origin.seq), id);
        for (shard, keys) in groups {
            self.send(
                shard,
                Msg::Do(Box::new(move |s: &mut Shard| {
                    s.blocking.add(Waiter::Remote {
                        keys,
                        coord,
                        parked: id,
                    });
                    // In place now: one wake-up covers a write that came before it.
                    s.send(
                        coord,
                        Msg::Do(Box::new(move |c: &mut Shard| c.parked_ready(id))),
                    );
                })),
            );
        }
    }

    /// A key of parked command `id` was written: run its plan again (once at a time).
    fn parked_ready(&mut self, id: u64) {
        let Some(p) = self.blocking.parked.get_mut(&id) else {
            return;
        };
        if p.running {
            p.again = true;
            return;
        }
        p.running = true;
        let (origin, command, db) = (p.origin, p.command, p.db);
        let (spec, args) = (p.planned.0, p.planned.1.clone());
        let step = txn::keys_plan(
            spec,
            db,
            args,
            self.env.now,
            self.env.shards,
            self.ks.databases(),
            self.env.settings.proto_max_bulk_len,
        );
        self.start_step(origin, step, command);
    }

    fn parked_timeout(&mut self, id: u64) {
        let Some(p) = self.blocking.parked.get_mut(&id) else {
            return;
        };
        if p.running {
            // Its plan decides: served, it replies; nothing, `park` sees `expired`.
            p.expired = true;
            return;
        }
        let (origin, reply) = (p.origin, p.on_timeout.clone());
        self.unpark(id);
        self.deliver(origin, reply);
    }

    /// A plan for `origin` replied: if it was a parked command, it waits no more.
    pub(super) fn unpark_origin(&mut self, origin: Origin) {
        if let Some(id) = self
            .blocking
            .parked_by_origin
            .get(&(origin.conn_id, origin.seq))
            .copied()
        {
            self.unpark(id);
        }
    }

    fn unpark(&mut self, id: u64) {
        let Some(p) = self.blocking.parked.remove(&id) else {
            return;
        };
        self.blocking
            .parked_by_origin
            .remove(&(p.origin.conn_id, p.origin.seq));
        self.blocking.deadlines.remove(&(p.deadline, true, id));
        let coord = self.env.id;
        for shard in p.shards {
            self.send(
                shard,
                Msg::Do(Box::new(move |s: &mut Shard| {
                    if let Some(w) = s.blocking.remote.get(&(coord, id)).copied() {
                        s.blocking.remove(w);
                    }
                })),
            );
        }
    }

    /// Client `conn_id` of this shard closed while a blocking command of its was waiting:
    /// forget it here and on every shard.
    pub(super) fn forget_blocked_client(&mut self, conn_id: u64) {
        let parked: Vec<u64> = self
            .blocking
            .parked
            .iter()
            .filter(|(_, p)| p.origin.conn_id == conn_id)
            .map(|(id, _)| *id)
            .collect();
        for id in parked {
            self.unpark(id);
        }
        let me = self.env.id;
        for shard in 0..self.env.shards {
            self.send(
                shard,
                Msg::Do(Box::new(move |s: &mut Shard| {
                    if s.blocking.gone.len() >= GONE_REMEMBERED {
                        s.blocking.gone.pop_front();
                    }
                    s.blocking.gone.push_back(conn_id);
                    let ids: Vec<u64> = s
                        .blocking
                        .waiters
                        .iter()
                        .filter(|(_, w)| {
                            matches!(w, Waiter::Local { req, .. }
                                if req.origin.shard == me && req.origin.conn_id == conn_id)
                        })
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        s.blocking.remove(id);
                    }
                })),
            );
        }
    }

    /// CLIENT UNBLOCK: ends the wait of client `conn_id` if it waits here, with its timeout
    /// reply or, when `error`, Redis's UNBLOCKED error. Returns whether it waited here.
    pub fn unblock_client(&mut self, conn_id: u64, error: bool) -> bool {
        let reply = |on_timeout: Reply| {
            if error {
                Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
            } else {
                on_timeout
            }
        };
        let local = self.blocking.waiters.iter().find_map(|(id, w)| match w {
            Waiter::Local { req, .. } if req.origin.conn_id == conn_id => Some(*id),
            _ => None,
        });
        if let Some(Waiter::Local {
            req, on_timeout, ..
        }) = local.and_then(|id| self.blocking.remove(id))
        {
            self.deliver(req.origin, reply(on_timeout));
            return true;
        }
        let parked = self
            .blocking
            .parked
            .iter()
            .find(|(_, p)| p.origin.conn_id == conn_id)
            .map(|(id, _)| *id);
        let Some(id) = parked else {
            return false;
        };
        if let Some(p) = self.blocking.parked.get_mut(&id) {
            p.on_timeout = reply(std::mem::replace(&mut p.on_timeout, Reply::Null));
        }
        self.parked_timeout(id);
        true
    }
}
