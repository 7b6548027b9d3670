//! The shard runtime: one thread per core, each owning a keyspace partition (DESIGN rules 1-3).
//!
//! A shard's loop waits on one `mio::Poll` (epoll) holding the kernel sockets it serves and the
//! eventfd of its inbound queues; the AF_XDP socket of the dataplane joins the same set. Each turn
//! it takes socket readiness, drains its inbound messages, runs queued multi-shard work, pushes its
//! outgoing messages and writes replies, then runs housekeeping (active expiry) on a timer. With
//! nothing to do it blocks in `epoll_wait`, so an idle server uses no CPU.
//!
//! A request is parsed on the shard that owns the connection. A command whose keys live on this
//! shard runs here at once; on one other shard, it travels there as an [`ExecReq`] and its reply
//! comes back as a [`Msg::Reply`]; on several shards, the coordinator in [`txn`] runs it atomically.
//! Reply slots on each connection put replies back in request order.
//!
//! Here: the loop, messages and command execution. `connections` serves the sockets, `dataplane`
//! the AF_XDP port and userspace TCP endpoint of a shard bound to a NIC queue, `conn` is one
//! connection's state, `coordinator` runs multi-shard plans over the protocol in `txn`, `mesh`
//! holds the cross-shard queues and `stats` the shard's counters.

mod blocking;
mod conn;
mod connections;
mod coordinator;
mod dataplane;
mod journal;
mod mesh;
pub mod pubsub;
mod snapshot;
mod stats;
pub mod txn;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::net::TcpStream;
use mio::{Events, Poll, Token};
use rand::rngs::SmallRng;
use rand::SeedableRng;

pub use conn::{ClientState, Conn};
pub use dataplane::DataplaneSetup;
pub use mesh::Mesh;
pub use stats::{pubsub_unique, CmdStat, DataplaneInfo, ShardInfo, ShardStats, LATENCY_BOUNDS_US};
pub use txn::{HopOut, Lock, ShardOp, Step};

use crate::command::{self, CommandSpec, Ctx, Flags, Run};
use crate::config::Settings;
use crate::keyspace::Keyspace;
use crate::resp::Reply;
use crate::server::Server;
use mesh::Outbox;
use txn::{CoordRef, Coordinator, Ready, TxQueue};

const WAKER: Token = Token(usize::MAX);
const DATAPLANE: Token = Token(usize::MAX - 1);
/// Inbound messages handled per loop turn before sockets get another look.
const INBOX_BUDGET: usize = 4096;

/// Where a reply goes: a request's reply slot on a connection of some shard.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    pub shard: usize,
    pub token: usize,
    pub conn_id: u64,
    pub seq: u64,
}

/// A key command sent to the shard that owns its keys.
pub struct ExecReq {
    pub origin: Origin,
    pub db: usize,
    pub args: Vec<Bytes>,
    pub spec: &'static CommandSpec,
}

/// Messages between shards (and from the control plane).
pub enum Msg {
    /// A new client connection accepted by the control plane.
    Accept(TcpStream, u64),
    Exec(ExecReq),
    Reply {
        origin: Origin,
        reply: Reply,
    },
    Schedule {
        txid: u64,
        coord: CoordRef,
        lock: Lock,
    },
    Scheduled {
        coord: u64,
        shard: usize,
        ok: bool,
    },
    /// `txid == 0`: an unlocked fan-out op, run on arrival.
    Hop {
        txid: u64,
        coord: CoordRef,
        index: usize,
        op: ShardOp,
        release: bool,
    },
    HopDone {
        coord: u64,
        index: usize,
        out: HopOut,
    },
    Release {
        txid: u64,
    },
    /// Work from a thread that is not a shard (metrics, health checks), answered through `reply`.
    Query {
        op: ShardOp,
        reply: Arc<mesh::QueryReply>,
    },
    /// One-way work for the receiving shard (blocking commands' registrations and wake-ups).
    Do(Box<dyn FnOnce(&mut Shard) + Send>),
    /// Take part in a checkpoint: snapshot this shard as of now and feed the job's writer.
    Snapshot(Arc<crate::persist::saver::SaveJob>),
    Shutdown,
}

