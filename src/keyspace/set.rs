//! The set type (Redis's `t_set.c` data side). Like Redis: a set of integers only, up to
//! `set-max-intset-entries` members, is an [`IntSet`]; a small set of strings (up to
//! `set-max-listpack-entries` members of at most `set-max-listpack-value` bytes, Redis 7.2's
//! limits) is one [`Packed`] buffer scanned linearly; anything else is a hash set, and stays one.
//! OBJECT ENCODING reports what Redis 7.0 does, which has no packed sets: "intset" or
//! "hashtable". The hash set is indexed (indexmap) so SPOP and SRANDMEMBER pick a random member
//! in O(1), as Redis does, instead of walking the table.

use bytes::Bytes;

use super::db::KeyHasher;
use super::packed::{element_len, IntSet, Packed};
use super::thresholds::{SET_MAX_INTSET_ENTRIES, SET_MAX_LISTPACK_ENTRIES, SET_MAX_LISTPACK_VALUE};
use crate::resp::parse_i64;

#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    Ints(IntSet),
    /// `len` members, packed, in insertion order.
    Packed {
        buf: Packed,
        len: usize,
    },
    Table(Box<indexmap::IndexSet<Bytes, KeyHasher>>),
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::Ints(IntSet::default())
    }
}

/// The decimal text of an integer member.
fn int_text(n: i64) -> Bytes {
    Bytes::from(n.to_string())
}

/// Offset and end of `member` in a packed set.
fn find(buf: &Packed, member: &[u8]) -> Option<(usize, usize)> {
    buf.elements()
        .find(|(_, m)| *m == member)
        .map(|(at, m)| (at, at + element_len(m)))
}

impl SetValue {
    pub fn len(&self) -> usize {
        match self {
            SetValue::Ints(v) => v.len(),
            SetValue::Packed { len, .. } => *len,
            SetValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => parse_i64(member).is_some_and(|n| v.contains(n)),
            SetValue::Packed { buf, .. } => find(buf, member).is_some(),
            SetValue::Table(t) => t.contains(member),
        }
    }

    /// Adds a member; true if it is new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => {
                if let Some(n) = parse_i64(member) {
                    if !v.insert(n) {
                        return false;
                    }
                    if v.len() > SET_MAX_INTSET_ENTRIES.get() {
                        self.convert_to_table();
                    }
                    return true;
                }
                // Redis 7.2's `setTypeAddAux`: packed if everything then fits, else a table.
                let longest = v.iter().map(|n| int_text(n).len()).max().unwrap_or(0);
                let max_value = SET_MAX_LISTPACK_VALUE.get();
                if v.len() < SET_MAX_LISTPACK_ENTRIES.get()
                    && member.len().max(longest) <= max_value
                {
                    self.convert_to_packed();
                } else {
                    self.convert_to_table();
                }
            }
            SetValue::Packed { buf, len } => {
                if find(buf, member).is_some() {
                    return false;
                }
                if *len < SET_MAX_LISTPACK_ENTRIES.get()
                    && member.len() <= SET_MAX_LISTPACK_VALUE.get()
                {
                    buf.push(&[member]);
                    *len += 1;
                    return true;
                }
                self.convert_to_table();
            }
            SetValue::Table(_) => {}
        }
        match self {
            SetValue::Packed { buf, len } => {
                buf.push(&[member]);
                *len += 1;
                true
            }
            SetValue::Table(t) => t.insert(Bytes::copy_from_slice(member)),
            SetValue::Ints(_) => false,
        }
    }

    fn convert_to_packed(&mut self) {
        if let SetValue::Ints(v) = self {
            let mut buf = Packed::with_capacity(v.len() * 8);
            for n in v.iter() {
                buf.push(&[&int_text(n)]);
            }
            *self = SetValue::Packed { buf, len: v.len() };
        }
    }

    fn convert_to_table(&mut self) {
        let members = self.members();
        if !matches!(self, SetValue::Table(_)) {
            *self = SetValue::Table(Box::new(members.into_iter().collect()));
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(v) => parse_i64(member).is_some_and(|n| v.remove(n)),
            SetValue::Packed { buf, len } => match find(buf, member) {
                Some((at, end)) => {
                    buf.remove(at, end);
                    *len -= 1;
                    true
                }
                None => false,
            },
            SetValue::Table(t) => t.swap_remove(member),
        }
    }

    /// The member at a position in `0..len()`: with a random position, a random member.
    pub fn nth(&self, i: usize) -> Option<Bytes> {
        match self {
            SetValue::Ints(v) => v.get(i).map(int_text),
            SetValue::Packed { buf, .. } => buf
                .elements()
                .nth(i)
                .map(|(_, m)| Bytes::copy_from_slice(m)),
            SetValue::Table(t) => t.get_index(i).cloned(),
        }
    }

    /// Every member (ascending for an intset, as Redis replies).
    pub fn members(&self) -> Vec<Bytes> {
        match self {
            SetValue::Ints(v) => v.iter().map(int_text).collect(),
            SetValue::Packed { buf, .. } => buf
                .elements()
                .map(|(_, m)| Bytes::copy_from_slice(m))
                .collect(),
            SetValue::Table(t) => t.iter().cloned().collect(),
        }
    }

    /// The encoding OBJECT ENCODING reports (Redis 7.0's: a packed set is a "hashtable" there).
    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Ints(_) => "intset",
            SetValue::Packed { .. } | SetValue::Table(_) => "hashtable",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            SetValue::Ints(v) => v.capacity(),
            SetValue::Packed { buf, .. } => buf.capacity(),
            SetValue::Table(t) => t.iter().map(|m| m.len() + 48).sum(),
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
