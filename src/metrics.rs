//! Prometheus metrics (`/metrics`) and the health check (`/health`), served beside the control
//! plane on `[metrics] bind`/`port` (DESIGN rule 9 and the operations contract).
//!
//! Shards never touch shared counters per command: each counts and times its own work in
//! `ShardStats`, and a scrape asks every shard for a snapshot through the mesh (the same
//! `ShardInfo` that INFO reads, so the two always agree). Each subsystem registers its collector
//! in the one registry built by [`registry`].

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};
use prometheus::{Encoder, Registry, TextEncoder};

use crate::server::Server;
use crate::shard::{HopOut, ShardInfo, ShardStats, LATENCY_BOUNDS_US};

/// How long a scrape or health check waits for the shards.
const SHARD_TIMEOUT: Duration = Duration::from_secs(2);

/// Asks every shard for its figures (what INFO and a scrape read).
pub fn shard_infos(server: &Server, timeout: Duration) -> Result<Vec<ShardInfo>, usize> {
    let outs = server
        .mesh
        .query_all(|shard| HopOut::Info(Box::new(shard.info())), timeout)?;
    Ok(outs.into_iter().filter_map(HopOut::into_info).collect())
}

/// Bytes the allocator (mimalloc) holds committed: the analogue of Redis's used_memory.
pub fn allocated_bytes() -> u64 {
    let (mut elapsed, mut user, mut system) = (0usize, 0usize, 0usize);
    let (mut rss, mut peak_rss, mut commit, mut peak_commit, mut faults) = (0, 0, 0, 0, 0);
    // SAFETY: mi_process_info only writes the counters we pass.
    unsafe {
        libmimalloc_sys::mi_process_info(
            &mut elapsed,
            &mut user,
            &mut system,
            &mut rss,
            &mut peak_rss,
            &mut commit,
            &mut peak_commit,
            &mut faults,
        );
    }
    commit as u64
}

/// Resident set size from /proc.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// The server-wide figures, gathered from every shard on each scrape.
struct ShardCollector {
    server: Arc<Server>,
    descs: Vec<Desc>,
}

