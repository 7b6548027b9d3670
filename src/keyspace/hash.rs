//! The hash type (Redis's `t_hash.c` data side): small hashes are a flat vector of field/value
//! pairs, scanned linearly (the role of Redis's listpack); past `hash-max-listpack-entries`
//! fields or `hash-max-listpack-value` bytes they become a hash table, and stay one.

use bytes::Bytes;

use super::db::KeyHasher;

/// Redis's defaults for `hash-max-listpack-entries` and `hash-max-listpack-value`.
pub const MAX_COMPACT_ENTRIES: usize = 512;
pub const MAX_COMPACT_VALUE: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub enum HashValue {
    Compact(Vec<(Bytes, Bytes)>),
    Table(hashbrown::HashMap<Bytes, Bytes, KeyHasher>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Compact(Vec::new())
    }
}

impl HashValue {
    pub fn len(&self) -> usize {
        match self {
            HashValue::Compact(v) => v.len(),
            HashValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        match self {
            HashValue::Compact(v) => v.iter().find(|(f, _)| f[..] == *field).map(|(_, val)| val),
            HashValue::Table(t) => t.get(field),
        }
    }

    /// Sets a field; true if it is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let HashValue::Compact(v) = self {
            if let Some(slot) = v.iter_mut().find(|(f, _)| f[..] == *field) {
                slot.1 = Bytes::copy_from_slice(value);
                self.convert_if_big(field.len().max(value.len()));
                return false;
            }
            v.push((Bytes::copy_from_slice(field), Bytes::copy_from_slice(value)));
            self.convert_if_big(field.len().max(value.len()));
            return true;
        }
        match self {
            HashValue::Table(t) => t
                .insert(Bytes::copy_from_slice(field), Bytes::copy_from_slice(value))
                .is_none(),
            HashValue::Compact(_) => false,
        }
    }

    fn convert_if_big(&mut self, longest: usize) {
        if let HashValue::Compact(v) = self {
            if v.len() > MAX_COMPACT_ENTRIES || longest > MAX_COMPACT_VALUE {
                let table = std::mem::take(v).into_iter().collect();
                *self = HashValue::Table(table);
            }
        }
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Compact(v) => match v.iter().position(|(f, _)| f[..] == *field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            HashValue::Table(t) => t.remove(field).is_some(),
        }
    }

    pub fn iter(&self) -> Box<dyn Iterator<Item = (&Bytes, &Bytes)> + '_> {
        match self {
            HashValue::Compact(v) => Box::new(v.iter().map(|(f, val)| (f, val))),
            HashValue::Table(t) => Box::new(t.iter()),
        }
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Compact(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    pub fn heap_size(&self) -> usize {
        self.iter().map(|(f, v)| f.len() + v.len() + 32).sum()
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
        for i in 0..MAX_COMPACT_ENTRIES {
            assert!(h.set(format!("f{i}").as_bytes(), b"v"));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.set(b"f0", b"w"));
        assert!(h.set(b"one-more", b"v"));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), MAX_COMPACT_ENTRIES + 1);
        assert_eq!(h.get(b"f0").map(|b| &b[..]), Some(&b"w"[..]));
        let mut small = HashValue::default();
        small.set(b"f", &[b'x'; MAX_COMPACT_VALUE + 1]);
        assert_eq!(small.encoding(), "hashtable");
        assert!(small.remove(b"f") && small.is_empty());
    }
}
