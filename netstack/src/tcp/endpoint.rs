//! The TCP endpoint: the listening port, the connection table, the timer heap, the dirty list,
//! the event queue and the application's operations on connections.
//!
//! Work is bounded: a received segment costs one hash lookup; `poll` visits the connections
//! marked dirty (something to send) and the timers that are due, never the whole table.
//!
//! Invariants:
//! - a connection is in `dirty` (once, flagged by `in_dirty_list`) whenever `wants_dispatch`
//!   holds after the endpoint last touched it;
//! - a connection with a timer has a heap entry at or before that timer's deadline
//!   (`timer_scheduled`); stale entries are skipped when popped;
//! - `half_open` counts the connections in SYN_RECEIVED.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::hash::BuildHasher;
use std::io;
use std::net::SocketAddrV4;
use std::time::Instant;

use super::conn::{Connection, State};
use super::input::{InputCx, InputOutcome};
use super::output::TimerOutcome;
use super::segment::{self, Flags, OutSegment, Segment};
use super::seq::Seq;
use super::table::{mix, peer_key, ConnTable};
use super::{ConnHandle, Event};
use crate::iface::link::{Datagram, Egress};
use crate::iface::{Config, Stats};
use crate::phy::Transmit;

/// A RST owed to a peer whose connection is already gone (abort, give-up).
struct PendingReset {
    mac: [u8; 6],
    peer: SocketAddrV4,
    seq: Seq,
    ack: Seq,
}

/// A timer heap entry, ordered by deadline only.
#[derive(Clone, Copy, PartialEq, Eq)]
struct TimerEntry {
    at: Instant,
    conn: ConnHandle,
}

impl Ord for TimerEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

pub(crate) struct Endpoint {
    config: Config,
    table: ConnTable,
    timers: BinaryHeap<Reverse<TimerEntry>>,
    dirty: Vec<ConnHandle>,
    /// The list being dispatched while `dirty` collects the next one (no allocation per poll).
    dispatching: Vec<ConnHandle>,
    events: VecDeque<Event>,
    resets: Vec<PendingReset>,
    half_open: usize,
    /// Keys the initial sequence numbers (RFC 6528) and the table's hash.
    secret: u64,
    /// Origin of the ISN clock: the first instant seen.
    epoch: Option<Instant>,
    /// The latest instant seen, returned by `poll_at` when work is already due.
    last_now: Option<Instant>,
}

