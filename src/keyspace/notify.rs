//! Keyspace notifications (`notify-keyspace-events`): which classes of events are on, and the
//! events a command produced, waiting to be published as Redis publishes them
//! (`__keyspace@<db>__:<key>` carrying the event, `__keyevent@<db>__:<event>` carrying the key).
//!
//! The setting is process-wide (an atomic): it is configuration, read by every shard and by the
//! scratch keyspaces multi-shard plans run commands over, not data.

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;

/// Redis's notification classes (`server.h`, NOTIFY_*).
pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 13;
pub const NEW: u32 = 1 << 14;
/// `A`: every class but key-miss and new-key.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The class letters, in the order Redis prints them.
const LETTERS: [(u32, char); 10] = [
    (GENERIC, 'g'),
    (STRING, '$'),
    (LIST, 'l'),
    (SET, 's'),
    (HASH, 'h'),
    (ZSET, 'z'),
    (EXPIRED, 'x'),
    (EVICTED, 'e'),
    (STREAM, 't'),
    (MODULE, 'd'),
];

static FLAGS: AtomicU32 = AtomicU32::new(0);

/// The classes on now.
pub fn flags() -> u32 {
    FLAGS.load(Ordering::Relaxed)
}

pub fn set_flags(flags: u32) {
    FLAGS.store(flags, Ordering::Relaxed);
}

/// Whether events of `class` are published at all (a class and K or E).
pub fn enabled(class: u32) -> bool {
    let f = flags();
    f & class != 0 && f & (KEYSPACE | KEYEVENT) != 0
}

/// Parses a `notify-keyspace-events` value as Redis's `keyspaceEventsStringToFlags`.
pub fn parse(s: &str) -> Option<u32> {
    let mut flags = 0;
    for c in s.chars() {
        flags |= match c {
            'A' => ALL,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            'm' => KEY_MISS,
            'n' => NEW,
            c => LETTERS.iter().find(|(_, l)| *l == c)?.0,
        };
    }
    Some(flags)
}

/// The value CONFIG GET shows, as Redis's `keyspaceEventsFlagsToString`.
pub fn format(flags: u32) -> String {
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        out.extend(
            LETTERS
                .iter()
                .filter(|(f, _)| flags & f != 0)
                .map(|(_, l)| l),
        );
    }
    for (f, l) in [
        (KEYSPACE, 'K'),
        (KEYEVENT, 'E'),
        (KEY_MISS, 'm'),
        (NEW, 'n'),
    ] {
        if flags & f != 0 {
            out.push(l);
        }
    }
    out
}

/// One event: `event` happened to `key` of database `db`.
#[derive(Debug, Clone)]
pub struct KeyEvent {
    pub event: &'static str,
    pub db: usize,
    pub key: Bytes,
}

impl KeyEvent {
    /// The (channel, message) pairs it is published as, under the current flags.
    pub fn messages(&self) -> Vec<(Bytes, Bytes)> {
        let f = flags();
        let mut out = Vec::with_capacity(2);
        if f & KEYSPACE != 0 {
            let mut channel = format!("__keyspace@{}__:", self.db).into_bytes();
            channel.extend_from_slice(&self.key);
            out.push((
                Bytes::from(channel),
                Bytes::from_static(self.event.as_bytes()),
            ));
        }
        if f & KEYEVENT != 0 {
            let channel = format!("__keyevent@{}__:{}", self.db, self.event);
            out.push((Bytes::from(channel), self.key.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_and_print_as_redis() {
        assert_eq!(parse("KEA").map(format).as_deref(), Some("AKE"));
        assert_eq!(parse("Elg").map(format).as_deref(), Some("glE"));
        assert_eq!(parse("").map(format).as_deref(), Some(""));
        assert_eq!(parse("g$lshzxetdKE").map(format).as_deref(), Some("AKE"));
        assert_eq!(parse("Kq"), None);
    }
}
