//! Segment generation for one connection: SYN-ACK, retransmissions, new data and FIN within
//! the peer's window and the congestion window, window probes and pure ACKs. No Nagle
//! (RFC 896) and no delayed ACK timer: every queued byte the windows allow goes out, and every
//! segment carries the current ACK and window.
//!
//! Sending is all-or-nothing per segment: state (`snd_nxt`, flags) only advances after the
//! device accepted the frame, so a full device loses nothing and the next call resumes.

use std::time::Instant;

use super::conn::{Connection, State, TimerKind};
use super::segment::{self, Flags, OutSegment};
use crate::iface::link::Egress;
use crate::iface::Config;
use crate::phy::Transmit;

/// What the connection's timer asks of the endpoint when it expires.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TimerOutcome {
    Keep,
    /// The retransmission or probe limit was reached: reset and free the connection.
    GiveUp,
    /// TIME_WAIT or FIN_WAIT_2 is over: free the slot.
    Expire,
}

impl Connection {
    /// Sends everything due. Returns false when the device ran out of buffers; what was not
    /// sent stays due.
    pub(crate) fn dispatch<T: Transmit>(
        &mut self,
        now: Instant,
        port: u16,
        out: &mut Egress<'_, T>,
    ) -> bool {
        if self.state == State::SynReceived {
            return self.dispatch_syn_ack(now, port, out);
        }
        if self.retransmit_first {
            let flight = self.flight();
            let len = flight.min(self.tx.len()).min(self.mss);
            let fin = len == self.tx.len() && flight > len;
            if flight > 0 && !self.send_from(port, out, 0, len, fin) {
                return false;
            }
            if flight > 0 {
                out.stats.tcp_retransmits_fast += 1;
                self.rtt.on_retransmit();
            }
            self.retransmit_first = false;
        }
        if self.probe_due {
            // RFC 1122 §4.2.2.17 probe: a segment just below the window makes the peer answer
            // with its current window.
            let seq = self.snd_una.sub(1);
            if !self.send_control(port, out, seq, Flags::NONE) {
                return false;
            }
            out.stats.tcp_window_probes += 1;
            self.probe_due = false;
        }
        if !self.send_new(now, port, out) {
            return false;
        }
        if self.needs_persist_timer() {
            self.arm(now, self.rtt.rto(), TimerKind::Persist);
        }
        if self.ack_pending || self.ack_now {
            return self.send_ack(port, out);
        }
        true
    }

    /// Sends a pure ACK with the current window.
    pub(crate) fn send_ack<T: Transmit>(&mut self, port: u16, out: &mut Egress<'_, T>) -> bool {
        self.send_control(port, out, self.snd_nxt, Flags::NONE)
    }

    /// Acts on an expired timer (the endpoint checked it is due).
    pub(crate) fn on_timer(&mut self, now: Instant, config: &Config) -> TimerOutcome {
        let Some((_, kind)) = self.timer.take() else {
            return TimerOutcome::Keep;
        };
        match kind {
            TimerKind::Expire => TimerOutcome::Expire,
            TimerKind::Retransmit => {
                let outstanding = self.snd_max.since(self.snd_una);
                if outstanding == 0 {
                    return TimerOutcome::Keep;
                }
                if self.retries >= config.max_retransmits {
                    return TimerOutcome::GiveUp;
                }
                // RFC 6298 §5.4-5.6 and RFC 5681 §3.1: back off, restart from snd_una with a
                // one-segment window.
                self.retries += 1;
                self.rtt.back_off();
                self.rtt.on_retransmit();
                self.congestion.on_timeout(outstanding);
                self.snd_nxt = self.snd_una;
                self.retransmit_first = false;
                self.timed_out = true;
                self.arm(now, self.rtt.rto(), TimerKind::Retransmit);
                TimerOutcome::Keep
            }
            TimerKind::Persist => {
                if self.snd_wnd > 0 || self.unsent_len() == 0 || self.snd_max != self.snd_una {
                    return TimerOutcome::Keep;
                }
                if self.retries >= config.max_retransmits {
                    return TimerOutcome::GiveUp;
                }
                self.retries += 1;
                self.rtt.back_off();
                self.probe_due = true;
                self.arm(now, self.rtt.rto(), TimerKind::Persist);
                TimerOutcome::Keep
            }
        }
    }

