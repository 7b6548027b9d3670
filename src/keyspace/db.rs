//! One logical database: keys by slot, an expiry index for sampling, and access times.

use std::hash::BuildHasher;
use std::sync::LazyLock;

use ahash::RandomState;
use indexmap::IndexSet;
use rand::Rng;
use smallvec::SmallVec;

use super::Value;
use crate::slot::{key_slot, SLOT_COUNT};

/// A key; keys of up to 16 bytes (most keys) live inline in their entry's allocation.
pub type Key = SmallVec<[u8; 16]>;

/// Seeds drawn once per process: keys come from the network, so their hashes must not be
/// predictable (HashDoS), yet every map can share them and stay 32 bytes.
static KEY_SEEDS: LazyLock<RandomState> = LazyLock::new(RandomState::new);

#[derive(Clone, Copy, Default)]
pub struct KeyHasher;

impl BuildHasher for KeyHasher {
    type Hasher = ahash::AHasher;

    fn build_hasher(&self) -> ahash::AHasher {
        KEY_SEEDS.build_hasher()
    }
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in ms since the epoch; 0 = none.
    pub expire_at: u64,
    /// Last access, in ms since the epoch (OBJECT IDLETIME).
    pub access: u64,
}

impl Entry {
    pub fn new(value: Value) -> Entry {
        Entry {
            value,
            expire_at: 0,
            access: 0,
        }
    }
}

/// An entry with its key: the one allocation a key costs besides its value's.
struct Stored {
    key: Key,
    entry: Entry,
}

fn hash_key(key: &[u8]) -> u64 {
    KEY_SEEDS.hash_one(key)
}

/// Why [`SlotMap::get_live`] found no entry.
enum Gone {
    Absent,
    Expired,
}

/// One slot's keys: a hash table of boxed entries. Boxed, a bucket is one pointer, and a table
/// has many free buckets (a power of two of them, up to 7/8 full: often only half full), which
/// inline entries would pay about 90 bytes each for. The box costs one pointer hop per lookup,
/// as Redis's dictEntry does.
#[derive(Default)]
struct SlotMap {
    table: hashbrown::HashTable<Box<Stored>>,
}

impl SlotMap {
    fn len(&self) -> usize {
        self.table.len()
    }

    fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.table
            .find(hash_key(key), |s| s.key[..] == *key)
            .map(|s| &s.entry)
    }

    fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.table
            .find_mut(hash_key(key), |s| s.key[..] == *key)
            .map(|s| &mut s.entry)
    }

    /// The entry for `key` in one probe, unless it is absent or its TTL has passed by `now` (it
    /// is then removed).
    fn get_live(&mut self, key: &[u8], now: u64) -> Result<&mut Entry, Gone> {
        let Ok(found) = self.table.find_entry(hash_key(key), |s| s.key[..] == *key) else {
            return Err(Gone::Absent);
        };
        let due = found.get().entry.expire_at;
        if due != 0 && due <= now {
            found.remove();
            return Err(Gone::Expired);
        }
        Ok(&mut found.into_mut().entry)
    }

    /// Stores `entry` under `key`; returns the entry it replaced.
    fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        match self
            .table
            .entry(hash_key(key), |s| s.key[..] == *key, |s| hash_key(&s.key))
        {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                Some(std::mem::replace(&mut o.get_mut().entry, entry))
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Box::new(Stored {
                    key: key.into(),
                    entry,
                }));
                None
            }
        }
    }

    fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let found = self
            .table
            .find_entry(hash_key(key), |s| s.key[..] == *key)
            .ok()?;
        Some(found.remove().0.entry)
    }

    fn iter(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        self.table.iter().map(|s| (&s.key, &s.entry))
    }

    fn drain(&mut self) -> impl Iterator<Item = (Key, Entry)> + '_ {
        self.table.drain().map(|s| (s.key, s.entry))
    }
}

/// Where a SCAN of one database resumes: a slot and the keys of that slot already returned are
/// not needed, since a call always returns whole slots.
pub type ScanCursor = u16;

