//! The sorted set type (Redis's `t_zset.c` data side): members with f64 scores, ordered by
//! (score, member bytes).
//!
//! Like Redis 7.0, a small sorted set is one [`Packed`] buffer of member, score, member, score,
//! ... kept in order (Redis's listpack), scanned linearly; past
//! `zset-max-listpack-entries` members or with a member longer than `zset-max-listpack-value`
//! bytes it becomes a skiplist plus a member -> score hash table, and stays one. OBJECT ENCODING
//! reports "listpack" and "skiplist".
//!
//! The skiplist is Redis's zskiplist (Pugh's skiplist with a span on every link, so ranks are
//! found in O(log n)), kept in an arena of nodes addressed by index instead of pointers: no
//! `unsafe`, and a freed node's slot is reused. Invariants, checked by the tests against a
//! `BTreeMap` model:
//! - no score is NaN (the commands refuse NaN before it reaches here);
//! - the members of the hash table and of the skiplist are the same, with the same scores;
//! - the span of a link is the number of level-0 steps it skips; the header's spans sum to the
//!   length on every level in use.
//!
//! Rank and range queries all go through one primitive, [`ZSetValue::count_while`]: the length
//! of the longest prefix (in order) whose elements satisfy a predicate that holds for a prefix.
//! Score and lex ranges become pairs of ranks with it.

use std::cmp::Ordering;

use bytes::Bytes;
use rand::Rng;
use smallvec::{smallvec, SmallVec};

use super::db::KeyHasher;
use super::packed::{element_len, Elements, Packed};
use super::thresholds::{ZSET_MAX_LISTPACK_ENTRIES, ZSET_MAX_LISTPACK_VALUE};

/// Redis's `ZSKIPLIST_MAXLEVEL` and `ZSKIPLIST_P`.
const MAX_LEVEL: usize = 32;
const LEVEL_P: f64 = 0.25;

const NIL: usize = usize::MAX;
const HEAD: usize = 0;

/// The order of a sorted set: score, then member bytes.
fn order(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    a_score
        .partial_cmp(&b_score)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a_member.cmp(b_member))
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Link {
    next: usize,
    /// Level-0 steps from this node to `next` (to the end of the list when `next` is NIL).
    span: usize,
}

/// Laid out for the search: a step reads the score and the links, which come first so they
/// share the node's first cache line; the member is read only on a score tie.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
struct Node {
    score: f64,
    /// Inline for all but one node in 64 (levels above 3 have P = 1/64), as Redis keeps them in
    /// the node: a search step then costs one cache miss, not two.
    links: SmallVec<[Link; 3]>,
    /// The previous node on level 0, NIL for the first one.
    back: usize,
    member: Bytes,
}

/// Redis's zskiplist over an arena; node 0 is the header.
#[derive(Clone, Debug, PartialEq)]
struct SkipList {
    nodes: Vec<Node>,
    free: Vec<usize>,
    level: usize,
    len: usize,
    tail: usize,
}

impl SkipList {
    fn new() -> SkipList {
        SkipList {
            nodes: vec![Node {
                member: Bytes::new(),
                score: 0.0,
                back: NIL,
                links: smallvec![Link { next: NIL, span: 0 }; MAX_LEVEL],
            }],
            free: Vec::new(),
            level: 1,
            len: 0,
            tail: NIL,
        }
    }

    fn link(&self, node: usize, level: usize) -> Link {
        self.nodes[node].links[level]
    }

    fn link_mut(&mut self, node: usize, level: usize) -> &mut Link {
        &mut self.nodes[node].links[level]
    }

    fn random_level() -> usize {
        let mut rng = rand::thread_rng();
        let mut level = 1;
        while level < MAX_LEVEL && rng.gen_bool(LEVEL_P) {
            level += 1;
        }
        level
    }