    fn dispatch_syn_ack<T: Transmit>(
        &mut self,
        now: Instant,
        port: u16,
        out: &mut Egress<'_, T>,
    ) -> bool {
        if self.snd_nxt == self.iss {
            // RFC 7323 §2.2: the SYN-ACK's window is unscaled; offer our shift only if the
            // peer offered one.
            let window = self.rx.limit().min(usize::from(u16::MAX));
            let seg = OutSegment {
                seq: self.iss,
                ack: Some(self.rcv_nxt),
                flags: Flags {
                    syn: true,
                    ..Flags::NONE
                },
                window: window as u16,
                mss: Some(self.own_mss),
                wscale: self.wscale_offered.then_some(self.rcv_wscale),
                payload: (&[], &[]),
            };
            if !segment::send(out, self.peer_mac, self.peer, port, &seg) {
                return false;
            }
            self.rcv_adv = self.rcv_nxt.add(window);
            let end = self.iss.add(1);
            if end > self.snd_max {
                self.rtt.start_timing(end, now);
                self.snd_max = end;
            }
            self.snd_nxt = end;
            self.timed_out = false;
            self.ensure_retransmit_timer(now);
        }
        self.ack_pending = false;
        self.ack_now = false;
        true
    }

    /// Sends queued data (and the FIN after it) as far as the windows allow. Right after a
    /// timeout the first segment goes out even into a closed window.
    fn send_new<T: Transmit>(&mut self, now: Instant, port: u16, out: &mut Egress<'_, T>) -> bool {
        loop {
            let offset = self.flight();
            let unsent = self.tx.len().saturating_sub(offset);
            let fin_due = self.fin_queued && !self.fin_sent();
            if unsent == 0 && !fin_due {
                break;
            }
            let window = self.snd_wnd.min(self.congestion.window());
            let mut usable = window.saturating_sub(offset);
            if self.timed_out {
                usable = usable.max(self.mss);
            }
            let len = unsent.min(self.mss).min(usable);
            // The FIN takes no buffer space at the peer: it may follow the data into a full
            // window.
            let fin = fin_due && len == unsent;
            if len == 0 && !fin {
                break;
            }
            let seq = self.snd_nxt;
            if !self.send_from(port, out, offset, len, fin) {
                return false;
            }
            self.timed_out = false;
            let end = seq.add(len + usize::from(fin));
            if end > self.snd_max {
                // Karn: only segments reaching new sequence space are timed.
                self.rtt.start_timing(end, now);
                self.snd_max = end;
            }
            self.snd_nxt = end;
            self.ensure_retransmit_timer(now);
            if fin {
                break;
            }
        }
        self.timed_out = false;
        true
    }

    /// Sends `len` bytes of `tx` starting `offset` bytes after `snd_una` (so at sequence
    /// `snd_una + offset`), with FIN if asked and PSH when it empties the queue.
    fn send_from<T: Transmit>(
        &mut self,
        port: u16,
        out: &mut Egress<'_, T>,
        offset: usize,
        len: usize,
        fin: bool,
    ) -> bool {
        let window = self.window_field();
        let seg = OutSegment {
            seq: self.snd_una.add(offset),
            ack: Some(self.rcv_nxt),
            flags: Flags {
                fin,
                psh: len > 0 && offset + len == self.tx.len(),
                ..Flags::NONE
            },
            window,
            mss: None,
            wscale: None,
            payload: self.tx.slices(offset, len),
        };
        let sent = segment::send(out, self.peer_mac, self.peer, port, &seg);
        if sent {
            self.ack_pending = false;
            self.ack_now = false;
        }
        sent
    }

    fn send_control<T: Transmit>(
        &mut self,
        port: u16,
        out: &mut Egress<'_, T>,
        seq: super::seq::Seq,
        flags: Flags,
    ) -> bool {
        let mut seg = OutSegment::control(seq, Some(self.rcv_nxt), flags);
        seg.window = self.window_field();
        let sent = segment::send(out, self.peer_mac, self.peer, port, &seg);
        if sent {
            self.ack_pending = false;
            self.ack_now = false;
        }
        sent
    }
}
