//! A cursor over untrusted bytes (in the manner of quiche's `octets`): every read returns a
//! `Result`, advances past what it read, and hands back sub-slices of the input without copying.

use super::{Error, Result};

#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { rest: buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// What is left, without consuming it.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// The next byte, without consuming it.
    pub fn peek(&self) -> Result<u8> {
        self.rest.first().copied().ok_or(Error::Truncated)
    }

    pub fn u8(&mut self) -> Result<u8> {
        let (&b, rest) = self.rest.split_first().ok_or(Error::Truncated)?;
        self.rest = rest;
        Ok(b)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n).ok_or(Error::Truncated)?;
        self.rest = rest;
        Ok(head)
    }

    /// The next `n` bytes, where `n` came from the input: a length the input cannot hold is
    /// [`Error::BadLength`].
    pub fn bytes_len(&mut self, n: u64) -> Result<&'a [u8]> {
        let n = usize::try_from(n).map_err(|_| Error::BadLength)?;
        if n > self.rest.len() {
            return Err(Error::BadLength);
        }
        self.bytes(n)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, rest) = self.rest.split_first_chunk::<N>().ok_or(Error::Truncated)?;
        self.rest = rest;
        Ok(*head)
    }

    pub fn u16_le(&mut self) -> Result<u16> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn u32_le(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub fn u32_be(&mut self) -> Result<u32> {
        self.array().map(u32::from_be_bytes)
    }

    pub fn u64_be(&mut self) -> Result<u64> {
        self.array().map(u64::from_be_bytes)
    }

    pub fn i16_le(&mut self) -> Result<i16> {
        self.array().map(i16::from_le_bytes)
    }

    pub fn i32_le(&mut self) -> Result<i32> {
        self.array().map(i32::from_le_bytes)
    }

    pub fn i64_le(&mut self) -> Result<i64> {
        self.array().map(i64::from_le_bytes)
    }

    /// A little-endian signed 24-bit integer.
    pub fn i24_le(&mut self) -> Result<i32> {
        let [a, b, c] = self.array()?;
        Ok(i32::from_le_bytes([0, a, b, c]) >> 8)
    }

    pub fn f64_le(&mut self) -> Result<f64> {
        self.array().map(f64::from_le_bytes)
    }
}

/// Room to reserve for `count` items read from `remaining` bytes when each takes at least
/// `min_size` bytes: never more than the input can actually hold.
pub fn capacity(count: u64, remaining: usize, min_size: usize) -> usize {
    usize::try_from(count)
        .unwrap_or(usize::MAX)
        .min(remaining / min_size.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_advance_and_stop_at_the_end() {
        let mut r = Reader::new(&[1, 0x34, 0x12, 0xff, 0xff, 0x7f, 9]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16_le(), Ok(0x1234));
        assert_eq!(r.i24_le(), Ok(0x7fffff));
        assert_eq!(r.u16_le(), Err(Error::Truncated));
        assert_eq!(r.bytes_len(2), Err(Error::BadLength));
        assert_eq!(r.bytes_len(u64::MAX), Err(Error::BadLength));
        assert_eq!(r.bytes(1), Ok(&[9][..]));
        assert!(r.is_empty());
        assert_eq!(Reader::new(&[0, 0, 0x80]).i24_le(), Ok(-0x800000));
    }
}
