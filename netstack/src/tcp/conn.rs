//! One connection's state: the TCP state machine's variables (RFC 793 §3.2), its buffers, RTT
//! estimator, congestion window and timer, plus what the application asked of it.
//!
//! Segment processing lives in `input.rs`, segment generation in `output.rs`; both are `impl
//! Connection` blocks over the fields defined here.
//!
//! Invariants:
//! - `snd_una <= snd_nxt <= snd_max`; once the SYN is acknowledged, `tx` holds exactly the bytes
//!   from `snd_una` on (sent-but-unacknowledged, then unsent); the FIN, when `fin_queued`, sits
//!   at `snd_una + tx.len()`.
//! - `rx` holds in-order bytes not yet read; out-of-order bytes are written ahead in `rx` and
//!   tracked by `reassembly`, relative to `rcv_nxt`.
//! - `timer` is the only timer: retransmission while data, SYN or FIN is in flight; persist
//!   while the peer's window is zero with data waiting; otherwise the TIME_WAIT / FIN_WAIT_2
//!   expiry.

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use smoltcp::storage::Assembler;

use super::congestion::Congestion;
use super::ring::Ring;
use super::rtt::RttEstimator;
use super::segment::{Segment, MAX_WSCALE};
use super::seq::Seq;
use crate::iface::Config;

/// The TCP MSS assumed when the peer's SYN carries none (RFC 1122 §4.2.2.6).
const DEFAULT_PEER_MSS: usize = 536;
/// TCP + IPv4 headers without options: MSS = MTU - 40.
const TCP_IP_HEADERS: usize = 40;

/// RFC 793 states of a passively opened connection (LISTEN is the endpoint itself; CLOSED is a
/// free slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

/// What the connection's single timer does when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerKind {
    /// Retransmit from `snd_una` (RFC 6298 §5.4); SYN-ACKs and FINs included.
    Retransmit,
    /// Zero-window probe (RFC 1122 §4.2.2.17).
    Persist,
    /// Leave TIME_WAIT or FIN_WAIT_2: free the slot.
    Expire,
}

pub(crate) struct Connection {
    pub(crate) peer: SocketAddrV4,
    /// Where this connection's frames come from, and so where ours go.
    pub(crate) peer_mac: [u8; 6],
    pub(crate) state: State,

    // Send sequence space (RFC 793 §3.2). `snd_max` is the highest sequence ever sent: after a
    // timeout `snd_nxt` goes back to `snd_una` while ACKs up to `snd_max` stay acceptable.
    pub(super) iss: Seq,
    pub(super) snd_una: Seq,
    pub(super) snd_nxt: Seq,
    pub(super) snd_max: Seq,
    /// The peer's window in bytes (already scaled) and the segment that last updated it.
    pub(super) snd_wnd: usize,
    pub(super) snd_wl1: Seq,
    pub(super) snd_wl2: Seq,
    /// The largest window the peer offered, for RFC 5961 §5.2's ACK acceptance.
    pub(super) max_snd_wnd: usize,
    /// Shift applied to the peer's window field (0 unless both sides sent window scale).
    pub(super) snd_wscale: u8,
    /// Largest payload per segment towards the peer.
    pub(super) mss: usize,
    /// The MSS option of our SYN-ACK (MTU - 40).
    pub(super) own_mss: u16,
    pub(super) tx: Ring,
    /// The application closed: a FIN follows the queued data.
    pub(super) fin_queued: bool,
    /// The peer acknowledged our FIN.
    pub(super) fin_acked: bool,

    // Receive sequence space.
    pub(super) irs: Seq,
    pub(super) rcv_nxt: Seq,
    /// Shift applied to the window we advertise (0 unless both sides sent window scale).
    pub(super) rcv_wscale: u8,
    /// Whether the peer offered window scaling (then our SYN-ACK carries ours).
    pub(super) wscale_offered: bool,
    /// Right edge of the window last advertised.
    pub(super) rcv_adv: Seq,
    pub(super) rx: Ring,
    pub(super) reassembly: Assembler,
    pub(super) fin_received: bool,