/// (name, help, type, label) of every family the collector produces.
const FAMILIES: &[(&str, &str, MetricType, &[&str])] = &[
    (
        "ferrite_commands_total",
        "Commands processed, by command.",
        MetricType::COUNTER,
        &["command"],
    ),
    (
        "ferrite_command_failures_total",
        "Commands that replied with an error, by command.",
        MetricType::COUNTER,
        &["command"],
    ),
    (
        "ferrite_latency_seconds",
        "Command execution time, by command.",
        MetricType::HISTOGRAM,
        &["command"],
    ),
    (
        "ferrite_connections_total",
        "Client connections accepted, by listener.",
        MetricType::COUNTER,
        &["listener"],
    ),
    (
        "ferrite_connected_clients",
        "Clients connected now.",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_blocked_clients",
        "Clients waiting in a blocking command (BLPOP, XREAD BLOCK, ...).",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_pubsub_channels",
        "Channels with at least one subscriber.",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_pubsub_patterns",
        "Patterns with at least one subscriber.",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_rejected_connections_total",
        "Connections refused at maxclients.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_memory_bytes",
        "Memory by category (keyspace is an estimate from sampled entries).",
        MetricType::GAUGE,
        &["category"],
    ),
    (
        "ferrite_keys_total",
        "Keys, by database.",
        MetricType::GAUGE,
        &["db"],
    ),
    (
        "ferrite_keys_with_ttl",
        "Keys with a time to live, by database.",
        MetricType::GAUGE,
        &["db"],
    ),
    (
        "ferrite_keyspace_hits_total",
        "Key lookups by read commands that found the key.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_keyspace_misses_total",
        "Key lookups by read commands that did not find the key.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_expired_keys_total",
        "Keys removed because their time to live passed.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_evicted_keys_total",
        "Keys evicted for memory (no eviction policy is active).",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_auth_failures_total",
        "Failed AUTH and HELLO AUTH attempts.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_protocol_errors_total",
        "Requests that broke the protocol (the client was disconnected).",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_net_input_bytes_total",
        "Bytes read from clients.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_net_output_bytes_total",
        "Bytes written to clients.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_multi_shard_commands_total",
        "Commands that ran atomically across shards.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_multi_shard_retries_total",
        "Multi-shard schedules refused and retried.",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_shard_queue_depth",
        "Messages waiting in a shard's inbound queues.",
        MetricType::GAUGE,
        &["shard"],
    ),
    (
        "ferrite_shard_messages_total",
        "Messages a shard took off its inbound queues.",
        MetricType::COUNTER,
        &["shard"],
    ),
    (
        "ferrite_shard_queue_full_total",
        "Times a sender found one of a shard's queues full (and held the message back).",
        MetricType::COUNTER,
        &["shard"],
    ),
    (
        "ferrite_persistence_last_save",
        "Unix time of the last successful save (server start when none yet).",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_persistence_saves_total",
        "Checkpoints written successfully (BGSAVE, SAVE, scheduled, shutdown).",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_persistence_failures_total",
        "Checkpoints that failed (the previous ones stay in place).",
        MetricType::COUNTER,
        &[],
    ),
    (
        "ferrite_persistence_in_progress",
        "1 while a checkpoint is being written.",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_persistence_last_duration_seconds",
        "How long the last checkpoint took.",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_persistence_last_size_bytes",
        "Size of the last checkpoint written.",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_uptime_seconds",
        "Seconds since the server started.",
        MetricType::GAUGE,
        &[],
    ),
    (
        "ferrite_dataplane_xdp_frames_total",
        "Frames the XDP program saw, by action: redirected to an AF_XDP socket, passed to the kernel, dropped (dataplane frame on a queue with no socket).",
        MetricType::COUNTER,
        &["action"],
    ),
    (
        "ferrite_dataplane_rx_frames_total",
        "Frames received on an AF_XDP socket, by NIC queue.",
        MetricType::COUNTER,
        &["queue"],
    ),
    (
        "ferrite_dataplane_tx_frames_total",
        "Frames put on an AF_XDP socket's tx ring, by NIC queue.",
        MetricType::COUNTER,
        &["queue"],
    ),
    (
        "ferrite_dataplane_tx_ring_full_total",
        "Frames the stack could not send for want of a free UMEM frame or tx descriptor, by NIC queue.",
        MetricType::COUNTER,
        &["queue"],
    ),
    (
        "ferrite_dataplane_rx_dropped_total",
        "Received frames the userspace stack dropped, by NIC queue and reason.",
        MetricType::COUNTER,
        &["queue", "reason"],
    ),
    (
        "ferrite_dataplane_tcp_connections",
        "Userspace TCP connections in any state, by NIC queue.",
        MetricType::GAUGE,
        &["queue"],
    ),
    (
        "ferrite_dataplane_tcp_segments_total",
        "TCP segments received and sent by the userspace endpoint, by NIC queue and direction.",
        MetricType::COUNTER,
        &["queue", "direction"],
    ),
    (
        "ferrite_dataplane_tcp_retransmits_total",
        "TCP segments retransmitted, by NIC queue and trigger (timeout or fast retransmit).",
        MetricType::COUNTER,
        &["queue", "kind"],
    ),
    (
        "ferrite_dataplane_tcp_resets_total",
        "TCP resets, by NIC queue and direction.",
        MetricType::COUNTER,
        &["queue", "direction"],
    ),
    (
        "ferrite_dataplane_tcp_syn_dropped_total",
        "SYNs dropped because the listen backlog was full, by NIC queue.",
        MetricType::COUNTER,
        &["queue"],
    ),
    (
        "ferrite_dataplane_tcp_timeouts_total",
        "Connections given up after the retransmission limit, by NIC queue.",
        MetricType::COUNTER,
        &["queue"],
    ),
];

impl ShardCollector {
    fn new(server: Arc<Server>) -> ShardCollector {
        let descs = FAMILIES
            .iter()
            .filter_map(|(name, help, _, label)| {
                Desc::new(
                    name.to_string(),
                    help.to_string(),
                    label.iter().map(|l| l.to_string()).collect(),
                    Default::default(),
                )
                .ok()
            })
            .collect();
        ShardCollector { server, descs }
    }
}

fn label(name: &str, value: &str) -> Vec<LabelPair> {
    labels(&[(name, value)])
}

fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
    pairs
        .iter()
        .map(|(name, value)| {
            let mut pair = LabelPair::default();
            pair.set_name(name.to_string());
            pair.set_value(value.to_string());
            pair
        })
        .collect()
}

fn counter(labels: Vec<LabelPair>, v: f64) -> Metric {
    let mut c = Counter::default();
    c.set_value(v);
    let mut m = Metric::from_label(labels);
    m.set_counter(c);
    m
}

fn gauge(labels: Vec<LabelPair>, v: f64) -> Metric {
    let mut g = Gauge::default();
    g.set_value(v);
    let mut m = Metric::from_label(labels);
    m.set_gauge(g);
    m
}

fn family(name: &str, metrics: Vec<Metric>) -> MetricFamily {
    let (_, help, kind, _) = FAMILIES.iter().find(|f| f.0 == name).copied().unwrap_or((
        name,
        "",
        MetricType::GAUGE,
        &[],
    ));
    let mut f = MetricFamily::default();
    f.set_name(name.to_string());
    f.set_help(help.to_string());
    f.set_field_type(kind);
    f.set_metric(metrics);
    f
}

impl Collector for ShardCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Ok(infos) = shard_infos(&self.server, SHARD_TIMEOUT) else {
            tracing::warn!("metrics scrape: a shard did not answer in time");
            return Vec::new();
        };
        let server = &self.server;
        let mut stats = ShardStats::default();
        for i in &infos {
            stats.merge(&i.stats);
        }
        let sum = |f: fn(&ShardInfo) -> u64| infos.iter().map(f).sum::<u64>() as f64;
        let mut commands: Vec<_> = stats.commands.iter().collect();
        commands.sort_by_key(|(n, _)| n.0);

        let mut latency = Vec::new();
        for (name, c) in &commands {
            let mut h = Histogram::default();
            let mut cumulative = 0;
            let buckets = LATENCY_BOUNDS_US
                .iter()
                .zip(c.latency)
                .map(|(&bound, n)| {
                    cumulative += n;
                    let mut b = Bucket::default();
                    b.set_upper_bound(bound as f64 / 1e6);
                    b.set_cumulative_count(cumulative);
                    b
                })
                .collect();
            h.set_bucket(buckets);
            h.set_sample_count(c.calls);
            h.set_sample_sum(c.nanos as f64 / 1e9);
            let mut m = Metric::from_label(label("command", name.0));
            m.set_histogram(h);
            latency.push(m);
        }
        let databases = infos.first().map_or(0, |i| i.keys.len());
        let per_db = |f: fn(&(usize, usize)) -> usize| {
            (0..databases)
                .map(|db| {
                    gauge(
                        label("db", &db.to_string()),
                        infos.iter().map(|i| f(&i.keys[db])).sum::<usize>() as f64,
                    )
                })
                .collect()
        };
        let per_shard = |f: fn(&ShardInfo) -> u64, make: fn(Vec<LabelPair>, f64) -> Metric| {
            infos
                .iter()
                .enumerate()
                .map(|(s, i)| make(label("shard", &s.to_string()), f(i) as f64))
                .collect()
        };
        let memory = [
            ("keyspace", sum(|i| i.dataset_bytes as u64)),
            ("connections", sum(|i| i.buffer_bytes as u64)),
            (
                "netstack",
                infos
                    .iter()
                    .filter_map(|i| i.dataplane.as_ref())
                    .map(|d| d.memory_bytes as f64)
                    .sum(),
            ),
            ("persistence", 0.0),
            ("allocator", allocated_bytes() as f64),
            ("resident", resident_bytes() as f64),
        ];
        let one = |v: f64, make: fn(Vec<LabelPair>, f64) -> Metric| vec![make(Vec::new(), v)];
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
        let mut families = vec![
            family(
                "ferrite_commands_total",
                commands
                    .iter()
                    .map(|(n, c)| counter(label("command", n.0), c.calls as f64))
                    .collect(),
            ),
            family(
                "ferrite_command_failures_total",
                commands
                    .iter()
                    .map(|(n, c)| counter(label("command", n.0), c.failed as f64))
                    .collect(),
            ),
            family("ferrite_latency_seconds", latency),
            family(
                "ferrite_connections_total",
                vec![
                    counter(
                        label("listener", "fallback"),
                        (stats.connections_received - stats.dataplane_connections_received) as f64,
                    ),
                    counter(
                        label("listener", "dataplane"),
                        stats.dataplane_connections_received as f64,
                    ),
                ],
            ),
            family(
                "ferrite_connected_clients",
                one(server.clients.load(Ordering::Relaxed) as f64, gauge),
            ),
            family(
                "ferrite_blocked_clients",
                one(sum(|i| i.blocked_clients as u64), gauge),
            ),
            family(
                "ferrite_pubsub_channels",
                one(crate::shard::pubsub_unique(&infos, false) as f64, gauge),
            ),
            family(
                "ferrite_pubsub_patterns",
                one(crate::shard::pubsub_unique(&infos, true) as f64, gauge),
            ),
            family(
                "ferrite_rejected_connections_total",
                one(load(&server.rejected_connections), counter),
            ),
            family(
                "ferrite_memory_bytes",
                memory
                    .iter()
                    .map(|(c, v)| gauge(label("category", c), *v))
                    .collect(),
            ),
            family("ferrite_keys_total", per_db(|k| k.0)),
            family("ferrite_keys_with_ttl", per_db(|k| k.1)),
            family(
                "ferrite_keyspace_hits_total",
                one(sum(|i| i.keyspace_hits), counter),
            ),
            family(
                "ferrite_keyspace_misses_total",
                one(sum(|i| i.keyspace_misses), counter),
            ),
            family(
                "ferrite_expired_keys_total",
                one(sum(|i| i.expired_keys), counter),
            ),
            family("ferrite_evicted_keys_total", one(0.0, counter)),
            family(
                "ferrite_auth_failures_total",
                one(load(&server.auth_failures), counter),
            ),
            family(
                "ferrite_protocol_errors_total",
                one(stats.protocol_errors as f64, counter),
            ),
            family(
                "ferrite_net_input_bytes_total",
                one(stats.net_input_bytes as f64, counter),
            ),
            family(
                "ferrite_net_output_bytes_total",
                one(stats.net_output_bytes as f64, counter),
            ),
            family(
                "ferrite_multi_shard_commands_total",
                one(stats.multi_shard as f64, counter),
            ),
            family(
                "ferrite_multi_shard_retries_total",
                one(stats.tx_retries as f64, counter),
            ),
            family(
                "ferrite_shard_queue_depth",
                per_shard(|i| i.queue_depth as u64, gauge),
            ),
            family(
                "ferrite_shard_messages_total",
                per_shard(|i| i.messages_received, counter),
            ),
            family(
                "ferrite_shard_queue_full_total",
                per_shard(|i| i.queue_full_events, counter),
            ),
            family(
                "ferrite_persistence_last_save",
                one(load(&server.persistence.last_save), gauge),
            ),
            family(
                "ferrite_persistence_saves_total",
                one(load(&server.persistence.saves), counter),
            ),
            family(
                "ferrite_persistence_failures_total",
                one(load(&server.persistence.failures), counter),
            ),
            family(
                "ferrite_persistence_in_progress",
                one(server.persistence.in_progress() as u8 as f64, gauge),
            ),
            family(
                "ferrite_persistence_last_duration_seconds",
                one(load(&server.persistence.last_duration_ms) / 1000.0, gauge),
            ),
            family(
                "ferrite_persistence_last_size_bytes",
                one(load(&server.persistence.last_bytes), gauge),
            ),
            family(
                "ferrite_uptime_seconds",
                one(server.uptime_secs() as f64, gauge),
            ),
        ];
        if let Some(dp) = &server.dataplane {
            families.extend(dataplane_families(dp, &infos));
        }
        families
    }
}