    /// For each level, the last node before (score, member) and its rank (0 = the header).
    fn path(&self, score: f64, member: &[u8]) -> ([usize; MAX_LEVEL], [usize; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i + 1 == self.level { 0 } else { rank[i + 1] };
            loop {
                let l = self.link(x, i);
                if l.next == NIL {
                    break;
                }
                let n = &self.nodes[l.next];
                if order(n.score, &n.member, score, member) != Ordering::Less {
                    break;
                }
                rank[i] += l.span;
                x = l.next;
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Inserts a member known to be absent.
    fn insert(&mut self, member: Bytes, score: f64) {
        let (mut update, mut rank) = self.path(score, &member);
        let level = Self::random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.link_mut(HEAD, i).span = self.len;
            }
            self.level = level;
        }
        let node = Node {
            member,
            score,
            back: NIL,
            links: smallvec![Link { next: NIL, span: 0 }; level],
        };
        let x = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        for i in 0..level {
            let u = self.link(update[i], i);
            let before = rank[0] - rank[i];
            *self.link_mut(x, i) = Link {
                next: u.next,
                span: u.span - before,
            };
            *self.link_mut(update[i], i) = Link {
                next: x,
                span: before + 1,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.link_mut(u, i).span += 1;
        }
        self.nodes[x].back = if update[0] == HEAD { NIL } else { update[0] };
        match self.link(x, 0).next {
            NIL => self.tail = x,
            next => self.nodes[next].back = x,
        }
        self.len += 1;
    }

    /// Removes (score, member); false when it is not there.
    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, _) = self.path(score, member);
        let x = self.link(update[0], 0).next;
        if x == NIL || self.nodes[x].score != score || self.nodes[x].member[..] != *member {
            return false;
        }
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.link(u, i);
            if ul.next == x {
                let xl = self.link(x, i);
                *self.link_mut(u, i) = Link {
                    next: xl.next,
                    span: ul.span + xl.span - 1,
                };
            } else {
                self.link_mut(u, i).span -= 1;
            }
        }
        let back = self.nodes[x].back;
        match self.link(x, 0).next {
            NIL => self.tail = back,
            next => self.nodes[next].back = back,
        }
        while self.level > 1 && self.link(HEAD, self.level - 1).next == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.nodes[x].member = Bytes::new();
        self.nodes[x].links = SmallVec::new();
        self.free.push(x);
        true
    }

    /// How many leading elements satisfy `pred` (which holds for a prefix of the order).
    fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut x = HEAD;
        let mut rank = 0;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next == NIL || !pred(self.nodes[l.next].score, &self.nodes[l.next].member) {
                    break;
                }
                rank += l.span;
                x = l.next;
            }
        }
        rank
    }

    /// The node at a 0-based rank.
    fn node_at(&self, rank: usize) -> Option<usize> {
        if rank >= self.len {
            return None;
        }
        let target = rank + 1;
        let mut x = HEAD;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next == NIL || traversed + l.span > target {
                    break;
                }
                traversed += l.span;
                x = l.next;
            }
            if traversed == target {
                return Some(x);
            }
        }
        None
    }

    fn heap_size(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| n.member.len() + 48 + n.links.len() * 16)
            .sum()
    }
}

/// Walks the skiplist from a node, forwards or backwards, for a number of steps.
struct SkipIter<'a> {
    list: &'a SkipList,
    node: usize,
    left: usize,
    rev: bool,
}

impl<'a> Iterator for SkipIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 || self.node == NIL {
            return None;
        }
        let n = self.list.nodes.get(self.node)?;
        self.left -= 1;
        self.node = if self.rev { n.back } else { n.links[0].next };
        Some((&n.member[..], n.score))
    }
}

/// The big encoding: the skiplist for order, the table for member lookups.
#[derive(Clone, Debug, PartialEq)]
pub struct SkipSet {
    list: SkipList,
    dict: hashbrown::HashMap<Bytes, f64, KeyHasher>,
}

