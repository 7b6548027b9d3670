//! The stream type (Redis's `t_stream.c` data side): entries of field-value pairs under strictly
//! increasing 128-bit IDs (`ms-seq`), and consumer groups with their pending entries lists.
//!
//! Entries live in a `BTreeMap` by ID. Beside them the stream keeps the *layout* Redis would
//! give the same history: the radix tree of listpack nodes (`stream-node-max-entries` 100,
//! `stream-node-max-bytes` 4096 at Redis's defaults), each node's live and deleted entry counts
//! and its size in bytes. Only the layout, not the listpacks: it decides what approximate
//! trimming (`MAXLEN ~`) removes, what XINFO reports as radix-tree keys and nodes, and how a
//! stream is cut into nodes when written as RDB, so all three agree with redis-server.
//!
//! Invariants:
//! - every entry ID is at most `last_id`; `first_id` is the first entry's ID (0-0 when empty);
//! - every entry belongs to the node with the greatest master ID at or below its own, and a
//!   node's `live` count is the number of entries it holds (a node with none is removed);
//! - a group's PEL and its consumers' PELs hold the same IDs, each under the consumer the
//!   group's record names.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use crate::persist::listpack;

/// Redis's defaults for `stream-node-max-entries` and `stream-node-max-bytes`.
pub const NODE_MAX_ENTRIES: u64 = 100;
pub const NODE_MAX_BYTES: usize = 4096;

/// A stream entry ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, None past the last possible one (Redis's `streamIncrID`).
    pub fn next(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (u64::MAX, u64::MAX) => None,
            (ms, u64::MAX) => Some(StreamId::new(ms + 1, 0)),
            (ms, seq) => Some(StreamId::new(ms, seq + 1)),
        }
    }

    /// The previous ID, None before 0-0 (Redis's `streamDecrID`).
    pub fn prev(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(StreamId::new(ms - 1, u64::MAX)),
            (ms, seq) => Some(StreamId::new(ms, seq - 1)),
        }
    }

    /// The 128-bit big-endian form Redis keys its radix trees with.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    pub fn from_be_bytes(b: [u8; 16]) -> StreamId {
        let (ms, seq) = b.split_at(8);
        StreamId::new(
            u64::from_be_bytes(ms.try_into().unwrap_or_default()),
            u64::from_be_bytes(seq.try_into().unwrap_or_default()),
        )
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One listpack node of Redis's layout (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Entries of the node still in the stream.
    pub live: u64,
    /// Entries of the node deleted (XDEL or exact trimming inside the node).
    pub deleted: u64,
    /// The node's listpack size in bytes, deleted entries included.
    pub bytes: usize,
    /// The fields of the entry that opened the node (Redis's master entry).
    pub master_fields: Box<[Bytes]>,
}

/// A node with its live entries (ID, then field, value, ...), in order.
pub type NodeEntries = (Node, Vec<(StreamId, Vec<Bytes>)>);

/// A pending entry of a group: who it was delivered to, when, how often.
#[derive(Clone, Debug, PartialEq)]
pub struct Nack {
    pub consumer: Bytes,
    pub delivery_time: u64,
    pub delivery_count: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Consumer {
    /// Last time the consumer was named by a command (XREADGROUP, XCLAIM, ...).
    pub seen_time: u64,
    /// Last time it was delivered or claimed entries: Redis 7.2's active-time, read from RDB
    /// type 21 and kept for the 7.2 replies; Redis 7.0's XINFO does not show it.
    pub active_time: u64,
    pub pending: BTreeSet<StreamId>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read by the group; None where Redis keeps -1 (unknown).
    pub entries_read: Option<u64>,
    pub pending: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> Group {
        Group {
            last_id,
            entries_read,
            ..Group::default()
        }
    }

    /// The consumer `name`, created with `now` as its seen-time when missing; named by a
    /// command, its seen-time becomes `now`. Returns whether it was created.
    pub fn touch_consumer(&mut self, name: &Bytes, now: u64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        let c = self.consumers.entry(name.clone()).or_default();
        c.seen_time = now;
        (c, created)
    }

    /// Hands pending entry `id` to `consumer` (created if needed), moving it off its previous
    /// owner's PEL; creates the pending entry when there is none.
    pub fn assign(&mut self, id: StreamId, consumer: &Bytes, delivery_time: u64, count: u64) {
        if let Some(old) = self.pending.get(&id).map(|n| n.consumer.clone()) {
            if let Some(c) = self.consumers.get_mut(&old) {
                c.pending.remove(&id);
            }
        }
        self.pending.insert(
            id,
            Nack {
                consumer: consumer.clone(),
                delivery_time,
                delivery_count: count,
            },
        );
        self.consumers
            .entry(consumer.clone())
            .or_default()
            .pending
            .insert(id);
    }

    /// Drops pending entry `id` from the group and its consumer; whether it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pending.remove(&id) {
            Some(nack) => {
                if let Some(c) = self.consumers.get_mut(&nack.consumer) {
                    c.pending.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Deletes a consumer and its pending entries; how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pending {
            self.pending.remove(id);
        }
        Some(c.pending.len())
    }
}

/// A trimming rule (XADD and XTRIM's MAXLEN / MINID).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamValue {
    entries: BTreeMap<StreamId, Box<[Bytes]>>,
    nodes: BTreeMap<StreamId, Node>,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Bytes, Group>,
}

impl StreamValue {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The fields and values of entry `id`, flat: field, value, field, value, ...
    pub fn get(&self, id: StreamId) -> Option<&[Bytes]> {
        self.entries.get(&id).map(|f| &f[..])
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.entries.contains_key(&id)
    }

