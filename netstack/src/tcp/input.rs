//! Segment arrival for an existing connection: RFC 793 §3.9 "SEGMENT ARRIVES" for the
//! synchronized states (and SYN_RECEIVED), hardened per RFC 5961 and with the ACK processing of
//! RFC 5681 / RFC 6582 / RFC 6298.
//!
//! Processing never sends: it updates the connection and leaves flags (`ack_now`, `ack_pending`,
//! `retransmit_first`, ...) for the endpoint, which sends immediate answers before `receive`
//! returns and everything else on the next `poll`.

use std::collections::VecDeque;
use std::time::Instant;

use super::congestion::AckAction;
use super::conn::{Connection, State, TimerKind};
use super::segment::Segment;
use super::seq::Seq;
use super::{ConnHandle, Event};
use crate::iface::{Config, Stats};

/// What the endpoint does with the connection after a segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InputOutcome {
    Keep,
    /// Answer the segment with a RST (an unacceptable ACK in SYN_RECEIVED, RFC 793 p.72).
    ResetReply,
    /// Free the slot; emit Closed if the application held the handle.
    Free,
    /// A new SYN for the same peer port while in TIME_WAIT (RFC 1122 §4.2.2.13): free the slot
    /// and handle the SYN as a new connection.
    Reopen,
}

/// What segment processing may touch besides the connection.
pub(crate) struct InputCx<'a> {
    pub(crate) now: Instant,
    pub(crate) handle: ConnHandle,
    pub(crate) config: &'a Config,
    pub(crate) events: &'a mut VecDeque<Event>,
    pub(crate) stats: &'a mut Stats,
}

