//! The checkpoint file format (`*.ferrite.backup`): what a snapshot writes and start-up and
//! `--restore` read. No I/O policy here (temporary files, fsync, rotation live in `saver.rs`):
//! only bytes in and bytes out, through `Write` and `Read`.
//!
//! ```text
//! header   magic "FERRITE\0CKPT" (12) | version u16 | reserved u16 | created_ms u64 | crc64 u64
//! block    kind u8 | shard u16 | len u32 | payload[len] | crc64 u64 (of kind..payload)
//!          kind 1 RECORDS:   records, back to back
//!          kind 2 SHARD_END: u64 records the shard wrote [| u64 its first log generation after
//!                            the snapshot, when the append-only log is on]
//!          kind 3 FILE_END:  u32 shards | u64 records in the file; nothing may follow
//! record   db u16 | expire_at u64 (ms since the epoch, 0 = none) | key_len u32 | key |
//!          value_len u32 | value (Redis's RDB value encoding: type byte, then the value)
//! ```
//! All integers little-endian. Every block is checksummed, so a torn or corrupted file is found
//! before any of it is loaded; a file without FILE_END was not finished and is refused.

use std::fmt;
use std::io::{self, Read, Write};

use super::crc64::crc64;
use super::Reader;

const MAGIC: &[u8; 12] = b"FERRITE\0CKPT";
pub const VERSION: u16 = 1;
const HEADER_LEN: usize = 32;
const BLOCK_HEAD: usize = 7;
/// Largest block payload accepted on read; writers cut blocks far below it.
pub const MAX_BLOCK: usize = 64 << 20;
/// Payload size at which writers start a new block.
pub const BLOCK_TARGET: usize = 256 << 10;

pub const RECORDS: u8 = 1;
pub const SHARD_END: u8 = 2;
pub const FILE_END: u8 = 3;

/// What is wrong with a checkpoint file, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointError {
    BadMagic,
    Version(u16),
    HeaderChecksum,
    /// The file ends inside the header or a block.
    Truncated {
        at: u64,
    },
    BlockChecksum {
        at: u64,
    },
    BlockTooLarge {
        at: u64,
        len: usize,
    },
    UnknownBlock {
        at: u64,
        kind: u8,
    },
    MalformedRecord {
        at: u64,
    },
    /// No FILE_END: the writer never finished.
    Unfinished,
    /// Bytes after FILE_END.
    TrailingData {
        at: u64,
    },
    /// The counts in SHARD_END or FILE_END disagree with the records read.
    CountMismatch {
        at: u64,
    },
    Io(String),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::BadMagic => write!(f, "not a Ferrite checkpoint (bad magic)"),
            CheckpointError::Version(v) => write!(
                f,
                "unsupported checkpoint version {v} (this build reads {VERSION})"
            ),
            CheckpointError::HeaderChecksum => write!(f, "the header fails its checksum"),
            CheckpointError::Truncated { at } => {
                write!(f, "truncated: the file ends inside a block at byte {at}")
            }
            CheckpointError::BlockChecksum { at } => {
                write!(f, "the block at byte {at} fails its checksum (corrupted)")
            }
            CheckpointError::BlockTooLarge { at, len } => {
                write!(f, "the block at byte {at} claims {len} bytes (corrupted)")
            }
            CheckpointError::UnknownBlock { at, kind } => {
                write!(f, "unknown block kind {kind} at byte {at}")
            }
            CheckpointError::MalformedRecord { at } => {
                write!(f, "malformed record in the block at byte {at}")
            }
            CheckpointError::Unfinished => {
                write!(f, "truncated: no end marker, the save never finished")
            }
            CheckpointError::TrailingData { at } => {
                write!(f, "unexpected data after the end marker at byte {at}")
            }
            CheckpointError::CountMismatch { at } => {
                write!(f, "record counts disagree at byte {at} (corrupted)")
            }
            CheckpointError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

impl From<io::Error> for CheckpointError {
    fn from(e: io::Error) -> Self {
        CheckpointError::Io(e.to_string())
    }
}

/// Appends one record whose value `encode_value` writes (RDB encoding, type byte first) straight
/// into the payload: no intermediate buffer per record.
pub fn encode_record_with(
    out: &mut Vec<u8>,
    db: u16,
    expire_at: u64,
    key: &[u8],
    encode_value: impl FnOnce(&mut Vec<u8>),
) {
    out.extend_from_slice(&db.to_le_bytes());
    out.extend_from_slice(&expire_at.to_le_bytes());
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key);
    let len_at = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    encode_value(out);
    let len = (out.len() - len_at - 4) as u32;
    out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
}

