//! One client connection, on a kernel socket or on the dataplane's userspace TCP endpoint: its
//! buffers, its protocol state, and the reply slots that keep replies in request order when some
//! are computed on other shards (DESIGN rule 4).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use netstack::iface::{ConnHandle, Interface};

use crate::resp::{Protocol, Reply, RequestParser};

/// Stop taking requests from a client whose unsent replies exceed this; resume once written.
/// Replies computed meanwhile wait in their slots (large values shared, not copied) and are
/// encoded as the socket drains.
pub const OUTPUT_HIGH_WATER: usize = 1 << 20;
/// Most requests one connection may have in flight (answered or not, but not yet encoded).
pub const MAX_IN_FLIGHT: usize = 1024;
/// Bytes read from one socket per readiness turn, so one client cannot starve the others.
pub const READ_BUDGET: usize = 256 * 1024;
/// Unparsed bytes past which a client that may not send requests right now is not read further.
pub const READ_PAUSE: usize = 64 * 1024;

/// What `CLIENT` and `HELLO` see and change.
pub struct ClientState {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: i32,
    pub proto: Protocol,
    pub db: usize,
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    pub authenticated: bool,
    pub no_evict: bool,
    /// Milliseconds since the epoch.
    pub created: u64,
    pub last_interaction: u64,
    pub last_cmd: &'static str,
    /// Close once the replies queued so far are written (QUIT, protocol errors, CLIENT KILL).
    pub close_after_reply: bool,
    /// Commands queued since MULTI.
    pub multi: Option<crate::command::transactions::MultiState>,
    /// Keys this client WATCHes, with their databases (registered on their shards).
    pub watching: Vec<(usize, bytes::Bytes)>,
    /// Channels and patterns this client subscribes to (registered on its own shard).
    pub subscriptions: Option<Box<super::pubsub::Subscriptions>>,
}

impl ClientState {
    /// Channels plus patterns subscribed to.
    pub fn subscription_count(&self) -> usize {
        self.subscriptions.as_ref().map_or(0, |s| s.total())
    }

    /// The client type CLIENT LIST and CLIENT KILL filter on.
    pub fn kind(&self) -> &'static str {
        if self.subscription_count() > 0 {
            "pubsub"
        } else {
            "normal"
        }
    }
}

/// Where a connection's bytes travel.
pub enum Transport {
    /// A kernel socket handed over by the control plane's listener.
    Kernel(TcpStream),
    /// A connection of this shard's userspace TCP endpoint (the AF_XDP dataplane).
    Dataplane(ConnHandle),
}

