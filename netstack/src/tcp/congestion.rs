//! Congestion control: slow start and congestion avoidance (RFC 5681 §3.1), fast retransmit on
//! the third duplicate ACK (§3.2) and NewReno fast recovery with partial acknowledgements
//! (RFC 6582 §3.2). The initial window is 10 segments (RFC 6928 §2). All sizes are in bytes.

/// Duplicate ACKs that trigger a fast retransmit (RFC 5681 §3.2).
const DUP_ACK_THRESHOLD: u32 = 3;

#[derive(Debug)]
pub(crate) struct Congestion {
    cwnd: usize,
    ssthresh: usize,
    mss: usize,
    /// The window never grows beyond this: the send buffer bounds the flight anyway.
    cap: usize,
    dup_acks: u32,
    /// In fast recovery until the cumulative ACK reaches this many bytes past the current
    /// `snd_una` (RFC 6582's `recover`, kept relative so it needs no sequence arithmetic).
    recovery_remaining: Option<usize>,
}

/// What the sender must do after an acknowledgement.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AckAction {
    Nothing,
    /// Retransmit the first unacknowledged segment now.
    RetransmitFirst,
}

impl Congestion {
    pub(crate) fn new(mss: usize, send_buffer: usize) -> Congestion {
        // RFC 6928 §2: min(10*MSS, max(2*MSS, 14600)).
        let initial = (10 * mss).min((2 * mss).max(14_600));
        Congestion {
            cwnd: initial,
            ssthresh: usize::MAX,
            mss,
            cap: send_buffer.max(initial),
            dup_acks: 0,
            recovery_remaining: None,
        }
    }

    pub(crate) fn window(&self) -> usize {
        self.cwnd
    }

    /// `acked` new bytes were acknowledged; `flight_after` bytes remain outstanding.
    pub(crate) fn on_new_ack(&mut self, acked: usize, flight_after: usize) -> AckAction {
        self.dup_acks = 0;
        match self.recovery_remaining {
            Some(remaining) if acked < remaining => {
                // RFC 6582 §3.2 step 5, partial ACK: deflate by the amount acked, add one
                // segment back, retransmit the next hole, stay in recovery.
                self.recovery_remaining = Some(remaining - acked);
                self.cwnd = self.cwnd.saturating_sub(acked).max(self.mss) + self.mss;
                AckAction::RetransmitFirst
            }
            Some(_) => {
                // Full ACK: leave recovery (RFC 6582 §3.2 step 5, option 1).
                self.recovery_remaining = None;
                self.cwnd = self.ssthresh.min(flight_after.max(self.mss) + self.mss);
                AckAction::Nothing
            }
            None => {
                let growth = if self.cwnd < self.ssthresh {
                    acked.min(self.mss) // slow start, RFC 5681 §3.1 (3.2)
                } else {
                    (self.mss * self.mss / self.cwnd).max(1) // congestion avoidance (3.3)
                };
                self.cwnd = (self.cwnd + growth).min(self.cap);
                AckAction::Nothing
            }
        }
    }

    /// A duplicate ACK (RFC 5681 §2 definition) arrived while `flight` bytes are outstanding.
    pub(crate) fn on_duplicate_ack(&mut self, flight: usize) -> AckAction {
        self.dup_acks += 1;
        if self.recovery_remaining.is_some() {
            self.cwnd = (self.cwnd + self.mss).min(self.cap.saturating_add(3 * self.mss));
            AckAction::Nothing
        } else if self.dup_acks == DUP_ACK_THRESHOLD {
            self.ssthresh = (flight / 2).max(2 * self.mss);
            self.cwnd = self.ssthresh + 3 * self.mss;
            self.recovery_remaining = Some(flight);
            AckAction::RetransmitFirst
        } else {
            AckAction::Nothing
        }
    }

    /// The retransmission timer expired with `flight` bytes outstanding (RFC 5681 §3.1 (4),
    /// loss window of one segment).
    pub(crate) fn on_timeout(&mut self, flight: usize) {
        self.ssthresh = (flight / 2).max(2 * self.mss);
        self.cwnd = self.mss;
        self.dup_acks = 0;
        self.recovery_remaining = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_then_fast_recovery() {
        let mut cc = Congestion::new(1000, 1 << 20);
        assert_eq!(cc.window(), 10_000);
        assert_eq!(cc.on_new_ack(1000, 9000), AckAction::Nothing);
        assert_eq!(cc.window(), 11_000);
        assert_eq!(cc.on_duplicate_ack(10_000), AckAction::Nothing);
        assert_eq!(cc.on_duplicate_ack(10_000), AckAction::Nothing);
        assert_eq!(cc.on_duplicate_ack(10_000), AckAction::RetransmitFirst);
        assert_eq!(cc.window(), 5000 + 3000);
        assert_eq!(cc.on_duplicate_ack(10_000), AckAction::Nothing);
        assert_eq!(cc.window(), 9000);
        // Partial ACK, then the full one.
        assert_eq!(cc.on_new_ack(2000, 8000), AckAction::RetransmitFirst);
        assert_eq!(cc.on_new_ack(8000, 0), AckAction::Nothing);
        assert_eq!(cc.window(), 1000 + 1000);
        cc.on_timeout(4000);
        assert_eq!(cc.window(), 1000);
    }
}