/// What command handlers may read about the shard they run on.
pub struct ShardEnv {
    pub id: usize,
    pub shards: usize,
    pub server: Arc<Server>,
    /// Milliseconds since the Unix epoch, read once per loop turn (time is passed in, not read).
    pub now: u64,
    /// Settings CONFIG SET can change; every shard holds its own copy.
    pub settings: Settings,
}

pub struct Shard {
    pub env: ShardEnv,
    pub ks: Keyspace,
    pub stats: ShardStats,
    conns: Vec<Option<Conn>>,
    free_tokens: Vec<usize>,
    poll: Poll,
    txq: TxQueue,
    coords: HashMap<u64, Coordinator>,
    next_coord: u64,
    outbox: Outbox,
    /// Messages this shard sends to itself.
    local: VecDeque<Msg>,
    /// Connections with unread socket data (read budget ran out).
    read_ready: Vec<usize>,
    /// Connections with buffered requests that were paused and may go on now.
    input_ready: Vec<usize>,
    /// Connections with replies to write.
    dirty: Vec<usize>,
    spare_tokens: Vec<usize>,
    scratch: Box<[u8]>,
    /// The argument vector requests are parsed into (see `process_input`).
    args: Vec<Bytes>,
    pub rng: SmallRng,
    stopping: bool,
    /// The NIC queue this shard serves through AF_XDP, when the dataplane is on.
    dataplane: Option<dataplane::Dataplane>,
    busy_poll: bool,
    /// Blocking commands waiting here.
    blocking: blocking::Blocking,
    /// This shard's pub/sub subscribers.
    pub pubsub: pubsub::PubSub,
    /// This shard's part of a checkpoint in progress.
    snapshot: Option<snapshot::ShardSnapshot>,
    /// This shard's append-only log, when `aof_enabled`.
    aof: Option<crate::persist::aof::ShardLog>,
    pub aof_errors: u64,
    aof_last_sync: Instant,
    /// Write commands run since start (INFO rdb_changes_since_last_save).
    pub writes: u64,
    /// `writes` when the last snapshot this shard finished began, and the job's outcome flag.
    pub writes_at_save: u64,
}