/// The dataplane's families: the XDP program's counters and each queue's port and TCP endpoint.
fn dataplane_families(dp: &crate::dataplane::Dataplane, infos: &[ShardInfo]) -> Vec<MetricFamily> {
    let xdp = dp.counters.read().unwrap_or_default();
    let queues: Vec<_> = infos.iter().filter_map(|i| i.dataplane.as_ref()).collect();
    let per_queue = |make: fn(Vec<LabelPair>, f64) -> Metric,
                     extra: &[(&str, &str)],
                     f: &dyn Fn(&crate::shard::DataplaneInfo) -> u64| {
        queues
            .iter()
            .map(|q| {
                let queue = q.queue.to_string();
                let mut pairs = vec![("queue", queue.as_str())];
                pairs.extend_from_slice(extra);
                make(labels(&pairs), f(q) as f64)
            })
            .collect::<Vec<_>>()
    };
    type QueueFigure = fn(&crate::shard::DataplaneInfo) -> u64;
    let dropped: [(&str, QueueFigure); 6] = [
        ("malformed", |d: &crate::shard::DataplaneInfo| {
            d.endpoint.rx_dropped_malformed
        }),
        ("checksum", |d: &crate::shard::DataplaneInfo| {
            d.endpoint.rx_dropped_checksum
        }),
        ("fragment", |d: &crate::shard::DataplaneInfo| {
            d.endpoint.rx_dropped_fragment
        }),
        ("not_for_us", |d: &crate::shard::DataplaneInfo| {
            d.endpoint.rx_dropped_not_for_us
        }),
        ("unknown_ethertype", |d: &crate::shard::DataplaneInfo| {
            d.endpoint.rx_dropped_unknown_ethertype
        }),
        ("unsupported", |d: &crate::shard::DataplaneInfo| {
            d.endpoint.rx_dropped_unsupported
        }),
    ];
    vec![
        family(
            "ferrite_dataplane_xdp_frames_total",
            vec![
                counter(label("action", "redirected"), xdp.redirected as f64),
                counter(label("action", "passed"), xdp.passed as f64),
                counter(label("action", "dropped"), xdp.dropped as f64),
            ],
        ),
        family(
            "ferrite_dataplane_rx_frames_total",
            per_queue(counter, &[], &|d| d.port.rx_frames),
        ),
        family(
            "ferrite_dataplane_tx_frames_total",
            per_queue(counter, &[], &|d| d.port.tx_frames),
        ),
        family(
            "ferrite_dataplane_tx_ring_full_total",
            per_queue(counter, &[], &|d| d.port.tx_full),
        ),
        family(
            "ferrite_dataplane_rx_dropped_total",
            dropped
                .iter()
                .flat_map(|(reason, f)| per_queue(counter, &[("reason", reason)], f))
                .collect(),
        ),
        family(
            "ferrite_dataplane_tcp_connections",
            per_queue(gauge, &[], &|d| d.connections as u64),
        ),
        family("ferrite_dataplane_tcp_segments_total", {
            let mut v = per_queue(counter, &[("direction", "in")], &|d| {
                d.endpoint.tcp_segments_in
            });
            v.extend(per_queue(counter, &[("direction", "out")], &|d| {
                d.endpoint.tcp_segments_out
            }));
            v
        }),
        family("ferrite_dataplane_tcp_retransmits_total", {
            let mut v = per_queue(counter, &[("kind", "timeout")], &|d| {
                d.endpoint.tcp_retransmits_timeout
            });
            v.extend(per_queue(counter, &[("kind", "fast")], &|d| {
                d.endpoint.tcp_retransmits_fast
            }));
            v
        }),
        family("ferrite_dataplane_tcp_resets_total", {
            let mut v = per_queue(counter, &[("direction", "sent")], &|d| {
                d.endpoint.tcp_resets_sent
            });
            v.extend(per_queue(counter, &[("direction", "received")], &|d| {
                d.endpoint.tcp_resets_received
            }));
            v
        }),
        family(
            "ferrite_dataplane_tcp_syn_dropped_total",
            per_queue(counter, &[], &|d| d.endpoint.tcp_syn_dropped_backlog),
        ),
        family(
            "ferrite_dataplane_tcp_timeouts_total",
            per_queue(counter, &[], &|d| d.endpoint.tcp_timeouts),
        ),
    ]
}