impl SkipSet {
    fn new() -> SkipSet {
        SkipSet {
            list: SkipList::new(),
            dict: Default::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ZSetValue {
    /// `len` (member, score) pairs, packed as member then [`score_bytes`], sorted by (score,
    /// member).
    Compact {
        buf: Packed,
        len: usize,
    },
    Skip(Box<SkipSet>),
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue::Compact {
            buf: Packed::default(),
            len: 0,
        }
    }
}

/// Largest magnitude kept as an integer: every integer up to it is an exact f64.
const EXACT_INT: f64 = (1u64 << 53) as f64;

/// A score as packed: an integral score (most are) in the fewest little-endian two's-complement
/// bytes (0 to 7), any other (fractions, infinities) as the 8 bytes of the f64. Returns the
/// buffer and the length used. -0 packs as 0, and reads back so, as from Redis's listpack.
fn score_bytes(score: f64) -> ([u8; 8], usize) {
    if score.fract() != 0.0 || score.abs() >= EXACT_INT {
        return (score.to_bits().to_le_bytes(), 8);
    }
    let n = score as i64;
    // The fewest low bytes that sign-extend back to n (at most 7 below 2^53).
    let len = (1..8)
        .find(|&len| {
            let shift = 64 - 8 * len;
            (n << shift) >> shift == n
        })
        .map_or(7, |len| if n == 0 { 0 } else { len });
    (n.to_le_bytes(), len)
}

/// The score [`score_bytes`] packed.
fn score_of(b: &[u8]) -> f64 {
    match b.len() {
        8 => f64::from_le_bytes(b.try_into().unwrap_or_default()),
        len => {
            let fill = if b.last().is_some_and(|&t| (t as i8) < 0) {
                0xff
            } else {
                0
            };
            let mut bytes = [fill; 8];
            bytes[..len.min(8)].copy_from_slice(&b[..len.min(8)]);
            i64::from_le_bytes(bytes) as f64
        }
    }
}

/// A packed sorted set's pairs: (offset of the member, member, score, offset after the pair).
struct Entries<'a>(Elements<'a>);

impl<'a> Iterator for Entries<'a> {
    type Item = (usize, &'a [u8], f64, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let (at, member) = self.0.next()?;
        let (score_at, score) = self.0.next()?;
        Some((at, member, score_of(score), score_at + element_len(score)))
    }
}

fn entries(buf: &Packed) -> Entries<'_> {
    Entries(buf.elements())
}

impl ZSetValue {
    /// An empty set in the encoding Redis picks for `count` new members, the longest `max_len`
    /// bytes (ZADD on a new key, `zsetTypeCreate`).
    pub fn with_hint(count: usize, max_len: usize) -> ZSetValue {
        if count > ZSET_MAX_LISTPACK_ENTRIES.get() || max_len > ZSET_MAX_LISTPACK_VALUE.get() {
            ZSetValue::Skip(Box::new(SkipSet::new()))
        } else {
            ZSetValue::default()
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Compact { len, .. } => *len,
            ZSetValue::Skip(s) => s.list.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Compact { buf, .. } => entries(buf)
                .find(|(_, m, _, _)| *m == member)
                .map(|(_, _, s, _)| s),
            ZSetValue::Skip(s) => s.dict.get(member).copied(),
        }
    }