fn server_busy_poll(dataplane: &Option<DataplaneSetup>) -> bool {
    dataplane.as_ref().is_some_and(|d| d.busy_poll)
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Shard {
    pub fn new(
        id: usize,
        server: Arc<Server>,
        poll: Poll,
        dataplane: Option<DataplaneSetup>,
        ks: Keyspace,
        aof: Option<crate::persist::aof::ShardLog>,
    ) -> Shard {
        let shards = server.mesh.shards();
        let settings = Settings::from_config(&server.config);
        Shard {
            env: ShardEnv {
                id,
                shards,
                server,
                now: now_ms(),
                settings,
            },
            ks,
            stats: ShardStats::default(),
            conns: Vec::new(),
            free_tokens: Vec::new(),
            poll,
            txq: TxQueue::default(),
            coords: HashMap::new(),
            next_coord: 0,
            outbox: Outbox::new(shards),
            local: VecDeque::new(),
            read_ready: Vec::new(),
            input_ready: Vec::new(),
            dirty: Vec::new(),
            spare_tokens: Vec::new(),
            scratch: vec![0u8; 64 * 1024].into_boxed_slice(),
            args: Vec::new(),
            rng: SmallRng::from_entropy(),
            stopping: false,
            busy_poll: server_busy_poll(&dataplane),
            dataplane: dataplane.map(dataplane::Dataplane::new),
            blocking: blocking::Blocking::default(),
            pubsub: pubsub::PubSub::default(),
            snapshot: None,
            aof,
            aof_errors: 0,
            aof_last_sync: Instant::now(),
            writes: 0,
            writes_at_save: 0,
        }
    }

    /// The shard loop. Returns when the server shuts down.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let tick = Duration::from_millis(1000 / self.env.settings.hz.max(1) as u64);
        let mut next_tick = Instant::now() + tick;
        let server = self.env.server.clone();
        let mesh = &server.mesh;
        if let Some(dp) = &self.dataplane {
            let fd = dp.port.fd();
            if let Err(e) = self.poll.registry().register(
                &mut mio::unix::SourceFd(&fd),
                DATAPLANE,
                mio::Interest::READABLE,
            ) {
                tracing::error!(shard = self.env.id, error = %e, "cannot watch the AF_XDP socket");
            }
        }
        tracing::debug!(shard = self.env.id, "shard loop running");
        while !self.stopping {
            let now = Instant::now();
            let timeout = if self.has_local_work() || self.busy_poll {
                Duration::ZERO
            } else if self.outbox.backlog() > 0
                || self.snapshot.as_ref().is_some_and(|s| s.stalled())
            {
                // Another shard's queue is full: retry soon rather than spin.
                Duration::from_millis(1)
            } else if mesh.prepare_sleep(self.env.id) {
                let mut wake = match self.dataplane.as_ref().and_then(|dp| dp.iface.poll_at()) {
                    Some(at) => at.min(next_tick),
                    None => next_tick,
                };
                if let Some(at) = self.blocking.next_deadline() {
                    let ms = at.saturating_sub(now_ms());
                    wake = wake.min(now + Duration::from_millis(ms));
                }
                wake.saturating_duration_since(now)
            } else {
                Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!(shard = self.env.id, error = %e, "poll failed");
                }
            }
            mesh.awake(self.env.id);
            self.env.now = now_ms();

            let mut network_ready = self.busy_poll;
            for ev in events.iter() {
                let token = ev.token();
                if token == WAKER {
                    continue;
                }
                if token == DATAPLANE {
                    network_ready = true;
                    continue;
                }
                if ev.is_writable() {
                    self.flush_conn(token.0);
                }
                if ev.is_read_closed() || ev.is_error() {
                    if let Some(conn) = self.conns.get_mut(token.0).and_then(Option::as_mut) {
                        conn.hup = true;
                    }
                }
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.on_readable(token.0);
                }
            }
            if network_ready || self.dataplane.as_ref().is_some_and(|dp| dp.rx_pending) {
                self.dataplane_receive();
            }
            self.dataplane_events();
            self.for_each_listed(|s| &mut s.read_ready, Shard::on_readable);
            mesh.drain(self.env.id, INBOX_BUDGET, |msg| self.local.push_back(msg));
            while let Some(msg) = self.local.pop_front() {
                self.handle(msg);
            }
            self.run_queue();
            // Writes of plan hops wake blocked commands here; direct writes already did.
            self.serve_blocked();
            self.expire_blocked();
            // Events of plan hops and of keys that expired on a lookup.
            self.publish_events();
            if !self.outbox.congested() {
                self.for_each_listed(|s| &mut s.input_ready, Shard::process_input);
            }
            // Group commit before any reply of this turn leaves (other shards, sockets).
            self.journal_commit();
            self.outbox.flush(mesh, self.env.id);
            self.for_each_listed(|s| &mut s.dirty, Shard::flush_conn);
            self.dataplane_transmit();
            self.snapshot_step();
            if Instant::now() >= next_tick {
                self.housekeeping();
                next_tick = Instant::now() + tick;
            }
        }
        tracing::debug!(shard = self.env.id, "shard loop stopped");
    }

    /// Runs `f` on every token of one of the connection lists, emptying it; reuses one spare
    /// vector so the loop allocates nothing per turn.
    fn for_each_listed(
        &mut self,
        list: fn(&mut Shard) -> &mut Vec<usize>,
        f: fn(&mut Shard, usize),
    ) {
        let mut batch = std::mem::take(&mut self.spare_tokens);
        std::mem::swap(&mut batch, list(self));
        for &token in &batch {
            f(self, token);
        }
        batch.clear();
        self.spare_tokens = batch;
    }

    fn has_local_work(&self) -> bool {
        self.dataplane.as_ref().is_some_and(|dp| dp.rx_pending)
            || self.snapshot.as_ref().is_some_and(|s| !s.stalled())
            || !self.local.is_empty()
            || !self.read_ready.is_empty()
            || (!self.input_ready.is_empty() && !self.outbox.congested())
            || !self.dirty.is_empty()
    }

    fn housekeeping(&mut self) {
        self.journal_sync_request();
        // Active expiry, Redis-style: sample keys with a TTL; go on while a quarter or more of a
        // sample had expired, within a time budget of a quarter of the tick.
        let budget = Duration::from_micros(250_000 / self.env.settings.hz.max(1) as u64);
        let start = Instant::now();
        let now = self.env.now;
        for db in self.ks.dbs() {
            loop {
                let (sampled, expired) = db.expire_sample(now, 20, &mut self.rng);
                if sampled == 0 || expired * 4 < sampled || start.elapsed() > budget {
                    break;
                }
            }
        }
        self.publish_events();
    }

    // ---- messages -------------------------------------------------------------------------

    fn send(&mut self, dest: usize, msg: Msg) {
        if dest == self.env.id {
            self.local.push_back(msg);
        } else {
            self.outbox
                .send(&self.env.server.mesh, self.env.id, dest, msg);
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Accept(stream, id) => self.accept(stream, id),
            Msg::Exec(req) => self.exec_or_queue(req),
            Msg::Reply { origin, reply } => self.complete(origin, reply),
            Msg::Schedule { txid, coord, lock } => {
                let ok = self.txq.schedule(txid, coord, lock);
                self.send(
                    coord.shard,
                    Msg::Scheduled {
                        coord: coord.id,
                        shard: self.env.id,
                        ok,
                    },
                );
            }
            Msg::Scheduled { coord, shard, ok } => self.on_scheduled(coord, shard, ok),
            Msg::Hop {
                txid,
                coord,
                index,
                op,
                release,
            } => {
                let op = if txid == 0 {
                    Err(op)
                } else {
                    self.txq.arm(txid, op, index, release)
                };
                if let Err(op) = op {
                    let out = op(self);
                    self.send(
                        coord.shard,
                        Msg::HopDone {
                            coord: coord.id,
                            index,
                            out,
                        },
                    );
                }
            }
            Msg::HopDone { coord, index, out } => self.on_hop_done(coord, index, out),
            Msg::Release { txid } => self.txq.release(txid),
            Msg::Query { op, reply } => {
                let out = op(self);
                reply.answer(self.env.id, out);
            }
            Msg::Snapshot(job) => {
                self.writes_at_save = self.writes;
                // The log starts a new generation at the snapshot's point in time.
                let generation = match self.aof.as_mut().map(|log| log.rotate()) {
                    Some(Ok(g)) => Some(g),
                    Some(Err(e)) => {
                        tracing::error!(shard = self.env.id, error = %e, "cannot rotate the append-only log");
                        job.aborted.store(true, std::sync::atomic::Ordering::SeqCst);
                        None
                    }
                    None => None,
                };
                self.snapshot_begin(job, generation);
            }
            Msg::Do(work) => work(self),
            Msg::Shutdown => self.stopping = true,
        }
    }

    /// Runs what has reached the head of the transaction queue.
    fn run_queue(&mut self) {
        while let Some(ready) = self.txq.pop_ready() {
            match ready {
                Ready::Local(req) => self.exec(req),
                Ready::Hop { coord, index, op } => {
                    let out = op(self);
                    self.send(
                        coord.shard,
                        Msg::HopDone {
                            coord: coord.id,
                            index,
                            out,
                        },
                    );
                }
            }
        }
    }

    // ---- executing commands ---------------------------------------------------------------

    fn exec_or_queue(&mut self, req: ExecReq) {
        let argc = req.args.len();
        if self
            .txq
            .conflicts(req.spec.keys.positions(argc).map(|i| &req.args[i][..]))
        {
            let keys = req
                .spec
                .keys
                .positions(argc)
                .map(|i| req.args[i].clone())
                .collect();
            self.txq.push_local(req, keys);
        } else {
            self.exec(req);
        }
    }

    fn exec(&mut self, req: ExecReq) {
        if !req.spec.flags.has(Flags::BLOCKING) {
            let reply = self.run_keys(req.spec, req.db, &req.args);
            self.deliver(req.origin, reply);
            return;
        }
        match self.run_handler(req.spec, req.db, &req.args) {
            Ok(reply) => self.deliver(req.origin, reply),
            Err(wait) => self.block_local(req, *wait),
        }
        self.serve_blocked();
    }

    /// Runs a key command here and replies what it answers; a blocking command that finds
    /// nothing answers what its timeout would (this path does not wait).
    fn run_keys(&mut self, spec: &'static CommandSpec, db: usize, args: &[Bytes]) -> Reply {
        let reply = self
            .run_handler(spec, db, args)
            .unwrap_or_else(|wait| wait.cannot_wait);
        self.serve_blocked();
        reply
    }

    /// Runs a key command's handler here (logged, counted); Err when a blocking command found
    /// nothing to serve.
    fn run_handler(
        &mut self,
        spec: &'static CommandSpec,
        db: usize,
        args: &[Bytes],
    ) -> Result<Reply, Box<command::WouldBlock>> {
        let Run::Keys(handler) = spec.run else {
            return Ok(Reply::error("ERR internal: not a key command"));
        };
        let started = Instant::now();
        let max_string = self.env.settings.proto_max_bulk_len;
        let now = self.env.now;
        let mut blocked = None;
        let ready_before = self.blocking.ready_len();
        let reply = self.run_logged(spec, db, args, |shard| {
            let mut ctx = Ctx {
                ks: &mut shard.ks,
                db,
                args,
                now,
                max_string,
            };
            match handler(&mut ctx) {
                Ok(reply) => reply,
                Err(command::OpError::Blocked(wait)) => {
                    // Nothing changed; the reply is a placeholder never sent.
                    blocked = Some(wait);
                    Reply::Null
                }
                Err(e) => Reply::from(e),
            }
        });
        self.publish_events();
        if let Some(wait) = blocked {
            // It changed nothing: the keys it looked up for writing are not news to waiters
            // (and a retried waiter must not wake itself for ever).
            self.blocking.truncate_ready(ready_before);
            return Err(wait);
        }
        self.writes += spec.flags.has(Flags::WRITE) as u64;
        self.stats
            .record(spec.name, started.elapsed(), reply.is_error());
        Ok(reply)
    }

    /// Sends a reply to the connection that asked.
    fn deliver(&mut self, origin: Origin, reply: Reply) {
        if origin.shard == self.env.id {
            self.complete(origin, reply);
        } else {
            self.send(origin.shard, Msg::Reply { origin, reply });
        }
    }

    fn complete(&mut self, origin: Origin, reply: Reply) {
        let Some(conn) = self.conns.get_mut(origin.token).and_then(Option::as_mut) else {
            return;
        };
        let was_accepting = conn.accepts_requests();
        if conn.client.id != origin.conn_id || !conn.fill(origin.seq, reply) {
            return;
        }
        if conn.blocked && conn.pending_replies() == 0 {
            conn.blocked = false;
            conn.waits_on_keys = false;
        }
        // A plan finished or in-flight room freed up: go on with buffered requests.
        if !was_accepting && conn.accepts_requests() && !conn.rbuf.is_empty() {
            self.input_ready.push(origin.token);
        }
        self.dirty.push(origin.token);
    }

    /// Closes the connection a plan was for, without replying to it.
    fn kill_origin(&mut self, origin: Origin) {
        if origin.shard != self.env.id {
            return;
        }
        if let Some(conn) = self.conns.get_mut(origin.token).and_then(Option::as_mut) {
            if conn.client.id == origin.conn_id {
                conn.client.close_after_reply = true;
                conn.drop_pending();
                self.dirty.push(origin.token);
            }
        }
    }
}

