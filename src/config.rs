//! Ferrite's configuration: one typed struct (DESIGN rule 8), loaded from `ferrite.toml` with serde,
//! then overridden by command-line flags. An unknown or mistyped key is an error that names it.
//! `ferrite.toml` at the top of the repository documents every key with its default.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Redis's default `proto-max-bulk-len`: 512 MB.
pub const DEFAULT_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;
/// Redis's default `client-query-buffer-limit`: 1 GB.
pub const DEFAULT_QUERY_BUFFER_LIMIT: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub metrics: MetricsConfig,
    pub cluster: ClusterConfig,
    pub dataplane: DataplaneConfig,
    pub persistence: PersistenceConfig,
    pub encodings: EncodingsConfig,
}

/// Where small hashes, sets and sorted sets leave their compact encodings: Redis's parameters of
/// the same names (dashes for underscores), which CONFIG SET can change at run time.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EncodingsConfig {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
}

impl Default for EncodingsConfig {
    fn default() -> Self {
        use crate::keyspace::thresholds::*;
        EncodingsConfig {
            hash_max_listpack_entries: HASH_MAX_LISTPACK_ENTRIES.default,
            hash_max_listpack_value: HASH_MAX_LISTPACK_VALUE.default,
            set_max_intset_entries: SET_MAX_INTSET_ENTRIES.default,
            set_max_listpack_entries: SET_MAX_LISTPACK_ENTRIES.default,
            set_max_listpack_value: SET_MAX_LISTPACK_VALUE.default,
            zset_max_listpack_entries: ZSET_MAX_LISTPACK_ENTRIES.default,
            zset_max_listpack_value: ZSET_MAX_LISTPACK_VALUE.default,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PersistenceConfig {
    /// Where checkpoints (`*.ferrite.backup`) are written and loaded from at start.
    pub dir: PathBuf,
    /// Take a checkpoint every `checkpoint_interval` seconds, and on SIGTERM/SIGINT and
    /// SHUTDOWN (as Redis saves on shutdown when save points are set; SHUTDOWN NOSAVE skips it).
    pub checkpoint_enabled: bool,
    pub checkpoint_interval: u64,
    /// Checkpoints kept in `dir`; older ones are deleted after a successful save.
    pub checkpoint_keep: usize,
    /// Log every write to a per-shard append-only log in `dir`, replayed after the checkpoint at
    /// start; a checkpoint (BGSAVE, BGREWRITEAOF) truncates what it covers.
    pub aof_enabled: bool,
    /// "always": a write is acknowledged only once on disk; "everysec": fsync once a second;
    /// "no": leave it to the kernel.
    pub aof_fsync: crate::persist::aof::FsyncPolicy,
}

impl Default for PersistenceConfig {
    fn default() -> Self {
        PersistenceConfig {
            dir: PathBuf::from("data"),
            checkpoint_enabled: false,
            checkpoint_interval: 3600,
            checkpoint_keep: 3,
            aof_enabled: false,
            aof_fsync: crate::persist::aof::FsyncPolicy::Everysec,
        }
    }
}

/// Which network path clients reach the shards through.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DataplaneMode {
    /// Kernel sockets only (the fallback listener); no NIC is taken over.
    #[default]
    Kernel,
    /// An XDP program steers the dataplane address's frames to AF_XDP sockets served by the
    /// shards' userspace TCP endpoints; the kernel-socket listener keeps serving beside it.
    AfXdp,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum XdpMode {
    /// Native (driver) mode if the driver has it, else generic.
    #[default]
    Auto,
    Native,
    Generic,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum BindMode {
    /// Zero-copy if the driver supports it, else copy.
    #[default]
    Auto,
    ZeroCopy,
    Copy,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DataplaneConfig {
    pub mode: DataplaneMode,
    /// The NIC (or veth) whose queues the dataplane takes over.
    pub interface: String,
    /// The dataplane's own IPv4 address with its prefix, e.g. "10.77.0.1/24". Not configured on
    /// the kernel's side of the interface: only Ferrite answers for it.
    pub address: String,
    /// Router for clients off the subnet; empty for none. Replies go back to the MAC each
    /// connection's frames came from, so this is checked for sanity and shown, not routed with.
    pub gateway: String,
    /// TCP port the dataplane serves.
    pub port: u16,
    /// NIC queues to serve, one AF_XDP socket and one shard each; 0 means all of the interface's
    /// receive queues.
    pub queues: u32,
    pub xdp_mode: XdpMode,
    pub bind_mode: BindMode,
    /// Spin on the rings instead of sleeping when idle: lower latency, a full core per shard.
    pub busy_poll: bool,
    /// Bytes per UMEM frame: 2048 or 4096.
    pub frame_size: u32,
    /// UMEM frames per queue, half for receive and half for transmit.
    pub frame_count: u32,
    /// Descriptors per AF_XDP ring (fill, completion, rx, tx); a power of two.
    pub ring_size: u32,
    /// Lower bound of the TCP retransmission timeout, in milliseconds.
    pub min_rto_ms: u64,
    /// Most TCP connections per shard, in any state.
    pub max_connections: usize,
    /// Most half-open connections per shard (the listen backlog).
    pub backlog: usize,
    /// Verify IPv4, TCP and ICMP checksums of received frames.
    pub verify_checksums: bool,
}

impl Default for DataplaneConfig {
    fn default() -> Self {
        DataplaneConfig {
            mode: DataplaneMode::Kernel,
            interface: String::new(),
            address: String::new(),
            gateway: String::new(),
            port: 6379,
            queues: 0,
            xdp_mode: XdpMode::Auto,
            bind_mode: BindMode::Auto,
            busy_poll: false,
            frame_size: 2048,
            frame_count: 8192,
            ring_size: 2048,
            min_rto_ms: 20,
            max_connections: 65536,
            backlog: 1024,
            verify_checksums: true,
        }
    }
}

impl DataplaneConfig {
    /// The address and prefix length of `address`.
    pub fn parse_address(&self) -> Result<(std::net::Ipv4Addr, u8), ConfigError> {
        let bad = || {
            ConfigError(format!(
                "invalid value for dataplane.address: {:?} is not an IPv4 address with a prefix length, like \"10.77.0.1/24\"",
                self.address
            ))
        };
        let (ip, prefix) = self.address.split_once('/').ok_or_else(bad)?;
        let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix == 0
            || prefix > 32
            || ip.is_unspecified()
            || ip.is_broadcast()
            || ip.is_multicast()
        {
            return Err(bad());
        }
        Ok((ip, prefix))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of the Prometheus `/metrics` and `/health` endpoint.
    pub bind: String,
    /// Its port; 0 turns the endpoint off.
    pub port: u16,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            bind: "127.0.0.1".into(),
            port: 9090,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the kernel-socket listener.
    pub bind: String,
    pub port: u16,
    /// Shard threads; 0 means one per core this process may run on.
    pub shards: usize,
    /// Password for the default user; empty means no authentication.
    pub requirepass: String,
    /// Number of logical databases (SELECT 0..databases-1).
    pub databases: usize,
    /// Active-expiry and housekeeping runs per second on each shard (Redis's `hz`).
    pub hz: u32,
    /// Keyspace notification classes, Redis's `notify-keyspace-events` letters ("" = off).
    pub notify_keyspace_events: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1".into(),
            port: 6379,
            shards: 0,
            requirepass: String::new(),
            databases: 16,
            hz: 10,
            notify_keyspace_events: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Most simultaneous client connections; more are refused with Redis's error.
    pub maxclients: usize,
    /// Longest single request argument in bytes (`proto-max-bulk-len`).
    pub proto_max_bulk_len: u64,
    /// Most bytes one client may have buffered in an unfinished request (`client-query-buffer-limit`).
    pub client_query_buffer_limit: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            maxclients: 10000,
            proto_max_bulk_len: DEFAULT_MAX_BULK_LEN,
            client_query_buffer_limit: DEFAULT_QUERY_BUFFER_LIMIT,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Start as a Redis Cluster node.
    pub enabled: bool,
}

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parses a TOML document; unknown keys and wrong types are errors naming the key.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)
            .map_err(|e| ConfigError(format!("{}: {}", origin.display(), e.to_string().trim())))?;
        config.validate()?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        Config::from_toml(&text, path)
    }

    /// Checks the values serde cannot: ranges and relations between keys.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad =
            |key: &str, why: &str| Err(ConfigError(format!("invalid value for {key}: {why}")));
        if self.server.databases == 0 || self.server.databases > 1024 {
            return bad("server.databases", "must be between 1 and 1024");
        }
        if self.server.shards > 1024 {
            return bad("server.shards", "must be at most 1024");
        }
        if !(1..=500).contains(&self.server.hz) {
            return bad("server.hz", "must be between 1 and 500");
        }
        if crate::keyspace::notify::parse(&self.server.notify_keyspace_events).is_none() {
            return bad(
                "server.notify_keyspace_events",
                "invalid event class character; use 'Ag$lshzxeKEtmdn'",
            );
        }
        if self.limits.proto_max_bulk_len < 1024 * 1024 {
            return bad(
                "limits.proto_max_bulk_len",
                "must be at least 1 MB (1048576)",
            );
        }
        if self.limits.client_query_buffer_limit < 1024 * 1024 {
            return bad("limits.client_query_buffer_limit", "must be at least 1 MB");
        }
        if self.limits.maxclients == 0 {
            return bad("limits.maxclients", "must be at least 1");
        }
        let p = &self.persistence;
        if p.dir.as_os_str().is_empty() {
            return bad("persistence.dir", "must name a directory");
        }
        if p.checkpoint_interval == 0 {
            return bad(
                "persistence.checkpoint_interval",
                "must be at least 1 second",
            );
        }
        if p.checkpoint_keep == 0 {
            return bad(
                "persistence.checkpoint_keep",
                "must keep at least 1 checkpoint",
            );
        }
        let dp = &self.dataplane;
        if dp.mode == DataplaneMode::AfXdp {
            if dp.interface.is_empty() {
                return bad(
                    "dataplane.interface",
                    "af_xdp mode needs the interface to serve",
                );
            }
            let (addr, prefix) = dp.parse_address()?;
            if !dp.gateway.is_empty() {
                let gw: std::net::Ipv4Addr = dp.gateway.parse().map_err(|_| {
                    ConfigError(format!(
                        "invalid value for dataplane.gateway: {:?} is not an IPv4 address",
                        dp.gateway
                    ))
                })?;
                let mask = u32::MAX << (32 - u32::from(prefix));
                if u32::from(gw) & mask != u32::from(addr) & mask {
                    return bad(
                        "dataplane.gateway",
                        "must be on the dataplane address's subnet",
                    );
                }
            }
            if dp.port == 0 {
                return bad("dataplane.port", "must be a port number, 1-65535");
            }
        }
        if dp.frame_size != 2048 && dp.frame_size != 4096 {
            return bad("dataplane.frame_size", "must be 2048 or 4096");
        }
        if !dp.ring_size.is_power_of_two() || !(64..=16384).contains(&dp.ring_size) {
            return bad(
                "dataplane.ring_size",
                "must be a power of two between 64 and 16384",
            );
        }
        if dp.frame_count < 2 * dp.ring_size.min(4096) || dp.frame_count > 1 << 20 {
            return bad(
                "dataplane.frame_count",
                "must be at least twice ring_size (up to 4096) and at most 1048576",
            );
        }
        if !(1..=60_000).contains(&dp.min_rto_ms) {
            return bad("dataplane.min_rto_ms", "must be between 1 and 60000");
        }
        if dp.max_connections == 0 || dp.backlog == 0 {
            return bad(
                "dataplane.max_connections",
                "max_connections and backlog must be at least 1",
            );
        }
        Ok(())
    }

    /// The shard count this configuration asks for, resolving 0 to the usable cores.
    pub fn shard_count(&self) -> usize {
        match self.server.shards {
            0 => core_affinity::get_core_ids().map_or(1, |ids| ids.len().max(1)),
            n => n,
        }
    }
}

/// Where `ferrite` looks for its configuration when `--config` is not given.
pub fn default_config_path() -> Option<PathBuf> {
    let p = PathBuf::from("ferrite.toml");
    p.exists().then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_is_the_default() {
        let text = include_str!("../ferrite.toml");
        let parsed = Config::from_toml(text, Path::new("ferrite.toml")).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn unknown_and_mistyped_keys_are_named() {
        let err = Config::from_toml("[server]\nprot = 1\n", Path::new("x.toml")).unwrap_err();
        assert!(err.0.contains("unknown field `prot`"), "{err}");
        let err =
            Config::from_toml("[server]\nport = \"high\"\n", Path::new("x.toml")).unwrap_err();
        assert!(err.0.contains("port"), "{err}");
        let err = Config::from_toml("[nope]\n", Path::new("x.toml")).unwrap_err();
        assert!(err.0.contains("nope"), "{err}");
    }
}

/// The settings `CONFIG SET` may change at run time. Every shard keeps its own copy, updated by a
/// fan-out, so reading one on the hot path needs no synchronisation.
#[derive(Clone, Debug)]
pub struct Settings {
    pub requirepass: String,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub hz: u32,
    /// Parameters that tools read and set (`save`, `appendonly`, `maxmemory`, ...) whose features
    /// have not landed: stored and reported so those tools work, with no effect yet.
    pub inert: std::collections::BTreeMap<&'static str, String>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            requirepass: config.server.requirepass.clone(),
            proto_max_bulk_len: config.limits.proto_max_bulk_len,
            client_query_buffer_limit: config.limits.client_query_buffer_limit,
            hz: config.server.hz,
            inert: std::collections::BTreeMap::new(),
        }
    }
}