    /// Sets a member's score, adding the member if new; returns its previous score.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        if let ZSetValue::Skip(s) = self {
            // One hash probe decides: unchanged, moved, or new (ZADD's common cases).
            if let Some(old) = s.dict.get_mut(member) {
                let prev = *old;
                if prev != score {
                    *old = score;
                    s.list.remove(prev, member);
                    s.list.insert(Bytes::copy_from_slice(member), score);
                }
                return Some(prev);
            }
            let member = Bytes::copy_from_slice(member);
            s.dict.insert(member.clone(), score);
            s.list.insert(member, score);
            return None;
        }
        if let ZSetValue::Compact { buf, .. } = self {
            if let Some((_, _, prev, _)) = entries(buf).find(|(_, m, _, _)| *m == member) {
                if prev == score {
                    return Some(prev);
                }
            }
        }
        let old = self.remove(member);
        if let ZSetValue::Compact { len, .. } = self {
            // Redis's `zsetAdd`: convert when one more would not fit.
            if *len + 1 > ZSET_MAX_LISTPACK_ENTRIES.get()
                || member.len() > ZSET_MAX_LISTPACK_VALUE.get()
            {
                self.convert();
            }
        }
        match self {
            ZSetValue::Compact { buf, len } => {
                let at = entries(buf)
                    .find(|(_, m, s, _)| order(*s, m, score, member) != Ordering::Less)
                    .map_or(buf.bytes(), |(at, _, _, _)| at);
                let (bytes, n) = score_bytes(score);
                buf.insert(at, &[member, &bytes[..n]]);
                *len += 1;
            }
            ZSetValue::Skip(s) => {
                let member = Bytes::copy_from_slice(member);
                s.dict.insert(member.clone(), score);
                s.list.insert(member, score);
            }
        }
        old
    }

    /// To the skiplist, for good.
    fn convert(&mut self) {
        if let ZSetValue::Compact { buf, .. } = self {
            let mut s = SkipSet::new();
            for (_, m, score, _) in entries(buf) {
                let m = Bytes::copy_from_slice(m);
                s.dict.insert(m.clone(), score);
                s.list.insert(m, score);
            }
            *self = ZSetValue::Skip(Box::new(s));
        }
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Compact { buf, len } => {
                let (at, _, score, end) = entries(buf).find(|(_, m, _, _)| *m == member)?;
                buf.remove(at, end);
                *len -= 1;
                Some(score)
            }
            ZSetValue::Skip(s) => {
                let score = s.dict.remove(member)?;
                s.list.remove(score, member);
                Some(score)
            }
        }
    }

    /// The 0-based rank of a member in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSetValue::Compact { buf, .. } => entries(buf).position(|(_, m, _, _)| m == member),
            ZSetValue::Skip(_) => {
                let score = self.score(member)?;
                Some(self.count_while(|s, m| order(s, m, score, member) == Ordering::Less))
            }
        }
    }

    /// How many leading elements (in order) satisfy `pred`, which must hold for a prefix.
    pub fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSetValue::Compact { buf, .. } => {
                entries(buf).take_while(|(_, m, s, _)| pred(*s, m)).count()
            }
            ZSetValue::Skip(s) => s.list.count_while(pred),
        }
    }

    /// The element at a 0-based rank.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSetValue::Compact { buf, .. } => entries(buf).nth(rank).map(|(_, m, s, _)| (m, s)),
            ZSetValue::Skip(s) => s.list.node_at(rank).and_then(|i| {
                let n = s.list.nodes.get(i)?;
                Some((&n.member[..], n.score))
            }),
        }
    }

    /// The elements of ranks `lo..hi`, ascending, or descending from `hi - 1` when `rev`.
    pub fn range(
        &self,
        lo: usize,
        hi: usize,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        let hi = hi.min(self.len());
        if lo >= hi {
            return Box::new(std::iter::empty());
        }
        match self {
            ZSetValue::Compact { buf, .. } => {
                let slice = entries(buf)
                    .skip(lo)
                    .take(hi - lo)
                    .map(|(_, m, s, _)| (m, s));
                if rev {
                    // Packed elements only walk forwards; a small set reverses cheaply.
                    let all: Vec<(&[u8], f64)> = slice.collect();
                    Box::new(all.into_iter().rev())
                } else {
                    Box::new(slice)
                }
            }
            ZSetValue::Skip(s) => Box::new(SkipIter {
                list: &s.list,
                node: s.list.node_at(if rev { hi - 1 } else { lo }).unwrap_or(NIL),
                left: hi - lo,
                rev,
            }),
        }
    }

    /// Every element, ascending.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        self.range(0, self.len(), false)
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSetValue::Compact { .. } => "listpack",
            ZSetValue::Skip(_) => "skiplist",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            ZSetValue::Compact { buf, .. } => buf.capacity(),
            ZSetValue::Skip(s) => s.list.heap_size() + s.dict.len() * 48,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The model: member -> score, ordered on demand.
    fn model_order(model: &BTreeMap<Vec<u8>, f64>) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
        v.sort_by(|a, b| order(a.1, &a.0, b.1, &b.0));
        v
    }

    fn check_links(z: &ZSetValue) {
        if let ZSetValue::Skip(s) = z {
            let l = &s.list;
            for i in 0..l.level {
                let (mut x, mut sum) = (HEAD, 0);
                while x != NIL {
                    let link = l.link(x, i);
                    sum += link.span;
                    x = link.next;
                }
                assert_eq!(sum, l.len, "spans on level {i}");
            }
            assert_eq!(s.dict.len(), l.len);
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, i8),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..200, -20i8..20).prop_map(|(m, s)| Op::Insert(m, s)),
            1 => (0u8..200).prop_map(Op::Remove),
        ]
    }

    fn member(m: u8) -> Vec<u8> {
        // Some members are long enough to force the big encoding.
        if m >= 190 {
            vec![b'L'; 70 + m as usize]
        } else {
            format!("m{m}").into_bytes()
        }
    }

    proptest! {
        /// Every score reads back as it went in (-0 as 0), integral ones in at most 7 bytes.
        #[test]
        fn packed_scores_round_trip(score in prop_oneof![any::<f64>(), any::<i32>().prop_map(f64::from), (-(1i64 << 53)..(1i64 << 53)).prop_map(|n| n as f64)]) {
            prop_assume!(!score.is_nan());
            let (bytes, len) = score_bytes(score);
            let back = score_of(&bytes[..len]);
            prop_assert_eq!(back, score);
            prop_assert!(back.to_bits() == score.to_bits() || score == 0.0);
            if score.fract() == 0.0 && score.abs() < 65536.0 {
                prop_assert!(len <= 3);
            }
        }

        /// Random inserts and removes agree with a BTreeMap model on scores, order, ranks and
        /// rank ranges, through the change of encoding.
        #[test]
        fn behaves_like_a_sorted_map(ops in proptest::collection::vec(op(), 0..600)) {
            let mut z = ZSetValue::default();
            let mut model: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(m, s) => {
                        let m = member(m);
                        let s = s as f64 / 2.0;
                        prop_assert_eq!(z.insert(&m, s), model.insert(m, s));
                    }
                    Op::Remove(m) => {
                        let m = member(m);
                        prop_assert_eq!(z.remove(&m), model.remove(&m));
                    }
                }
                prop_assert_eq!(z.len(), model.len());
            }
            check_links(&z);
            let want = model_order(&model);
            let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
            prop_assert_eq!(&got, &want);
            let rev: Vec<(Vec<u8>, f64)> = z.range(0, z.len(), true).map(|(m, s)| (m.to_vec(), s)).collect();
            let mut want_rev = want.clone();
            want_rev.reverse();
            prop_assert_eq!(rev, want_rev);
            for (i, (m, s)) in want.iter().enumerate() {
                prop_assert_eq!(z.rank(m), Some(i));
                prop_assert_eq!(z.score(m), Some(*s));
                prop_assert_eq!(z.get(i).map(|(m, s)| (m.to_vec(), s)), Some((m.clone(), *s)));
            }
            if want.len() > 3 {
                let mid: Vec<(Vec<u8>, f64)> = z.range(1, want.len() - 1, false).map(|(m, s)| (m.to_vec(), s)).collect();
                prop_assert_eq!(&mid[..], &want[1..want.len() - 1]);
            }
            let below_zero = want.iter().filter(|(_, s)| *s < 0.0).count();
            prop_assert_eq!(z.count_while(|s, _| s < 0.0), below_zero);
        }
    }

    #[test]
    fn grows_from_listpack_to_skiplist() {
        let mut z = ZSetValue::default();
        for i in 0..ZSET_MAX_LISTPACK_ENTRIES.default {
            assert_eq!(z.insert(format!("m{i}").as_bytes(), i as f64), None);
        }
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(z.insert(b"m0", 5.0), Some(0.0));
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"one-more", 1.0);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), ZSET_MAX_LISTPACK_ENTRIES.default + 1);
        let mut long = ZSetValue::default();
        long.insert(&vec![b'x'; ZSET_MAX_LISTPACK_VALUE.default + 1], 1.0);
        assert_eq!(long.encoding(), "skiplist");
        assert_eq!(
            long.remove(&vec![b'x'; ZSET_MAX_LISTPACK_VALUE.default + 1]),
            Some(1.0)
        );
        assert!(long.is_empty());
        assert_eq!(ZSetValue::with_hint(200, 1).encoding(), "skiplist");
    }
}
