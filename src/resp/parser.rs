//! Incremental, bounded request parser.
//!
//! Every length read off the wire is checked against a limit before anything is reserved for it, and
//! a request is only cut out of the buffer once it is complete, as one `Bytes` that its arguments
//! slice without copying. A partial request keeps its progress in the parser, so a large request
//! that arrives in many reads is scanned once. Error texts are Redis's (`networking.c`); after one,
//! the connection is answered and closed, as Redis does.

use bytes::{Bytes, BytesMut};

/// Longest inline request, and longest `*<n>` / `$<n>` header line (Redis's PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;

/// The limits a request must respect.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// `proto-max-bulk-len`: the longest single argument.
    pub max_bulk_len: usize,
    /// When set, the client has not authenticated yet and gets Redis's much smaller limits.
    pub unauthenticated: bool,
}

/// A request that breaks the protocol; the text is sent as an `-ERR` reply before closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(msg: &str) -> Self {
        ProtocolError(format!("Protocol error: {msg}"))
    }
}

/// Progress through a multibulk request that has not fully arrived.
#[derive(Default, Debug)]
pub struct RequestParser {
    /// Arguments announced by the `*<n>` header; 0 when no multibulk request is in progress.
    expected: usize,
    /// Where parsing resumes in the buffer.
    pos: usize,
    /// Byte ranges of the arguments found so far.
    ranges: Vec<(usize, usize)>,
}

impl RequestParser {
    /// Takes the next complete request off the front of `buf`. `Ok(None)` means more bytes are
    /// needed. Empty requests (a blank inline line, `*0`) are skipped.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        limits: ParseLimits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let mut args = Vec::new();
        Ok(self.next_into(buf, limits, &mut args)?.then_some(args))
    }

    /// Like [`next`](Self::next), reusing the caller's vector: true when `args` holds a request.
    pub fn next_into(
        &mut self,
        buf: &mut BytesMut,
        limits: ParseLimits,
        args: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        args.clear();
        loop {
            if self.expected == 0 {
                let Some(&first) = buf.first() else {
                    return Ok(false);
                };
                if first != b'*' {
                    match self.parse_inline(buf)? {
                        Some(inline) if inline.is_empty() => continue,
                        Some(inline) => {
                            *args = inline;
                            return Ok(true);
                        }
                        None => return Ok(false),
                    }
                }
                let Some((n, next)) = read_header(buf, 0, "too big mbulk count string")? else {
                    return Ok(false);
                };
                if n > i32::MAX as i64 {
                    return Err(ProtocolError::new("invalid multibulk length"));
                }
                if n > 10 && limits.unauthenticated {
                    return Err(ProtocolError::new("unauthenticated multibulk length"));
                }
                if n <= 0 {
                    let _ = buf.split_to(next);
                    continue;
                }
                self.expected = n as usize;
                self.pos = next;
                self.ranges.clear();
                // Never trust the announced count for the allocation.
                self.ranges.reserve(self.expected.min(1024));
            }
            while self.ranges.len() < self.expected {
                let Some(&b) = buf.get(self.pos) else {
                    return Ok(false);
                };
                if b != b'$' {
                    return Err(ProtocolError::new(&format!(
                        "expected '$', got '{}'",
                        b as char
                    )));
                }
                let Some((len, start)) = read_header(buf, self.pos, "too big bulk count string")?
                else {
                    return Ok(false);
                };
                if len < 0 || len as u64 > limits.max_bulk_len as u64 {
                    return Err(ProtocolError::new("invalid bulk length"));
                }
                if len > 16384 && limits.unauthenticated {
                    return Err(ProtocolError::new("unauthenticated bulk length"));
                }
                let end = start + len as usize;
                // Redis skips the two bytes after the payload without checking them.
                if buf.len() < end + 2 {
                    return Ok(false);
                }
                self.ranges.push((start, end));
                self.pos = end + 2;
            }
            let frame = buf.split_to(self.pos).freeze();
            args.extend(self.ranges.iter().map(|&(s, e)| frame.slice(s..e)));
            self.expected = 0;
            self.pos = 0;
            return Ok(true);
        }
    }

    fn parse_inline(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
            if buf.len() > INLINE_MAX {
                return Err(ProtocolError::new("too big inline request"));
            }
            return Ok(None);
        };
        if nl > INLINE_MAX {
            return Err(ProtocolError::new("too big inline request"));
        }
        let line = buf.split_to(nl + 1);
        let line = line.strip_suffix(b"\n").unwrap_or(&line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        split_inline_args(line)
            .map(Some)
            .ok_or_else(|| ProtocolError::new("unbalanced quotes in request"))
    }
}

/// Reads a `*<n>\r\n` or `$<n>\r\n` header at `at`; returns the number and the offset after it.
/// The common case (a short run of digits) is scanned in place; anything else takes the careful
/// path below, which gives Redis's exact errors.
fn read_header(
    buf: &[u8],
    at: usize,
    too_big: &str,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    let mut i = at + 1;
    let mut n: i64 = 0;
    while let Some(&c) = buf.get(i) {
        if c.is_ascii_digit() && i - at <= 18 {
            n = n * 10 + (c - b'0') as i64;
            i += 1;
            continue;
        }
        let digits = i - at - 1;
        let canonical = digits == 1 || buf[at + 1] != b'0';
        if c == b'\r' && digits > 0 && canonical && buf.len() > i + 1 {
            return Ok(Some((n, i + 2)));
        }
        break;
    }
    read_header_careful(buf, at, too_big)
}

