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
