//! Whole Redis RDB files (`dump.rdb`, versions up to 11), for `--restore dump.rdb`: migrating
//! from Redis is copying its file. The objects inside are decoded by [`super::rdb`]; this module
//! reads the framing around them (header, AUX fields, SELECTDB, expiry and LRU/LFU hints,
//! RESIZEDB, EOF and the CRC-64 of the whole file) and routes each key to its shard.
//!
//! The file is read into memory and its checksum verified before any key is loaded. Functions
//! (FUNCTION2) and module data have no place in Ferrite: a file carrying them is refused with a
//! message saying so rather than loaded in part.

use std::io::Read;

use super::crc64::crc64;
use super::load::Progress;
use super::rdb::{self, ObjectType};
use super::value::into_value;
use super::Reader;
use crate::keyspace::{Entry, Keyspace};
use crate::slot::key_shard;

const OP_FUNCTION2: u8 = 0xF5;
const OP_FUNCTION_PRE_GA: u8 = 0xF6;
const OP_MODULE_AUX: u8 = 0xF7;
const OP_IDLE: u8 = 0xF8;
const OP_FREQ: u8 = 0xF9;
const OP_AUX: u8 = 0xFA;
const OP_RESIZEDB: u8 = 0xFB;
const OP_EXPIRETIME_MS: u8 = 0xFC;
const OP_EXPIRETIME: u8 = 0xFD;
const OP_SELECTDB: u8 = 0xFE;
const OP_EOF: u8 = 0xFF;
/// Newest RDB version understood (Redis 7.2 writes 11).
const MAX_VERSION: u32 = 11;
/// Largest file read into memory.
const MAX_FILE: u64 = 64 << 30;

/// Loads an RDB file into `keyspaces`. Returns (keys loaded, keys skipped as already expired).
pub fn load<R: Read>(
    mut input: R,
    keyspaces: &mut [Keyspace],
    mut progress: Progress,
) -> Result<(u64, u64), String> {
    let mut bytes = Vec::new();
    input
        .by_ref()
        .take(MAX_FILE)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    let total = bytes.len() as u64;
    let (keys, expired) = parse(&bytes, keyspaces, &mut |k, consumed| {
        if k % 1024 == 0 {
            progress.tick(k, consumed);
        }
    })?;
    progress.tick(keys, total);
    progress.done(keys);
    Ok((keys, expired))
}