/// The one registry, with every subsystem's collector.
pub fn registry(server: Arc<Server>) -> Registry {
    let registry = Registry::new();
    if let Err(e) = registry.register(Box::new(ShardCollector::new(server))) {
        tracing::error!(error = %e, "cannot register the shard metrics");
    }
    registry
}

/// Most HTTP connections served at once; more are closed straight away.
const MAX_CONNECTIONS: usize = 64;
/// A client gets this long to send its request and this long to take the answer: a stalled or
/// slow client holds one bounded slot for a bounded time, never the endpoint.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest request head accepted.
const MAX_REQUEST: usize = 8 * 1024;

/// The running metrics endpoint. It answers `GET /metrics` and `GET /health` (HTTP/1.x,
/// `Connection: close`), one short-lived thread per connection, bounded in number and time.
/// (tiny_http 0.12 was tried first: it has no read timeout, and its pool queues a burst of new
/// connections behind threads that stalled clients hold, so scrapes could wait forever.)
pub struct MetricsEndpoint {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: JoinHandle<()>,
    pub addr: SocketAddr,
}

impl MetricsEndpoint {
    pub fn start(server: Arc<Server>, addr: &str) -> io::Result<MetricsEndpoint> {
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        let bound = listener.local_addr()?;
        let registry = Arc::new(registry(server.clone()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let active = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(stream) = stream else {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    if active.fetch_add(1, Ordering::Relaxed) >= MAX_CONNECTIONS {
                        active.fetch_sub(1, Ordering::Relaxed);
                        continue;
                    }
                    let (server, registry, active) =
                        (server.clone(), registry.clone(), active.clone());
                    let spawned = std::thread::Builder::new()
                        .name("metrics-http".into())
                        .spawn(move || {
                            serve(&server, &registry, stream);
                            active.fetch_sub(1, Ordering::Relaxed);
                        });
                    if spawned.is_err() {
                        tracing::warn!("cannot start a metrics connection thread");
                    }
                }
            })?;
        Ok(MetricsEndpoint {
            stop,
            thread,
            addr: bound,
        })
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let _ = self.thread.join();
    }
}