/// Finds the spec for a request and checks what can be checked before running it: known command
/// and subcommand, arity, authentication. The error replies are Redis's.
fn command_for(args: &[Bytes], authenticated: bool) -> Result<&'static CommandSpec, Reply> {
    let name = &args[0];
    let Some(mut spec) = command::lookup(name) else {
        let mut shown = String::new();
        for a in args.iter().skip(1) {
            if shown.len() >= 128 {
                break;
            }
            let room = 128 - shown.len();
            let text = String::from_utf8_lossy(&a[..a.len().min(room)]);
            shown.push_str(&format!("'{text}' "));
        }
        let name = String::from_utf8_lossy(&name[..name.len().min(128)]);
        return Err(Reply::error(format!(
            "ERR unknown command '{name}', with args beginning with: {shown}"
        )));
    };
    if matches!(spec.run, Run::Parent) && args.len() < 2 {
        return Err(arity_error(spec.name));
    }
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        spec = spec.subcommand(&args[1]).ok_or_else(|| {
            let sub = String::from_utf8_lossy(&args[1][..args[1].len().min(128)]);
            Reply::error(format!(
                "ERR unknown subcommand '{sub}'. Try {} HELP.",
                spec.name.to_ascii_uppercase()
            ))
        })?;
    }
    if !spec.arity_ok(args.len()) {
        return Err(arity_error(spec.name));
    }
    if !authenticated && !spec.flags.has(Flags::NO_AUTH) {
        return Err(Reply::error("NOAUTH Authentication required."));
    }
    Ok(spec)
}

fn arity_error(name: &str) -> Reply {
    Reply::error(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}
