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

mod conn;
mod mesh;
mod stats;
pub mod txn;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use rand::rngs::SmallRng;
use rand::SeedableRng;

pub use conn::{ClientState, Conn};
pub use mesh::Mesh;
pub use stats::{CmdStat, ShardInfo, ShardStats, LATENCY_BOUNDS_US};
pub use txn::{HopOut, Lock, ShardOp, Step};

use crate::command::{self, CommandSpec, ConnCtx, Ctx, Flags, Run};
use crate::config::Settings;
use crate::keyspace::Keyspace;
use crate::resp::{ParseLimits, Protocol, Reply};
use crate::server::Server;
use crate::slot::key_shard;
use conn::ReadOutcome;
use mesh::Outbox;
use txn::{CoordRef, Coordinator, Ready, Stage, TxQueue};

const WAKER: Token = Token(usize::MAX);
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
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Shard {
    pub fn new(id: usize, server: Arc<Server>, poll: Poll) -> Shard {
        let shards = server.mesh.shards();
        let databases = server.config.server.databases;
        let settings = Settings::from_config(&server.config);
        Shard {
            env: ShardEnv {
                id,
                shards,
                server,
                now: now_ms(),
                settings,
            },
            ks: Keyspace::new(databases),
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
        }
    }

    /// The shard loop. Returns when the server shuts down.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let tick = Duration::from_millis(1000 / self.env.settings.hz.max(1) as u64);
        let mut next_tick = Instant::now() + tick;
        let server = self.env.server.clone();
        let mesh = &server.mesh;
        tracing::debug!(shard = self.env.id, "shard loop running");
        while !self.stopping {
            let now = Instant::now();
            let timeout = if self.has_local_work() {
                Duration::ZERO
            } else if self.outbox.backlog() > 0 {
                // Another shard's queue is full: retry soon rather than spin.
                Duration::from_millis(1)
            } else if mesh.prepare_sleep(self.env.id) {
                next_tick.saturating_duration_since(now)
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

            for ev in events.iter() {
                let token = ev.token();
                if token == WAKER {
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
            self.for_each_listed(|s| &mut s.read_ready, Shard::on_readable);
            mesh.drain(self.env.id, INBOX_BUDGET, |msg| self.local.push_back(msg));
            while let Some(msg) = self.local.pop_front() {
                self.handle(msg);
            }
            self.run_queue();
            if !self.outbox.congested() {
                self.for_each_listed(|s| &mut s.input_ready, Shard::process_input);
            }
            self.outbox.flush(mesh, self.env.id);
            self.for_each_listed(|s| &mut s.dirty, Shard::flush_conn);
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
        !self.local.is_empty()
            || !self.read_ready.is_empty()
            || (!self.input_ready.is_empty() && !self.outbox.congested())
            || !self.dirty.is_empty()
    }

    fn housekeeping(&mut self) {
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
        let reply = self.run_keys(req.spec, req.db, &req.args);
        self.deliver(req.origin, reply);
    }

    fn run_keys(&mut self, spec: &'static CommandSpec, db: usize, args: &[Bytes]) -> Reply {
        let Run::Keys(handler) = spec.run else {
            return Reply::error("ERR internal: not a key command");
        };
        let started = Instant::now();
        let max_string = self.env.settings.proto_max_bulk_len;
        let mut ctx = Ctx {
            ks: &mut self.ks,
            db,
            args,
            now: self.env.now,
            max_string,
        };
        let reply = handler(&mut ctx).unwrap_or_else(Reply::from);
        self.stats
            .record(spec.name, started.elapsed(), reply.is_error());
        reply
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

    // ---- coordinating plans ---------------------------------------------------------------

    /// Starts running a command's plan for `origin`; `command` is counted in the command
    /// statistics when the plan replies.
    fn start_step(&mut self, origin: Origin, step: Step, command: &'static str) {
        match step {
            Step::Reply(reply) => self.deliver(origin, reply),
            Step::Close => self.kill_origin(origin),
            Step::Hop {
                locks,
                ops,
                last,
                then,
            } => {
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

    fn schedule(&mut self, id: u64) {
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

    fn on_scheduled(&mut self, id: u64, shard: usize, ok: bool) {
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

    fn send_hops(&mut self, id: u64) {
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

    fn on_hop_done(&mut self, id: u64, index: usize, out: HopOut) {
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

    fn finish_hop(&mut self, id: u64) {
        let Some(mut c) = self.coords.remove(&id) else {
            return;
        };
        let Stage::Running { outs, then, .. } = c.stage else {
            return;
        };
        let step_result = then(outs.into_iter().flatten().collect());
        match step_result {
            Step::Reply(_) | Step::Close => {
                for s in std::mem::take(&mut c.holding) {
                    self.send(s, Msg::Release { txid: c.txid });
                }
                match step_result {
                    Step::Reply(reply) => {
                        self.stats
                            .record(c.command, c.started.elapsed(), reply.is_error());
                        self.deliver(c.origin, reply);
                    }
                    _ => self.kill_origin(c.origin),
                }
            }
            Step::Hop {
                ops, last, then, ..
            } => {
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

    // ---- connections ----------------------------------------------------------------------

    fn accept(&mut self, mut stream: TcpStream, id: u64) {
        let token = self.free_tokens.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            Token(token),
            // Writability is watched only while a reply is stuck (see `flush_conn`): otherwise
            // every ACK from the client would wake the shard for nothing.
            Interest::READABLE,
        ) {
            tracing::warn!(error = %e, "cannot register connection");
            self.free_tokens.push(token);
            self.env.server.clients.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let (Ok(addr), Ok(laddr)) = (stream.peer_addr(), stream.local_addr()) else {
            self.free_tokens.push(token);
            self.env.server.clients.fetch_sub(1, Ordering::Relaxed);
            return;
        };
        use std::os::fd::AsRawFd;
        let client = ClientState {
            id,
            addr,
            laddr,
            fd: stream.as_raw_fd(),
            proto: Protocol::Resp2,
            db: 0,
            name: None,
            lib_name: None,
            lib_ver: None,
            authenticated: self.env.settings.requirepass.is_empty(),
            no_evict: false,
            created: self.env.now,
            last_interaction: self.env.now,
            last_cmd: "NULL",
            close_after_reply: false,
        };
        tracing::debug!(shard = self.env.id, client = client.id, %addr, "client connected");
        self.stats.connections_received += 1;
        self.conns[token] = Some(Conn::new(stream, client));
        // Data may already be waiting; edge-triggered readiness would not report it again.
        self.read_ready.push(token);
    }

    fn close(&mut self, token: usize) {
        let Some(mut conn) = self.conns.get_mut(token).and_then(Option::take) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.free_tokens.push(token);
        self.env.server.clients.fetch_sub(1, Ordering::Relaxed);
        tracing::debug!(
            shard = self.env.id,
            client = conn.client.id,
            "client closed"
        );
    }

    fn on_readable(&mut self, token: usize) {
        let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
            return;
        };
        // A client whose requests are not being taken (replies unread, a plan running) is not
        // read either once it has a backlog: TCP pushes back on it and its memory stays bounded.
        if !conn.accepts_requests() && conn.rbuf.len() >= conn::READ_PAUSE {
            conn.read_paused = true;
            return;
        }
        let before = conn.rbuf.len();
        match conn.read(&mut self.scratch) {
            Ok(ReadOutcome::Data { more }) => {
                self.stats.net_input_bytes += (conn.rbuf.len() - before) as u64;
                if more {
                    self.read_ready.push(token);
                }
                self.process_input(token);
            }
            Ok(ReadOutcome::WouldBlock) => {}
            Ok(ReadOutcome::Closed) => {
                // Like Redis, answer what a half-closed client sent before its end of stream.
                conn.eof = true;
                self.process_input(token);
            }
            Err(_) => self.close(token),
        }
    }

    /// Parses and dispatches the complete requests a connection has buffered, as far as it may.
    fn process_input(&mut self, token: usize) {
        let max_bulk_len = self.env.settings.proto_max_bulk_len as usize;
        let query_limit = self.env.settings.client_query_buffer_limit as usize;
        // One argument vector reused for every request; taken only when a request leaves the shard.
        let mut args = std::mem::take(&mut self.args);
        loop {
            let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
                return;
            };
            if !conn.accepts_requests() {
                break;
            }
            if self.outbox.congested() {
                self.input_ready.push(token);
                break;
            }
            let limits = ParseLimits {
                max_bulk_len,
                unauthenticated: !conn.client.authenticated,
            };
            match conn.parser.next_into(&mut conn.rbuf, limits, &mut args) {
                Ok(true) => self.dispatch(token, &mut args),
                Ok(false) => {
                    if conn.eof {
                        // Nothing complete is left and nothing more will come.
                        conn.client.close_after_reply = true;
                    }
                    if conn.rbuf.len() > query_limit {
                        tracing::warn!(client = conn.client.id, addr = %conn.client.addr, "closing client that reached max query buffer length");
                        self.close(token);
                        break;
                    }
                    break;
                }
                Err(e) => {
                    tracing::debug!(client = conn.client.id, addr = %conn.client.addr, error = %e.0, "protocol error");
                    self.stats.protocol_errors += 1;
                    conn.reply_now(Reply::error(format!("ERR {}", e.0)));
                    conn.client.close_after_reply = true;
                    conn.rbuf.clear();
                    break;
                }
            }
        }
        args.clear();
        self.args = args;
        if let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) {
            if conn.read_paused && conn.accepts_requests() {
                conn.read_paused = false;
                self.read_ready.push(token);
            }
        }
        self.dirty.push(token);
    }

    fn flush_conn(&mut self, token: usize) {
        let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
            return;
        };
        let was_full = !conn.accepts_requests();
        match conn.flush(&mut self.stats.net_output_bytes) {
            Ok(done) => {
                if done == conn.watching_writable {
                    let interest = if done {
                        Interest::READABLE
                    } else {
                        Interest::READABLE | Interest::WRITABLE
                    };
                    if let Err(e) =
                        self.poll
                            .registry()
                            .reregister(&mut conn.stream, Token(token), interest)
                    {
                        tracing::warn!(error = %e, "cannot change a connection's readiness interest");
                    }
                    conn.watching_writable = !done;
                }
                if done
                    && conn.client.close_after_reply
                    && conn.all_written()
                    && conn.pending_replies() == 0
                {
                    self.close(token);
                } else if was_full && conn.accepts_requests() && !conn.rbuf.is_empty() {
                    self.input_ready.push(token);
                }
            }
            Err(_) => self.close(token),
        }
    }

    /// Routes one request: errors and connection commands here; key commands to their shard.
    fn dispatch(&mut self, token: usize, args: &mut Vec<Bytes>) {
        let id = self.env.id;
        let shards = self.env.shards;
        let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
            return;
        };
        conn.client.last_interaction = self.env.now;
        let spec = match command_for(args, conn.client.authenticated) {
            Ok(spec) => spec,
            Err(reply) => {
                self.stats.rejected_calls += 1;
                conn.reply_now(reply);
                return;
            }
        };
        conn.client.last_cmd = spec.name;
        match spec.run {
            Run::Keys(_) => {
                let mut positions = spec.keys.positions(args.len());
                let Some(first) = positions.next() else {
                    conn.reply_now(Reply::error("ERR internal: key command without keys"));
                    return;
                };
                let shard = key_shard(&args[first], shards);
                let single = positions.all(|i| key_shard(&args[i], shards) == shard);
                let db = conn.client.db;
                if single && shard == id && self.txq.is_empty() {
                    let reply = self.run_keys(spec, db, args);
                    if let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) {
                        conn.reply_now(reply);
                    }
                    return;
                }
                let origin = Origin {
                    shard: id,
                    token,
                    conn_id: conn.client.id,
                    seq: conn.next_seq(),
                };
                let args = std::mem::take(args);
                if single {
                    let req = ExecReq {
                        origin,
                        db,
                        args,
                        spec,
                    };
                    if shard == id {
                        self.exec_or_queue(req);
                    } else {
                        self.send(shard, Msg::Exec(req));
                    }
                } else {
                    conn.blocked = true;
                    let databases = self.ks.databases();
                    let max_string = self.env.settings.proto_max_bulk_len;
                    let step =
                        txn::keys_plan(spec, db, args, self.env.now, shards, databases, max_string);
                    self.stats.multi_shard += 1;
                    self.start_step(origin, step, spec.name);
                }
            }
            Run::Conn(handler) => {
                let started = Instant::now();
                let mut ctx = ConnCtx {
                    args,
                    client: &mut conn.client,
                    env: &self.env,
                };
                let step = handler(&mut ctx).unwrap_or_else(|e| Step::Reply(e.into()));
                match step {
                    Step::Reply(reply) => {
                        self.stats
                            .record(spec.name, started.elapsed(), reply.is_error());
                        conn.reply_now(reply);
                    }
                    Step::Close => {
                        conn.client.close_after_reply = true;
                        self.dirty.push(token);
                    }
                    step => {
                        conn.blocked = true;
                        let origin = Origin {
                            shard: id,
                            token,
                            conn_id: conn.client.id,
                            seq: conn.next_seq(),
                        };
                        self.start_step(origin, step, spec.name);
                    }
                }
            }
            Run::Parent => conn.reply_now(Reply::error("ERR internal: container command")),
        }
    }

    /// Looks up connections on this shard for CLIENT LIST / KILL.
    pub fn clients(&mut self) -> impl Iterator<Item = &mut Conn> {
        self.conns.iter_mut().flatten()
    }

    /// Closes the connections `pred` picks once their pending replies are written. Returns how many.
    pub fn kill_clients(&mut self, pred: impl Fn(&ClientState) -> bool) -> usize {
        let mut killed = 0;
        for (token, conn) in self.conns.iter_mut().enumerate() {
            if let Some(conn) = conn.as_mut().filter(|c| pred(&c.client)) {
                conn.client.close_after_reply = true;
                self.dirty.push(token);
                killed += 1;
            }
        }
        killed
    }

    /// This shard's figures for INFO.
    pub fn info(&mut self) -> ShardInfo {
        let mesh = &self.env.server.mesh;
        ShardInfo {
            clients: self.conns.iter().flatten().count(),
            keys: self
                .ks
                .dbs()
                .iter()
                .map(|d| (d.len(), d.expires_len()))
                .collect(),
            expired_keys: self.ks.dbs().iter().map(|d| d.expired()).sum(),
            keyspace_hits: self.ks.hits,
            keyspace_misses: self.ks.misses,
            dataset_bytes: {
                let (ks, rng) = (&mut self.ks, &mut self.rng);
                ks.dbs().iter().map(|d| d.estimated_bytes(rng)).sum()
            },
            buffer_bytes: self
                .conns
                .iter()
                .flatten()
                .map(|c| c.rbuf.capacity() + c.wbuf.capacity())
                .sum(),
            queue_depth: mesh.depth(self.env.id),
            messages_received: mesh.received(self.env.id),
            queue_full_events: mesh.full_events(self.env.id),
            stats: self.stats.clone(),
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