    /// Entries with IDs in `start..=end`, in order or reversed.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (StreamId, &[Bytes])> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        let it = self.entries.range(start..=end).map(|(id, f)| (*id, &f[..]));
        if rev {
            Box::new(it.rev())
        } else {
            Box::new(it)
        }
    }

    pub fn first_entry(&self) -> Option<(StreamId, &[Bytes])> {
        self.entries.first_key_value().map(|(id, f)| (*id, &f[..]))
    }

    pub fn last_entry(&self) -> Option<(StreamId, &[Bytes])> {
        self.entries.last_key_value().map(|(id, f)| (*id, &f[..]))
    }

    /// The ID `XADD *` gives at time `now`; None once the last possible ID was used.
    pub fn next_auto_id(&self, now: u64) -> Option<StreamId> {
        if now > self.last_id.ms {
            Some(StreamId::new(now, 0))
        } else {
            self.last_id.next()
        }
    }

    /// Appends an entry; `id` must be above `last_id` (the caller checked) and `fields` hold
    /// field, value pairs. Places it in Redis's node layout as `streamAppendItem` would.
    pub fn append(&mut self, id: StreamId, fields: Vec<Bytes>) {
        let element_bytes: usize = fields.iter().map(Bytes::len).sum();
        let tail = self.nodes.last_key_value().map(|(master, n)| {
            (
                *master,
                n.bytes + element_bytes >= NODE_MAX_BYTES || n.live + n.deleted >= NODE_MAX_ENTRIES,
            )
        });
        let master = match tail {
            Some((master, false)) => master,
            _ => {
                let master_fields: Box<[Bytes]> = fields.iter().step_by(2).cloned().collect();
                let bytes = listpack::EMPTY_SIZE
                    + 2 * listpack::int_entry_size(0)
                    + listpack::int_entry_size(master_fields.len() as i64)
                    + master_fields
                        .iter()
                        .map(|f| listpack::entry_size(f))
                        .sum::<usize>()
                    + listpack::int_entry_size(0);
                // The count starts at 0 here and counts this entry below; its listpack size is
                // the same 2 bytes for every count up to the 100 entries a node holds.
                self.nodes.insert(
                    id,
                    Node {
                        live: 0,
                        deleted: 0,
                        bytes,
                        master_fields,
                    },
                );
                id
            }
        };
        if let Some(node) = self.nodes.get_mut(&master) {
            node.bytes += entry_bytes(master, &node.master_fields, id, &fields);
            node.live += 1;
        }
        self.entries.insert(id, fields.into_boxed_slice());
        self.entries_added = self.entries_added.saturating_add(1);
        self.last_id = id;
        if self.entries.len() == 1 {
            self.first_id = id;
        }
    }

    /// Removes entry `id` from the entries and marks it deleted in its node.
    fn remove_entry(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        let master = self.nodes.range(..=id).next_back().map(|(m, _)| *m);
        if let Some(master) = master {
            if let Some(node) = self.nodes.get_mut(&master) {
                node.live = node.live.saturating_sub(1);
                node.deleted += 1;
                if node.live == 0 {
                    self.nodes.remove(&master);
                }
            }
        }
        true
    }

    fn refresh_first_id(&mut self) {
        self.first_id = self.entries.keys().next().copied().unwrap_or_default();
    }

    /// XDEL: deletes the entries among `ids`, keeping the max-deleted ID; how many there were.
    pub fn delete(&mut self, ids: &[StreamId]) -> usize {
        let mut deleted = 0;
        for &id in ids {
            if self.remove_entry(id) {
                self.max_deleted_id = self.max_deleted_id.max(id);
                deleted += 1;
            }
        }
        if deleted > 0 {
            self.refresh_first_id();
        }
        deleted
    }