impl Endpoint {
    pub(crate) fn new(config: Config) -> Endpoint {
        let secret = std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64);
        Endpoint {
            config,
            table: ConnTable::new(mix(secret)),
            timers: BinaryHeap::new(),
            dirty: Vec::new(),
            dispatching: Vec::new(),
            events: VecDeque::new(),
            resets: Vec::new(),
            half_open: 0,
            secret,
            epoch: None,
            last_now: None,
        }
    }

    /// A TCP segment (the payload of `datagram`, which is addressed to us) arrived.
    pub(crate) fn segment_arrives<T: Transmit>(
        &mut self,
        now: Instant,
        datagram: &Datagram<'_>,
        out: &mut Egress<'_, T>,
    ) {
        self.last_now = Some(now);
        let verify = self.config.verify_checksums;
        let Some(seg) = Segment::parse(datagram.payload, datagram.src, out.addr, verify, out.stats)
        else {
            return;
        };
        if seg.src_port == 0 || seg.dst_port == 0 {
            out.stats.rx_dropped_malformed += 1;
            return;
        }
        out.stats.tcp_segments_in += 1;
        let peer = SocketAddrV4::new(datagram.src, seg.src_port);
        if seg.dst_port != self.config.port {
            reply_reset(&seg, datagram.src_mac, peer, out);
            return;
        }
        match self.table.find(peer) {
            Some(slot) => self.connection_segment(now, slot, &seg, datagram.src_mac, out),
            None => self.listen_segment(now, &seg, datagram.src_mac, peer, out),
        }
    }

    /// RFC 793 p.65, segment arrives in LISTEN.
    fn listen_segment<T: Transmit>(
        &mut self,
        now: Instant,
        seg: &Segment<'_>,
        mac: [u8; 6],
        peer: SocketAddrV4,
        out: &mut Egress<'_, T>,
    ) {
        if seg.rst {
            return;
        }
        if seg.ack.is_some() {
            reply_reset(seg, mac, peer, out);
            return;
        }
        if !seg.syn {
            return;
        }
        if self.table.len() >= self.config.max_connections {
            out.stats.tcp_connections_refused += 1;
            reply_reset(seg, mac, peer, out);
            return;
        }
        if self.half_open >= self.config.backlog {
            out.stats.tcp_syn_dropped_backlog += 1;
            return;
        }
        let iss = self.initial_sequence(now, peer);
        let handle = self
            .table
            .insert(Connection::new_passive(&self.config, peer, mac, seg, iss));
        self.half_open += 1;
        if let Some(conn) = self.table.by_handle(handle) {
            // The SYN-ACK goes out now; if the device is full it stays due for `poll`.
            conn.dispatch(now, self.config.port, out);
        }
        self.sync(handle);
    }

    fn connection_segment<T: Transmit>(
        &mut self,
        now: Instant,
        slot: u32,
        seg: &Segment<'_>,
        mac: [u8; 6],
        out: &mut Egress<'_, T>,
    ) {
        let Some((handle, conn)) = self.table.get(slot) else {
            return;
        };
        let was_half_open = conn.state == State::SynReceived;
        let mut cx = InputCx {
            now,
            handle,
            config: &self.config,
            events: &mut self.events,
            stats: out.stats,
        };
        let outcome = conn.on_segment(seg, &mut cx);
        if was_half_open && conn.state != State::SynReceived {
            self.half_open -= 1;
        }
        match outcome {
            InputOutcome::Keep => {
                if conn.state == State::SynReceived && conn.snd_nxt == conn.iss {
                    conn.dispatch(now, self.config.port, out);
                } else if conn.ack_now && !conn.send_ack(self.config.port, out) {
                    conn.ack_pending = true;
                }
                self.sync(handle);
            }
            InputOutcome::ResetReply => {
                reply_reset(seg, mac, conn.peer, out);
                self.sync(handle);
            }
            InputOutcome::Free => self.free(handle, out.stats),
            InputOutcome::Reopen => {
                let peer = conn.peer;
                self.free(handle, out.stats);
                self.listen_segment(now, seg, mac, peer, out);
            }
        }
    }

    /// Sends what is due: RSTs owed, timer expiries, then every dirty connection.
    pub(crate) fn poll<T: Transmit>(&mut self, now: Instant, out: &mut Egress<'_, T>) {
        self.last_now = Some(now);
        self.fire_timers(now, out.stats);
        self.send_resets(out);
        std::mem::swap(&mut self.dirty, &mut self.dispatching);
        let mut device_full = false;
        for i in 0..self.dispatching.len() {
            let handle = self.dispatching[i];
            let Some(conn) = self.table.by_handle(handle) else {
                continue;
            };
            conn.in_dirty_list = false;
            if !device_full && !conn.dispatch(now, self.config.port, out) {
                device_full = true;
            }
            self.sync(handle);
        }
        self.dispatching.clear();
    }

    /// The earliest instant `poll` has work: now if something is already due, else the
    /// earliest timer (possibly a stale one, which costs an early wake-up, nothing more).
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        if !self.dirty.is_empty() || !self.resets.is_empty() {
            if let Some(now) = self.last_now {
                return Some(now);
            }
        }
        self.timers.peek().map(|Reverse(entry)| entry.at)
    }

    pub(crate) fn next_event(&mut self) -> Option<Event> {
        while let Some(event) = self.events.pop_front() {
            let live = match event {
                // Readable/Writable for a handle the application closed meanwhile are moot.
                Event::Readable(conn) | Event::Writable(conn) => self
                    .table
                    .by_handle_ref(conn)
                    .is_some_and(Connection::app_owned),
                Event::Accepted { .. } | Event::Closed(_) => true,
            };
            if live {
                return Some(event);
            }
        }
        None
    }

    pub(crate) fn recv(&mut self, handle: ConnHandle, buf: &mut [u8]) -> io::Result<usize> {
        let conn = self.app_conn(handle)?;
        conn.readable_signalled = false;
        if buf.is_empty() {
            return Ok(0);
        }
        let n = conn.rx.read(buf);
        if n == 0 {
            return if conn.fin_received {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        conn.after_read();
        self.sync(handle);
        Ok(n)
    }

    pub(crate) fn send(&mut self, handle: ConnHandle, data: &[u8]) -> io::Result<usize> {
        let conn = self.app_conn(handle)?;
        if !matches!(conn.state, State::Established | State::CloseWait) {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if data.is_empty() {
            return Ok(0);
        }
        let n = conn.tx.push(data);
        if n < data.len() {
            conn.writable_wanted = true;
        }
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.sync(handle);
        Ok(n)
    }

    /// Graceful close (RFC 793 CLOSE call): FIN after the queued data; unread data is
    /// discarded and later data is acknowledged and discarded.
    pub(crate) fn close(&mut self, handle: ConnHandle) {
        let Ok(conn) = self.app_conn(handle) else {
            return;
        };
        conn.app_closed = true;
        conn.fin_queued = true;
        conn.rx.consume(conn.rx.len());
        conn.state = match conn.state {
            State::Established => State::FinWait1,
            State::CloseWait => State::LastAck,
            other => other,
        };
        self.sync(handle);
    }

    /// Abortive close (RFC 793 ABORT call): RST on the next poll, slot freed now.
    pub(crate) fn abort(&mut self, handle: ConnHandle, stats: &mut Stats) {
        let Ok(conn) = self.app_conn(handle) else {
            return;
        };
        conn.app_closed = true;
        let reset = reset_for(conn);
        self.resets.push(reset);
        self.free(handle, stats);
    }

    pub(crate) fn peer(&self, handle: ConnHandle) -> Option<SocketAddrV4> {
        self.table
            .by_handle_ref(handle)
            .filter(|conn| conn.app_owned())
            .map(|conn| conn.peer)
    }

    pub(crate) fn connections(&self) -> usize {
        self.table.len()
    }

    fn app_conn(&mut self, handle: ConnHandle) -> io::Result<&mut Connection> {
        self.table
            .by_handle(handle)
            .filter(|conn| conn.app_owned())
            .ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    fn fire_timers(&mut self, now: Instant, stats: &mut Stats) {
        while let Some(Reverse(entry)) = self.timers.peek().copied() {
            if entry.at > now {
                break;
            }
            self.timers.pop();
            let handle = entry.conn;
            let Some(conn) = self.table.by_handle(handle) else {
                continue;
            };
            if conn.timer_scheduled == Some(entry.at) {
                conn.timer_scheduled = None;
            }
            if conn.timer.is_none_or(|(at, _)| at > now) {
                self.sync(handle);
                continue;
            }
            match conn.on_timer(now, &self.config) {
                TimerOutcome::Keep => {
                    if conn.timed_out {
                        stats.tcp_retransmits_timeout += 1;
                    }
                    self.sync(handle);
                }
                TimerOutcome::Expire => self.free(handle, stats),
                TimerOutcome::GiveUp => {
                    stats.tcp_timeouts += 1;
                    self.resets.push(reset_for(conn));
                    self.free(handle, stats);
                }
            }
        }
    }

    fn send_resets<T: Transmit>(&mut self, out: &mut Egress<'_, T>) {
        for reset in self.resets.drain(..) {
            let seg = OutSegment::control(reset.seq, Some(reset.ack), Flags::RST);
            // A RST the device cannot take is dropped: the peer's next segment draws another.
            segment::send(out, reset.mac, reset.peer, self.config.port, &seg);
        }
    }

    /// Puts the connection in the dirty list if it has something to send and its timer in the
    /// heap if the heap has no entry early enough.
    fn sync(&mut self, handle: ConnHandle) {
        let Some(conn) = self.table.by_handle(handle) else {
            return;
        };
        if !conn.in_dirty_list && conn.wants_dispatch() {
            conn.in_dirty_list = true;
            self.dirty.push(handle);
        }
        if let Some((at, _)) = conn.timer {
            if conn.timer_scheduled.is_none_or(|scheduled| at < scheduled) {
                conn.timer_scheduled = Some(at);
                self.timers.push(Reverse(TimerEntry { at, conn: handle }));
            }
        }
    }

    /// Frees the slot; emits Closed if the application still held the handle.
    fn free(&mut self, handle: ConnHandle, stats: &mut Stats) {
        let Some(conn) = self.table.remove(handle) else {
            return;
        };
        if conn.state == State::SynReceived {
            self.half_open -= 1;
        }
        if conn.accepted {
            stats.tcp_closed += 1;
        }
        if conn.app_owned() {
            self.events.push_back(Event::Closed(handle));
        }
    }

    /// RFC 6528: a 4 µs clock plus a keyed hash of the peer.
    fn initial_sequence(&mut self, now: Instant, peer: SocketAddrV4) -> Seq {
        let epoch = *self.epoch.get_or_insert(now);
        let ticks = (now.saturating_duration_since(epoch).as_micros() / 4) as u32;
        Seq(ticks.wrapping_add(mix(self.secret ^ peer_key(peer)) as u32))
    }
}

/// The RST for a connection being torn down by us (RFC 793 ABORT: SEQ = SND.NXT, taken as the
/// highest sequence sent, which is the peer's RCV.NXT once everything arrived; otherwise the
/// peer's challenge ACK draws a RST that matches, RFC 5961 §3.2).
fn reset_for(conn: &Connection) -> PendingReset {
    PendingReset {
        mac: conn.peer_mac,
        peer: conn.peer,
        seq: conn.snd_max,
        ack: conn.rcv_nxt,
    }
}

/// Answers `seg`, which reached no connection (or a closed port), with a RST from the port it
/// was sent to.
fn reply_reset<T: Transmit>(
    seg: &Segment<'_>,
    mac: [u8; 6],
    peer: SocketAddrV4,
    out: &mut Egress<'_, T>,
) {
    if let Some(reset) = seg.reset_reply() {
        segment::send(out, mac, peer, seg.dst_port, &reset);
    }
}
