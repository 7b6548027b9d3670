//! A shard's connections: accepting a handed-over kernel socket (dataplane connections arrive
//! through `dataplane.rs`), reading (bounded, with back-pressure), parsing and routing requests,
//! writing replies, closing.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use mio::net::TcpStream;
use mio::{Interest, Token};

use super::conn::{self, Conn, ReadOutcome, Transport};
use super::{command_for, txn, ClientState, ExecReq, Msg, Origin, Shard, ShardInfo, Step};
use crate::command::{pubsub, transactions, CommandSpec, ConnCtx, Flags, Run};
use crate::resp::{ParseLimits, Protocol, Reply};
use crate::slot::key_shard;

impl Shard {
    // ---- connections ----------------------------------------------------------------------

    /// A free connection slot.
    pub(super) fn next_token(&mut self) -> usize {
        self.free_tokens.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        })
    }

    /// The state of a client that just connected (any listener).
    pub(super) fn new_client(
        &self,
        id: u64,
        addr: SocketAddr,
        laddr: SocketAddr,
        fd: i32,
    ) -> ClientState {
        ClientState {
            id,
            addr,
            laddr,
            fd,
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
            multi: None,
            watching: Vec::new(),
            subscriptions: None,
        }
    }

    pub(super) fn accept(&mut self, mut stream: TcpStream, id: u64) {
        let token = self.next_token();
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
        let client = self.new_client(id, addr, laddr, stream.as_raw_fd());
        tracing::debug!(shard = self.env.id, client = client.id, %addr, "client connected");
        self.stats.connections_received += 1;
        self.conns[token] = Some(Conn::new(Transport::Kernel(stream), client));
        // Data may already be waiting; edge-triggered readiness would not report it again.
        self.read_ready.push(token);
    }

    pub(super) fn close(&mut self, token: usize) {
        let Some(mut conn) = self.conns.get_mut(token).and_then(Option::take) else {
            return;
        };
        match &mut conn.stream {
            Transport::Kernel(stream) => {
                let _ = self.poll.registry().deregister(stream);
            }
            Transport::Dataplane(handle) => self.close_dataplane(*handle),
        }
        if conn.waits_on_keys {
            self.forget_blocked_client(conn.client.id);
        }
        if let Some(subs) = conn.client.subscriptions.take() {
            self.pubsub.forget((token, conn.client.id), &subs);
        }
        let watching = std::mem::take(&mut conn.client.watching);
        if !watching.is_empty() {
            self.drop_watches(conn.client.id, watching);
        }
        self.free_tokens.push(token);
        self.env.server.clients.fetch_sub(1, Ordering::Relaxed);
        tracing::debug!(
            shard = self.env.id,
            client = conn.client.id,
            "client closed"
        );
    }

    pub(super) fn on_readable(&mut self, token: usize) {
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
        let iface = self.dataplane.as_mut().map(|dp| &mut dp.iface);
        match conn.read(&mut self.scratch, iface) {
            Ok(ReadOutcome::Data { more }) => {
                self.stats.net_input_bytes += (conn.rbuf.len() - before) as u64;
                if more {
                    self.read_ready.push(token);
                }
                self.process_input(token);
            }
            Ok(ReadOutcome::WouldBlock) => {}
            Ok(ReadOutcome::Closed) if conn.waits_on_keys => {
                // A client gone while blocked is forgotten at once, as Redis unblocks it.
                self.close(token);
            }
            Ok(ReadOutcome::Closed) => {
                // Like Redis, answer what a half-closed client sent before its end of stream.
                conn.eof = true;
                self.process_input(token);
            }
            Err(_) => self.close(token),
        }
    }

    /// Parses and dispatches the complete requests a connection has buffered, as far as it may.
    pub(super) fn process_input(&mut self, token: usize) {
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

    pub(super) fn flush_conn(&mut self, token: usize) {
        let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
            return;
        };
        let was_full = !conn.accepts_requests();
        let iface = self.dataplane.as_mut().map(|dp| &mut dp.iface);
        match conn.flush(&mut self.stats.net_output_bytes, iface) {
            Ok(done) => {
                // The endpoint reports writability itself (Event::Writable); kernel sockets are
                // watched for it only while a reply is stuck.
                if let (Transport::Kernel(stream), true) =
                    (&mut conn.stream, done == conn.watching_writable)
                {
                    let interest = if done {
                        Interest::READABLE
                    } else {
                        Interest::READABLE | Interest::WRITABLE
                    };
                    if let Err(e) = self
                        .poll
                        .registry()
                        .reregister(stream, Token(token), interest)
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
    pub(super) fn dispatch(&mut self, token: usize, args: &mut Vec<Bytes>) {
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
                // Inside MULTI a refused command makes EXEC abort, as in Redis.
                if let Some(multi) = conn.client.multi.as_mut() {
                    multi.failed = true;
                }
                conn.reply_now(reply);
                return;
            }
        };
        conn.client.last_cmd = spec.name;
        if conn.client.proto == Protocol::Resp2
            && conn.client.subscription_count() > 0
            && !pubsub::allowed_while_subscribed(spec)
        {
            self.stats.rejected_calls += 1;
            conn.reply_now(Reply::error(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                spec.name
            )));
            return;
        }
        if let Some(multi) = conn.client.multi.as_mut() {
            if !transactions::controls_transaction(spec) {
                let reply = if transactions::queueable(spec) {
                    multi.commands.push((spec, std::mem::take(args)));
                    Reply::status("QUEUED")
                } else {
                    multi.failed = true;
                    Reply::error(format!(
                        "ERR '{}' inside MULTI is not supported by Ferrite yet",
                        spec.name
                    ))
                };
                conn.reply_now(reply);
                return;
            }
        }
        match spec.run {
            Run::Keys(_) => {
                let Some((shard, single)) = route(spec, args, shards) else {
                    conn.reply_now(Reply::error("ERR internal: key command without keys"));
                    return;
                };
                let db = conn.client.db;
                let blocking = spec.flags.has(Flags::BLOCKING);
                if single && shard == id && self.txq.is_empty() && !blocking {
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
                if blocking {
                    // Like a blocked Redis client, it takes no more requests until answered.
                    conn.blocked = true;
                    conn.waits_on_keys = true;
                }
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
                    token,
                    pubsub: &mut self.pubsub,
                };
                let step = handler(&mut ctx).unwrap_or_else(|e| Step::Reply(e.into()));
                let step = self.run_local_step(step, spec.name);
                let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
                    return;
                };
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
                        // A PUBLISH depends on nothing the client sends after it, and one
                        // publisher's fan-outs reach each shard in order: later requests go on.
                        if !pubsub::is_publish(spec) {
                            conn.blocked = true;
                        }
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
        let mut blocked = Vec::new();
        for (token, conn) in self.conns.iter_mut().enumerate() {
            if let Some(conn) = conn.as_mut().filter(|c| pred(&c.client)) {
                conn.client.close_after_reply = true;
                self.dirty.push(token);
                killed += 1;
                if conn.waits_on_keys {
                    blocked.push(token);
                }
            }
        }
        // A blocked client owes a reply that may never come: it goes now, as in Redis.
        for token in blocked {
            self.close(token);
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
            dataplane: self.dataplane_info(),
            changes_since_save: self.writes - self.writes_at_save,
            blocked_clients: self.blocking.blocked_clients(),
            pubsub_channels: self.pubsub.channels(None, false),
            pubsub_patterns: self.pubsub.patterns(),
            aof_errors: self.aof_errors,
        }
    }
}

impl Shard {
    /// Drops a closed client's watches on their shards (a one-way hop; nobody waits for it).
    fn drop_watches(&mut self, client: u64, keys: Vec<(usize, Bytes)>) {
        for (shard, keys) in txn::by_shard(keys, self.env.shards) {
            let op: super::ShardOp = Box::new(move |s: &mut Shard| {
                s.ks.unwatch(client, &keys);
                super::HopOut::Reply(Reply::OK)
            });
            let coord = txn::CoordRef {
                shard: self.env.id,
                id: u64::MAX,
            };
            self.send(
                shard,
                Msg::Hop {
                    txid: 0,
                    coord,
                    index: 0,
                    op,
                    release: false,
                },
            );
        }
    }
}

/// The shard of a key command's first key, and whether every key lives there. Commands whose
/// keys depend on their arguments (numkeys, STORE ...) route by their exact key specs; the rest
/// by the (first, last, step) triple, with no allocation.
/// Malformed requests (no exact keys: numkeys 0, say) take the triple, and their handler answers
/// with the right error.
fn route(spec: &CommandSpec, args: &[Bytes], shards: usize) -> Option<(usize, bool)> {
    if !spec.key_specs.is_empty() {
        let positions = spec.key_positions(args);
        if let Some((first, rest)) = positions.split_first() {
            let shard = key_shard(&args[*first], shards);
            return Some((
                shard,
                rest.iter().all(|&i| key_shard(&args[i], shards) == shard),
            ));
        }
    }
    let mut positions = spec.keys.positions(args.len());
    let shard = key_shard(&args[positions.next()?], shards);
    Some((
        shard,
        positions.all(|i| key_shard(&args[i], shards) == shard),
    ))
}