/// One record as read back; slices borrow the block.
#[derive(Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub db: u16,
    pub expire_at: u64,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// Splits a RECORDS payload into records; None if it does not parse exactly.
pub fn records(payload: &[u8]) -> impl Iterator<Item = Option<Record<'_>>> {
    let mut r = Reader::new(payload);
    std::iter::from_fn(move || {
        if r.is_empty() {
            return None;
        }
        let record = (|| {
            let db = r.u16_le().ok()?;
            let expire_at = u64::from_le_bytes(r.array::<8>().ok()?);
            let key_len = r.u32_le().ok()?;
            let key = r.bytes(key_len as usize).ok()?;
            let value_len = r.u32_le().ok()?;
            let value = r.bytes(value_len as usize).ok()?;
            Some(Record {
                db,
                expire_at,
                key,
                value,
            })
        })();
        if record.is_none() {
            // Malformed: report it once and stop.
            r = Reader::new(&[]);
        }
        Some(record)
    })
}

/// Writes a checkpoint: the header, then blocks as they come.
pub struct CheckpointWriter<W: Write> {
    out: W,
    pub written: u64,
}

impl<W: Write> CheckpointWriter<W> {
    pub fn new(mut out: W, created_ms: u64) -> io::Result<CheckpointWriter<W>> {
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(&created_ms.to_le_bytes());
        let crc = crc64(0, &header);
        header.extend_from_slice(&crc.to_le_bytes());
        out.write_all(&header)?;
        Ok(CheckpointWriter {
            out,
            written: HEADER_LEN as u64,
        })
    }

    pub fn block(&mut self, kind: u8, shard: u16, payload: &[u8]) -> io::Result<()> {
        let mut head = [0u8; BLOCK_HEAD];
        head[0] = kind;
        head[1..3].copy_from_slice(&shard.to_le_bytes());
        head[3..7].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        let crc = crc64(crc64(0, &head), payload);
        self.out.write_all(&head)?;
        self.out.write_all(payload)?;
        self.out.write_all(&crc.to_le_bytes())?;
        self.written += (BLOCK_HEAD + payload.len() + 8) as u64;
        Ok(())
    }

    pub fn shard_end(
        &mut self,
        shard: u16,
        records: u64,
        aof_generation: Option<u64>,
    ) -> io::Result<()> {
        let mut payload = records.to_le_bytes().to_vec();
        if let Some(g) = aof_generation {
            payload.extend_from_slice(&g.to_le_bytes());
        }
        self.block(SHARD_END, shard, &payload)
    }

