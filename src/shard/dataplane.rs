//! A shard's side of the kernel-bypass dataplane: the AF_XDP port bound to its NIC queue and the
//! userspace TCP endpoint on top of it. Connections of the endpoint become ordinary [`Conn`]s
//! (with a [`Transport::Dataplane`] handle), so the RESP codec, the command path and reply ordering
//! are the ones kernel sockets use.
//!
//! One loop turn, driven from `Shard::run`: receive a bounded batch of frames into the endpoint;
//! turn its events into reads, writes and closes of connections; after the shard has run what it
//! could, `poll` the endpoint so ACKs leave piggybacked on the replies, and flush the tx ring.

use std::collections::HashMap;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::atomic::Ordering;
use std::time::Instant;

use netstack::iface::{ConnHandle, Event, Interface};
use netstack::xsk::Port;

use super::conn::{Conn, Transport};
use super::Shard;

/// Receive batches per loop turn, so the network cannot starve the shard's queues and timers.
const RX_BATCHES_PER_TURN: usize = 8;

/// What the control plane prepares for a shard serving a NIC queue.
pub struct DataplaneSetup {
    pub port: Port,
    pub iface: Interface,
    /// The dataplane's address and service port.
    pub local: SocketAddrV4,
    /// Spin instead of sleeping when idle.
    pub busy_poll: bool,
}

pub struct Dataplane {
    pub port: Port,
    pub iface: Interface,
    local: SocketAddrV4,
    /// Endpoint connection -> connection token.
    tokens: HashMap<ConnHandle, usize, ahash::RandomState>,
    /// The last receive turn stopped at its budget with frames left on the ring.
    pub rx_pending: bool,
}

impl Dataplane {
    pub fn new(setup: DataplaneSetup) -> Dataplane {
        Dataplane {
            port: setup.port,
            iface: setup.iface,
            local: setup.local,
            tokens: HashMap::default(),
            rx_pending: false,
        }
    }
}

impl Shard {
    /// Takes a bounded number of frames off the rx ring into the endpoint, then acts on its events.
    pub(super) fn dataplane_receive(&mut self) {
        let Some(dp) = self.dataplane.as_mut() else {
            return;
        };
        let now = Instant::now();
        let Dataplane { port, iface, .. } = dp;
        let mut full_batches = 0;
        for _ in 0..RX_BATCHES_PER_TURN {
            let batch = port.receive(|frame, tx| iface.receive(now, frame, tx));
            if batch < port.batch_size() {
                break;
            }
            full_batches += 1;
        }
        dp.rx_pending = full_batches == RX_BATCHES_PER_TURN;
        self.dataplane_events();
    }

    /// Turns the endpoint's events into connection work.
    pub(super) fn dataplane_events(&mut self) {
        while let Some(event) = self.dataplane.as_mut().and_then(|dp| dp.iface.next_event()) {
            match event {
                Event::Accepted { conn, peer } => self.accept_dataplane(conn, SocketAddr::V4(peer)),
                Event::Readable(conn) => {
                    if let Some(token) = self.dataplane_token(conn) {
                        self.on_readable(token);
                    }
                }
                Event::Writable(conn) => {
                    if let Some(token) = self.dataplane_token(conn) {
                        self.flush_conn(token);
                    }
                }
                Event::Closed(conn) => {
                    if let Some(token) = self.dataplane_token(conn) {
                        self.close(token);
                    }
                }
            }
        }
    }

    fn dataplane_token(&self, conn: ConnHandle) -> Option<usize> {
        self.dataplane.as_ref()?.tokens.get(&conn).copied()
    }

    /// Sends what the loop turn produced: ACKs, replies, retransmissions; then kicks the NIC.
    pub(super) fn dataplane_transmit(&mut self) {
        let Some(dp) = self.dataplane.as_mut() else {
            return;
        };
        let now = Instant::now();
        dp.iface.poll(now, dp.port.transmitter());
        dp.port.flush();
    }

    fn accept_dataplane(&mut self, conn: ConnHandle, addr: SocketAddr) {
        let server = self.env.server.clone();
        let max = server.maxclients.load(Ordering::Relaxed);
        let Some(dp) = self.dataplane.as_mut() else {
            return;
        };
        if server.clients.fetch_add(1, Ordering::Relaxed) >= max {
            server.clients.fetch_sub(1, Ordering::Relaxed);
            server.rejected_connections.fetch_add(1, Ordering::Relaxed);
            let _ = dp
                .iface
                .send(conn, b"-ERR max number of clients reached\r\n");
            dp.iface.close(conn);
            return;
        }
        let laddr = SocketAddr::V4(dp.local);
        let token = self.next_token();
        if let Some(dp) = self.dataplane.as_mut() {
            dp.tokens.insert(conn, token);
        }
        // Ids follow accept order across listeners, as Redis documents for CLIENT ID.
        let id = server.next_client_id.fetch_add(1, Ordering::Relaxed) + 1;
        let client = self.new_client(id, addr, laddr, -1);
        tracing::debug!(shard = self.env.id, client = id, %addr, "dataplane client connected");
        self.stats.connections_received += 1;
        self.stats.dataplane_connections_received += 1;
        self.conns[token] = Some(Conn::new(Transport::Dataplane(conn), client));
        self.read_ready.push(token);
    }

    pub(super) fn dataplane_info(&self) -> Option<super::DataplaneInfo> {
        let dp = self.dataplane.as_ref()?;
        Some(super::DataplaneInfo {
            queue: self.env.id,
            connections: dp.iface.connections(),
            port: dp.port.stats(),
            endpoint: dp.iface.stats().clone(),
            memory_bytes: dp.port.umem_bytes(),
        })
    }

    /// Forgets a dataplane connection the shard closes; the endpoint finishes the TCP close.
    pub(super) fn close_dataplane(&mut self, conn: ConnHandle) {
        if let Some(dp) = self.dataplane.as_mut() {
            dp.tokens.remove(&conn);
            dp.iface.close(conn);
        }
    }
}