/// A point-in-time snapshot of one database in progress (driven by `shard/snapshot.rs`). The
/// snapshot is as of the moment it began: a slot not yet written is written out before anything
/// touches it (read or write: every `&mut` path funnels through `touch`), so later changes never
/// reach the snapshot, and each slot is written exactly once. The extra memory is the output not
/// yet handed to the writer.
pub struct DbSnapshot {
    /// Slots still to write, one bit each.
    pending: Box<[u64; SLOT_COUNT / 64]>,
    /// Where the background walk goes on.
    next: usize,
    /// The database's index when the snapshot began (SWAPDB moves the snapshot with the data).
    db_index: u16,
    /// RECORDS payload bytes not yet taken by the writer.
    pub out: Vec<u8>,
    pub records: u64,
}

impl DbSnapshot {
    fn write_slot(&mut self, slot: usize, slots: &[SlotMap]) {
        let (word, bit) = (slot / 64, 1u64 << (slot % 64));
        if self.pending[word] & bit == 0 {
            return;
        }
        self.pending[word] &= !bit;
        if let Some(map) = slots.get(slot) {
            for (key, entry) in map.iter() {
                crate::persist::checkpoint::encode_record_with(
                    &mut self.out,
                    self.db_index,
                    entry.expire_at,
                    key,
                    |out| crate::persist::value::encode_value(&entry.value, out),
                );
                self.records += 1;
            }
        }
    }
}

#[derive(Default)]
pub struct Db {
    /// One map per hash slot (empty maps allocate nothing); the vector itself is allocated when
    /// the database gets its first key.
    slots: Vec<SlotMap>,
    len: usize,
    /// Keys that carry a TTL, for the active-expiry sampler.
    expires: IndexSet<Key, RandomState>,
    /// Keys removed because their TTL passed, lazily or actively.
    expired: u64,
    snapshot: Option<Box<DbSnapshot>>,
    /// While set (the append-only log records a write), keys reached through `&mut` paths are
    /// noted in `touched`, and a clear in `cleared`.
    pub(super) recording: bool,
    touched: Vec<Key>,
    /// Keys expired while `expired` events are on, until the shard publishes them.
    expired_keys: Vec<Key>,
    cleared: bool,
}

impl Db {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn expired(&self) -> u64 {
        self.expired
    }

    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// The map of `key`'s slot, if that slot has ever held a key. The slot is computed once per
    /// operation: every method below does a single hash-table probe on its hot path.
    fn slot_map(&mut self, slot: usize) -> Option<&mut SlotMap> {
        self.slots.get_mut(slot)
    }

    /// Notes `key` for the log when recording.
    #[inline]
    fn note(&mut self, key: &[u8]) {
        if self.recording {
            self.touched.push(key.into());
        }
    }

    /// The keys that expired since the last call, for `expired` events.
    pub fn take_expired_keys(&mut self) -> Vec<Key> {
        std::mem::take(&mut self.expired_keys)
    }

    /// The keys noted since the last call, and whether the database was cleared meanwhile.
    pub fn take_touched(&mut self) -> (Vec<Key>, bool) {
        (
            std::mem::take(&mut self.touched),
            std::mem::take(&mut self.cleared),
        )
    }

    /// A stored entry as it is, without expiring it or touching anything (for the log).
    pub fn stored(&self, key: &[u8]) -> Option<&Entry> {
        self.slots.get(key_slot(key) as usize)?.get(key)
    }

    /// Removes every key in `slots` (replaying a FLUSH logged by the shard that owned them).
    pub fn remove_slots(&mut self, slots: std::ops::Range<usize>) {
        for slot in slots {
            let Some(map) = self.slots.get_mut(slot) else {
                continue;
            };
            for (key, entry) in map.drain() {
                self.len -= 1;
                if entry.expire_at != 0 {
                    self.expires.swap_remove(&key[..]);
                }
            }
        }
    }

    /// Exchanges the keys in `slots` with `other` (replaying a SWAPDB logged by one shard).
    pub fn swap_slots(&mut self, other: &mut Db, slots: std::ops::Range<usize>) {
        for db in [&mut *self, &mut *other] {
            if db.slots.is_empty() {
                db.slots.resize_with(SLOT_COUNT, SlotMap::default);
            }
        }
        for slot in slots {
            let (Some(a), Some(b)) = (self.slots.get_mut(slot), other.slots.get_mut(slot)) else {
                continue;
            };
            std::mem::swap(a, b);
        }
        // Recount and rebuild the TTL indexes of both (replay is not a hot path).
        for db in [&mut *self, &mut *other] {
            db.len = db.slots.iter().map(|m| m.len()).sum();
            db.expires = db
                .slots
                .iter()
                .flat_map(|m| m.iter())
                .filter(|(_, e)| e.expire_at != 0)
                .map(|(k, _)| k.clone())
                .collect();
        }
    }

