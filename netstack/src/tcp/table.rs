//! The connection table: slots with generations and a free list, and an index from the peer's
//! address to its slot (the local address and port are fixed, so the peer identifies a
//! connection). Lookup, insertion and removal are O(1); nothing here ever scans the slots.
//!
//! Invariants: a slot holds a connection iff the index maps that connection's peer to it; a
//! slot's generation changes every time it is freed, so a [`ConnHandle`] taken before cannot
//! reach the next occupant.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddrV4;

use super::conn::Connection;

/// Identifies one connection for the application: slot index plus the slot's generation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ConnHandle {
    slot: u32,
    generation: u32,
}

struct Slot {
    generation: u32,
    conn: Option<Connection>,
}

pub(crate) struct ConnTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    index: HashMap<u64, u32, PeerHashBuilder>,
}

impl ConnTable {
    /// An empty table; `seed` keys the peer hash so remote hosts cannot choose colliding
    /// addresses in advance.
    pub(crate) fn new(seed: u64) -> ConnTable {
        ConnTable {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::with_hasher(PeerHashBuilder { seed }),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// The slot of the connection with `peer`.
    pub(crate) fn find(&self, peer: SocketAddrV4) -> Option<u32> {
        self.index.get(&peer_key(peer)).copied()
    }

    pub(crate) fn insert(&mut self, conn: Connection) -> ConnHandle {
        let key = peer_key(conn.peer);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    conn: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let entry = &mut self.slots[slot as usize];
        entry.conn = Some(conn);
        self.index.insert(key, slot);
        ConnHandle {
            slot,
            generation: entry.generation,
        }
    }

    /// The connection in `slot` with its current handle.
    pub(crate) fn get(&mut self, slot: u32) -> Option<(ConnHandle, &mut Connection)> {
        let entry = self.slots.get_mut(slot as usize)?;
        let handle = ConnHandle {
            slot,
            generation: entry.generation,
        };
        entry.conn.as_mut().map(|conn| (handle, conn))
    }

    /// The connection `handle` names, unless its slot was freed since.
    pub(crate) fn by_handle(&mut self, handle: ConnHandle) -> Option<&mut Connection> {
        let entry = self.slots.get_mut(handle.slot as usize)?;
        if entry.generation != handle.generation {
            return None;
        }
        entry.conn.as_mut()
    }

    /// Like [`ConnTable::by_handle`], read-only.
    pub(crate) fn by_handle_ref(&self, handle: ConnHandle) -> Option<&Connection> {
        let entry = self.slots.get(handle.slot as usize)?;
        if entry.generation != handle.generation {
            return None;
        }
        entry.conn.as_ref()
    }

    /// Frees the slot `handle` names, returning its connection.
    pub(crate) fn remove(&mut self, handle: ConnHandle) -> Option<Connection> {
        let entry = self.slots.get_mut(handle.slot as usize)?;
        if entry.generation != handle.generation {
            return None;
        }
        let conn = entry.conn.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        self.index.remove(&peer_key(conn.peer));
        self.free.push(handle.slot);
        Some(conn)
    }
}

pub(crate) fn peer_key(peer: SocketAddrV4) -> u64 {
    (u64::from(u32::from(*peer.ip())) << 16) | u64::from(peer.port())
}

/// Builds [`PeerHasher`]s with a per-table seed.
#[derive(Clone, Copy)]
struct PeerHashBuilder {
    seed: u64,
}

impl BuildHasher for PeerHashBuilder {
    type Hasher = PeerHasher;

    fn build_hasher(&self) -> PeerHasher {
        PeerHasher { state: self.seed }
    }
}

/// A hasher for the 48-bit peer key: the splitmix64 finalizer over key xor seed, a handful of
/// multiplies instead of SipHash's rounds. Seeded, not cryptographic.
struct PeerHasher {
    state: u64,
}

impl Hasher for PeerHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.state = mix(self.state ^ n);
    }

    fn finish(&self) -> u64 {
        self.state
    }
}

/// splitmix64's output function: every input bit affects every output bit.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
