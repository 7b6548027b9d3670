//! Per-shard counters. Each shard counts only its own work, in plain fields on its own thread (no
//! shared atomics written per command); INFO and metrics gather them with a fan-out.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Duration;

/// A command name from the table, hashed and compared by address: names are `'static` strings
/// from one table entry each, so this is exact and costs one integer hash per command.
#[derive(Clone, Copy, Debug)]
pub struct CmdName(pub &'static str);

impl Hash for CmdName {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (self.0.as_ptr() as usize).hash(h);
    }
}

impl PartialEq for CmdName {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for CmdName {}

#[derive(Clone, Copy, Debug, Default)]
pub struct CmdStat {
    pub calls: u64,
    /// Total time spent, in nanoseconds (most commands take well under a microsecond).
    pub nanos: u64,
    pub failed: u64,
    /// Calls that took at most `LATENCY_BOUNDS_US[i]` (not cumulative); slower ones only count
    /// in `calls`.
    pub latency: [u64; LATENCY_BOUNDS_US.len()],
}

/// Upper bounds of the latency histogram, in microseconds: 10 us to 10 s.
pub const LATENCY_BOUNDS_US: [u64; 19] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
    500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

#[derive(Clone, Debug, Default)]
pub struct ShardStats {
    pub commands: HashMap<CmdName, CmdStat, ahash::RandomState>,
    /// Commands refused before running (unknown, arity, NOAUTH).
    pub rejected_calls: u64,
    pub connections_received: u64,
    /// Of those, connections accepted by the dataplane's userspace TCP endpoint.
    pub dataplane_connections_received: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub protocol_errors: u64,
    /// Commands that ran as multi-shard plans.
    pub multi_shard: u64,
    /// Transaction schedules that were refused and retried with a new id.
    pub tx_retries: u64,
}

impl ShardStats {
    pub fn record(&mut self, name: &'static str, took: Duration, failed: bool) {
        let s = self.commands.entry(CmdName(name)).or_default();
        let us = took.as_micros() as u64;
        s.calls += 1;
        s.nanos += took.as_nanos() as u64;
        s.failed += failed as u64;
        if let Some(i) = LATENCY_BOUNDS_US.iter().position(|&b| us <= b) {
            s.latency[i] += 1;
        }
    }

    pub fn reset(&mut self) {
        *self = ShardStats::default();
    }

    pub fn total_commands(&self) -> u64 {
        self.commands.values().map(|c| c.calls).sum()
    }

    /// Adds another shard's counters into this one.
    pub fn merge(&mut self, other: &ShardStats) {
        for (name, s) in &other.commands {
            let d = self.commands.entry(*name).or_default();
            d.calls += s.calls;
            d.nanos += s.nanos;
            d.failed += s.failed;
            for (a, b) in d.latency.iter_mut().zip(s.latency) {
                *a += b;
            }
        }
        self.rejected_calls += other.rejected_calls;
        self.connections_received += other.connections_received;
        self.dataplane_connections_received += other.dataplane_connections_received;
        self.net_input_bytes += other.net_input_bytes;
        self.net_output_bytes += other.net_output_bytes;
        self.protocol_errors += other.protocol_errors;
        self.multi_shard += other.multi_shard;
        self.tx_retries += other.tx_retries;
    }
}

/// One shard's figures for INFO.
#[derive(Clone, Debug, Default)]
pub struct ShardInfo {
    pub clients: usize,
    /// (keys, keys with a TTL) per database.
    pub keys: Vec<(usize, usize)>,
    pub expired_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub dataset_bytes: usize,
    pub buffer_bytes: usize,
    pub queue_depth: usize,
    pub messages_received: u64,
    pub queue_full_events: u64,
    pub stats: ShardStats,
    /// The shard's dataplane queue, when it serves one.
    pub dataplane: Option<DataplaneInfo>,
    /// Write commands since this shard's part of the last checkpoint began.
    pub changes_since_save: u64,
    /// Clients blocked on keys here (or parked here across shards).
    pub blocked_clients: usize,
    /// Channels and patterns with a subscriber here (unique across shards once merged).
    pub pubsub_channels: Vec<bytes::Bytes>,
    pub pubsub_patterns: Vec<bytes::Bytes>,
    /// Failed writes of the append-only log.
    pub aof_errors: u64,
}

/// One dataplane queue's figures: its AF_XDP port and its TCP endpoint.
#[derive(Clone, Debug, Default)]
pub struct DataplaneInfo {
    pub queue: usize,
    pub connections: usize,
    pub port: netstack::xsk::PortStats,
    pub endpoint: netstack::iface::Stats,
    /// The port's UMEM.
    pub memory_bytes: usize,
}

/// Channels (or, with `patterns`, patterns) with a subscriber on any shard, counted once.
pub fn pubsub_unique(infos: &[ShardInfo], patterns: bool) -> usize {
    let mut seen = std::collections::HashSet::new();
    for i in infos {
        let names = if patterns {
            &i.pubsub_patterns
        } else {
            &i.pubsub_channels
        };
        seen.extend(names.iter());
    }
    seen.len()
}