    /// Writes `slot` to a snapshot in progress before it may change.
    #[inline]
    fn touch(&mut self, slot: usize) {
        if let Some(snap) = self.snapshot.as_deref_mut() {
            snap.write_slot(slot, &self.slots);
        }
    }

    /// Starts a snapshot of this database as it is now.
    pub fn snapshot_begin(&mut self, db_index: u16) {
        self.snapshot = Some(Box::new(DbSnapshot {
            pending: Box::new([u64::MAX; SLOT_COUNT / 64]),
            next: 0,
            db_index,
            out: Vec::new(),
            records: 0,
        }));
    }

    /// Writes pending slots in order until `budget` bytes wait in the output or every slot is
    /// written. Returns true when the snapshot has written every slot.
    pub fn snapshot_step(&mut self, budget: usize) -> bool {
        let Some(snap) = self.snapshot.as_deref_mut() else {
            return true;
        };
        while snap.next < SLOT_COUNT && snap.out.len() < budget {
            if self.slots.is_empty() {
                // Empty when the snapshot began: keys added later are not part of it.
                snap.pending.fill(0);
                snap.next = SLOT_COUNT;
                break;
            }
            snap.write_slot(snap.next, &self.slots);
            snap.next += 1;
        }
        snap.next == SLOT_COUNT
    }

    /// The snapshot in progress, if any (its output is taken from here).
    pub fn snapshot_mut(&mut self) -> Option<&mut DbSnapshot> {
        self.snapshot.as_deref_mut()
    }

    /// Ends the snapshot (finished or abandoned).
    pub fn snapshot_end(&mut self) -> Option<Box<DbSnapshot>> {
        self.snapshot.take()
    }

    /// Finds a live entry, removing it if its TTL has passed.
    fn lookup(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        let slot = key_slot(key) as usize;
        self.touch(slot);
        self.note(key);
        match self.slots.get_mut(slot)?.get_live(key, now) {
            Ok(entry) => Some(entry),
            Err(Gone::Expired) => {
                self.len -= 1;
                self.expires.swap_remove(key);
                self.expired += 1;
                if super::notify::enabled(super::notify::EXPIRED) {
                    self.expired_keys.push(key.into());
                }
                None
            }
            Err(Gone::Absent) => None,
        }
    }

    /// `get` for read commands. While a snapshot runs, a read does not make it write the slot
    /// first: reads change nothing a snapshot keeps (the access time is not saved; PFCOUNT's
    /// refresh of its cached count is a cache). Removing an expired key still goes through
    /// `lookup`, which writes the slot out before the removal.
    pub fn get_for_read(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        if self.snapshot.is_none() {
            return self.get(key, now);
        }
        let slot = key_slot(key) as usize;
        let due = self.slots.get(slot)?.get(key)?.expire_at;
        if due != 0 && due <= now {
            return self.lookup(key, now);
        }
        let entry = self.slots.get_mut(slot)?.get_mut(key)?;
        entry.access = now;
        Some(entry)
    }

