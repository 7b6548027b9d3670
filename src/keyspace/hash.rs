//! The hash type (Redis's `t_hash.c` data side): a small hash is one [`Packed`] buffer of field,
//! value, field, value, ... in insertion order, scanned linearly (Redis's listpack); past
//! `hash-max-listpack-entries` fields or with a field or value longer than
//! `hash-max-listpack-value` bytes it becomes a hash table, and stays one.

use bytes::Bytes;

use super::db::KeyHasher;
use super::packed::{element_len, Elements, Packed};
use super::thresholds::{HASH_MAX_LISTPACK_ENTRIES, HASH_MAX_LISTPACK_VALUE};

#[derive(Clone, Debug, PartialEq)]
pub enum HashValue {
    /// `pairs` field/value pairs, packed.
    Compact {
        buf: Packed,
        pairs: usize,
    },
    Table(Box<hashbrown::HashMap<Bytes, Bytes, KeyHasher>>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Compact {
            buf: Packed::default(),
            pairs: 0,
        }
    }
}

/// Where a field's pair lies in a packed hash: the value's offset and the pair's end.
struct Found {
    field_at: usize,
    value_at: usize,
    end: usize,
}

fn find(buf: &Packed, field: &[u8]) -> Option<Found> {
    let mut elements = buf.elements();
    while let (Some((field_at, f)), Some((value_at, v))) = (elements.next(), elements.next()) {
        if f == field {
            return Some(Found {
                field_at,
                value_at,
                end: value_at + element_len(v),
            });
        }
    }
    None
}

/// A packed hash's elements two at a time.
pub struct Pairs<'a>(Elements<'a>);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        Some((self.0.next()?.1, self.0.next()?.1))
    }
}

impl HashValue {
    pub fn len(&self) -> usize {
        match self {
            HashValue::Compact { pairs, .. } => *pairs,
            HashValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Compact { buf, .. } => {
                let found = find(buf, field)?;
                buf.element_at(found.value_at)
            }
            HashValue::Table(t) => t.get(field).map(|v| &v[..]),
        }
    }

    /// Sets a field; true if it is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        // Redis checks lengths before the insert and the count after it (`hashTypeTryConversion`,
        // `hashTypeSet`).
        if field.len().max(value.len()) > HASH_MAX_LISTPACK_VALUE.get() {
            self.convert();
        }
        match self {
            HashValue::Compact { buf, pairs } => {
                if let Some(found) = find(buf, field) {
                    buf.replace(found.value_at, found.end, &[value]);
                    return false;
                }
                buf.push(&[field, value]);
                *pairs += 1;
                if *pairs > HASH_MAX_LISTPACK_ENTRIES.get() {
                    self.convert();
                }
                true
            }
            HashValue::Table(t) => t
                .insert(Bytes::copy_from_slice(field), Bytes::copy_from_slice(value))
                .is_none(),
        }
    }

    /// To the hash table, for good.
    fn convert(&mut self) {
        if let HashValue::Compact { buf, pairs } = self {
            let mut table = hashbrown::HashMap::with_capacity_and_hasher(*pairs, KeyHasher);
            for (f, v) in Pairs(buf.elements()) {
                table.insert(Bytes::copy_from_slice(f), Bytes::copy_from_slice(v));
            }
            *self = HashValue::Table(Box::new(table));
        }
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Compact { buf, pairs } => match find(buf, field) {
                Some(found) => {
                    buf.remove(found.field_at, found.end);
                    *pairs -= 1;
                    true
                }
                None => false,
            },
            HashValue::Table(t) => t.remove(field).is_some(),
        }
    }

    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            HashValue::Compact { buf, .. } => Box::new(Pairs(buf.elements())),
            HashValue::Table(t) => Box::new(t.iter().map(|(f, v)| (&f[..], &v[..]))),
        }
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Compact { .. } => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            HashValue::Compact { buf, .. } => buf.capacity(),
            HashValue::Table(t) => t.iter().map(|(f, v)| f.len() + v.len() + 64).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Any sequence of sets and removes leaves the same fields as a plain map, through the
        /// change of representation.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((any::<bool>(), 0u8..200, proptest::collection::vec(any::<u8>(), 0..80)), 0..400)) {
            let mut h = HashValue::default();
            let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            for (set, field, value) in ops {
                let field = vec![field];
                if set {
                    prop_assert_eq!(h.set(&field, &value), model.insert(field.clone(), value.clone()).is_none());
                } else {
                    prop_assert_eq!(h.remove(&field), model.remove(&field).is_some());
                }
                prop_assert_eq!(h.len(), model.len());
            }
            for (f, v) in &model {
                prop_assert_eq!(h.get(f).map(|b| b.to_vec()), Some(v.clone()));
            }
            prop_assert_eq!(h.iter().count(), model.len());
        }
    }

    #[test]
    fn grows_from_compact_to_table_and_keeps_fields() {
        let mut h = HashValue::default();
        for i in 0..HASH_MAX_LISTPACK_ENTRIES.default {
            assert!(h.set(format!("f{i}").as_bytes(), b"v"));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.set(b"f0", b"w"));
        assert!(h.set(b"one-more", b"v"));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), HASH_MAX_LISTPACK_ENTRIES.default + 1);
        assert_eq!(h.get(b"f0"), Some(&b"w"[..]));
        let mut small = HashValue::default();
        small.set(b"f", &vec![b'x'; HASH_MAX_LISTPACK_VALUE.default + 1]);
        assert_eq!(small.encoding(), "hashtable");
        assert!(small.remove(b"f") && small.is_empty());
    }
}
