//! The protocol core's entry point: an [`Interface`] owns one MAC and IPv4 address and one
//! listening TCP port, and turns received Ethernet frames plus the current time into sent frames
//! and [`Event`]s. It does no I/O and reads no clock (quiche/smoltcp style): the shard passes
//! frames, `now` and a [`Transmit`] device in.
//!
//! The driver loop: `receive` each frame of a batch (ARP replies, ICMP echo replies, SYN-ACKs,
//! RSTs and duplicate/challenge ACKs go out right away); drain `next_event` and call
//! `recv`/`send`/`close`; then `poll`, which sends the data written and the ACKs owed; sleep
//! until new frames or `poll_at`. So an ACK for received data leaves on that `poll`,
//! piggybacked on the reply data: there is no delayed-ACK timer.
//!
//! Deviations from the RFCs, all configurable in [`Config`]: the RTO floor is 20 ms instead of
//! 1 s (RFC 6298 §2.4) and its ceiling 2 s instead of at least 60 s (§2.5); TIME_WAIT lasts 1 s
//! instead of 2*MSL (RFC 793); FIN_WAIT_2 gives up after 60 s (as Linux does).
//!
//! No ARP cache: ARP and ICMP answers go to the requester's MAC, and each TCP connection sends
//! to the MAC its SYN came from.

pub(crate) mod link;
mod stats;

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use smoltcp::wire::{EthernetAddress, EthernetFrame, EthernetProtocol, IpProtocol};

use crate::phy::Transmit;
use crate::tcp::endpoint::Endpoint;
pub use crate::tcp::{ConnHandle, Event};
use link::Egress;
pub use stats::Stats;

/// Addresses, limits and timers of an [`Interface`].
#[derive(Debug, Clone)]
pub struct Config {
    pub mac: [u8; 6],
    /// The dataplane's IPv4 address.
    pub addr: Ipv4Addr,
    /// The subnet's prefix length, for the shard's configuration: the core does no routing
    /// (every answer goes to the MAC its request came from), so it does not read it.
    pub prefix_len: u8,
    /// The one listening TCP port; segments to other ports get a RST.
    pub port: u16,
    /// Most half-open (SYN_RECEIVED) connections; further SYNs are dropped (counted).
    pub backlog: usize,
    /// Most connections in any state; a SYN beyond it gets a RST (counted).
    pub max_connections: usize,
    /// Floor of the retransmission timeout (RFC 6298 with this instead of 1 s). Default 20 ms.
    pub min_rto: Duration,
    /// Ceiling of the retransmission timeout after backoff. Default 2 s: a datacenter
    /// appliance should notice a dead peer in seconds, not minutes.
    pub max_rto: Duration,
    /// Timeout before the first RTT sample, SYN-ACKs included (RFC 6298 §2.1). Default 1 s.
    pub initial_rto: Duration,
    /// Retransmissions (or unanswered zero-window probes) without progress before a
    /// connection is reset and Closed is emitted. Default 12 (about 15 s with the defaults).
    pub max_retransmits: u32,
    /// Per-connection receive buffer, the largest window advertised. Default 256 KiB.
    pub rx_buffer: usize,
    /// Per-connection send buffer. Default 256 KiB.
    pub tx_buffer: usize,
    /// IP MTU. Default 1500 (MSS 1460).
    pub mtu: usize,
    /// TIME_WAIT duration. Default 1 s (a documented deviation from 2*MSL).
    pub time_wait: Duration,
    /// How long a connection waits in FIN_WAIT_2 for the peer's FIN. Default 60 s.
    pub fin_wait_2_timeout: Duration,
    /// Check the IPv4 header, TCP and ICMP checksums on receive. Default true.
    pub verify_checksums: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            mac: [0; 6],
            addr: Ipv4Addr::UNSPECIFIED,
            prefix_len: 24,
            port: 6379,
            backlog: 1024,
            max_connections: 16_384,
            min_rto: Duration::from_millis(20),
            max_rto: Duration::from_secs(2),
            initial_rto: Duration::from_secs(1),
            max_retransmits: 12,
            rx_buffer: 256 * 1024,
            tx_buffer: 256 * 1024,
            mtu: 1500,
            time_wait: Duration::from_secs(1),
            fin_wait_2_timeout: Duration::from_secs(60),
            verify_checksums: true,
        }
    }
}

/// The protocol core: Ethernet, ARP, IPv4, ICMP echo and the TCP endpoint.
pub struct Interface {
    config: Config,
    stats: Stats,
    /// Identification of the next IPv4 datagram sent.
    ip_ident: u16,
    tcp: Endpoint,
}

impl Interface {
    pub fn new(config: Config) -> Interface {
        Interface {
            tcp: Endpoint::new(config.clone()),
            config,
            stats: Stats::default(),
            ip_ident: 0,
        }
    }