    pub(super) rtt: RttEstimator,
    pub(super) congestion: Congestion,
    pub(super) timer: Option<(Instant, TimerKind)>,
    /// Consecutive timeouts (or unanswered window probes) without progress.
    pub(super) retries: u32,

    // Work for the next dispatch.
    /// An ACK is owed (data or FIN arrived, window update).
    pub(super) ack_pending: bool,
    /// An ACK must go out before `receive` returns (duplicate or challenge ACK).
    pub(super) ack_now: bool,
    /// Retransmit the segment at `snd_una` without waiting (fast retransmit, partial ACK).
    pub(super) retransmit_first: bool,
    /// The retransmission timer fired: the next segment goes out even into a closed window.
    pub(super) timed_out: bool,
    /// A zero-window probe is due.
    pub(super) probe_due: bool,

    // Bookkeeping shared with the endpoint.
    /// The connection is in the endpoint's dirty list.
    pub(crate) in_dirty_list: bool,
    /// Earliest entry this connection has in the endpoint's timer heap.
    pub(crate) timer_scheduled: Option<Instant>,
    /// Accepted was emitted: the application knows this connection.
    pub(crate) accepted: bool,
    /// The application called close: its handle is dead, received data is discarded.
    pub(crate) app_closed: bool,
    /// A Readable event is pending (coalescing until the application calls recv).
    pub(super) readable_signalled: bool,
    /// `send` took less than asked: emit Writable when space frees up.
    pub(super) writable_wanted: bool,
}

impl Connection {
    /// A connection for the SYN `syn` received from `peer` at `peer_mac`, in SYN_RECEIVED
    /// with our SYN-ACK not yet sent.
    pub(crate) fn new_passive(
        config: &Config,
        peer: SocketAddrV4,
        peer_mac: [u8; 6],
        syn: &Segment<'_>,
        iss: Seq,
    ) -> Connection {
        let own_mss = config.mtu.saturating_sub(TCP_IP_HEADERS).max(1);
        let peer_mss = syn.mss.map_or(DEFAULT_PEER_MSS, usize::from);
        let mss = own_mss.min(peer_mss).max(1);
        // RFC 7323 §2.2: scale only when both sides send the option; ours is the smallest
        // shift that fits the receive buffer in 16 bits.
        let (snd_wscale, rcv_wscale) = match syn.wscale {
            Some(peer_shift) => (peer_shift, shift_for(config.rx_buffer)),
            None => (0, 0),
        };
        let irs = syn.seq;
        Connection {
            peer,
            peer_mac,
            state: State::SynReceived,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            // RFC 7323 §2.2: the window of a SYN is never scaled.
            snd_wnd: usize::from(syn.window),
            snd_wl1: irs,
            snd_wl2: iss,
            max_snd_wnd: usize::from(syn.window),
            snd_wscale,
            mss,
            own_mss: u16::try_from(own_mss).unwrap_or(u16::MAX),
            tx: Ring::new(config.tx_buffer),
            fin_queued: false,
            fin_acked: false,
            irs,
            rcv_nxt: irs.add(1),
            rcv_wscale,
            wscale_offered: syn.wscale.is_some(),
            rcv_adv: irs.add(1),
            rx: Ring::new(config.rx_buffer),
            reassembly: Assembler::new(),
            fin_received: false,
            rtt: RttEstimator::new(config.initial_rto, config.min_rto, config.max_rto),
            congestion: Congestion::new(mss, config.tx_buffer),
            timer: None,
            retries: 0,
            ack_pending: false,
            ack_now: false,
            retransmit_first: false,
            timed_out: false,
            probe_due: false,
            in_dirty_list: false,
            timer_scheduled: None,
            accepted: false,
            app_closed: false,
            readable_signalled: false,
            writable_wanted: false,
        }
    }

    /// Whether the application holds a live handle to this connection.
    pub(crate) fn app_owned(&self) -> bool {
        self.accepted && !self.app_closed
    }

