//! Multi-shard atomicity (DESIGN rule 5): a small VLL-style protocol after Dragonfly's.
//!
//! A command whose keys live on several shards is run by a *coordinator* on the connection's
//! shard, as a plan of [`Step`]s: each step runs one closure on each of some shards ("a hop") and
//! hands their outputs to a continuation, which replies or asks for another hop.
//!
//! Atomic plans first *schedule* on every shard they touch:
//! 1. The coordinator draws a transaction id from one global atomic counter.
//! 2. Each participant accepts the id only if it is larger than every id it accepted before, so
//!    each shard's queue is sorted by id and all shards agree on the order of any two
//!    transactions they share. On acceptance it queues the transaction and sets *intents* on its
//!    keys (or on the whole shard). A rejection (ids crossed in flight) makes the coordinator
//!    release what was accepted and schedule again with a fresh id.
//! 3. Once every participant accepted, hops are sent. A participant runs a hop only when its
//!    transaction reaches the head of its queue, and keeps it there (intents held) until the
//!    coordinator's last hop or a release, so no one observes a half-applied transaction.
//!
//! Commands on keys without intents never wait: they run at once. A command on a key with an
//! intent is queued behind the holder (and sets its own intents, keeping per-key order). No shard
//! thread ever blocks: waiting is an entry in a queue while the thread keeps serving. The smallest
//! scheduled transaction is at the head of every queue it is in, so the system always progresses.

use std::collections::{HashMap, VecDeque};

use ahash::RandomState;
use bytes::Bytes;

use super::{ExecReq, Shard};
use crate::keyspace::Entry;
use crate::resp::Reply;

/// Work run on a shard during a hop.
pub type ShardOp = Box<dyn FnOnce(&mut Shard) -> HopOut + Send>;

/// What the coordinator does with the hop's outputs (in the order the ops were given).
pub type Then = Box<dyn FnOnce(Vec<HopOut>) -> Step>;

/// The output of one op.
pub enum HopOut {
    Reply(Reply),
    /// Entries of the keys asked for, in order; None for a missing key.
    Entries(Vec<Option<Entry>>),
    /// A shard's contribution to INFO.
    Info(Box<super::ShardInfo>),
}

impl HopOut {
    pub fn into_info(self) -> Option<super::ShardInfo> {
        match self {
            HopOut::Info(i) => Some(*i),
            _ => None,
        }
    }

    pub fn into_reply(self) -> Reply {
        match self {
            HopOut::Reply(r) => r,
            _ => Reply::error("ERR internal: unexpected hop output"),
        }
    }
}

/// What a plan locks on one shard.
#[derive(Clone, Debug)]
pub enum Lock {
    Keys(Vec<Bytes>),
    /// Every key of the shard (FLUSHALL, SWAPDB, DBSIZE, KEYS).
    All,
}

/// The next thing a command needs.
pub enum Step {
    Reply(Reply),
    /// Close the connection without a reply (SHUTDOWN).
    Close,
    /// The reply comes later from another thread (SAVE): the connection keeps its reply slot
    /// and `answer_later` gets the address to send `Msg::Reply` to.
    Defer(Box<dyn FnOnce(super::Origin) + Send>),
    /// A blocking command's plan found nothing to serve: park it until its keys are written.
    Block(Box<BlockedPlan>),
    Hop {
        /// Intents to take before the first hop; empty for a plain fan-out, ignored on later steps.
        locks: Vec<(usize, Lock)>,
        /// At most one op per shard.
        ops: Vec<(usize, ShardOp)>,
        /// Whether this is the plan's last hop: participants release their intents after it.
        last: bool,
        then: Then,
    },
}