impl Connection {
    pub(crate) fn on_segment(&mut self, seg: &Segment<'_>, cx: &mut InputCx<'_>) -> InputOutcome {
        if seg.syn {
            return self.on_syn(seg, cx);
        }
        if !self.acceptable(seg) {
            // RFC 793 p.69: answer an unacceptable segment (but never a RST) with an ACK. A
            // retransmitted FIN in TIME_WAIT also restarts the timer (RFC 793 p.76).
            if seg.rst {
                return InputOutcome::Keep;
            }
            self.ack_now = true;
            if self.state == State::TimeWait && seg.fin {
                self.arm(cx.now, cx.config.time_wait, TimerKind::Expire);
            }
            // RFC 9293 §3.10.7.4: with a zero receive window "special allowance should be made
            // to accept valid ACKs": the peer's data is beyond our window, but its ACK must
            // still release our send buffer, or both sides can wait on each other forever.
            return match seg.ack {
                Some(ack) if self.receive_window() == 0 && self.state != State::SynReceived => {
                    self.on_ack(seg, ack, cx)
                }
                _ => InputOutcome::Keep,
            };
        }
        if seg.rst {
            // RFC 5961 §3.2: only an exact match resets; any other in-window RST gets a
            // challenge ACK.
            if seg.seq == self.rcv_nxt {
                cx.stats.tcp_resets_received += 1;
                return InputOutcome::Free;
            }
            self.challenge_ack(cx.stats);
            return InputOutcome::Keep;
        }
        let Some(ack) = seg.ack else {
            return InputOutcome::Keep;
        };
        if self.state == State::SynReceived {
            if !(self.snd_una < ack && ack <= self.snd_max) {
                return InputOutcome::ResetReply;
            }
            self.establish(ack, cx);
        }
        match self.on_ack(seg, ack, cx) {
            InputOutcome::Keep => {}
            other => return other,
        }
        if matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            if !seg.payload.is_empty() {
                self.on_data(seg, cx);
            }
            if seg.fin {
                self.on_fin(seg, cx);
            }
        }
        InputOutcome::Keep
    }

    /// A SYN on an existing connection.
    fn on_syn(&mut self, seg: &Segment<'_>, cx: &mut InputCx<'_>) -> InputOutcome {
        if seg.rst {
            return InputOutcome::Keep;
        }
        match self.state {
            // The peer did not get our SYN-ACK: send it again now.
            State::SynReceived if seg.seq == self.irs && seg.ack.is_none() => {
                self.snd_nxt = self.iss;
                self.rtt.on_retransmit();
                InputOutcome::Keep
            }
            State::TimeWait if seg.ack.is_none() && seg.seq > self.rcv_nxt => InputOutcome::Reopen,
            // RFC 5961 §4.2: a SYN in a synchronized state, whatever its sequence number.
            _ => {
                self.challenge_ack(cx.stats);
                InputOutcome::Keep
            }
        }
    }

    /// RFC 793 p.69 acceptance test. With a zero window a segment starting at `rcv_nxt` is
    /// still accepted so its ACK (and RST or FIN) is processed; its data is then dropped.
    fn acceptable(&self, seg: &Segment<'_>) -> bool {
        let window = i64::try_from(self.receive_window()).unwrap_or(i64::MAX);
        let start = seg.seq.offset_from(self.rcv_nxt);
        let len = i64::try_from(seg.seq_len()).unwrap_or(i64::MAX);
        let starts_inside = 0 <= start && start < window;
        if len == 0 || window == 0 {
            return starts_inside || start == 0;
        }
        let end = start + len - 1;
        starts_inside || (0 <= end && end < window)
    }

    fn challenge_ack(&mut self, stats: &mut Stats) {
        self.ack_now = true;
        stats.tcp_challenge_acks += 1;
    }

    /// The handshake's final ACK: SYN_RECEIVED -> ESTABLISHED, and the application learns of
    /// the connection.
    fn establish(&mut self, ack: Seq, cx: &mut InputCx<'_>) {
        self.state = State::Established;
        self.snd_una = ack;
        self.snd_nxt = self.snd_nxt.max(ack);
        self.rtt.on_ack(ack, cx.now);
        self.retries = 0;
        self.timed_out = false;
        self.timer = None;
        self.accepted = true;
        cx.stats.tcp_accepted += 1;
        cx.events.push_back(Event::Accepted {
            conn: cx.handle,
            peer: self.peer,
        });
    }

    /// ACK processing (RFC 793 p.72, RFC 5961 §5.2, RFC 5681 §3.2) and the window update.
    fn on_ack(&mut self, seg: &Segment<'_>, ack: Seq, cx: &mut InputCx<'_>) -> InputOutcome {
        if ack > self.snd_max {
            // Acknowledges something never sent: ACK and drop.
            self.ack_now = true;
            return InputOutcome::Keep;
        }
        let oldest_acceptable = self
            .snd_una
            .sub(self.max_snd_wnd.max(usize::from(u16::MAX)));
        if ack < oldest_acceptable {
            self.challenge_ack(cx.stats);
            return InputOutcome::Keep;
        }
        let window = usize::from(seg.window) << self.snd_wscale;
        if self.snd_una < ack {
            match self.on_new_ack(ack, cx) {
                InputOutcome::Keep => {}
                other => return other,
            }
        } else if ack == self.snd_una
            && seg.payload.is_empty()
            && !seg.fin
            && window == self.snd_wnd
            && self.snd_max > self.snd_una
        {
            let outstanding = self.snd_max.since(self.snd_una);
            if self.congestion.on_duplicate_ack(outstanding) == AckAction::RetransmitFirst {
                self.retransmit_first = true;
            }
        }
        if self.snd_max == self.snd_una {
            // Nothing outstanding: an ACK means the peer is alive (answers window probes).
            self.retries = 0;
        }
        // RFC 793 p.72: take the window from the newest segment.
        if self.snd_wl1 < seg.seq || (self.snd_wl1 == seg.seq && self.snd_wl2 <= ack) {
            self.snd_wnd = window;
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = ack;
            self.max_snd_wnd = self.max_snd_wnd.max(window);
            if window > 0 && matches!(self.timer, Some((_, TimerKind::Persist))) {
                self.timer = None;
            }
        }
        InputOutcome::Keep
    }

    /// `ack` acknowledges new sequence space.
    fn on_new_ack(&mut self, ack: Seq, cx: &mut InputCx<'_>) -> InputOutcome {
        let acked = ack.since(self.snd_una);
        let data_acked = acked.min(self.tx.len());
        self.tx.consume(data_acked);
        if acked > data_acked && self.fin_queued {
            self.fin_acked = true;
        }
        self.snd_una = ack;
        self.snd_nxt = self.snd_nxt.max(ack);
        self.rtt.on_ack(ack, cx.now);
        self.retries = 0;
        let outstanding = self.snd_max.since(self.snd_una);
        if self.congestion.on_new_ack(acked, outstanding) == AckAction::RetransmitFirst
            && outstanding > 0
        {
            self.retransmit_first = true;
        }
        // RFC 6298 §5.2 and §5.3: restart the timer for what is still outstanding.
        self.timer = None;
        if outstanding > 0 {
            self.arm(cx.now, self.rtt.rto(), TimerKind::Retransmit);
        }
        if data_acked > 0 && self.writable_wanted && self.app_owned() {
            self.writable_wanted = false;
            cx.events.push_back(Event::Writable(cx.handle));
        }
        if self.fin_acked {
            match self.state {
                State::FinWait1 => {
                    self.state = State::FinWait2;
                    self.arm(cx.now, cx.config.fin_wait_2_timeout, TimerKind::Expire);
                }
                State::Closing => {
                    self.state = State::TimeWait;
                    self.arm(cx.now, cx.config.time_wait, TimerKind::Expire);
                }
                State::LastAck => return InputOutcome::Free,
                _ => {}
            }
        }
        InputOutcome::Keep
    }

    /// Payload in ESTABLISHED / FIN_WAIT_1 / FIN_WAIT_2: trimmed to the window, placed at its
    /// offset, and made readable as far as it is contiguous.
    fn on_data(&mut self, seg: &Segment<'_>, cx: &mut InputCx<'_>) {
        let start = seg.seq.offset_from(self.rcv_nxt);
        let skip = usize::try_from(-start).unwrap_or(0);
        let payload = seg.payload.get(skip..).unwrap_or_default();
        let offset = usize::try_from(start).unwrap_or(0);
        // Trimmed to the window: at most `limit - len - offset` bytes, as write_ahead requires.
        let room = self.receive_window().saturating_sub(offset);
        let accepted = payload.get(..room).unwrap_or(payload);
        let mut advanced = 0;
        if !accepted.is_empty() {
            self.rx.write_ahead(offset, accepted);
            // More holes than the assembler tracks (4): the segment is dropped and the peer
            // retransmits it.
            advanced = self
                .reassembly
                .add_then_remove_front(offset, accepted.len())
                .unwrap_or(0);
        }
        if offset > 0 {
            // Out of order: an immediate duplicate ACK drives the peer's fast retransmit
            // (RFC 5681 §4.2).
            cx.stats.tcp_out_of_order += 1;
            self.ack_now = true;
        } else {
            self.ack_pending = true;
        }
        if advanced > 0 {
            self.rx.commit(advanced);
            self.rcv_nxt = self.rcv_nxt.add(advanced);
            if self.app_closed {
                self.rx.consume(advanced);
            } else {
                self.signal_readable(cx);
            }
        }
    }

    /// The peer's FIN, accepted only once everything before it has arrived.
    fn on_fin(&mut self, seg: &Segment<'_>, cx: &mut InputCx<'_>) {
        if seg.seq.add(seg.payload.len()) != self.rcv_nxt {
            return;
        }
        self.rcv_nxt = self.rcv_nxt.add(1);
        self.fin_received = true;
        self.ack_pending = true;
        self.signal_readable(cx);
        self.state = match self.state {
            State::Established => State::CloseWait,
            // Our FIN is not acknowledged yet (on_new_ack would have left FIN_WAIT_1).
            State::FinWait1 => State::Closing,
            _ => {
                self.arm(cx.now, cx.config.time_wait, TimerKind::Expire);
                State::TimeWait
            }
        };
    }

    fn signal_readable(&mut self, cx: &mut InputCx<'_>) {
        if self.app_owned() && !self.readable_signalled {
            self.readable_signalled = true;
            cx.events.push_back(Event::Readable(cx.handle));
        }
    }
}