    /// Redis's `streamTrim`: whole nodes first; with `approx`, only whole nodes; `limit` (0 for
    /// none) caps the entries removed by whole nodes. Returns the entries removed.
    pub fn trim(&mut self, rule: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some((&master, node)) = self.nodes.first_key_value() {
            if let Trim::MaxLen(max) = rule {
                if self.len() as u64 <= max {
                    break;
                }
            }
            let entries = node.live;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let node_end = self
                .nodes
                .range((
                    std::ops::Bound::Excluded(master),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .map(|(m, _)| *m);
            let ids: Vec<StreamId> = match node_end {
                Some(end) => self.entries.range(master..end).map(|(id, _)| *id).collect(),
                None => self.entries.range(master..).map(|(id, _)| *id).collect(),
            };
            let remove_node = match rule {
                Trim::MaxLen(max) => (self.len() as u64).saturating_sub(entries) >= max,
                Trim::MinId(min) => ids.last().is_some_and(|last| *last < min),
            };
            if remove_node {
                self.nodes.remove(&master);
                for id in &ids {
                    self.entries.remove(id);
                }
                deleted += ids.len() as u64;
                continue;
            }
            if approx {
                break;
            }
            for id in ids {
                let done = match rule {
                    Trim::MaxLen(max) => self.len() as u64 <= max,
                    Trim::MinId(min) => id >= min,
                };
                if done {
                    break;
                }
                self.remove_entry(id);
                deleted += 1;
            }
            break;
        }
        if deleted > 0 {
            self.refresh_first_id();
        }
        deleted
    }

    /// The nodes of Redis's layout, by master ID.
    pub fn nodes(&self) -> &BTreeMap<StreamId, Node> {
        &self.nodes
    }

    /// Rebuilds a stream from its nodes as an RDB file holds them, by master ID. The caller
    /// checked every ID is in order.
    pub fn from_nodes(nodes: Vec<(StreamId, NodeEntries)>) -> StreamValue {
        let mut s = StreamValue::default();
        for (master, (node, entries)) in nodes {
            for (id, fields) in entries {
                s.entries.insert(id, fields.into_boxed_slice());
            }
            s.nodes.insert(master, node);
        }
        s.refresh_first_id();
        s
    }

    /// Radix tree nodes of Redis's rax holding the node keys (XINFO `radix-tree-nodes`): a
    /// compressed node per run of shared bytes, a branching node per fork, a leaf per key.
    pub fn rax_nodes(&self) -> usize {
        fn count(keys: &[[u8; 16]], depth: usize) -> usize {
            if depth == 16 {
                return 1;
            }
            let Some(first) = keys.first() else {
                return 1;
            };
            let common = (depth..16)
                .take_while(|&i| keys.iter().all(|k| k[i] == first[i]))
                .count();
            if common > 0 {
                return 1 + count(keys, depth + common);
            }
            let mut total = 1;
            let mut start = 0;
            while start < keys.len() {
                let b = keys[start][depth];
                let end = start + keys[start..].iter().take_while(|k| k[depth] == b).count();
                total += count(&keys[start..end], depth + 1);
                start = end;
            }
            total
        }
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|id| id.to_be_bytes()).collect();
        count(&keys, 0)
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter of a group
    /// whose last delivered ID is `id`, when it can be known.
    pub fn entries_read_at(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.is_empty() && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id {
            let before_first = self.entries_added.saturating_sub(self.len() as u64);
            if id < self.first_id {
                return Some(before_first);
            }
            if id == self.first_id {
                return Some(before_first + 1);
            }
        }
        None
    }

    /// Redis's `streamRangeHasTombstones` from `start` to the end of the stream.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.is_empty() || self.max_deleted_id == StreamId::MIN {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id
    }

    /// The lag of a group (XINFO), when it can be known.
    pub fn lag(&self, group: &Group) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = group.entries_read {
            if !self.has_tombstones_from(group.last_id) {
                return Some(self.entries_added.saturating_sub(read));
            }
        }
        self.entries_read_at(group.last_id)
            .map(|read| self.entries_added.saturating_sub(read))
    }