impl Step {
    /// A fan-out to `shards` whose outputs are folded into one reply.
    pub fn fan_out(
        shards: impl IntoIterator<Item = usize>,
        locks: Option<Lock>,
        op: impl Fn(&mut Shard) -> HopOut + Send + Clone + 'static,
        merge: impl FnOnce(Vec<HopOut>) -> Reply + 'static,
    ) -> Step {
        let shards: Vec<usize> = shards.into_iter().collect();
        Step::Hop {
            locks: locks.map_or_else(Vec::new, |l| {
                shards.iter().map(|&s| (s, l.clone())).collect()
            }),
            ops: shards
                .iter()
                .map(|&s| (s, Box::new(op.clone()) as ShardOp))
                .collect(),
            last: true,
            then: Box::new(move |outs| Step::Reply(merge(outs))),
        }
    }
}

/// Identifies a coordinator: its shard and its number there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoordRef {
    pub shard: usize,
    pub id: u64,
}

enum TxState {
    /// Scheduled, waiting for a hop.
    Idle,
    Armed {
        op: ShardOp,
        index: usize,
        release: bool,
    },
    /// Ran a hop; holds its place and intents until the next hop or a release.
    Held,
}

enum Queued {
    /// A command that found one of its keys under an intent.
    Local { req: ExecReq, keys: Vec<Bytes> },
    Tx {
        txid: u64,
        coord: CoordRef,
        lock: Lock,
        state: TxState,
    },
}

/// Whether a transaction has run a hop on this shard.
fn started(state: &TxState) -> bool {
    matches!(state, TxState::Held)
}

/// What the head of the queue asks the shard to do.
pub enum Ready {
    Local(ExecReq),
    Hop {
        coord: CoordRef,
        index: usize,
        op: ShardOp,
    },
}

/// The participant side: a shard's queue of waiting work and the intents it holds.
#[derive(Default)]
pub struct TxQueue {
    entries: VecDeque<Queued>,
    /// The largest transaction id that ran a hop here and is gone from the queue.
    max_ran: u64,
    intents: HashMap<Bytes, u32, RandomState>,
    all: u32,
}

