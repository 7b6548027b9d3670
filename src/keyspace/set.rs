//! The set type (Redis's `t_set.c` data side). Like Redis 7.0: a set of integers only, up to
//! `set-max-intset-entries` members, is a sorted vector of i64 (an intset); anything else is a
//! hash set, and stays one. The hash set is indexed (indexmap) so SPOP and SRANDMEMBER pick a
//! random member in O(1), as Redis does, instead of walking the table.

use bytes::Bytes;

use super::db::KeyHasher;
use crate::resp::parse_i64;

/// Redis's default `set-max-intset-entries`.
pub const MAX_INTSET_ENTRIES: usize = 512;

#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    Ints(Vec<i64>),
    Table(indexmap::IndexSet<Bytes, KeyHasher>),
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::Ints(Vec::new())
    }
}

impl SetValue {
    pub fn len(&self) -> usize {
        match self {
            SetValue::Ints(v) => v.len(),
            SetValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => parse_i64(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            SetValue::Table(t) => t.contains(member),
        }
    }

    /// Adds a member; true if it is new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        if let SetValue::Ints(v) = self {
            if let Some(n) = parse_i64(member) {
                return match v.binary_search(&n) {
                    Ok(_) => false,
                    Err(at) => {
                        v.insert(at, n);
                        if v.len() > MAX_INTSET_ENTRIES {
                            self.convert_to_table();
                        }
                        true
                    }
                };
            }
            self.convert_to_table();
        }
        match self {
            SetValue::Table(t) => t.insert(Bytes::copy_from_slice(member)),
            SetValue::Ints(_) => false,
        }
    }

    fn convert_to_table(&mut self) {
        if let SetValue::Ints(v) = self {
            let table = v.iter().map(|n| Bytes::from(n.to_string())).collect();
            *self = SetValue::Table(table);
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => match parse_i64(member).map(|n| v.binary_search(&n)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            SetValue::Table(t) => t.swap_remove(member),
        }
    }

    /// The member at a position in `0..len()`: with a random position, a random member.
    pub fn nth(&self, i: usize) -> Option<Bytes> {
        match self {
            SetValue::Ints(v) => v.get(i).map(|n| Bytes::from(n.to_string())),
            SetValue::Table(t) => t.get_index(i).cloned(),
        }
    }

    /// Every member (ascending for an intset, as Redis replies).
    pub fn members(&self) -> Vec<Bytes> {
        match self {
            SetValue::Ints(v) => v.iter().map(|n| Bytes::from(n.to_string())).collect(),
            SetValue::Table(t) => t.iter().cloned().collect(),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Ints(_) => "intset",
            SetValue::Table(_) => "hashtable",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            SetValue::Ints(v) => v.len() * 8,
            SetValue::Table(t) => t.iter().map(|m| m.len() + 32).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Adds and removes of integers and words behave like a plain set across the change from
        /// intset to table.
        #[test]
        fn behaves_like_a_set(ops in proptest::collection::vec((any::<bool>(), prop_oneof![(0i64..600).prop_map(|n| n.to_string()), "[a-c]{1,2}"]), 0..1500)) {
            let mut s = SetValue::default();
            let mut model = BTreeSet::new();
            for (add, m) in ops {
                if add {
                    prop_assert_eq!(s.insert(m.as_bytes()), model.insert(m.clone()));
                } else {
                    prop_assert_eq!(s.remove(m.as_bytes()), model.remove(&m));
                }
                prop_assert_eq!(s.len(), model.len());
            }
            let mut got: Vec<String> = s.members().iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
            got.sort();
            prop_assert_eq!(got, model.into_iter().collect::<Vec<_>>());
        }
    }
}
