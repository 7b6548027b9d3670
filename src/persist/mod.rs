//! Persistence: Redis's RDB value format (version 10, Redis 7.0), read and written byte for byte
//! as Redis does, and the DUMP payloads built on it. Whole `dump.rdb` files (migration from
//! Redis) and Ferrite's own checkpoints are to be built on the same value codec.
//!
//! What lives here:
//! - [`crc64`]: Redis's CRC-64 (Jones polynomial), which seals DUMP payloads and RDB files.
//! - [`lzf`]: LZF, for strings Redis stored compressed (`rdbcompression yes`); Ferrite itself
//!   writes strings uncompressed.
//! - [`listpack`], [`ziplist`], [`intset`]: Redis's compact encodings, as they appear inside RDB
//!   string blobs. Listpacks and intsets are read and written; ziplists (RDB before version 10)
//!   are only read.
//! - [`rdb`]: lengths, string objects and the object types, to and from [`rdb::RdbValue`], a
//!   neutral form that knows nothing of the keyspace.
//! - [`value`]: the seam between that neutral form and the keyspace's [`Value`](crate::keyspace::Value).
//! - [`dump`]: DUMP payloads (object, RDB version, CRC-64) for DUMP and RESTORE.
//! - [`checkpoint`], [`saver`], [`load`]: Ferrite's checkpoint files (BGSAVE, scheduled saves,
//!   start-up loading), whose records hold values in the RDB encoding above.
//!
//! Invariants: every input byte is untrusted. Decoding never panics, whatever the bytes; every
//! length is checked against the input that is left before anything is allocated for it (an LZF
//! string may grow at most [`lzf::MAX_RATIO`] times its compressed size); and a decoded
//! collection is never empty and never holds a member or field twice, so the keyspace can take it
//! as it is. Failures are an [`Error`], turned into text once, by its `Display`.

pub mod aof;
pub mod checkpoint;
pub mod crc64;
pub mod dump;
pub mod intset;
pub mod listpack;
pub mod load;
pub mod lzf;
pub mod rdb;
pub mod rdb_file;
mod reader;
pub mod saver;
pub mod stream;
pub mod value;
pub mod ziplist;

use std::fmt;

pub use reader::Reader;

/// Why bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The input ended inside a value.
    Truncated,
    /// A length or count larger than the input left, or than this codec accepts.
    BadLength,
    /// A length prefix with a special encoding where none may be, or one RDB does not define.
    BadEncoding(u8),
    /// An RDB object type this codec does not read.
    UnknownType(u8),
    /// LZF data that does not decompress to exactly its declared length.
    BadLzf,
    /// A malformed listpack, and what is wrong with it.
    BadListpack(&'static str),
    /// A malformed ziplist, and what is wrong with it.
    BadZiplist(&'static str),
    /// A malformed intset, and what is wrong with it.
    BadIntset(&'static str),
    /// A quicklist node container other than plain (1) or packed (2).
    BadContainer(u64),
    /// A collection holding the same member or field twice.
    Duplicate,
    /// A listpack or ziplist of pairs (hash, sorted set) with an odd number of entries.
    Unpaired,
    /// A sorted-set score that is NaN or not a number.
    BadScore,
    /// A collection without elements (Redis never writes one; a key cannot hold one).
    Empty,
    /// Bytes left over after the value.
    TrailingBytes,
    /// A DUMP payload too short to hold its footer.
    ShortPayload,
    /// A DUMP payload from a newer RDB version than this codec reads.
    Version(u16),
    /// A DUMP payload whose CRC-64 does not match its contents.
    Checksum,
    /// A malformed stream, and what is wrong with it.
    BadStream(&'static str),
    /// A value of a type this build of Ferrite cannot hold.
    Unsupported(&'static str),
}

impl Error {
    /// Whether the payload's framing (version or checksum) is wrong, as opposed to its contents:
    /// RESTORE answers the two with different errors.
    pub fn is_framing(&self) -> bool {
        matches!(
            self,
            Error::ShortPayload | Error::Version(_) | Error::Checksum
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => write!(f, "input ends inside a value"),
            Error::BadLength => write!(f, "length larger than the input can hold"),
            Error::BadEncoding(b) => write!(f, "unknown length or string encoding {b:#04x}"),
            Error::UnknownType(t) => write!(f, "unknown RDB object type {t}"),
            Error::BadLzf => write!(f, "LZF data does not decompress to its declared length"),
            Error::BadListpack(why) => write!(f, "bad listpack: {why}"),
            Error::BadZiplist(why) => write!(f, "bad ziplist: {why}"),
            Error::BadIntset(why) => write!(f, "bad intset: {why}"),
            Error::BadContainer(c) => write!(f, "unknown quicklist node container {c}"),
            Error::Duplicate => write!(f, "duplicate member or field"),
            Error::Unpaired => write!(f, "a field or member without its value or score"),
            Error::BadScore => write!(f, "sorted set score is not a number"),
            Error::Empty => write!(f, "empty collection"),
            Error::TrailingBytes => write!(f, "bytes left after the value"),
            Error::ShortPayload => write!(f, "DUMP payload too short"),
            Error::Version(v) => write!(f, "RDB version {v} is newer than this build reads"),
            Error::Checksum => write!(f, "CRC-64 does not match"),
            Error::BadStream(why) => write!(f, "bad stream: {why}"),
            Error::Unsupported(what) => write!(f, "{what} values are not supported"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
