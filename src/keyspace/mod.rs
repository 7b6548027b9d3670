//! One shard's keyspace partition: `databases` logical databases of keys, each key holding a typed
//! value and an optional absolute expiry time.
//!
//! Owned by exactly one shard thread (DESIGN rule 1): nothing here locks. Keys are grouped by hash
//! slot, so SCAN can walk slot by slot with a cursor that survives inserts and deletes (every key
//! present for a whole scan is returned), and cluster mode can count and move whole slots. Expiry is
//! lazy on access plus an active cycle that samples keys with a TTL, never a full scan. Times are
//! milliseconds since the Unix epoch, passed in by the caller.

mod db;
pub mod geohash;
mod hash;
pub mod hll;
pub mod notify;
pub mod packed;
mod set;
pub mod stream;
pub mod thresholds;
mod value;
mod zset;

pub use db::{Db, Entry, Key, ScanCursor};
pub use hash::HashValue;
pub use set::SetValue;
pub use stream::StreamValue;
pub use value::{Collection, Value};
pub use zset::ZSetValue;

/// All databases of one shard.
pub struct Keyspace {
    dbs: Vec<Db>,
    /// Lookups by read commands that found / did not find their key (INFO keyspace_hits/misses).
    pub hits: u64,
    pub misses: u64,
    /// SWAPDBs made while recording, for the append-only log.
    swaps: Vec<(usize, usize)>,
    recording: bool,
    /// WATCHed keys of this shard: (db, key) -> (client id, the key's expiry when watched).
    watches: std::collections::HashMap<(usize, Key), Vec<(u64, u64)>, ahash::RandomState>,
    /// Clients one of whose watched keys was written since they watched it.
    dirty_watchers: std::collections::HashSet<u64, ahash::RandomState>,
    /// Keyspace events of the commands run since the shard last published them.
    events: Vec<notify::KeyEvent>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        Keyspace {
            dbs: (0..databases).map(|_| Db::default()).collect(),
            hits: 0,
            misses: 0,
            swaps: Vec::new(),
            recording: false,
            watches: Default::default(),
            dirty_watchers: Default::default(),
            events: Vec::new(),
        }
    }

    /// Notes that `event` (of notification `class`) happened to `key`, if that class is on.
    pub fn notify(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        if notify::enabled(class) {
            self.events.push(notify::KeyEvent {
                event,
                db,
                key: bytes::Bytes::copy_from_slice(key),
            });
        }
    }

    /// The events to publish: keys that expired first (they expired when a command looked them
    /// up, before it acted), then what commands noted.
    pub fn take_events(&mut self) -> Vec<notify::KeyEvent> {
        let mut out = Vec::new();
        for (db, d) in self.dbs.iter_mut().enumerate() {
            out.extend(d.take_expired_keys().into_iter().map(|k| notify::KeyEvent {
                event: "expired",
                db,
                key: bytes::Bytes::copy_from_slice(&k),
            }));
        }
        out.append(&mut self.events);
        out
    }

    pub fn db(&mut self, index: usize) -> &mut Db {
        &mut self.dbs[index]
    }

    /// A lookup on behalf of a read command, counted as a hit or a miss.
    pub fn read(&mut self, db: usize, key: &[u8], now: u64) -> Option<&mut Entry> {
        let entry = self.dbs[db].get_for_read(key, now);
        if entry.is_some() {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        entry
    }

    pub fn dbs(&mut self) -> &mut [Db] {
        &mut self.dbs
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// Two distinct databases at once (MOVE, COPY ... DB).
    pub fn two_dbs(&mut self, a: usize, b: usize) -> (&mut Db, &mut Db) {
        assert_ne!(a, b);
        if a < b {
            let (lo, hi) = self.dbs.split_at_mut(b);
            (&mut lo[a], &mut hi[0])
        } else {
            let (lo, hi) = self.dbs.split_at_mut(a);
            (&mut hi[0], &mut lo[b])
        }
    }

    pub fn swap(&mut self, a: usize, b: usize) {
        self.dbs.swap(a, b);
        if self.recording {
            self.swaps.push((a, b));
        }
    }

    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// Starts or stops noting what writes touch (the append-only log's effect records).
    pub fn set_recording(&mut self, on: bool) {
        self.recording = on;
        for db in &mut self.dbs {
            db.recording = on;
        }
    }

    /// Whether any client watches a key here (writes are then tracked).
    pub fn has_watches(&self) -> bool {
        !self.watches.is_empty()
    }

    /// WATCH: `client` watches `key` of `db` as it is now.
    pub fn watch(&mut self, db: usize, key: &[u8], client: u64) {
        let expire_at = self.dbs[db].stored(key).map_or(0, |e| e.expire_at);
        let list = self.watches.entry((db, key.into())).or_default();
        if !list.iter().any(|(c, _)| *c == client) {
            list.push((client, expire_at));
        }
    }

    /// Forgets `client`'s watches of `keys` (UNWATCH, EXEC, DISCARD, a closed connection).
    pub fn unwatch(&mut self, client: u64, keys: &[(usize, bytes::Bytes)]) {
        for (db, key) in keys {
            let slot = (*db, Key::from_slice(key));
            if let Some(list) = self.watches.get_mut(&slot) {
                list.retain(|(c, _)| *c != client);
                if list.is_empty() {
                    self.watches.remove(&slot);
                }
            }
        }
        self.dirty_watchers.remove(&client);
    }

    /// Whether `client`'s watch of `keys` here is broken: one was written, flushed or swapped,
    /// or carried a TTL that has passed (expiry counts as a change, as in Redis).
    pub fn watch_broken(&self, client: u64, keys: &[(usize, bytes::Bytes)], now: u64) -> bool {
        self.dirty_watchers.contains(&client)
            || keys.iter().any(|(db, key)| {
                self.watches
                    .get(&(*db, Key::from_slice(key)))
                    .and_then(|l| l.iter().find(|(c, _)| *c == client))
                    .is_some_and(|(_, exp)| *exp != 0 && *exp <= now)
            })
    }

    /// A write touched `key` of `db`: its watchers' transactions will fail.
    pub fn touch_watched(&mut self, db: usize, key: &[u8]) {
        if let Some(list) = self.watches.get(&(db, Key::from_slice(key))) {
            self.dirty_watchers.extend(list.iter().map(|(c, _)| *c));
        }
    }

    /// Every watched key of `db` changed (FLUSHDB, FLUSHALL, SWAPDB).
    pub fn touch_watched_db(&mut self, db: usize) {
        let clients: Vec<u64> = self
            .watches
            .iter()
            .filter(|((d, _), _)| *d == db)
            .flat_map(|(_, l)| l.iter().map(|(c, _)| *c))
            .collect();
        self.dirty_watchers.extend(clients);
    }

    /// The SWAPDBs made since the last call.
    pub fn take_swaps(&mut self) -> Vec<(usize, usize)> {
        std::mem::take(&mut self.swaps)
    }
}
