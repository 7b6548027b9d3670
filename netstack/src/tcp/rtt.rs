//! Round-trip time estimation and the retransmission timeout (RFC 6298), with a configurable
//! floor instead of RFC 6298's 1 s minimum (§2.4) and a configurable ceiling (§2.5 allows one;
//! ours may be below the 60 s it asks for).
//!
//! One segment is timed at a time, and never a retransmitted one (Karn's algorithm, §3): a
//! retransmission cancels the measurement in progress. The timeout backs off by doubling on
//! every expiry (§5.5) and returns to the estimate as soon as new data is acknowledged.

use std::time::{Duration, Instant};

use super::seq::Seq;

/// The most doublings applied to the timeout (the ceiling caps it well before).
const MAX_BACKOFF_SHIFT: u32 = 16;

#[derive(Debug)]
pub(crate) struct RttEstimator {
    /// Smoothed RTT and its variation in microseconds; `None` until the first sample.
    smoothed: Option<(u64, u64)>,
    /// The timeout from the estimate, before backoff, clamped to [min, max].
    base_rto: Duration,
    backoff_shift: u32,
    min_rto: Duration,
    max_rto: Duration,
    /// The segment being timed: acknowledged once the peer acks `end`; sent at the instant.
    timed: Option<(Seq, Instant)>,
}

impl RttEstimator {
    pub(crate) fn new(initial_rto: Duration, min_rto: Duration, max_rto: Duration) -> Self {
        // A zero timeout would expire at the instant it is armed, forever.
        let min_rto = min_rto.max(Duration::from_micros(1));
        RttEstimator {
            smoothed: None,
            base_rto: initial_rto.clamp(min_rto, max_rto.max(min_rto)),
            backoff_shift: 0,
            min_rto,
            max_rto: max_rto.max(min_rto),
            timed: None,
        }
    }

    /// The current retransmission timeout, backoff included.
    pub(crate) fn rto(&self) -> Duration {
        self.base_rto
            .saturating_mul(1 << self.backoff_shift)
            .min(self.max_rto)
    }

    /// Starts timing a segment ending at `end` unless one is already being timed.
    pub(crate) fn start_timing(&mut self, end: Seq, now: Instant) {
        if self.timed.is_none() {
            self.timed = Some((end, now));
        }
    }

    /// New data was acknowledged up to `ack`: takes a sample if it covers the timed segment,
    /// and ends any backoff (RFC 6298 §5.7 allows recomputing once data is acknowledged).
    pub(crate) fn on_ack(&mut self, ack: Seq, now: Instant) {
        if let Some((end, sent)) = self.timed {
            if end <= ack {
                self.timed = None;
                self.sample(now.saturating_duration_since(sent));
            }
        }
        self.backoff_shift = 0;
    }

    /// A segment was retransmitted: the measurement in progress is ambiguous (Karn).
    pub(crate) fn on_retransmit(&mut self) {
        self.timed = None;
    }

    /// The retransmission timer expired (RFC 6298 §5.5).
    pub(crate) fn back_off(&mut self) {
        self.backoff_shift = (self.backoff_shift + 1).min(MAX_BACKOFF_SHIFT);
    }

    /// RFC 6298 §2.2 and §2.3, with alpha = 1/8, beta = 1/4, K = 4 and no clock granularity term
    /// (time is passed in with sub-microsecond resolution).
    fn sample(&mut self, rtt: Duration) {
        let r = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX / 8);
        let (srtt, rttvar) = match self.smoothed {
            None => (r, r / 2),
            Some((srtt, rttvar)) => {
                let rttvar = (3 * rttvar + srtt.abs_diff(r)) / 4;
                let srtt = (7 * srtt + r) / 8;
                (srtt, rttvar)
            }
        };
        self.smoothed = Some((srtt, rttvar));
        let rto = Duration::from_micros(srtt.saturating_add(4 * rttvar));
        self.base_rto = rto.clamp(self.min_rto, self.max_rto);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_backoff_and_recovery() {
        let t0 = Instant::now();
        let mut est = RttEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(20),
            Duration::from_secs(2),
        );
        assert_eq!(est.rto(), Duration::from_secs(1));
        est.start_timing(Seq(100), t0);
        est.on_ack(Seq(100), t0 + Duration::from_micros(100));
        // 100 us + 4 * 50 us is far below the floor.
        assert_eq!(est.rto(), Duration::from_millis(20));
        est.back_off();
        est.back_off();
        assert_eq!(est.rto(), Duration::from_millis(80));
        for _ in 0..10 {
            est.back_off();
        }
        assert_eq!(est.rto(), Duration::from_secs(2));
        est.on_ack(Seq(200), t0);
        assert_eq!(est.rto(), Duration::from_millis(20));
    }

    #[test]
    fn karn_discards_retransmitted_sample() {
        let t0 = Instant::now();
        let mut est = RttEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(1),
            Duration::from_secs(60),
        );
        est.start_timing(Seq(10), t0);
        est.on_retransmit();
        est.on_ack(Seq(10), t0 + Duration::from_secs(5));
        assert_eq!(est.rto(), Duration::from_secs(1));
    }
}