    /// Whether `dispatch` has something to do right now: a segment the windows allow, an ACK
    /// owed, a retransmission or probe due, or the persist timer to arm.
    pub(crate) fn wants_dispatch(&self) -> bool {
        self.ack_pending
            || self.ack_now
            || self.retransmit_first
            || self.timed_out
            || self.probe_due
            || (self.state == State::SynReceived && self.snd_nxt == self.iss)
            || self.can_send_new()
            || self.needs_persist_timer()
    }

    /// Whether new data (or the FIN after it) fits the peer's and the congestion window.
    fn can_send_new(&self) -> bool {
        let unsent = self.unsent_len();
        if unsent == 0 {
            return self.fin_queued && !self.fin_sent();
        }
        self.snd_wnd.min(self.congestion.window()) > self.flight()
    }

    /// Data waits behind a zero window with nothing outstanding and no timer running.
    pub(super) fn needs_persist_timer(&self) -> bool {
        self.snd_wnd == 0
            && self.snd_max == self.snd_una
            && self.unsent_len() > 0
            && self.timer.is_none()
    }

    /// The application read from `rx`: owe a window update if the window grew by at least
    /// min(buffer / 2, MSS) past what was advertised (RFC 1122 §4.2.3.3, receiver-side SWS
    /// avoidance).
    pub(crate) fn after_read(&mut self) {
        let edge = self.rcv_nxt.add(self.receive_window());
        let threshold = (self.rx.limit() / 2).min(self.mss).max(1);
        if edge.since(self.rcv_adv) >= threshold {
            self.ack_pending = true;
        }
    }

    /// Bytes in flight: sequence space sent and not acknowledged.
    pub(super) fn flight(&self) -> usize {
        self.snd_nxt.since(self.snd_una)
    }

    /// Queued bytes not yet sent (0 while SYN_RECEIVED: nothing can be queued then).
    pub(super) fn unsent_len(&self) -> usize {
        self.tx.len().saturating_sub(self.flight())
    }

    /// Whether our FIN has been sent (and not rewound for retransmission) or acknowledged.
    pub(super) fn fin_sent(&self) -> bool {
        self.fin_acked || (self.fin_queued && self.flight() > self.tx.len())
    }

    /// The window we offer now: free receive buffer space.
    pub(super) fn receive_window(&self) -> usize {
        self.rx.free()
    }

    /// The window field for an outgoing segment (scaled, at most 65535), recording the right
    /// edge it advertises.
    pub(super) fn window_field(&mut self) -> u16 {
        let field = (self.receive_window() >> self.rcv_wscale).min(usize::from(u16::MAX));
        self.rcv_adv = self.rcv_nxt.add(field << self.rcv_wscale);
        field as u16
    }

    /// Arms the timer at `now + after` (replacing whatever it was).
    pub(super) fn arm(&mut self, now: Instant, after: Duration, kind: TimerKind) {
        self.timer = Some((now + after, kind));
    }

    /// Arms the retransmission timer unless it is already running.
    pub(super) fn ensure_retransmit_timer(&mut self, now: Instant) {
        if !matches!(self.timer, Some((_, TimerKind::Retransmit))) {
            self.arm(now, self.rtt.rto(), TimerKind::Retransmit);
        }
    }
}

/// The smallest window shift with which `buffer` fits the 16-bit window field.
fn shift_for(buffer: usize) -> u8 {
    let mut shift = 0;
    while shift < MAX_WSCALE && (buffer >> shift) > usize::from(u16::MAX) {
        shift += 1;
    }
    shift
}

#[cfg(test)]
mod tests {
    use super::shift_for;

    #[test]
    fn window_shift_fits_buffer() {
        assert_eq!(shift_for(65_535), 0);
        assert_eq!(shift_for(65_536), 1);
        assert_eq!(shift_for(256 * 1024), 3);
        assert_eq!(shift_for(usize::MAX), 14);
    }
}