    /// Writes the end marker and hands the writer back (for fsync).
    pub fn finish(mut self, shards: u32, records: u64) -> io::Result<W> {
        let mut payload = Vec::with_capacity(12);
        payload.extend_from_slice(&shards.to_le_bytes());
        payload.extend_from_slice(&records.to_le_bytes());
        self.block(FILE_END, 0, &payload)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// What a complete, verified checkpoint holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub created_ms: u64,
    pub shards: u32,
    pub records: u64,
    /// Per shard that wrote one: the log generation its snapshot began (replay starts there).
    pub aof_from: Vec<(u16, u64)>,
}

/// Reads a checkpoint block by block, checking every checksum and the structure; `on_records` gets
/// each RECORDS payload. With a no-op callback this is the verification pass.
pub fn read<R: Read>(
    mut input: R,
    mut on_records: impl FnMut(&[u8]) -> Result<(), CheckpointError>,
) -> Result<Summary, CheckpointError> {
    let mut header = [0u8; HEADER_LEN];
    read_exact_at(&mut input, &mut header, 0)?;
    if &header[..12] != MAGIC {
        return Err(CheckpointError::BadMagic);
    }
    let version = u16::from_le_bytes([header[12], header[13]]);
    if version != VERSION {
        return Err(CheckpointError::Version(version));
    }
    let stored = u64::from_le_bytes(header[24..32].try_into().unwrap_or_default());
    if crc64(0, &header[..24]) != stored {
        return Err(CheckpointError::HeaderChecksum);
    }
    let created_ms = u64::from_le_bytes(header[16..24].try_into().unwrap_or_default());
    let mut at = HEADER_LEN as u64;
    let mut payload = Vec::new();
    let mut total = 0u64;
    let mut per_shard: std::collections::HashMap<u16, u64> = Default::default();
    let mut aof_from = Vec::new();
    loop {
        let mut head = [0u8; BLOCK_HEAD];
        match read_exact_at(&mut input, &mut head, at) {
            Err(CheckpointError::Truncated { .. }) if at_eof(&mut input)? => {
                return Err(CheckpointError::Unfinished)
            }
            r => r?,
        }
        let kind = head[0];
        let shard = u16::from_le_bytes([head[1], head[2]]);
        let len = u32::from_le_bytes([head[3], head[4], head[5], head[6]]) as usize;
        if len > MAX_BLOCK {
            return Err(CheckpointError::BlockTooLarge { at, len });
        }
        payload.resize(len + 8, 0);
        read_exact_at(&mut input, &mut payload, at)?;
        let (body, crc) = payload.split_at(len);
        let stored = u64::from_le_bytes(crc.try_into().unwrap_or_default());
        if crc64(crc64(0, &head), body) != stored {
            return Err(CheckpointError::BlockChecksum { at });
        }
        match kind {
            RECORDS => {
                let mut n = 0;
                for r in records(body) {
                    if r.is_none() {
                        return Err(CheckpointError::MalformedRecord { at });
                    }
                    n += 1;
                }
                *per_shard.entry(shard).or_default() += n;
                total += n;
                on_records(body)?;
            }
            SHARD_END => {
                let count = body
                    .get(..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes);
                if count != Some(per_shard.get(&shard).copied().unwrap_or(0))
                    || !(body.len() == 8 || body.len() == 16)
                {
                    return Err(CheckpointError::CountMismatch { at });
                }
                if let Some(g) = body.get(8..16).and_then(|b| b.try_into().ok()) {
                    aof_from.push((shard, u64::from_le_bytes(g)));
                }
            }
            FILE_END => {
                let ok = body.len() == 12
                    && body[4..12].try_into().map(u64::from_le_bytes).ok() == Some(total);
                if !ok {
                    return Err(CheckpointError::CountMismatch { at });
                }
                let shards = body[..4].try_into().map(u32::from_le_bytes).unwrap_or(0);
                let end = at + (BLOCK_HEAD + len + 8) as u64;
                if !at_eof(&mut input)? {
                    return Err(CheckpointError::TrailingData { at: end });
                }
                return Ok(Summary {
                    created_ms,
                    shards,
                    records: total,
                    aof_from,
                });
            }
            kind => return Err(CheckpointError::UnknownBlock { at, kind }),
        }
        at += (BLOCK_HEAD + len + 8) as u64;
    }
}

fn read_exact_at<R: Read>(input: &mut R, buf: &mut [u8], at: u64) -> Result<(), CheckpointError> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => CheckpointError::Truncated { at },
        _ => CheckpointError::Io(e.to_string()),
    })
}

fn at_eof<R: Read>(input: &mut R) -> Result<bool, CheckpointError> {
    let mut one = [0u8; 1];
    loop {
        match input.read(&mut one) {
            Ok(0) => return Ok(true),
            Ok(_) => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = CheckpointWriter::new(Vec::new(), 1234).unwrap();
        let mut p = Vec::new();
        encode_record_with(&mut p, 0, 0, b"k1", |o| o.extend_from_slice(b"\x00\x02v1"));
        encode_record_with(&mut p, 3, 99, b"k2", |o| o.extend_from_slice(b"\x00\x02v2"));
        w.block(RECORDS, 0, &p).unwrap();
        w.shard_end(0, 2, Some(7)).unwrap();
        w.shard_end(1, 0, None).unwrap();
        w.finish(2, 2).unwrap()
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let mut seen = Vec::new();
        let summary = read(&bytes[..], |payload| {
            for r in records(payload) {
                let r = r.unwrap();
                seen.push((r.db, r.expire_at, r.key.to_vec(), r.value.to_vec()));
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(
            summary,
            Summary {
                created_ms: 1234,
                shards: 2,
                records: 2,
                aof_from: vec![(0, 7)]
            }
        );
        assert_eq!(seen[1], (3, 99, b"k2".to_vec(), b"\x00\x02v2".to_vec()));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let bytes = sample();
        for cut in 0..bytes.len() {
            let err = read(&bytes[..cut], |_| Ok(())).unwrap_err();
            assert!(
                matches!(
                    err,
                    CheckpointError::Truncated { .. } | CheckpointError::Unfinished
                ),
                "cut at {cut}: {err}"
            );
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert!(read(&bad[..], |_| Ok(())).is_err(), "flip at {i} accepted");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            read(&longer[..], |_| Ok(())),
            Err(CheckpointError::TrailingData { .. })
        ));
    }
}