    /// A group's delivery of `id` past its last delivered ID (XREADGROUP `>`): moves the last
    /// ID and keeps the entries-read counter as Redis does.
    pub fn advance_group(&mut self, group: &Bytes, id: StreamId) {
        let tombstones = self.has_tombstones_from(id);
        let estimate = self.entries_read_at(id);
        let added = self.entries_added;
        if let Some(g) = self.groups.get_mut(group) {
            if id <= g.last_id {
                return;
            }
            match g.entries_read {
                Some(n) if !tombstones => g.entries_read = Some(n.saturating_add(1)),
                _ if added > 0 => g.entries_read = estimate,
                _ => {}
            }
            g.last_id = id;
        }
    }

    /// Panics unless the invariants of the module doc hold (for tests).
    #[cfg(test)]
    pub fn assert_consistent(&self) {
        let live: u64 = self.nodes.values().map(|n| n.live).sum();
        assert_eq!(live, self.len() as u64, "node counts");
        for (master, node) in &self.nodes {
            assert!(node.live > 0, "a node without entries");
            let end = self
                .nodes
                .range((
                    std::ops::Bound::Excluded(*master),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .map_or(StreamId::MAX, |(m, _)| m.prev().unwrap_or(StreamId::MIN));
            assert_eq!(self.range(*master, end, false).count() as u64, node.live);
        }
        assert!(self.last_entry().is_none_or(|(id, _)| id <= self.last_id));
        assert_eq!(
            self.first_id,
            self.first_entry().map_or(StreamId::MIN, |(id, _)| id)
        );
        for g in self.groups.values() {
            let owned: usize = g.consumers.values().map(|c| c.pending.len()).sum();
            assert_eq!(owned, g.pending.len(), "group and consumer PELs");
            for (name, c) in &g.consumers {
                for id in &c.pending {
                    assert_eq!(g.pending.get(id).map(|n| &n.consumer), Some(name));
                }
            }
        }
    }

    /// Approximate heap bytes, for INFO memory.
    pub fn heap_size(&self) -> usize {
        let entries: usize = self
            .entries
            .values()
            .map(|f| 48 + f.iter().map(|b| b.len() + 32).sum::<usize>())
            .sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| {
                name.len()
                    + 96
                    + g.pending.len() * 80
                    + g.consumers
                        .iter()
                        .map(|(n, c)| n.len() + 64 + c.pending.len() * 40)
                        .sum::<usize>()
            })
            .sum();
        entries + groups + self.nodes.len() * 64
    }
}

/// The listpack bytes entry `id` adds to the node of master `master` (Redis's entry layout:
/// flags, ms and seq deltas, then the values alone when the fields are the master's, else the
/// field count and the pairs, then the element count).
fn entry_bytes(master: StreamId, master_fields: &[Bytes], id: StreamId, fields: &[Bytes]) -> usize {
    let same = fields.len() == 2 * master_fields.len()
        && fields
            .iter()
            .step_by(2)
            .zip(master_fields)
            .all(|(a, b)| a == b);
    let mut bytes = listpack::int_entry_size(if same { 2 } else { 0 })
        + listpack::int_entry_size(id.ms.wrapping_sub(master.ms) as i64)
        + listpack::int_entry_size(id.seq.wrapping_sub(master.seq) as i64);
    let pairs = fields.len() / 2;
    let elements = if same {
        bytes += fields
            .iter()
            .skip(1)
            .step_by(2)
            .map(|v| listpack::entry_size(v))
            .sum::<usize>();
        3 + pairs
    } else {
        bytes += listpack::int_entry_size(pairs as i64);
        bytes += fields
            .iter()
            .map(|f| listpack::entry_size(f))
            .sum::<usize>();
        4 + 2 * pairs
    };
    bytes + listpack::int_entry_size(elements as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<Bytes> {
        pairs
            .iter()
            .flat_map(|(f, v)| [Bytes::from(f.to_string()), Bytes::from(v.to_string())])
            .collect()
    }

    #[test]
    fn ids_step_and_order() {
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        assert!(StreamId::new(1, 5) < StreamId::new(2, 0));
        let id = StreamId::new(0x0102, 7);
        assert_eq!(StreamId::from_be_bytes(id.to_be_bytes()), id);
        assert_eq!(id.to_string(), "258-7");
    }

    /// Node cuts measured on redis-server 7.0: 100 entries per node, and ten 500-byte values
    /// split 7 + 3 by `stream-node-max-bytes`.
    #[test]
    fn nodes_are_cut_as_redis_cuts_them() {
        let mut s = StreamValue::default();
        for i in 1..=100 {
            s.append(StreamId::new(i, 0), fields(&[("f", "v")]));
        }
        assert_eq!((s.nodes().len(), s.rax_nodes()), (1, 2));
        s.append(StreamId::new(101, 0), fields(&[("f", "v")]));
        assert_eq!((s.nodes().len(), s.rax_nodes()), (2, 6));
        let mut big = StreamValue::default();
        let value = "x".repeat(500);
        for i in 1..=10 {
            big.append(StreamId::new(i, 0), fields(&[("f", &value)]));
        }
        let sizes: Vec<u64> = big.nodes().values().map(|n| n.live).collect();
        assert_eq!(sizes, vec![7, 3]);
        // Approximate trimming removes whole nodes only.
        assert_eq!(big.trim(Trim::MaxLen(3), true, 0), 7);
        assert_eq!(big.trim(Trim::MaxLen(1), true, 0), 0);
        assert_eq!(big.trim(Trim::MaxLen(1), false, 0), 2);
        assert_eq!(big.first_id, StreamId::new(10, 0));
        assert_eq!(StreamValue::default().rax_nodes(), 1);
    }

    #[test]
    fn delete_keeps_first_and_max_deleted() {
        let mut s = StreamValue::default();
        for i in 1..=3 {
            s.append(StreamId::new(i, 0), fields(&[("a", "1")]));
        }
        assert_eq!(s.delete(&[StreamId::new(1, 0), StreamId::new(9, 0)]), 1);
        assert_eq!(s.first_id, StreamId::new(2, 0));
        assert_eq!(s.max_deleted_id, StreamId::new(1, 0));
        assert_eq!(s.delete(&[StreamId::new(2, 0), StreamId::new(3, 0)]), 2);
        assert_eq!((s.first_id, s.nodes().len()), (StreamId::MIN, 0));
        assert_eq!(s.entries_added, 3);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(u64, u8),
        Del(Vec<u64>),
        TrimLen(u64, bool),
        TrimMin(u64, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (1u64..5, 1u8..4).prop_map(|(d, n)| Op::Add(d, n)),
            2 => proptest::collection::vec(0u64..400, 1..4).prop_map(Op::Del),
            1 => (0u64..300, any::<bool>()).prop_map(|(n, a)| Op::TrimLen(n, a)),
            1 => (0u64..400, any::<bool>()).prop_map(|(n, a)| Op::TrimMin(n, a)),
        ]
    }

    proptest! {
        /// XADD, XDEL, XTRIM and XRANGE against a plain `BTreeMap`: exact trims agree with it,
        /// approximate ones remove a prefix no larger than the exact one.
        #[test]
        fn matches_a_btreemap_model(ops in proptest::collection::vec(op(), 1..400)) {
            let mut s = StreamValue::default();
            let mut model: BTreeMap<StreamId, Vec<Bytes>> = BTreeMap::new();
            let mut next = 0u64;
            for op in ops {
                match op {
                    Op::Add(step, n) => {
                        next += step;
                        let f: Vec<Bytes> = (0..n).flat_map(|i| [Bytes::from(format!("f{i}")), Bytes::from(next.to_string())]).collect();
                        s.append(StreamId::new(next, 0), f.clone());
                        model.insert(StreamId::new(next, 0), f);
                    }
                    Op::Del(ids) => {
                        let ids: Vec<StreamId> = ids.into_iter().map(|i| StreamId::new(i, 0)).collect();
                        let want = ids.iter().collect::<BTreeSet<_>>().iter().filter(|id| model.remove(id).is_some()).count();
                        prop_assert_eq!(s.delete(&ids), want);
                    }
                    Op::TrimLen(max, approx) => {
                        let removed = s.trim(Trim::MaxLen(max), approx, 0);
                        let exact = (model.len() as u64).saturating_sub(max);
                        let ok = if approx { removed <= exact } else { removed == exact };
                        prop_assert!(ok, "removed {} of {}", removed, exact);
                        for _ in 0..removed { model.pop_first(); }
                    }
                    Op::TrimMin(min, approx) => {
                        let min = StreamId::new(min, 0);
                        let removed = s.trim(Trim::MinId(min), approx, 0);
                        let exact = model.range(..min).count() as u64;
                        let ok = if approx { removed <= exact } else { removed == exact };
                        prop_assert!(ok, "removed {} of {}", removed, exact);
                        for _ in 0..removed { model.pop_first(); }
                    }
                }
                prop_assert_eq!(s.len(), model.len());
                prop_assert_eq!(s.first_id, model.keys().next().copied().unwrap_or_default());
                let live: u64 = s.nodes().values().map(|n| n.live).sum();
                prop_assert_eq!(live, model.len() as u64);
            }
            let got: Vec<(StreamId, Vec<Bytes>)> = s.range(StreamId::MIN, StreamId::MAX, false).map(|(id, f)| (id, f.to_vec())).collect();
            let want: Vec<(StreamId, Vec<Bytes>)> = model.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
