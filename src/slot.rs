//! Keys to hash slots, and hash slots to shards (DESIGN rule 2).
//!
//! `slot = CRC16(key or its {hash tag}) mod 16384`, exactly the Redis Cluster function, so a key lands
//! on the same slot here as on any Redis Cluster node. Slots are split into contiguous ranges, one per
//! shard; cluster mode moves whole slots between nodes with the same mapping.

/// Number of hash slots, as in Redis Cluster.
pub const SLOT_COUNT: usize = 16384;

/// CRC16-CCITT (XMODEM), the variant Redis Cluster uses (`crc16.c` in Redis). It runs for every
/// key of every command, so it takes four bytes a step with four independent table lookups
/// ("slicing by 4") instead of a chain of one lookup per byte.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    let mut chunks = bytes.chunks_exact(4);
    for c in &mut chunks {
        crc = CRC16_SLICES[3][((crc >> 8) as u8 ^ c[0]) as usize]
            ^ CRC16_SLICES[2][(crc as u8 ^ c[1]) as usize]
            ^ CRC16_SLICES[1][c[2] as usize]
            ^ CRC16_SLICES[0][c[3] as usize];
    }
    chunks.remainder().iter().fold(crc, |crc, &b| {
        (crc << 8) ^ CRC16_TABLE[((crc >> 8) as u8 ^ b) as usize]
    })
}

/// `CRC16_SLICES[k][x]`: the CRC of byte `x` followed by `k` zero bytes.
const CRC16_SLICES: [[u16; 256]; 4] = {
    let mut slices = [CRC16_TABLE; 4];
    let mut k = 1;
    while k < 4 {
        let mut x = 0;
        while x < 256 {
            let prev = slices[k - 1][x];
            slices[k][x] = (prev << 8) ^ CRC16_TABLE[(prev >> 8) as usize];
            x += 1;
        }
        k += 1;
    }
    slices
};

const CRC16_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// The part of a key that is hashed: the first non-empty `{...}` section if there is one.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The hash slot of a key.
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) % SLOT_COUNT as u16
}

/// The shard that owns a slot when `shards` shards split the slots into contiguous ranges.
pub fn slot_shard(slot: u16, shards: usize) -> usize {
    slot as usize * shards / SLOT_COUNT
}

/// The shard that owns a key.
pub fn key_shard(key: &[u8], shards: usize) -> usize {
    // One shard owns every slot: no need to hash (this runs for every key of every command).
    if shards == 1 {
        return 0;
    }
    slot_shard(key_slot(key), shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time definition the sliced version must agree with.
    fn crc16_bytewise(bytes: &[u8]) -> u16 {
        bytes.iter().fold(0u16, |crc, &b| {
            (crc << 8) ^ CRC16_TABLE[((crc >> 8) as u8 ^ b) as usize]
        })
    }

    #[test]
    fn sliced_crc16_agrees_with_the_bytewise_one() {
        let mut x = 0x2545_f491_u64;
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            assert_eq!(crc16(&bytes), crc16_bytewise(&bytes), "{bytes:?}");
        }
        assert_eq!(crc16(b"123456789"), 0x31c3, "the XMODEM check value");
    }

    #[test]
    fn matches_redis_cluster_slots() {
        // Values from `redis-cli CLUSTER KEYSLOT` against Redis 7.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
    }

    #[test]
    fn slots_split_evenly_into_ranges() {
        assert_eq!(slot_shard(0, 2), 0);
        assert_eq!(slot_shard(8191, 2), 0);
        assert_eq!(slot_shard(8192, 2), 1);
        assert_eq!(slot_shard(16383, 2), 1);
        assert_eq!(slot_shard(16383, 1), 0);
    }
}
