//! Streams in RDB (Redis's `rdbSaveObject` / `rdbLoadObject` for `OBJ_STREAM`): written as
//! `STREAM_LISTPACKS_2` (type 19, what Redis 7.0 writes and reads), read as types 15 (Redis 5
//! and 6), 19 and 21 (Redis 7.2, which adds each consumer's active-time).
//!
//! ```text
//! nodes      len, then per node: master ID (16-byte big-endian string), listpack (string)
//! listpack   count, deleted, n, field_1..field_n, 0            (the master entry)
//!            per entry: flags, ms delta, seq delta, [n, field, value .. | value ..], lp-count
//! then       length, last ID (ms, seq), [first ID, max-deleted ID, entries-added]   (19+)
//! groups     len, per group: name, last ID, [entries-read (19+)],
//!            PEL: len, per entry: ID (16 raw bytes), delivery time (i64 LE ms), delivery count
//!            consumers: len, per consumer: name, seen-time (i64 LE), [active-time (21)],
//!            PEL: len, per entry: ID (16 raw bytes)
//! ```
//! Each node of the stream's layout becomes one listpack holding its live entries (deleted
//! ones are not kept, so the deleted count written is 0). Reading checks that IDs increase,
//! lengths agree and every consumer's pending entry is in its group's PEL.

use bytes::Bytes;

use super::listpack::{self, Entry};
use super::rdb::{read_count, read_len, read_string, write_len, write_string, ObjectType};
use super::{Error, Reader, Result};
use crate::keyspace::stream::{Consumer, Group, Nack, Node, NodeEntries, StreamId, StreamValue};
use crate::resp::parse_i64;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// What Redis stores for an unknown entries-read counter (-1 as an unsigned length).
const ENTRIES_READ_UNKNOWN: u64 = u64::MAX;

fn bad(why: &'static str) -> Error {
    Error::BadStream(why)
}