impl TxQueue {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a command on `keys` must wait.
    pub fn conflicts<'a>(&self, mut keys: impl Iterator<Item = &'a [u8]>) -> bool {
        !self.entries.is_empty() && (self.all > 0 || keys.any(|k| self.intents.contains_key(k)))
    }

    pub fn push_local(&mut self, req: ExecReq, keys: Vec<Bytes>) {
        self.add_intents(&Lock::Keys(keys.clone()));
        self.entries.push_back(Queued::Local { req, keys });
    }

    /// Step 2 of the protocol. A transaction is placed in id order among the transactions that
    /// have not started here, but never ahead of a queued local command (which arrived first)
    /// nor of one that started. It is refused when that order cannot hold: a larger id already
    /// ran here, or would have to stay ahead of it. Ids from different coordinators arrive
    /// slightly out of order all the time; placing instead of refusing avoids most retries.
    pub fn schedule(&mut self, txid: u64, coord: CoordRef, lock: Lock) -> bool {
        if txid <= self.max_ran {
            return false;
        }
        let floor = self
            .entries
            .iter()
            .rposition(|e| match e {
                Queued::Local { .. } => true,
                Queued::Tx { txid: t, state, .. } => *t < txid || started(state),
            })
            .map_or(0, |i| i + 1);
        let larger_ahead = self
            .entries
            .iter()
            .take(floor)
            .any(|e| matches!(e, Queued::Tx { txid: t, .. } if *t > txid));
        if larger_ahead {
            return false;
        }
        self.add_intents(&lock);
        self.entries.insert(
            floor,
            Queued::Tx {
                txid,
                coord,
                lock,
                state: TxState::Idle,
            },
        );
        true
    }

    /// Hands a hop to its scheduled transaction; gives the op back if there is none here.
    pub fn arm(
        &mut self,
        txid: u64,
        op: ShardOp,
        index: usize,
        release: bool,
    ) -> Result<(), ShardOp> {
        for e in self.entries.iter_mut() {
            if let Queued::Tx { txid: t, state, .. } = e {
                if *t == txid {
                    *state = TxState::Armed { op, index, release };
                    return Ok(());
                }
            }
        }
        Err(op)
    }

    /// Drops a transaction wherever it is in the queue, with its intents.
    pub fn release(&mut self, txid: u64) {
        if let Some(i) = self
            .entries
            .iter()
            .position(|e| matches!(e, Queued::Tx { txid: t, .. } if *t == txid))
        {
            if let Some(Queued::Tx { lock, state, .. }) = self.entries.remove(i) {
                if started(&state) {
                    self.max_ran = self.max_ran.max(txid);
                }
                self.remove_intents(&lock);
            }
        }
    }

    /// The next piece of work at the head of the queue, if it can run now.
    pub fn pop_ready(&mut self) -> Option<Ready> {
        match self.entries.front_mut()? {
            Queued::Local { .. } => match self.entries.pop_front() {
                Some(Queued::Local { req, keys }) => {
                    self.remove_intents(&Lock::Keys(keys));
                    Some(Ready::Local(req))
                }
                _ => None,
            },
            Queued::Tx {
                state: state @ TxState::Armed { .. },
                coord,
                ..
            } => {
                let coord = *coord;
                let TxState::Armed { op, index, release } = std::mem::replace(state, TxState::Held)
                else {
                    return None;
                };
                if release {
                    if let Some(Queued::Tx { txid, lock, .. }) = self.entries.pop_front() {
                        self.max_ran = self.max_ran.max(txid);
                        self.remove_intents(&lock);
                    }
                }
                Some(Ready::Hop { coord, index, op })
            }
            Queued::Tx { .. } => None,
        }
    }

    fn add_intents(&mut self, lock: &Lock) {
        match lock {
            Lock::All => self.all += 1,
            Lock::Keys(keys) => {
                for k in keys {
                    *self.intents.entry(k.clone()).or_insert(0) += 1;
                }
            }
        }
    }

    fn remove_intents(&mut self, lock: &Lock) {
        match lock {
            Lock::All => self.all -= 1,
            Lock::Keys(keys) => {
                for k in keys {
                    if let Some(n) = self.intents.get_mut(k) {
                        *n -= 1;
                        if *n == 0 {
                            self.intents.remove(k);
                        }
                    }
                }
            }
        }
    }
}

/// The coordinator side of one running plan.
pub struct Coordinator {
    pub origin: super::Origin,
    /// The command being run, for the command statistics.
    pub command: &'static str,
    pub started: std::time::Instant,
    pub txid: u64,
    /// The plan's locks, kept to schedule again after a rejection.
    pub locks: Vec<(usize, Lock)>,
    /// Shards that accepted and have not released yet.
    pub holding: Vec<usize>,
    pub stage: Stage,
}

pub enum Stage {
    Scheduling {
        waiting: usize,
        rejected: bool,
        ops: Vec<(usize, ShardOp)>,
        last: bool,
        then: Then,
    },
    Running {
        outs: Vec<Option<HopOut>>,
        waiting: usize,
        then: Then,
    },
}

/// A command to run inside a plan: its table entry and arguments.
pub type PlannedCommand = (&'static crate::command::CommandSpec, Vec<Bytes>);

/// A blocking command whose multi-shard plan found nothing, with how it waits.
pub struct BlockedPlan {
    pub command: PlannedCommand,
    pub db: usize,
    pub wait: crate::command::WouldBlock,
}

/// The plan for a key command whose keys span shards: fetch copies of the entries under intents,
/// run the command's own handler over them, and (for a write) store the results back on their
/// shards in a second hop before replying. The handler needs no knowledge of shards.
pub fn keys_plan(
    spec: &'static crate::command::CommandSpec,
    db: usize,
    args: Vec<Bytes>,
    now: u64,
    shards: usize,
    databases: usize,
    max_string: u64,
) -> Step {
    commands_plan(
        vec![(spec, args)],
        None,
        db,
        now,
        shards,
        databases,
        max_string,
    )
}

/// `(db, key)` pairs grouped by the shard that owns the key, each group without repeats.
pub fn by_shard(
    keys: impl IntoIterator<Item = (usize, Bytes)>,
    shards: usize,
) -> Vec<(usize, Vec<(usize, Bytes)>)> {
    let mut groups: Vec<(usize, Vec<(usize, Bytes)>)> = Vec::new();
    for entry in keys {
        let shard = crate::slot::key_shard(&entry.1, shards);
        match groups.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, group)) if group.contains(&entry) => {}
            Some((_, group)) => group.push(entry),
            None => groups.push((shard, vec![entry])),
        }
    }
    groups
}