    /// The live entry for `key`, removing it first if it has expired.
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        let entry = self.lookup(key, now)?;
        entry.access = now;
        Some(entry)
    }

    /// Like `get`, without touching the access time (TTL, TYPE, OBJECT, EXISTS in Redis's spirit).
    pub fn peek(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        self.lookup(key, now).map(|e| &*e)
    }

    pub fn contains(&mut self, key: &[u8], now: u64) -> bool {
        self.lookup(key, now).is_some()
    }

    /// Sets `key` to `value` with no TTL, replacing whatever was there.
    pub fn set(&mut self, key: &[u8], value: Value, now: u64) {
        self.put(
            key,
            Entry {
                value,
                expire_at: 0,
                access: now,
            },
        );
    }

    /// Stores an entry as given, replacing any previous one and its TTL.
    pub fn put(&mut self, key: &[u8], entry: Entry) {
        let expire_at = entry.expire_at;
        if self.slots.is_empty() {
            self.slots.resize_with(SLOT_COUNT, SlotMap::default);
        }
        let slot = key_slot(key) as usize;
        self.touch(slot);
        self.note(key);
        let map = &mut self.slots[slot];
        let had_ttl = match map.insert(key, entry) {
            Some(old) => old.expire_at != 0,
            None => {
                self.len += 1;
                false
            }
        };
        match (had_ttl, expire_at != 0) {
            (true, false) => {
                self.expires.swap_remove(key);
            }
            (false, true) => {
                self.expires.insert(key.into());
            }
            _ => {}
        }
    }

    /// Replaces the value of an existing live key, keeping its TTL; inserts without TTL otherwise.
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value, now: u64) {
        match self.get(key, now) {
            Some(entry) => entry.value = value,
            None => self.set(key, value, now),
        }
    }

    /// Removes a key whatever its TTL.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let slot = key_slot(key) as usize;
        self.touch(slot);
        self.note(key);
        let entry = self.slot_map(slot)?.remove(key)?;
        self.len -= 1;
        if entry.expire_at != 0 {
            self.expires.swap_remove(key);
        }
        Some(entry)
    }

    /// Removes a live key; an expired one counts as absent.
    pub fn remove_live(&mut self, key: &[u8], now: u64) -> Option<Entry> {
        self.lookup(key, now)?;
        self.remove(key)
    }

    /// Sets the absolute expiry of an existing key (0 clears it). Returns false if there is no key.
    pub fn set_expire(&mut self, key: &[u8], expire_at: u64, now: u64) -> bool {
        let Some(entry) = self.get(key, now) else {
            return false;
        };
        let had = entry.expire_at != 0;
        entry.expire_at = expire_at;
        match (had, expire_at != 0) {
            (false, true) => {
                self.expires.insert(key.into());
            }
            (true, false) => {
                self.expires.swap_remove(key);
            }
            _ => {}
        }
        true
    }

    /// Removes `key` if its TTL has passed; true if it did.
    fn expire_if_due(&mut self, key: &[u8], now: u64) -> bool {
        let before = self.expired;
        self.lookup(key, now);
        self.expired != before
    }

    /// One round of active expiry: samples up to `samples` keys with a TTL and removes the expired
    /// ones. Returns (sampled, expired) so the caller can decide whether another round pays.
    pub fn expire_sample(
        &mut self,
        now: u64,
        samples: usize,
        rng: &mut impl Rng,
    ) -> (usize, usize) {
        let mut expired = 0;
        let sampled = samples.min(self.expires.len());
        for _ in 0..sampled {
            if self.expires.is_empty() {
                break;
            }
            let i = rng.gen_range(0..self.expires.len());
            let Some(key) = self.expires.get_index(i).cloned() else {
                break;
            };
            if self.expire_if_due(&key, now) {
                expired += 1;
            }
        }
        (sampled, expired)
    }

    /// Empties the database and hands back its contents (to be dropped wherever suits).
    pub fn clear(&mut self) -> Db {
        // A snapshot in progress keeps the contents as they were when it began.
        while !self.snapshot_step(usize::MAX) {}
        let mut old = std::mem::take(self);
        self.expired = std::mem::take(&mut old.expired);
        self.snapshot = old.snapshot.take();
        self.recording = old.recording;
        self.cleared = old.recording;
        old
    }

    /// A random live key, or None when the database is empty.
    pub fn random_key(&mut self, now: u64, rng: &mut impl Rng) -> Option<Key> {
        for _ in 0..100 {
            if self.len == 0 {
                return None;
            }
            let key = self.random_stored_key(rng)?;
            if !self.expire_if_due(&key, now) {
                return Some(key);
            }
        }
        None
    }

    fn random_stored_key(&self, rng: &mut impl Rng) -> Option<Key> {
        self.random_entry(rng).map(|(k, _)| k.clone())
    }

    fn random_entry(&self, rng: &mut impl Rng) -> Option<(&Key, &Entry)> {
        // Probe random slots first; fall back to a walk from a random slot when keys are sparse.
        for _ in 0..64 {
            if let Some(map) = self.slots.get(rng.gen_range(0..SLOT_COUNT)) {
                if !map.is_empty() {
                    let n = rng.gen_range(0..map.len());
                    return map.iter().nth(n);
                }
            }
        }
        let start = rng.gen_range(0..SLOT_COUNT);
        (0..SLOT_COUNT)
            .map(|i| (start + i) % SLOT_COUNT)
            .filter_map(|s| self.slots.get(s))
            .find(|m| !m.is_empty())
            .and_then(|m| m.iter().next())
    }

    /// Estimated bytes held by keys and values, from a sample of entries: exact accounting
    /// through every `&mut Entry` would cost the hot path, and an estimate is what INFO and the
    /// memory metric need.
    pub fn estimated_bytes(&self, rng: &mut impl Rng) -> usize {
        const SAMPLES: usize = 64;
        let bucket = std::mem::size_of::<Stored>() + 2 * std::mem::size_of::<usize>();
        let sampled: Vec<usize> = (0..SAMPLES.min(self.len))
            .filter_map(|_| self.random_entry(rng))
            .map(|(k, e)| bucket + if k.spilled() { k.len() } else { 0 } + e.value.heap_size())
            .collect();
        match sampled.len() {
            0 => 0,
            n => sampled.iter().sum::<usize>() * self.len / n,
        }
    }

    /// Visits whole slots from `cursor` on until at least `count` keys were visited or the slots
    /// run out. Returns the next cursor, or None when the walk is complete.
    pub fn scan(
        &self,
        cursor: ScanCursor,
        count: usize,
        mut visit: impl FnMut(&[u8], &Entry),
    ) -> Option<ScanCursor> {
        let mut seen = 0;
        let mut slot = cursor as usize;
        while slot < self.slots.len() {
            for (k, e) in self.slots[slot].iter() {
                visit(k, e);
                seen += 1;
            }
            slot += 1;
            if seen >= count {
                break;
            }
        }
        (slot < self.slots.len()).then_some(slot as u16)
    }

    /// All stored entries (expired ones included; callers check `expire_at`).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.slots
            .iter()
            .flat_map(|m| m.iter().map(|(k, e)| (&k[..], e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::string(v.as_bytes())
    }

    /// A key's entry and inline key fill one 80-byte allocator size class (mimalloc's bins go
    /// 64, 80, 96): a byte more costs 16 per key.
    #[test]
    fn a_stored_entry_fits_80_bytes() {
        assert!(std::mem::size_of::<Stored>() <= 80);
    }

    #[test]
    fn ttl_index_follows_every_change() {
        let mut db = Db::default();
        db.set(b"a", s("1"), 0);
        assert!(db.set_expire(b"a", 100, 0));
        assert_eq!(db.expires_len(), 1);
        db.set_keep_ttl(b"a", s("2"), 1);
        assert_eq!(db.peek(b"a", 1).unwrap().expire_at, 100);
        db.set(b"a", s("3"), 2);
        assert_eq!(db.expires_len(), 0);
        db.set_expire(b"a", 50, 2);
        assert!(db.peek(b"a", 50).is_none());
        assert_eq!((db.len(), db.expires_len()), (0, 0));
    }

    #[test]
    fn active_expiry_removes_due_keys() {
        let mut db = Db::default();
        let mut rng = rand::thread_rng();
        for i in 0..100 {
            let k = format!("k{i}");
            db.put(
                k.as_bytes(),
                Entry {
                    value: s("v"),
                    expire_at: if i < 50 { 10 } else { 0 },
                    access: 0,
                },
            );
        }
        while db.expire_sample(11, 20, &mut rng).1 > 0 {}
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.len(), 50);
    }

    #[test]
    fn scan_returns_every_key_despite_changes() {
        let mut db = Db::default();
        for i in 0..1000 {
            db.set(format!("k{i}").as_bytes(), s("v"), 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            let next = db.scan(cursor, 10, |k, _| {
                seen.insert(k.to_vec());
            });
            // Churn between calls: add and remove keys that are not part of the stable set.
            db.set(format!("tmp{round}").as_bytes(), s("v"), 0);
            db.remove(format!("tmp{}", round / 2).as_bytes());
            round += 1;
            match next {
                Some(c) => cursor = c,
                None => break,
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("k{i}").as_bytes()));
        }
    }
}