    /// One received Ethernet frame. Immediate answers (ARP reply, ICMP echo reply, SYN-ACK,
    /// RST, duplicate and challenge ACKs) may be emitted through `tx` right away; ACKs and data
    /// wait for `poll`.
    pub fn receive<T: Transmit>(&mut self, now: Instant, frame: &[u8], tx: &mut T) {
        self.stats.rx_frames += 1;
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            self.stats.rx_dropped_malformed += 1;
            return;
        };
        let dst = eth.dst_addr();
        let src_mac = eth.src_addr();
        let ethertype = eth.ethertype();
        let mut out = Egress {
            tx,
            mac: self.config.mac,
            addr: self.config.addr,
            ip_ident: &mut self.ip_ident,
            stats: &mut self.stats,
        };
        let ours = dst == EthernetAddress(self.config.mac);
        match ethertype {
            EthernetProtocol::Arp if ours || dst.is_broadcast() => {
                link::answer_arp(eth.payload(), &mut out);
            }
            EthernetProtocol::Ipv4 if ours => {
                if !src_mac.is_unicast() {
                    out.stats.rx_dropped_malformed += 1;
                    return;
                }
                let verify = self.config.verify_checksums;
                let Some(datagram) =
                    link::check_ipv4(src_mac.0, eth.payload(), out.addr, verify, out.stats)
                else {
                    return;
                };
                match datagram.protocol {
                    IpProtocol::Tcp => self.tcp.segment_arrives(now, &datagram, &mut out),
                    IpProtocol::Icmp => link::answer_icmp(&datagram, verify, &mut out),
                    _ => out.stats.rx_dropped_unsupported += 1,
                }
            }
            EthernetProtocol::Arp | EthernetProtocol::Ipv4 => {
                out.stats.rx_dropped_not_for_us += 1;
            }
            _ => out.stats.rx_dropped_unknown_ethertype += 1,
        }
    }

    /// Emits what is due: ACKs for data received since the last poll, data the application
    /// sent, FINs, retransmissions, zero-window probes, timer expiries (TIME_WAIT, FIN_WAIT_2,
    /// SYN_RECEIVED give-up). Work is bounded by the connections marked dirty plus the timers
    /// due: never a scan of every connection.
    pub fn poll<T: Transmit>(&mut self, now: Instant, tx: &mut T) {
        let mut out = Egress {
            tx,
            mac: self.config.mac,
            addr: self.config.addr,
            ip_ident: &mut self.ip_ident,
            stats: &mut self.stats,
        };
        self.tcp.poll(now, &mut out);
    }

    /// Earliest instant `poll` has work to do, if any (the shard sleeps until then). It may be
    /// early (a timer that was since pushed back), never late.
    pub fn poll_at(&self) -> Option<Instant> {
        self.tcp.poll_at()
    }

    pub fn next_event(&mut self) -> Option<Event> {
        self.tcp.next_event()
    }

    /// Like `io::Read` on a non-blocking socket: `Ok(n > 0)` data; `Ok(0)` the peer sent FIN
    /// and all data was read; `Err(WouldBlock)` nothing now; `Err(NotConnected)` a dead or
    /// stale handle (after Closed, close or abort). Reading reopens the window: a window update
    /// goes out on the next poll when it grew by min(rx_buffer / 2, MSS).
    pub fn recv(&mut self, conn: ConnHandle, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.recv(conn, buf)
    }

    /// Like `io::Write` on a non-blocking socket: queues up to the free send-buffer space and
    /// returns `Ok(n)` (may be short); `Err(WouldBlock)` when full (Writable follows);
    /// `Err(BrokenPipe)` once the connection can no longer send; `Err(NotConnected)` for a dead
    /// or stale handle. Nothing is transmitted until `poll` (no Nagle: poll sends every queued
    /// byte the windows allow).
    pub fn send(&mut self, conn: ConnHandle, data: &[u8]) -> io::Result<usize> {
        self.tcp.send(conn, data)
    }

    /// Graceful close: FIN after the queued data; the handle is invalid for the application
    /// afterwards; the stack finishes the close (LAST_ACK / FIN_WAIT / TIME_WAIT) on its own
    /// and frees the slot. Unread and later-arriving data is discarded.
    pub fn close(&mut self, conn: ConnHandle) {
        self.tcp.close(conn);
    }

    /// Abortive close: RST on the next poll, slot freed now.
    pub fn abort(&mut self, conn: ConnHandle) {
        self.tcp.abort(conn, &mut self.stats);
    }

    pub fn peer(&self, conn: ConnHandle) -> Option<SocketAddrV4> {
        self.tcp.peer(conn)
    }

    /// Slots in use, any state (TIME_WAIT included).
    pub fn connections(&self) -> usize {
        self.tcp.connections()
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}
