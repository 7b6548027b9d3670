//! The server-side TCP endpoint: one listening port, many passively opened connections
//! (RFC 793 / RFC 9293 behaviour, with the extensions named in each module).
//!
//! What it provides over smoltcp's `TcpSocket` (see FACTS-xdp.md): a listen backlog, O(1)
//! demultiplexing, lazily grown buffers (10,000+ connections are cheap), no Nagle and no
//! delayed-ACK timer (ACKs ride on the next `poll`, normally with the reply data), a
//! configurable RTO floor, fast retransmit and NewReno recovery.
//!
//! Modules:
//! - `endpoint`: listening, demultiplexing, timers, dirty list, events, application calls;
//! - `table`: connection slots, generations and the peer index ([`ConnHandle`]);
//! - `conn`: one connection's variables; `input` processes its segments and `output`
//!   generates them;
//! - `segment`: the wire view of received segments and the writer of sent ones;
//! - `ring`, `rtt`, `congestion`, `seq`: buffers, RFC 6298 timing, RFC 5681/6582
//!   congestion control, sequence arithmetic.
//!
//! Not implemented (not negotiated): SACK, timestamps (so no PAWS), ECN, urgent data,
//! active open. Challenge ACKs are not rate-limited (RFC 5961 §7). Out-of-order data is kept,
//! but the reassembly tracks at most 4 holes (smoltcp's `Assembler`): a segment that would open
//! a fifth is dropped (and answered with a duplicate ACK) for the peer to send again. Buffers
//! grow on demand and are kept until the connection is freed; they never shrink.

mod congestion;
mod conn;
pub(crate) mod endpoint;
mod input;
mod output;
mod ring;
mod rtt;
mod segment;
mod seq;
mod table;

pub use table::ConnHandle;

use std::net::SocketAddrV4;

/// What happened on the endpoint, for the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A connection completed its handshake (accept() is implicit).
    Accepted {
        conn: ConnHandle,
        peer: SocketAddrV4,
    },
    /// In-order data (or the peer's FIN) arrived since the application last called `recv` on
    /// this connection. Coalesced, edge-triggered: at most one pending per connection until the
    /// application calls `recv`, which should then read until `WouldBlock` (or `Ok(0)`).
    Readable(ConnHandle),
    /// Send-buffer space freed after `send` accepted less than asked (or WouldBlock). Only then.
    Writable(ConnHandle),
    /// Reset by the peer, or retransmissions gave up: the handle is dead; the application drops
    /// its state. Not emitted after the application itself called close/abort.
    Closed(ConnHandle),
}