/// What EXEC adds to a plan: the reply is the array of all replies, and the client's watched
/// keys are checked first.
pub struct ExecPlan {
    /// The client and its watched keys, if it watches any.
    pub watch: Option<(u64, Vec<(usize, Bytes)>)>,
}

/// The same for a list of commands run as one atomic unit (MULTI/EXEC): every key of every
/// command is locked, the commands run in order over the copies, and with `exec` the reply is
/// the array of their replies instead of the single reply.
pub fn commands_plan(
    commands: Vec<PlannedCommand>,
    exec: Option<ExecPlan>,
    db: usize,
    now: u64,
    shards: usize,
    databases: usize,
    max_string: u64,
) -> Step {
    let as_array = exec.is_some();
    let watch = exec.and_then(|e| e.watch);
    use crate::command::{Ctx, Flags, Run};
    use crate::keyspace::Keyspace;

    // Each key with the database it lives in: the selected one, except a destination that a
    // command names in another database (COPY ... DB n).
    // SELECT inside EXEC moves the commands after it to another database.
    let command_dbs = crate::command::transactions::databases_of(&commands, db, databases);
    let mut keys = Vec::new();
    for ((spec, args), &db) in commands.iter().zip(&command_dbs) {
        let positions: Vec<usize> = spec.key_positions(args);
        let dest = spec
            .dest_db
            .and_then(|f| f(args))
            .filter(|&d| d < databases);
        for &i in &positions {
            let key_db = match dest {
                Some(d) if Some(&i) == positions.last() => d,
                _ => db,
            };
            keys.push((key_db, args[i].clone()));
        }
    }
    // EXEC after WATCH: the watched keys are locked with the others, and the first hop checks
    // (and drops) the client's watches on each shard under those locks.
    let watcher = watch.as_ref().map(|(client, _)| *client);
    let (watched, watched_on) = match watch {
        Some((_, w)) => (w.clone(), by_shard(w, shards)),
        None => (Vec::new(), Vec::new()),
    };
    keys.extend(watched);
    let per_shard = by_shard(keys, shards);
    let write = commands
        .iter()
        .any(|(spec, _)| spec.flags.has(Flags::WRITE));
    let locks = per_shard
        .iter()
        .map(|(s, keys)| {
            (
                *s,
                Lock::Keys(keys.iter().map(|(_, k)| k.clone()).collect()),
            )
        })
        .collect();
    let ops = per_shard
        .iter()
        .map(|(s, keys)| {
            let keys = keys.clone();
            let watched = watched_on
                .iter()
                .find(|(w, _)| w == s)
                .map(|(_, k)| k.clone())
                .unwrap_or_default();
            let op: ShardOp = Box::new(move |shard: &mut Shard| {
                let now = shard.env.now;
                if let Some(client) = watcher {
                    let broken = shard.ks.watch_broken(client, &watched, now);
                    shard.ks.unwatch(client, &watched);
                    if broken {
                        return HopOut::Reply(Reply::NullArray);
                    }
                }
                // Reading copies changes nothing: not news for the log, watchers or waiters.
                let recording = shard.ks.is_recording();
                shard.ks.set_recording(false);
                let entries = keys
                    .iter()
                    .map(|(d, k)| shard.ks.db(*d).peek(k, now).cloned())
                    .collect();
                shard.ks.set_recording(recording);
                HopOut::Entries(entries)
            });
            (*s, op)
        })
        .collect();
    let then: Then = Box::new(move |outs| {
        if outs
            .iter()
            .any(|o| matches!(o, HopOut::Reply(Reply::NullArray)))
        {
            // A watched key changed: the transaction does not run (EXEC replies nil).
            return Step::Reply(Reply::NullArray);
        }
        let mut temp = Keyspace::new(databases);
        for ((_, keys), out) in per_shard.iter().zip(outs) {
            if let HopOut::Entries(entries) = out {
                for ((d, k), e) in keys.iter().zip(entries) {
                    if let Some(e) = e {
                        temp.db(*d).put(k, e);
                    }
                }
            }
        }
        // PUBLISH inside EXEC goes out once the writes are in place; it replies its receivers.
        let publishes: Vec<(usize, Bytes, Bytes)> = commands
            .iter()
            .enumerate()
            .filter(|(_, (spec, _))| spec.name == "publish")
            .filter_map(|(i, (_, args))| Some((i, args.get(1)?.clone(), args.get(2)?.clone())))
            .collect();
        let mut blocked = None;
        let replies: Vec<Reply> = commands
            .iter()
            .zip(&command_dbs)
            .map(|((spec, args), &db)| match spec.run {
                Run::Keys(handler) => {
                    let mut ctx = Ctx {
                        ks: &mut temp,
                        db,
                        args,
                        now,
                        max_string,
                    };
                    match handler(&mut ctx) {
                        // Alone, a blocking command may wait; inside EXEC it may not.
                        Err(crate::command::OpError::Blocked(wait)) if !as_array => {
                            blocked = Some(wait);
                            Reply::Null
                        }
                        other => other.unwrap_or_else(Reply::from),
                    }
                }
                _ if spec.name == "publish" => Reply::Int(0),
                _ if spec.name == "select" => {
                    crate::command::transactions::select_reply(args, databases)
                }
                _ => crate::command::transactions::keyless_reply(spec, args),
            })
            .collect();
        if let (Some(wait), Some(command)) = (blocked, commands.into_iter().next()) {
            return Step::Block(Box::new(BlockedPlan {
                command,
                db,
                wait: *wait,
            }));
        }
        let finish = move |mut replies: Vec<Reply>| {
            if as_array {
                Reply::Array(replies)
            } else {
                replies.pop().unwrap_or(Reply::Null)
            }
        };
        let write_back = write && !per_shard.is_empty();
        if !write_back && publishes.is_empty() {
            return Step::Reply(finish(replies));
        }
        // The commands' keyspace events go out once their writes are in place.
        let mut events = Some(temp.take_events()).filter(|e| !e.is_empty());
        let per_shard = if write_back { per_shard } else { Vec::new() };
        let mut ops: Vec<(usize, ShardOp)> = per_shard
            .into_iter()
            .map(|(s, keys)| {
                let finals: Vec<(usize, Bytes, Option<Entry>)> = keys
                    .into_iter()
                    .map(|(d, k)| {
                        let entry = temp.db(d).peek(&k, now).cloned();
                        (d, k, entry)
                    })
                    .collect();
                let events = events.take();
                let op: ShardOp = Box::new(move |shard: &mut Shard| {
                    for (d, k, e) in finals {
                        match e {
                            Some(e) => shard.ks.db(d).put(&k, e),
                            None => {
                                shard.ks.db(d).remove(&k);
                            }
                        }
                    }
                    if let Some(events) = events {
                        shard.broadcast_events(events);
                    }
                    HopOut::Reply(Reply::OK)
                });
                (s, op)
            })
            .collect();
        if !publishes.is_empty() {
            let messages: std::sync::Arc<Vec<(Bytes, Bytes)>> = std::sync::Arc::new(
                publishes
                    .iter()
                    .map(|(_, c, m)| (c.clone(), m.clone()))
                    .collect(),
            );
            for dest in 0..shards {
                let messages = messages.clone();
                let publish = move |shard: &mut Shard| {
                    HopOut::Reply(Reply::Array(
                        messages
                            .iter()
                            .map(|(c, m)| Reply::Int(shard.publish_here(c, m) as i64))
                            .collect(),
                    ))
                };
                // At most one op per shard: a shard with a write-back publishes after it.
                let op: ShardOp = match ops.iter().position(|(d, _)| *d == dest) {
                    Some(i) => {
                        let (_, write) = ops.swap_remove(i);
                        Box::new(move |shard: &mut Shard| {
                            write(shard);
                            publish(shard)
                        })
                    }
                    None => Box::new(publish),
                };
                ops.push((dest, op));
            }
        }
        Step::Hop {
            locks: Vec::new(),
            ops,
            last: true,
            then: Box::new(move |outs| {
                let mut replies = replies;
                for out in outs {
                    let Reply::Array(counts) = out.into_reply() else {
                        continue;
                    };
                    for ((i, _, _), count) in publishes.iter().zip(counts) {
                        if let (Some(Reply::Int(total)), Reply::Int(n)) =
                            (replies.get_mut(*i), count)
                        {
                            *total += n;
                        }
                    }
                }
                Step::Reply(finish(replies))
            }),
        }
    });
    Step::Hop {
        locks,
        ops,
        last: !write,
        then,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: CoordRef = CoordRef { shard: 0, id: 0 };

    fn keys(k: &[&str]) -> Lock {
        Lock::Keys(
            k.iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect(),
        )
    }

    fn order(q: &TxQueue) -> Vec<u64> {
        q.entries
            .iter()
            .map(|e| {
                if let Queued::Tx { txid, .. } = e {
                    *txid
                } else {
                    0
                }
            })
            .collect()
    }

    fn noop() -> ShardOp {
        Box::new(|_| HopOut::Reply(Reply::OK))
    }

    #[test]
    fn late_ids_are_placed_in_order() {
        let mut q = TxQueue::default();
        assert!(q.schedule(5, C, keys(&["a"])));
        assert!(q.schedule(3, C, keys(&["a"])));
        assert!(q.schedule(4, C, Lock::All));
        assert_eq!(order(&q), vec![3, 4, 5]);
        assert!(
            q.conflicts([&b"zzz"[..]].into_iter()),
            "a whole-shard lock blocks every key"
        );
    }

    #[test]
    fn refuses_what_would_reorder_shared_transactions() {
        let mut q = TxQueue::default();
        assert!(q.schedule(7, C, keys(&["a"])));
        assert!(q.arm(7, noop(), 0, false).is_ok());
        assert!(matches!(q.pop_ready(), Some(Ready::Hop { .. })));
        // 7 has run a hop here and holds its place: 6 may not go ahead of it.
        assert!(!q.schedule(6, C, keys(&["a"])));
        q.release(7);
        // 7 ran here, so 6 would now be ordered after it here but maybe before it elsewhere.
        assert!(!q.schedule(6, C, keys(&["a"])));
        assert!(q.schedule(8, C, keys(&["a"])));
    }

    #[test]
    fn never_overtakes_a_queued_local_command() {
        let mut q = TxQueue::default();
        assert!(q.schedule(10, C, keys(&["k"])));
        // A GET k arrives and waits behind 10.
        let origin = super::super::Origin {
            shard: 0,
            token: 0,
            conn_id: 1,
            seq: 0,
        };
        let args = vec![Bytes::from_static(b"GET"), Bytes::from_static(b"k")];
        let spec = crate::command::lookup(b"get").expect("get is in the table");
        q.push_local(
            ExecReq {
                origin,
                db: 0,
                args,
                spec,
            },
            vec![Bytes::from_static(b"k")],
        );
        // 9 would have to go ahead of the GET (it arrived later) yet stay behind 10: refused.
        assert!(!q.schedule(9, C, keys(&["k"])));
        assert!(q.schedule(11, C, keys(&["k"])));
        assert_eq!(order(&q), vec![10, 0, 11]);
    }
}
