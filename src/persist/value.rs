//! The seam between the RDB codec ([`super::rdb`]) and the keyspace's [`Value`]: which RDB
//! encoding each of Ferrite's representations is written as, and which representation a decoded
//! object becomes.
//!
//! Both directions follow Redis 7.0 at its default limits. Writing goes by the value's current
//! encoding, as `rdbSaveObject` does (a listpack hash as `HASH_LISTPACK`, a hashtable one as
//! `HASH`, ...). Reading builds each collection through the keyspace type's own insert path, so
//! the encoding it ends up in is the one the same members would get from SADD / HSET / ZADD;
//! that is also what Redis's loader converges to (an all-integer `SET` becomes an intset, a
//! small `HASH` a listpack).

use std::collections::VecDeque;

use bytes::Bytes;

use super::rdb::{self, ObjectType, RdbValue};
use super::{Error, Reader, Result};
use crate::keyspace::packed::IntSet;
use crate::keyspace::thresholds::SET_MAX_INTSET_ENTRIES;
use crate::keyspace::{HashValue, SetValue, Value, ZSetValue};

/// Appends `value` as an RDB object: its type byte, then the value.
pub fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::SmallStr(s) => rdb::write_string_object(out, s.as_slice()),
        Value::Str(s) => rdb::write_string_object(out, s),
        Value::List(items) => rdb::write_list(out, items.iter().map(|b| &b[..])),
        Value::Set(set) => match set {
            SetValue::Ints(ints) => rdb::write_intset(out, ints.width(), ints.len(), ints.body()),
            // Redis 7.0 has no packed sets: a small set of strings is a plain SET there.
            SetValue::Packed { buf, len } => {
                rdb::write_set(out, *len, buf.elements().map(|(_, m)| m))
            }
            SetValue::Table(t) => rdb::write_set(out, t.len(), t.iter().map(|b| &b[..])),
        },
        Value::Hash(hash) => match hash {
            HashValue::Compact { .. } => rdb::write_hash_listpack(out, hash.iter()),
            HashValue::Table(_) => rdb::write_hash(out, hash.len(), hash.iter()),
        },
        Value::ZSet(zset) => match zset {
            ZSetValue::Compact { .. } => rdb::write_zset_listpack(out, zset.iter()),
            ZSetValue::Skip(_) => {
                rdb::write_zset_skiplist(out, zset.len(), zset.range(0, zset.len(), true))
            }
        },
        Value::Stream(stream) => super::stream::write_stream(out, stream),
    }
}

/// Decodes one whole RDB object (type byte and value, nothing after it) into a [`Value`].
pub fn decode_value(bytes: &[u8]) -> Result<Value> {
    let mut r = Reader::new(bytes);
    let ty = ObjectType::from(r.u8()?);
    let value = rdb::read_object(&mut r, ty)?;
    if !r.is_empty() {
        return Err(Error::TrailingBytes);
    }
    into_value(value)
}

/// The keyspace value of a decoded object.
pub fn into_value(value: RdbValue) -> Result<Value> {
    Ok(match value {
        RdbValue::String(s) => Value::from_bytes(s),
        RdbValue::List(items) => Value::List(Box::new(VecDeque::from(items))),
        // Kept at the width it was written with, as Redis's loader keeps the blob, so a DUMP
        // of it is the same bytes again.
        RdbValue::IntSet { width, values } => Value::Set(
            IntSet::from_sorted(width, &values)
                .filter(|s| s.len() <= SET_MAX_INTSET_ENTRIES.get())
                .map_or_else(
                    || {
                        let mut set = SetValue::default();
                        for n in values {
                            set.insert(n.to_string().as_bytes());
                        }
                        set
                    },
                    SetValue::Ints,
                ),
        ),
        RdbValue::Set(members) => {
            let mut set = SetValue::default();
            for m in &members {
                set.insert(m);
            }
            Value::Set(set)
        }
        RdbValue::Hash(pairs) => {
            let mut hash = HashValue::default();
            for (f, v) in &pairs {
                hash.set(f, v);
            }
            Value::Hash(hash)
        }
        RdbValue::ZSet(pairs) => zset_value(pairs),
        RdbValue::Stream(stream) => Value::Stream(stream),
    })
}