/// Parses and loads `bytes`, a whole RDB file. `tick(keys, bytes consumed since the last tick)`.
fn parse(
    bytes: &[u8],
    keyspaces: &mut [Keyspace],
    tick: &mut dyn FnMut(u64, u64),
) -> Result<(u64, u64), String> {
    let header = bytes
        .get(..9)
        .ok_or("truncated: shorter than an RDB header")?;
    if &header[..5] != b"REDIS" {
        return Err("not an RDB file (no REDIS magic)".into());
    }
    let version: u32 = std::str::from_utf8(&header[5..9])
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or("not an RDB file (bad version field)")?;
    if version == 0 || version > MAX_VERSION {
        return Err(format!(
            "RDB version {version} is not supported (1 to {MAX_VERSION} are)"
        ));
    }
    verify_checksum(bytes, version)?;
    let now = crate::shard::now_ms();
    let shards = keyspaces.len();
    let mut r = Reader::new(&bytes[9..]);
    let (mut db, mut expire_at) = (0usize, 0u64);
    let (mut keys, mut expired) = (0u64, 0u64);
    let mut last_remaining = r.remaining();
    let bad = |what: &str, e: super::Error| format!("{what}: {e} (corrupt or truncated file)");
    loop {
        let op = r.u8().map_err(|e| bad("reading an opcode", e))?;
        match op {
            OP_EOF => break,
            OP_AUX => {
                rdb::read_string(&mut r).map_err(|e| bad("an AUX field", e))?;
                rdb::read_string(&mut r).map_err(|e| bad("an AUX field", e))?;
            }
            OP_RESIZEDB => {
                rdb::read_len(&mut r).map_err(|e| bad("RESIZEDB", e))?;
                rdb::read_len(&mut r).map_err(|e| bad("RESIZEDB", e))?;
            }
            OP_SELECTDB => {
                let n = rdb::read_len(&mut r).map_err(|e| bad("SELECTDB", e))?;
                let databases = keyspaces.first().map_or(0, Keyspace::databases);
                if n >= databases as u64 {
                    return Err(format!(
                        "the file has keys in database {n}, but [server] databases = {databases}"
                    ));
                }
                db = n as usize;
            }
            OP_EXPIRETIME_MS => {
                expire_at = r.i64_le().map_err(|e| bad("EXPIRETIME_MS", e))?.max(1) as u64;
            }
            OP_EXPIRETIME => {
                let secs = r.u32_le().map_err(|e| bad("EXPIRETIME", e))?;
                expire_at = (u64::from(secs) * 1000).max(1);
            }
            OP_IDLE => {
                rdb::read_len(&mut r).map_err(|e| bad("IDLE", e))?;
            }
            OP_FREQ => {
                r.u8().map_err(|e| bad("FREQ", e))?;
            }
            OP_FUNCTION2 | OP_FUNCTION_PRE_GA => {
                return Err(
                    "the file carries Redis functions (FUNCTION LOAD), which Ferrite does not run"
                        .into(),
                )
            }
            OP_MODULE_AUX => {
                return Err("the file carries Redis module data, which Ferrite cannot load".into())
            }
            ty => {
                let key = rdb::read_string(&mut r).map_err(|e| bad("a key", e))?;
                let object = rdb::read_object(&mut r, ObjectType::from(ty)).map_err(|e| {
                    bad(
                        &format!("the value of key {:?}", String::from_utf8_lossy(&key)),
                        e,
                    )
                })?;
                let value = into_value(object).map_err(|e| bad("a value", e))?;
                if expire_at != 0 && expire_at <= now {
                    expired += 1;
                } else {
                    let mut entry = Entry::new(value);
                    entry.expire_at = expire_at;
                    keyspaces[key_shard(&key, shards)].db(db).put(&key, entry);
                    keys += 1;
                    tick(keys, (last_remaining - r.remaining()) as u64);
                    last_remaining = r.remaining();
                }
                expire_at = 0;
            }
        }
    }
    Ok((keys, expired))
}

/// Checks the CRC-64 after EOF (versions 5 and later; 0 means the writer disabled it).
fn verify_checksum(bytes: &[u8], version: u32) -> Result<(), String> {
    if version < 5 {
        return Ok(());
    }
    let Some(split) = bytes.len().checked_sub(8) else {
        return Err("truncated: no checksum".into());
    };
    let (body, sum) = bytes.split_at(split);
    let stored = u64::from_le_bytes(sum.try_into().unwrap_or_default());
    if body.last() != Some(&OP_EOF) {
        return Err("truncated: the file does not end with EOF and its checksum".into());
    }
    if stored != 0 && crc64(0, body) != stored {
        return Err("the file fails its CRC-64 checksum (corrupted)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(body: &[u8]) -> Vec<u8> {
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(body);
        f.push(OP_EOF);
        let sum = crc64(0, &f);
        f.extend_from_slice(&sum.to_le_bytes());
        f
    }

    #[test]
    fn loads_strings_with_db_and_expiry_and_checks_the_checksum() {
        let mut body = vec![OP_AUX, 3, b'v', b'e', b'r', 2, b'7', b'0'];
        body.extend_from_slice(&[OP_SELECTDB, 2, OP_RESIZEDB, 2, 1]);
        body.extend_from_slice(&[0, 1, b'a', 1, b'x']);
        body.push(OP_EXPIRETIME_MS);
        body.extend_from_slice(&(u64::MAX / 2).to_le_bytes());
        body.extend_from_slice(&[0, 1, b'b', 1, b'y']);
        let bytes = file(&body);
        let mut ks = vec![Keyspace::new(16), Keyspace::new(16)];
        assert_eq!(parse(&bytes, &mut ks, &mut |_, _| {}), Ok((2, 0)));
        let total: usize = ks.iter_mut().map(|k| k.db(2).len()).sum();
        assert_eq!(total, 2);
        let mut flipped = bytes.clone();
        flipped[12] ^= 1;
        assert!(parse(&flipped, &mut ks, &mut |_, _| {})
            .unwrap_err()
            .contains("checksum"));
        for cut in 0..bytes.len() {
            let mut fresh = vec![Keyspace::new(16)];
            assert!(
                parse(&bytes[..cut], &mut fresh, &mut |_, _| {}).is_err(),
                "cut at {cut}"
            );
        }
    }
}