/// Reads one request head (bounded in size and time) and answers it.
fn serve(server: &Server, registry: &Registry, mut stream: std::net::TcpStream) {
    use std::io::{Read, Write};
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
        if head.len() > MAX_REQUEST {
            break;
        }
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let (method, target, version) = (words.next(), words.next(), words.next());
    let (status, content_type, body) = match (method, target, version) {
        (Some("GET" | "HEAD"), Some(target), Some(v)) if v.starts_with("HTTP/1.") => {
            route(server, registry, target)
        }
        (Some(_), Some(_), Some(v)) if v.starts_with("HTTP/1.") => (
            405,
            "text/plain",
            b"only GET and HEAD are served\n".to_vec(),
        ),
        _ => (400, "text/plain", b"bad request\n".to_vec()),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        500 => "Internal Server Error",
        _ => "Bad Request",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != Some("HEAD") {
        response.extend_from_slice(&body);
    }
    if let Err(e) = stream.write_all(&response) {
        tracing::debug!(error = %e, "metrics client went away");
    }
}

fn route(server: &Server, registry: &Registry, target: &str) -> (u16, &'static str, Vec<u8>) {
    match target.split('?').next().unwrap_or("") {
        "/metrics" => {
            let mut body = Vec::new();
            match TextEncoder::new().encode(&registry.gather(), &mut body) {
                Ok(()) => (200, "text/plain; version=0.0.4; charset=utf-8", body),
                Err(e) => (
                    500,
                    "text/plain",
                    format!("cannot encode metrics: {e}\n").into_bytes(),
                ),
            }
        }
        "/health" => {
            let (status, reason) = health(server);
            (status, "text/plain", format!("{reason}\n").into_bytes())
        }
        _ => (
            404,
            "text/plain",
            b"not found: try /metrics or /health\n".to_vec(),
        ),
    }
}

/// 200 when every shard answers (so clients are being served), 503 with the reason otherwise.
fn health(server: &Server) -> (u16, String) {
    if server.shutting_down() {
        return (503, "shutting down".into());
    }
    match server
        .mesh
        .query_all(|_| HopOut::Reply(crate::resp::Reply::OK), SHARD_TIMEOUT)
    {
        Ok(_) => (
            200,
            format!(
                "OK: serving on {} with {} shards",
                server.addr,
                server.mesh.shards()
            ),
        ),
        Err(shard) => (503, format!("shard {shard} is not responding")),
    }
}
