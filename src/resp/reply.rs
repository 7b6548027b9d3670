//! Replies and their encoding in RESP2 and RESP3.
//!
//! Commands build a [`Reply`]; the connection that asked encodes it for its own protocol version, so
//! a reply computed on another shard travels as a value and is encoded once, at the edge.

use std::borrow::Cow;

use bytes::Bytes;

use crate::small::SmallBytes;

/// The protocol a connection speaks, chosen with `HELLO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

/// One reply value. RESP3 types degrade to their RESP2 forms when encoded for RESP2, as in Redis.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`-style status.
    Status(Cow<'static, str>),
    /// A full error line, code included: `ERR ...`, `WRONGTYPE ...`.
    Error(Cow<'static, str>),
    Int(i64),
    Bulk(Bytes),
    /// A short bulk string carried inline.
    SmallBulk(SmallBytes),
    /// Null bulk string (`$-1`; `_` in RESP3).
    Null,
    /// Null array (`*-1`; `_` in RESP3).
    NullArray,
    Array(Vec<Reply>),
    /// RESP3 map; a flat array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// RESP3 set; an array in RESP2.
    Set(Vec<Reply>),
    /// Pairs: an array of two-element arrays in RESP3, one flat array in RESP2 (HRANDFIELD ...
    /// WITHVALUES, ZRANGE ... WITHSCORES).
    Pairs(Vec<(Reply, Reply)>),
    /// RESP3 map; in RESP2 an array of two-element arrays (XREAD's reply, one per stream).
    MapOrPairArrays(Vec<(Reply, Reply)>),
    /// RESP3 double; a bulk string in RESP2.
    Double(f64),
    /// A RESP3 double written with the given text, for replies whose digits Redis fixes
    /// (`addReplyHumanLongDouble`: GEOPOS and WITHCOORD coordinates); a bulk string in RESP2.
    DoubleText(String),
    /// RESP3 boolean; an integer in RESP2.
    Bool(bool),
    /// RESP3 verbatim string with its three-letter format; a bulk string in RESP2.
    Verbatim(&'static str, String),
    /// RESP3 out-of-band push (pub/sub messages); an array in RESP2.
    Push(Vec<Reply>),
    /// Several replies to one request, one after another (SUBSCRIBE answers once per channel).
    Replies(Vec<Reply>),
}

impl Reply {
    pub const OK: Reply = Reply::Status(Cow::Borrowed("OK"));

    pub fn status(s: &'static str) -> Reply {
        Reply::Status(Cow::Borrowed(s))
    }

    /// An error; `msg` carries its code (`ERR`, `WRONGTYPE`, ...).
    pub fn error(msg: impl Into<Cow<'static, str>>) -> Reply {
        Reply::Error(msg.into())
    }

    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    /// A bulk reply holding a copy of `s`: inline when short, so no allocation.
    pub fn bulk_copy(s: &[u8]) -> Reply {
        crate::small::SmallBytes::new(s)
            .map_or_else(|| Reply::Bulk(Bytes::copy_from_slice(s)), Reply::SmallBulk)
    }

    pub fn bulk_str(s: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends this reply's encoding to `out`.
    pub fn encode(&self, proto: Protocol, out: &mut Vec<u8>) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Reply::Status(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(s) => line(out, b'-', s.as_bytes()),
            Reply::Int(n) => header(out, b':', *n),
            Reply::Bulk(b) => bulk(out, b),
            Reply::SmallBulk(b) => bulk(out, b.as_slice()),
            Reply::Null if resp3 => out.extend_from_slice(b"_\r\n"),
            Reply::Null => out.extend_from_slice(b"$-1\r\n"),
            Reply::NullArray if resp3 => out.extend_from_slice(b"_\r\n"),
            Reply::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Reply::Array(items) => {
                header(out, b'*', items.len() as i64);
                items.iter().for_each(|r| r.encode(proto, out));
            }
            Reply::Set(items) => {
                header(out, if resp3 { b'~' } else { b'*' }, items.len() as i64);
                items.iter().for_each(|r| r.encode(proto, out));
            }
            // Arrays of [a, b] arrays: `Pairs` in RESP3, `MapOrPairArrays` in RESP2.
            Reply::Pairs(pairs) | Reply::MapOrPairArrays(pairs)
                if matches!(self, Reply::Pairs(_)) == resp3 =>
            {
                header(out, b'*', pairs.len() as i64);
                for (a, b) in pairs {
                    header(out, b'*', 2);
                    a.encode(proto, out);
                    b.encode(proto, out);
                }
            }
            Reply::Map(pairs) | Reply::Pairs(pairs) | Reply::MapOrPairArrays(pairs) => {
                if resp3 {
                    header(out, b'%', pairs.len() as i64);
                } else {
                    header(out, b'*', 2 * pairs.len() as i64);
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Reply::Double(d) => {
                let text = format_g17(*d);
                if resp3 {
                    line(out, b',', text.as_bytes());
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Reply::DoubleText(text) if resp3 => line(out, b',', text.as_bytes()),
            Reply::DoubleText(text) => bulk(out, text.as_bytes()),
            Reply::Bool(b) if resp3 => {
                out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" })
            }
            Reply::Bool(b) => header(out, b':', *b as i64),
            Reply::Verbatim(format, text) if resp3 => {
                header(out, b'=', (text.len() + 4) as i64);
                out.extend_from_slice(format.as_bytes());
                out.push(b':');
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Verbatim(_, text) => bulk(out, text.as_bytes()),
            Reply::Push(items) => {
                header(out, if resp3 { b'>' } else { b'*' }, items.len() as i64);
                items.iter().for_each(|r| r.encode(proto, out));
            }
            Reply::Replies(replies) => replies.iter().for_each(|r| r.encode(proto, out)),
        }
    }
}

fn line(out: &mut Vec<u8>, kind: u8, s: &[u8]) {
    out.push(kind);
    // A status or error line must not break the framing.
    out.extend(
        s.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

fn header(out: &mut Vec<u8>, kind: u8, n: i64) {
    out.push(kind);
    // Hand-rolled decimal: this runs for every reply, and `write!` costs several times more.
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    header(out, b'$', b.len() as i64);
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Formats a double the way Redis replies with one: integral values without a fraction, `inf`,
/// `-inf`, otherwise the shortest text that reads back to the same value.
/// A double as Redis 7.0's `addReplyDouble` writes it: C's `%.17g` ("inf"/"-inf" spelled out),
/// so 0.1 reads back as 0.10000000000000001, exactly as redis-server 7.0 sends it.
pub fn format_g17(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v.is_nan() {
        return "nan".into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{v:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.unsigned_abs())
    } else {
        trim(&format!("{v:.*}", (16 - exp) as usize))
    }
}

/// The shortest text that reads back as `d` (integers without a fraction), for replies Redis
/// formats itself (INCRBYFLOAT's fallback).
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == d.trunc() && d.abs() < 1e17 {
        return format!("{}", d as i64);
    }
    format!("{d}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, p: Protocol) -> String {
        let mut out = Vec::new();
        r.encode(p, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn resp2_and_resp3_forms() {
        let map = Reply::Map(vec![(Reply::bulk_str("a"), Reply::Int(1))]);
        assert_eq!(enc(&map, Protocol::Resp2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&map, Protocol::Resp3), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Reply::Null, Protocol::Resp2), "$-1\r\n");
        assert_eq!(enc(&Reply::Null, Protocol::Resp3), "_\r\n");
        assert_eq!(enc(&Reply::Double(1.5), Protocol::Resp2), "$3\r\n1.5\r\n");
        assert_eq!(enc(&Reply::Double(3.0), Protocol::Resp3), ",3\r\n");
        let xread = Reply::MapOrPairArrays(vec![(Reply::bulk_str("s"), Reply::Int(1))]);
        assert_eq!(
            enc(&xread, Protocol::Resp2),
            "*1\r\n*2\r\n$1\r\ns\r\n:1\r\n"
        );
        assert_eq!(enc(&xread, Protocol::Resp3), "%1\r\n$1\r\ns\r\n:1\r\n");
        let text = Reply::DoubleText("1.50".into());
        assert_eq!(enc(&text, Protocol::Resp3), ",1.50\r\n");
        assert_eq!(enc(&text, Protocol::Resp2), "$4\r\n1.50\r\n");
        assert_eq!(
            enc(&Reply::Verbatim("txt", "hi".into()), Protocol::Resp3),
            "=6\r\ntxt:hi\r\n"
        );
        assert_eq!(
            enc(&Reply::error("ERR a\r\nb"), Protocol::Resp2),
            "-ERR a  b\r\n"
        );
    }
}