fn read_header_careful(
    buf: &[u8],
    at: usize,
    too_big: &str,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    let window = &buf[at..buf.len().min(at + INLINE_MAX + 2)];
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        if buf.len() - at > INLINE_MAX {
            return Err(ProtocolError::new(too_big));
        }
        return Ok(None);
    };
    if window.len() < cr + 2 {
        return Ok(None);
    }
    let invalid = if window[0] == b'*' {
        "invalid multibulk length"
    } else {
        "invalid bulk length"
    };
    let n = parse_i64(&window[1..cr]).ok_or_else(|| ProtocolError::new(invalid))?;
    Ok(Some((n, at + cr + 2)))
}

/// Strict decimal parse, as Redis's `string2ll`: optional '-', no '+', no spaces, no leading zeros.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && s.len() > 1) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (d - b'0') as u64;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Splits an inline request as Redis's `sdssplitargs` does: blanks separate arguments, "double
/// quotes" take C escapes, 'single quotes' take only \'. `None` on unbalanced quotes.
pub fn split_inline_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == line.len() {
            return Some(args);
        }
        let mut arg = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = line.get(i).copied();
            if in_double {
                match c? {
                    b'\\'
                        if line.get(i + 1) == Some(&b'x')
                            && line.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                            && line.get(i + 3).is_some_and(u8::is_ascii_hexdigit) =>
                    {
                        let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                        arg.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                        i += 3;
                    }
                    b'\\' if i + 1 < line.len() => {
                        i += 1;
                        arg.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    b'"' => {
                        // A closing quote must be followed by a blank or the end.
                        if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    other => arg.push(other),
                }
            } else if in_single {
                match c? {
                    b'\\' if line.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        arg.push(b'\'');
                    }
                    b'\'' => {
                        if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    other => arg.push(other),
                }
            } else {
                match c {
                    None => break,
                    Some(b) if b.is_ascii_whitespace() => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(other) => arg.push(other),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(arg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: ParseLimits = ParseLimits {
        max_bulk_len: 512 << 20,
        unauthenticated: false,
    };

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut buf = BytesMut::from(input);
        let mut p = RequestParser::default();
        let mut out = Vec::new();
        while let Some(req) = p.next(&mut buf, LIMITS)? {
            out.push(req);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_inline() {
        let reqs =
            parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n\r\nset a \"b c\\n\" 'd'\n").unwrap();
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(reqs[1], vec![Bytes::from("PING")]);
        assert_eq!(
            reqs[2],
            ["set", "a", "b c\n", "d"].map(Bytes::from).to_vec()
        );
    }

    #[test]
    fn redis_error_texts() {
        let err = |input: &[u8]| parse_all(input).unwrap_err().0;
        assert_eq!(
            err(b"*1\r\n$1000000000000\r\n"),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(err(b"*1\r\n$-5\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(err(b"*abc\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(
            err(b"*3000000000\r\n"),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*1\r\n+x\r\n"),
            "Protocol error: expected '$', got '+'"
        );
        assert_eq!(
            err(b"set a \"b\n"),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            err(&vec![b'a'; INLINE_MAX + 10]),
            "Protocol error: too big inline request"
        );
    }

    #[test]
    fn never_reserves_announced_sizes() {
        let mut buf = BytesMut::from(&b"*2147483647\r\n$536870912\r\nab"[..]);
        let mut p = RequestParser::default();
        assert_eq!(p.next(&mut buf, LIMITS), Ok(None));
        assert!(p.ranges.capacity() <= 1024);
    }

    #[test]
    fn unauthenticated_limits() {
        let mut p = RequestParser::default();
        let limits = ParseLimits {
            unauthenticated: true,
            ..LIMITS
        };
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert!(p.next(&mut buf, limits).is_err());
    }

    proptest! {
        /// Any split of a valid stream yields the same requests as the whole.
        #[test]
        fn split_reads_give_same_requests(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6), cut in 0usize..400) {
            let mut wire = format!("*{}\r\n", args.len()).into_bytes();
            for a in &args {
                wire.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                wire.extend_from_slice(a);
                wire.extend_from_slice(b"\r\n");
            }
            let cut = cut.min(wire.len());
            let mut p = RequestParser::default();
            let mut buf = BytesMut::from(&wire[..cut]);
            let mut got = p.next(&mut buf, LIMITS).unwrap();
            if got.is_none() {
                buf.extend_from_slice(&wire[cut..]);
                got = p.next(&mut buf, LIMITS).unwrap();
            }
            let got = got.unwrap();
            prop_assert_eq!(got.len(), args.len());
            for (g, a) in got.iter().zip(&args) {
                prop_assert_eq!(&g[..], &a[..]);
            }
            prop_assert!(buf.is_empty());
        }

        /// Garbage never panics, and every request returned is bounded by the input.
        #[test]
        fn garbage_never_panics(input in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut buf = BytesMut::from(&input[..]);
            let mut p = RequestParser::default();
            let mut total = 0;
            while let Ok(Some(req)) = p.next(&mut buf, LIMITS) {
                total += req.iter().map(|a| a.len()).sum::<usize>();
                prop_assert!(total <= input.len());
            }
        }

        /// Garbage in a RESP-like alphabet, truncated anywhere, never panics.
        #[test]
        fn resp_like_garbage_never_panics(input in proptest::collection::vec(prop_oneof![Just(b'*'), Just(b'$'), Just(b'\r'), Just(b'\n'), Just(b'-'), b'0'..=b'9', Just(b'"'), Just(b'\\'), Just(b' ')], 0..200)) {
            let mut buf = BytesMut::from(&input[..]);
            let mut p = RequestParser::default();
            while let Ok(Some(_)) = p.next(&mut buf, LIMITS) {}
        }
    }
}
