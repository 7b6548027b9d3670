//! DUMP payloads (Redis's `cluster.c`, `createDumpPayload` / `verifyDumpPayload`): one RDB object
//! (type byte and value), the RDB version as a u16 LE, and the CRC-64 of all that as a u64 LE.
//! RESTORE takes payloads of RDB version 10 (Redis 7.0) and older, as Redis 7.0 does.

use super::crc64::crc64;
use super::rdb::RDB_VERSION;
use super::value::{decode_value, encode_value};
use super::{Error, Result};
use crate::keyspace::Value;

/// Version (2 bytes) and CRC-64 (8 bytes).
const FOOTER_SIZE: usize = 10;

/// The DUMP payload of `value`.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_value(value, &mut out);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a payload's footer and returns the object before it.
pub fn verify(payload: &[u8]) -> Result<&[u8]> {
    let body_len = payload
        .len()
        .checked_sub(FOOTER_SIZE)
        .ok_or(Error::ShortPayload)?;
    let (body, footer) = payload.split_at(body_len);
    let (version, crc) = footer.split_first_chunk::<2>().ok_or(Error::ShortPayload)?;
    let version = u16::from_le_bytes(*version);
    if version > RDB_VERSION {
        return Err(Error::Version(version));
    }
    let crc_at = payload.len() - 8;
    if crc64(0, payload.get(..crc_at).ok_or(Error::ShortPayload)?).to_le_bytes()[..] != *crc {
        return Err(Error::Checksum);
    }
    Ok(body)
}

/// The value a DUMP payload holds.
pub fn restore(payload: &[u8]) -> Result<Value> {
    decode_value(verify(payload)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `DUMP s1` of "hello" from redis-server 7.0.15.
    const HELLO: [u8; 17] = [
        0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a, 0x00, 0x63, 0x72, 0xdf, 0x76, 0x65, 0x34,
        0x20, 0x0a,
    ];

    #[test]
    fn reads_and_writes_redis_payloads() {
        assert_eq!(restore(&HELLO), Ok(Value::string(b"hello")));
        assert_eq!(dump(&Value::string(b"hello")), HELLO);
        // `DUMP si` (SADD si 1 2 3 70000), read and written back byte for byte.
        let intset = [
            0x0b, 0x18, 0x04, 0, 0, 0, 0x04, 0, 0, 0, 0x01, 0, 0, 0, 0x02, 0, 0, 0, 0x03, 0, 0, 0,
            0x70, 0x11, 0x01, 0, 0x0a, 0x00, 0xef, 0x2e, 0x65, 0x21, 0xe3, 0x85, 0xa2, 0x2a,
        ];
        let v = restore(&intset).unwrap();
        assert_eq!(v.encoding(), "intset");
        assert_eq!(dump(&v), intset);
    }

    #[test]
    fn refuses_bad_footers() {
        let mut bad_crc = HELLO;
        bad_crc[16] ^= 1;
        assert_eq!(restore(&bad_crc), Err(Error::Checksum));
        let mut bad_body = HELLO;
        bad_body[3] ^= 1;
        assert_eq!(restore(&bad_body), Err(Error::Checksum));
        let mut newer = dump(&Value::string(b"x"));
        newer[3] = 11;
        assert_eq!(restore(&newer), Err(Error::Version(11)));
        assert_eq!(restore(&HELLO[..9]), Err(Error::ShortPayload));
        assert!(Error::Checksum.is_framing() && !Error::Truncated.is_framing());
        // An older RDB version is fine.
        let mut older = HELLO[..7].to_vec();
        older.extend_from_slice(&9u16.to_le_bytes());
        let crc = crc64(0, &older);
        older.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(restore(&older), Ok(Value::string(b"hello")));
    }
}
