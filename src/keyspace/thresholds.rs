//! The thresholds between the compact and the big encodings of hashes, sets and sorted sets:
//! Redis's `*-max-listpack-*` / `set-max-intset-entries` parameters, with Redis's names, old
//! `*-ziplist-*` aliases and defaults.
//!
//! They are process-wide atomics rather than per-shard settings: every shard reads them on its
//! write paths, they are configuration (not data), and a relaxed load costs nothing there. A
//! change applies to conversions from then on; like Redis, nothing already big converts back.

use std::sync::atomic::{AtomicUsize, Ordering};

/// One threshold parameter.
pub struct Threshold {
    pub name: &'static str,
    /// Redis 7.0's older name for the same parameter, if it has one.
    pub alias: Option<&'static str>,
    /// Whether CONFIG treats the value as a memory size (`64`, `1kb`, ...), as Redis does.
    pub is_bytes: bool,
    pub default: usize,
    value: AtomicUsize,
}

impl Threshold {
    const fn new(
        name: &'static str,
        alias: Option<&'static str>,
        is_bytes: bool,
        default: usize,
    ) -> Threshold {
        Threshold {
            name,
            alias,
            is_bytes,
            default,
            value: AtomicUsize::new(default),
        }
    }

    #[inline]
    pub fn get(&self) -> usize {
        self.value.load(Ordering::Relaxed)
    }

    pub fn set(&self, value: usize) {
        self.value.store(value, Ordering::Relaxed);
    }
}

pub static HASH_MAX_LISTPACK_ENTRIES: Threshold = Threshold::new(
    "hash-max-listpack-entries",
    Some("hash-max-ziplist-entries"),
    false,
    512,
);
pub static HASH_MAX_LISTPACK_VALUE: Threshold = Threshold::new(
    "hash-max-listpack-value",
    Some("hash-max-ziplist-value"),
    true,
    64,
);
pub static SET_MAX_INTSET_ENTRIES: Threshold =
    Threshold::new("set-max-intset-entries", None, false, 512);
/// Redis 7.2's parameters for small sets of strings. Redis 7.0 keeps those in a hash table and
/// Ferrite reports them as it does ("hashtable"), but stores them packed below these limits.
pub static SET_MAX_LISTPACK_ENTRIES: Threshold =
    Threshold::new("set-max-listpack-entries", None, false, 128);
pub static SET_MAX_LISTPACK_VALUE: Threshold =
    Threshold::new("set-max-listpack-value", None, true, 64);
pub static ZSET_MAX_LISTPACK_ENTRIES: Threshold = Threshold::new(
    "zset-max-listpack-entries",
    Some("zset-max-ziplist-entries"),
    false,
    128,
);
pub static ZSET_MAX_LISTPACK_VALUE: Threshold = Threshold::new(
    "zset-max-listpack-value",
    Some("zset-max-ziplist-value"),
    true,
    64,
);

/// Every threshold, for CONFIG.
pub static ALL: [&Threshold; 7] = [
    &HASH_MAX_LISTPACK_ENTRIES,
    &HASH_MAX_LISTPACK_VALUE,
    &SET_MAX_INTSET_ENTRIES,
    &SET_MAX_LISTPACK_ENTRIES,
    &SET_MAX_LISTPACK_VALUE,
    &ZSET_MAX_LISTPACK_ENTRIES,
    &ZSET_MAX_LISTPACK_VALUE,
];

/// Sets every threshold from the configuration file's `[encodings]` (at start).
pub fn configure(c: &crate::config::EncodingsConfig) {
    HASH_MAX_LISTPACK_ENTRIES.set(c.hash_max_listpack_entries);
    HASH_MAX_LISTPACK_VALUE.set(c.hash_max_listpack_value);
    SET_MAX_INTSET_ENTRIES.set(c.set_max_intset_entries);
    SET_MAX_LISTPACK_ENTRIES.set(c.set_max_listpack_entries);
    SET_MAX_LISTPACK_VALUE.set(c.set_max_listpack_value);
    ZSET_MAX_LISTPACK_ENTRIES.set(c.zset_max_listpack_entries);
    ZSET_MAX_LISTPACK_VALUE.set(c.zset_max_listpack_value);
}

/// The threshold a CONFIG name (or alias) refers to, compared without regard to case.
pub fn find(name: &str) -> Option<&'static Threshold> {
    ALL.iter().copied().find(|t| {
        t.name.eq_ignore_ascii_case(name) || t.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    })
}
