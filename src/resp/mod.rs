//! RESP, the Redis serialization protocol: requests in (RESP multibulk and inline), replies out
//! (RESP2 and RESP3). No I/O here: the parser takes the bytes a connection has buffered and the
//! encoder appends to the bytes a connection will write.

mod parser;
mod reply;

pub use parser::{parse_i64, split_inline_args, ParseLimits, ProtocolError, RequestParser};
pub use reply::{format_double, format_g17, Protocol, Reply};