/// A sorted set from distinct members and their (non-NaN) scores, in any order.
pub fn zset_value(pairs: Vec<(Bytes, f64)>) -> Value {
    let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    let mut zset = ZSetValue::with_hint(pairs.len(), longest);
    for (m, score) in &pairs {
        zset.insert(m, *score);
    }
    Value::ZSet(zset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::stream::StreamId;
    use crate::keyspace::StreamValue;
    use proptest::prelude::*;

    /// What a value holds, independent of its representation (a skiplist's shape is random).
    fn contents(v: &Value) -> (String, &'static str, Vec<Vec<u8>>) {
        let mut items: Vec<Vec<u8>> = match v {
            Value::SmallStr(_) | Value::Str(_) => vec![v.as_str().unwrap_or_default().to_vec()],
            Value::List(l) => l.iter().map(|b| b.to_vec()).collect(),
            Value::Set(s) => s.members().iter().map(|b| b.to_vec()).collect(),
            Value::Hash(h) => h.iter().map(|(f, v)| [f, b"=", v].concat()).collect(),
            Value::ZSet(z) => z
                .iter()
                .map(|(m, s)| [m, b"=", &s.to_bits().to_le_bytes()].concat())
                .collect(),
            Value::Stream(s) => s
                .range(StreamId::MIN, StreamId::MAX, false)
                .map(|(id, f)| [id.to_string().as_bytes(), &f.concat()].concat())
                .collect(),
        };
        if !matches!(v, Value::List(_)) {
            items.sort();
        }
        (v.type_name().to_string(), v.encoding(), items)
    }

    fn round_trip(v: &Value) -> Value {
        let mut out = Vec::new();
        encode_value(v, &mut out);
        match decode_value(&out) {
            Ok(back) => back,
            Err(e) => panic!("{e} decoding {out:?}"),
        }
    }

    fn member() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            (-1000i64..1000).prop_map(|n| n.to_string().into_bytes()),
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..20),
            proptest::collection::vec(any::<u8>(), 60..80),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let many = |max| proptest::collection::vec(member(), 1..max);
        prop_oneof![
            member().prop_map(|s| Value::string(&s)),
            proptest::collection::vec(any::<u8>(), 0..3000).prop_map(|s| Value::string(&s)),
            many(2000).prop_map(|items| Value::List(Box::new(
                items.into_iter().map(Bytes::from).collect()
            ))),
            prop_oneof![
                many(20),
                many(700),
                proptest::collection::vec(
                    (-100_000i64..100_000).prop_map(|n| n.to_string().into_bytes()),
                    1..700
                )
            ]
            .prop_map(|members| {
                let mut s = SetValue::default();
                for m in members {
                    s.insert(&m);
                }
                Value::Set(s)
            }),
            prop_oneof![many(20), many(300)].prop_map(|fields| {
                let mut h = HashValue::default();
                for (i, f) in fields.iter().enumerate() {
                    h.set(f, &fields[(i * 7) % fields.len()]);
                }
                Value::Hash(h)
            }),
            prop_oneof![
                proptest::collection::vec((member(), -1e6f64..1e6), 1..20),
                proptest::collection::vec((member(), any::<f64>()), 1..300),
                proptest::collection::vec((member(), (-50i64..50).prop_map(|n| n as f64)), 1..200),
            ]
            .prop_map(|pairs| {
                let mut z = ZSetValue::default();
                for (m, s) in pairs {
                    if !s.is_nan() {
                        z.insert(&m, s);
                    }
                }
                if z.is_empty() {
                    z.insert(b"x", 0.0);
                }
                Value::ZSet(z)
            }),
            proptest::collection::vec((1u64..5, many(4)), 0..300).prop_map(|adds| {
                let mut s = StreamValue::default();
                let mut ms = 0;
                for (step, names) in adds {
                    ms += step;
                    let fields = names
                        .into_iter()
                        .flat_map(|n| [Bytes::from(n.clone()), Bytes::from(n)])
                        .collect();
                    s.append(StreamId::new(ms, 0), fields);
                }
                Value::Stream(Box::new(s))
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Every value comes back with the same contents and the same encoding.
        #[test]
        fn every_type_round_trips(v in value()) {
            prop_assert_eq!(contents(&round_trip(&v)), contents(&v));
        }

        /// Random bytes, and encoded values cut short or with bytes changed, decode to an error
        /// or to some value, never to a panic.
        #[test]
        fn bad_bytes_never_panic(
            v in value(),
            random in proptest::collection::vec(any::<u8>(), 0..300),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..5),
            cut in any::<usize>(),
        ) {
            let _ = decode_value(&random);
            let mut out = Vec::new();
            encode_value(&v, &mut out);
            let _ = decode_value(&out[..cut % out.len()]);
            for (at, b) in flips {
                let at = at % out.len();
                out[at] = b;
            }
            let _ = decode_value(&out);
        }
    }

    #[test]
    fn encodings_follow_redis() {
        let mut ints = SetValue::default();
        ints.insert(b"5");
        let mut out = Vec::new();
        encode_value(&Value::Set(ints), &mut out);
        assert_eq!(out[0], u8::from(ObjectType::SetIntset));
        // A SET whose members are all integers loads as an intset, as in Redis.
        let mut plain = vec![u8::from(ObjectType::Set), 2];
        rdb::write_string(&mut plain, b"10");
        rdb::write_string(&mut plain, b"-3");
        assert_eq!(decode_value(&plain).map(|v| v.encoding()), Ok("intset"));
        // An intset keeps the width it was written with, even one wider than its members need
        // (Redis never narrows one after the wide member goes): the same DUMP bytes come back.
        let mut wide = vec![u8::from(ObjectType::SetIntset)];
        rdb::write_string(&mut wide, &[4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
        let mut again = Vec::new();
        encode_value(
            &decode_value(&wide).unwrap_or_else(|e| panic!("{e}")),
            &mut again,
        );
        assert_eq!(again, wide);
        // A small HASH loads as a listpack.
        let mut hash = vec![u8::from(ObjectType::Hash), 1];
        rdb::write_string(&mut hash, b"f");
        rdb::write_string(&mut hash, b"v");
        assert_eq!(decode_value(&hash).map(|v| v.encoding()), Ok("listpack"));
        assert_eq!(
            decode_value(&[0x00, 0x01, b'a', 0x00]),
            Err(Error::TrailingBytes)
        );
    }
}