impl Transport {
    fn read(&mut self, iface: Option<&mut Interface>, buf: &mut [u8]) -> io::Result<usize> {
        match (self, iface) {
            (Transport::Kernel(s), _) => s.read(buf),
            (Transport::Dataplane(h), Some(iface)) => iface.recv(*h, buf),
            (Transport::Dataplane(_), None) => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    fn write(&mut self, iface: Option<&mut Interface>, buf: &[u8]) -> io::Result<usize> {
        match (self, iface) {
            (Transport::Kernel(s), _) => s.write(buf),
            (Transport::Dataplane(h), Some(iface)) => iface.send(*h, buf),
            (Transport::Dataplane(_), None) => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

pub struct Conn {
    pub stream: Transport,
    pub client: ClientState,
    pub rbuf: BytesMut,
    pub parser: RequestParser,
    pub wbuf: Vec<u8>,
    wpos: usize,
    /// Replies in request order, oldest first: None while another shard computes it, Some once
    /// known but not yet encoded; `head_seq` is the sequence number of the front.
    slots: VecDeque<Option<Reply>>,
    head_seq: u64,
    next_seq: u64,
    /// Slots still None.
    owed: usize,
    /// The peer shut down its sending side (or the socket reported a hang-up).
    pub hup: bool,
    /// The peer's end of the stream was read: answer what it sent, then close.
    pub eof: bool,
    /// A multi-shard plan or a blocking command for this connection is running; later requests
    /// wait for it.
    pub blocked: bool,
    /// A blocking command of this connection may be waiting on keys (forgotten on close).
    pub waits_on_keys: bool,
    /// Reading stopped for back-pressure; resumes when the connection takes requests again.
    pub read_paused: bool,
    /// The poller also reports writability (a reply could not be written in full).
    pub watching_writable: bool,
}

pub enum ReadOutcome {
    /// Read something (maybe more is waiting if the budget ran out).
    Data {
        more: bool,
    },
    WouldBlock,
    Closed,
}

impl Conn {
    pub fn new(stream: Transport, client: ClientState) -> Conn {
        Conn {
            stream,
            client,
            rbuf: BytesMut::new(),
            parser: RequestParser::default(),
            wbuf: Vec::new(),
            wpos: 0,
            slots: VecDeque::new(),
            head_seq: 0,
            next_seq: 0,
            owed: 0,
            hup: false,
            eof: false,
            blocked: false,
            waits_on_keys: false,
            read_paused: false,
            watching_writable: false,
        }
    }

    /// Reads what the socket has, up to the read budget, through the shard's scratch buffer.
    /// `iface` is the shard's dataplane endpoint, if it has one.
    pub fn read(
        &mut self,
        scratch: &mut [u8],
        mut iface: Option<&mut Interface>,
    ) -> io::Result<ReadOutcome> {
        let mut total = 0;
        loop {
            match self.stream.read(iface.as_deref_mut(), scratch) {
                Ok(0) => return Ok(ReadOutcome::Closed),
                Ok(n) => {
                    self.rbuf.extend_from_slice(&scratch[..n]);
                    total += n;
                    // A short read drained the socket; with edge-triggered readiness new data
                    // raises a new event, so asking again would only cost an EAGAIN round trip.
                    // After a hang-up there will be no new event: read on to the end of stream.
                    if n < scratch.len() && !self.hup {
                        return Ok(ReadOutcome::Data { more: false });
                    }
                    if total >= READ_BUDGET {
                        return Ok(ReadOutcome::Data { more: true });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(if total > 0 {
                        ReadOutcome::Data { more: false }
                    } else {
                        ReadOutcome::WouldBlock
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reserves the reply position of a request answered elsewhere.
    pub fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.slots.push_back(None);
        self.owed += 1;
        seq
    }

    /// Fills a reply position. Returns false if the position is unknown (a stale reply after the
    /// slots were reset).
    pub fn fill(&mut self, seq: u64, reply: Reply) -> bool {
        let Some(slot) = seq
            .checked_sub(self.head_seq)
            .and_then(|i| self.slots.get_mut(i as usize))
            .filter(|s| s.is_none())
        else {
            return false;
        };
        *slot = Some(reply);
        self.owed -= 1;
        self.encode_ready();
        true
    }

    /// A reply for a request answered at once: straight to the write buffer when nothing is
    /// pending before it and the buffer has room.
    pub fn reply_now(&mut self, reply: Reply) {
        self.next_seq += 1;
        if self.slots.is_empty() && self.unsent() < OUTPUT_HIGH_WATER {
            self.head_seq += 1;
            reply.encode(self.client.proto, &mut self.wbuf);
        } else {
            self.slots.push_back(Some(reply));
            self.encode_ready();
        }
    }

    /// An out-of-band message (pub/sub): after the replies already due, before any still owed
    /// by other shards only if none is. Unlike a reply it is written past the high-water mark:
    /// the publisher's shard decides when a subscriber is too far behind.
    pub fn push_message(&mut self, message: Reply) {
        if self.slots.is_empty() {
            message.encode(self.client.proto, &mut self.wbuf);
        } else {
            self.next_seq += 1;
            self.slots.push_back(Some(message));
            self.encode_ready();
        }
    }

    /// Replies waiting for their turn to be encoded.
    pub fn queued_replies(&self) -> usize {
        self.slots.len()
    }

    /// Moves replies that are next in order to the write buffer, while it has room.
    fn encode_ready(&mut self) {
        while self.unsent() < OUTPUT_HIGH_WATER {
            let Some(Some(_)) = self.slots.front() else {
                break;
            };
            if let Some(Some(r)) = self.slots.pop_front() {
                r.encode(self.client.proto, &mut self.wbuf);
            }
            self.head_seq += 1;
        }
    }

    /// Forgets replies still owed (the connection is about to close without them).
    pub fn drop_pending(&mut self) {
        self.head_seq += self.slots.len() as u64;
        self.slots.clear();
        self.owed = 0;
        self.blocked = false;
        self.waits_on_keys = false;
    }

    /// Replies other shards still owe this connection.
    pub fn pending_replies(&self) -> usize {
        self.owed
    }

    /// Whether every reply has been written out.
    pub fn all_written(&self) -> bool {
        self.slots.is_empty() && self.unsent() == 0
    }

    pub fn unsent(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// Writes what it can, encoding waiting replies as room frees up; adds the bytes written to
    /// `written`. Ok(true) when everything known so far is written.
    pub fn flush(
        &mut self,
        written: &mut u64,
        mut iface: Option<&mut Interface>,
    ) -> io::Result<bool> {
        loop {
            while self.wpos < self.wbuf.len() {
                match self
                    .stream
                    .write(iface.as_deref_mut(), &self.wbuf[self.wpos..])
                {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        self.wpos += n;
                        *written += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            self.wbuf.clear();
            self.wpos = 0;
            // Give back memory a burst of large replies left behind.
            if self.wbuf.capacity() > 4 * OUTPUT_HIGH_WATER {
                self.wbuf = Vec::new();
            }
            self.encode_ready();
            if self.wbuf.is_empty() {
                return Ok(true);
            }
        }
    }

    /// Whether the connection may take another request now.
    pub fn accepts_requests(&self) -> bool {
        !self.blocked
            && !self.client.close_after_reply
            && self.unsent() < OUTPUT_HIGH_WATER
            && self.slots.len() < MAX_IN_FLIGHT
    }
}