/// Appends `s` as a `STREAM_LISTPACKS_2` object, type byte first.
pub fn write_stream(out: &mut Vec<u8>, s: &StreamValue) {
    out.push(ObjectType::StreamListpacks2.into());
    let nodes = s.nodes();
    write_len(out, nodes.len() as u64);
    let mut masters = nodes.iter().peekable();
    while let Some((&master, node)) = masters.next() {
        let end = masters
            .peek()
            .map_or(StreamId::MAX, |(m, _)| m.prev().unwrap_or(StreamId::MIN));
        write_string(out, &master.to_be_bytes());
        write_string(out, &node_listpack(s, master, node, end));
    }
    write_len(out, s.len() as u64);
    write_id(out, s.last_id);
    write_id(out, s.first_id);
    write_id(out, s.max_deleted_id);
    write_len(out, s.entries_added);
    write_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        write_string(out, name);
        write_id(out, g.last_id);
        write_len(out, g.entries_read.unwrap_or(ENTRIES_READ_UNKNOWN));
        write_len(out, g.pending.len() as u64);
        for (id, nack) in &g.pending {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            write_len(out, nack.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for (name, c) in &g.consumers {
            write_string(out, name);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            write_len(out, c.pending.len() as u64);
            for id in &c.pending {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

fn write_id(out: &mut Vec<u8>, id: StreamId) {
    write_len(out, id.ms);
    write_len(out, id.seq);
}

/// The listpack of one node: its master entry, then its live entries (`master..=end`).
fn node_listpack(s: &StreamValue, master: StreamId, node: &Node, end: StreamId) -> Vec<u8> {
    let mut lp = listpack::Writer::new();
    let entries: Vec<(StreamId, &[Bytes])> = s.range(master, end, false).collect();
    lp.push_int(entries.len() as i64);
    lp.push_int(0);
    lp.push_int(node.master_fields.len() as i64);
    for f in node.master_fields.iter() {
        lp.push(f);
    }
    lp.push_int(0);
    for (id, fields) in entries {
        let pairs = fields.len() / 2;
        let same = pairs == node.master_fields.len()
            && fields
                .iter()
                .step_by(2)
                .zip(node.master_fields.iter())
                .all(|(a, b)| a == b);
        lp.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
        lp.push_int(id.ms.wrapping_sub(master.ms) as i64);
        lp.push_int(id.seq.wrapping_sub(master.seq) as i64);
        if same {
            for v in fields.iter().skip(1).step_by(2) {
                lp.push(v);
            }
            lp.push_int(3 + pairs as i64);
        } else {
            lp.push_int(pairs as i64);
            for f in fields {
                lp.push(f);
            }
            lp.push_int(4 + 2 * pairs as i64);
        }
    }
    lp.finish()
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId> {
    Ok(StreamId::new(read_len(r)?, read_len(r)?))
}

fn read_raw_id(r: &mut Reader<'_>) -> Result<StreamId> {
    let b = r.bytes(16)?;
    Ok(StreamId::from_be_bytes(
        b.try_into().map_err(|_| Error::Truncated)?,
    ))
}

fn int(e: Option<&Entry<'_>>) -> Result<i64> {
    match e {
        Some(Entry::Int(n)) => Ok(*n),
        Some(Entry::Str(s)) => parse_i64(s).ok_or(bad("a listpack number is not an integer")),
        None => Err(bad("a listpack node ends inside an entry")),
    }
}

fn bytes(e: Option<&Entry<'_>>) -> Result<Bytes> {
    e.map(Entry::to_bytes)
        .ok_or(bad("a listpack node ends inside an entry"))
}

fn count(n: i64) -> Result<usize> {
    usize::try_from(n).map_err(|_| bad("a negative count in a listpack node"))
}

/// One node's layout record and live entries, each ID above `after` (which it moves on).
fn read_node(master: StreamId, lp: &[u8], after: &mut Option<StreamId>) -> Result<NodeEntries> {
    let items = listpack::decode(lp)?;
    if items.is_empty() {
        return Err(bad("empty listpack inside a stream"));
    }
    let mut it = items.iter();
    let live = int(it.next())?;
    let deleted = int(it.next())?;
    let n_master = count(int(it.next())?)?;
    let mut master_fields = Vec::with_capacity(n_master.min(items.len()));
    for _ in 0..n_master {
        master_fields.push(bytes(it.next())?);
    }
    if int(it.next())? != 0 {
        return Err(bad("the master entry lacks its terminator"));
    }
    let mut entries = Vec::new();
    let mut seen_deleted = 0i64;
    while let Some(flags) = it.next() {
        let flags = int(Some(flags))?;
        let ms = master.ms.wrapping_add(int(it.next())? as u64);
        let seq = master.seq.wrapping_add(int(it.next())? as u64);
        let id = StreamId::new(ms, seq);
        let mut fields = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in &master_fields {
                fields.push(f.clone());
                fields.push(bytes(it.next())?);
            }
        } else {
            let pairs = count(int(it.next())?)?;
            if pairs > items.len() {
                return Err(bad("a field count larger than its node"));
            }
            for _ in 0..2 * pairs {
                fields.push(bytes(it.next())?);
            }
        }
        int(it.next())?;
        if id < master || after.is_some_and(|a| id <= a) {
            return Err(bad("entry IDs out of order"));
        }
        *after = Some(id);
        if flags & FLAG_DELETED != 0 {
            seen_deleted += 1;
        } else {
            if fields.is_empty() {
                return Err(bad("an entry without fields"));
            }
            entries.push((id, fields));
        }
    }
    if live != entries.len() as i64 || deleted != seen_deleted {
        return Err(bad("a node's entry counts do not match its entries"));
    }
    let node = Node {
        live: entries.len() as u64,
        deleted: seen_deleted as u64,
        bytes: lp.len(),
        master_fields: master_fields.into_boxed_slice(),
    };
    Ok((node, entries))
}

/// Reads a stream object of type `ty` (15, 19 or 21), its type byte already read.
pub fn read_stream(r: &mut Reader<'_>, ty: ObjectType) -> Result<StreamValue> {
    let v2 = matches!(
        ty,
        ObjectType::StreamListpacks2 | ObjectType::StreamListpacks3
    );
    let n_nodes = read_count(r, 2)?;
    let mut nodes = Vec::new();
    let mut after = None;
    for _ in 0..n_nodes {
        let key = read_string(r)?;
        let key: [u8; 16] = key[..]
            .try_into()
            .map_err(|_| bad("a node key is not a 16-byte ID"))?;
        let master = StreamId::from_be_bytes(key);
        let lp = read_string(r)?;
        let (node, entries) = read_node(master, &lp, &mut after)?;
        if node.live > 0 {
            nodes.push((master, (node, entries)));
        }
    }
    let mut s = StreamValue::from_nodes(nodes);
    let length = read_len(r)?;
    if length != s.len() as u64 {
        return Err(bad("the stream length does not match its entries"));
    }
    s.last_id = read_id(r)?;
    if after.is_some_and(|a| a > s.last_id) {
        return Err(bad("an entry ID above the stream's last ID"));
    }
    if v2 {
        s.first_id = read_id(r)?;
        s.max_deleted_id = read_id(r)?;
        s.entries_added = read_len(r)?;
    } else {
        s.entries_added = length;
    }
    let n_groups = read_count(r, 4)?;
    for _ in 0..n_groups {
        let name = Bytes::copy_from_slice(&read_string(r)?);
        let last_id = read_id(r)?;
        let entries_read = if v2 {
            Some(read_len(r)?).filter(|&n| n != ENTRIES_READ_UNKNOWN)
        } else {
            s.entries_read_at(last_id)
        };
        let mut g = Group::new(last_id, entries_read);
        let n_pending = read_count(r, 25)?;
        for _ in 0..n_pending {
            let id = read_raw_id(r)?;
            let delivery_time = r.i64_le()?.max(0) as u64;
            let delivery_count = read_len(r)?;
            let nack = Nack {
                consumer: Bytes::new(),
                delivery_time,
                delivery_count,
            };
            if g.pending.insert(id, nack).is_some() {
                return Err(bad("an ID twice in a group's PEL"));
            }
        }
        let n_consumers = read_count(r, 10)?;
        for _ in 0..n_consumers {
            let cname = Bytes::copy_from_slice(&read_string(r)?);
            let seen_time = r.i64_le()?.max(0) as u64;
            let active_time = if ty == ObjectType::StreamListpacks3 {
                r.i64_le()?.max(0) as u64
            } else {
                seen_time
            };
            let mut c = Consumer {
                seen_time,
                active_time,
                ..Consumer::default()
            };
            let n = read_count(r, 16)?;
            for _ in 0..n {
                let id = read_raw_id(r)?;
                let nack = g
                    .pending
                    .get_mut(&id)
                    .ok_or(bad("a consumer's pending entry is not in its group's PEL"))?;
                if !nack.consumer.is_empty() || !c.pending.insert(id) {
                    return Err(bad("a pending entry owned twice"));
                }
                nack.consumer = cname.clone();
            }
            if g.consumers.insert(cname, c).is_some() {
                return Err(bad("a consumer twice in a group"));
            }
        }
        if g.pending.values().any(|n| n.consumer.is_empty()) {
            return Err(bad("a pending entry without a consumer"));
        }
        if s.groups.insert(name, g).is_some() {
            return Err(bad("a consumer group twice in a stream"));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<StreamValue> {
        let mut r = Reader::new(bytes);
        let ty = ObjectType::from(r.u8()?);
        let s = read_stream(&mut r, ty)?;
        if !r.is_empty() {
            return Err(Error::TrailingBytes);
        }
        Ok(s)
    }

    /// `XADD s 1-1 a 1 b 2; XADD s 2-0 c 3; XGROUP CREATE s g 0; XREADGROUP GROUP g c1 COUNT 1
    /// STREAMS s >` in redis-server 7.0.15: the DUMP body.
    const REDIS_STREAM: &[u8] = b"\x13\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x0111\x00\x00\x00\x13\x00\x02\x01\x00\x01\x02\x01\x81a\x02\x81b\x02\x00\x01\x02\x01\x00\x01\x00\x01\x01\x01\x02\x01\x05\x01\x00\x01\x01\x01\xdf\xff\x02\x01\x01\x81c\x02\x03\x01\x06\x01\xff\x02\x02\x00\x01\x01\x00\x00\x02\x01\x01g\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x88\x07E-\xa2\x01\x00\x00\x01\x01\x02c1\x88\x07E-\xa2\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01";

    #[test]
    fn reads_and_rewrites_what_redis_wrote() {
        let s = decode(REDIS_STREAM).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.last_id, StreamId::new(2, 0));
        assert_eq!(s.first_id, StreamId::new(1, 1));
        assert_eq!(s.entries_added, 2);
        let e = s.get(StreamId::new(2, 0)).unwrap();
        assert_eq!(e, &[Bytes::from("c"), Bytes::from("3")]);
        let g = &s.groups[&Bytes::from("g")];
        assert_eq!((g.last_id, g.entries_read), (StreamId::new(1, 1), Some(1)));
        assert_eq!(g.pending[&StreamId::new(1, 1)].consumer, Bytes::from("c1"));
        assert_eq!(g.pending[&StreamId::new(1, 1)].delivery_count, 1);
        let mut out = Vec::new();
        write_stream(&mut out, &s);
        assert_eq!(out, REDIS_STREAM);
    }

    /// A stream with no entries left, last ID 5-0, and group g whose PEL holds 5-0 for
    /// consumer c (delivered at 1000, twice), as type 15 (Redis 5 and 6) or 21 (Redis 7.2).
    fn older_and_newer(ty: ObjectType) -> Vec<u8> {
        let v2 = ty != ObjectType::StreamListpacks;
        let mut out = vec![u8::from(ty), 0, 0];
        write_id(&mut out, StreamId::new(5, 0));
        if v2 {
            write_id(&mut out, StreamId::MIN);
            write_id(&mut out, StreamId::new(5, 0));
            write_len(&mut out, 1);
        }
        write_len(&mut out, 1);
        write_string(&mut out, b"g");
        write_id(&mut out, StreamId::new(5, 0));
        if v2 {
            write_len(&mut out, 1);
        }
        write_len(&mut out, 1);
        out.extend_from_slice(&StreamId::new(5, 0).to_be_bytes());
        out.extend_from_slice(&1000u64.to_le_bytes());
        write_len(&mut out, 2);
        write_len(&mut out, 1);
        write_string(&mut out, b"c");
        out.extend_from_slice(&2000u64.to_le_bytes());
        if ty == ObjectType::StreamListpacks3 {
            out.extend_from_slice(&3000u64.to_le_bytes());
        }
        write_len(&mut out, 1);
        out.extend_from_slice(&StreamId::new(5, 0).to_be_bytes());
        out
    }

    #[test]
    fn reads_the_older_and_newer_stream_types() {
        for ty in [ObjectType::StreamListpacks, ObjectType::StreamListpacks3] {
            let s = decode(&older_and_newer(ty)).unwrap();
            assert_eq!((s.len(), s.last_id), (0, StreamId::new(5, 0)));
            let g = &s.groups[&Bytes::from("g")];
            let nack = &g.pending[&StreamId::new(5, 0)];
            assert_eq!((nack.delivery_time, nack.delivery_count), (1000, 2));
            let c = &g.consumers[&Bytes::from("c")];
            assert_eq!(c.seen_time, 2000);
            if ty == ObjectType::StreamListpacks3 {
                assert_eq!(
                    (c.active_time, s.entries_added, g.entries_read),
                    (3000, 1, Some(1))
                );
                assert_eq!(s.max_deleted_id, StreamId::new(5, 0));
            } else {
                // Type 15 has no counters: Redis estimates them from the length.
                assert_eq!((s.entries_added, g.entries_read), (0, Some(0)));
            }
            // Written back as type 19, it reads the same.
            let mut out = Vec::new();
            write_stream(&mut out, &s);
            let mut again = decode(&out).unwrap();
            again.groups.values_mut().for_each(|g| {
                g.consumers
                    .values_mut()
                    .for_each(|c| c.active_time = c.seen_time)
            });
            let mut want = s.clone();
            want.groups.values_mut().for_each(|g| {
                g.consumers
                    .values_mut()
                    .for_each(|c| c.active_time = c.seen_time)
            });
            assert_eq!(again, want);
        }
        // A consumer owning an ID its group does not hold is refused.
        let mut bad = older_and_newer(ObjectType::StreamListpacks2);
        let at = bad.len() - 1;
        bad[at] ^= 1;
        assert_eq!(
            decode(&bad),
            Err(Error::BadStream(
                "a consumer's pending entry is not in its group's PEL"
            ))
        );
    }

    #[test]
    fn refuses_damage_without_panicking() {
        for cut in 0..REDIS_STREAM.len() {
            assert!(decode(&REDIS_STREAM[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..REDIS_STREAM.len() {
            for b in [0x00, 0x01, 0x7f, 0xff] {
                let mut bad = REDIS_STREAM.to_vec();
                bad[at] = b;
                let _ = decode(&bad);
            }
        }
    }
}
