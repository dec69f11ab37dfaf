//! The Octet Encoding Rules subset Interledger uses: fixed-size unsigned integers (big-endian),
//! variable-length octet strings with a length prefix (one byte below 128, else `0x80 | n`
//! followed by an `n`-byte length), and variable-length unsigned integers (a length-prefixed
//! big-endian number). Every length is checked against the bytes left before anything is
//! allocated.

/// Why bytes do not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OerError {
    /// Fewer bytes than the encoding says.
    #[error("{what}: needs {needed} more bytes, {left} left")]
    Short {
        /// What was being read.
        what: &'static str,
        /// How many bytes it needs.
        needed: usize,
        /// How many are left.
        left: usize,
    },
    /// A length prefix that is not canonical, or too large for this machine.
    #[error("{0}: bad length prefix")]
    Length(&'static str),
    /// A variable-length integer longer than 8 bytes.
    #[error("{0}: an unsigned integer longer than 8 bytes")]
    TooLong(&'static str),
    /// Bytes left after the value.
    #[error("{0} trailing bytes after the value")]
    Trailing(usize),
}

/// A cursor over bytes being read.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads `bytes` from the start.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    /// Refuses bytes left over.
    pub fn finish(&self) -> Result<(), OerError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(OerError::Trailing(n)),
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], OerError> {
        if n > self.bytes.len() {
            return Err(OerError::Short {
                what,
                needed: n,
                left: self.bytes.len(),
            });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    /// The next `N` bytes, as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], OerError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, OerError> {
        Ok(self.take(1, what)?[0])
    }

    /// A fixed 8-byte big-endian unsigned integer.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, OerError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A fixed 4-byte big-endian unsigned integer.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, OerError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// A fixed 2-byte big-endian unsigned integer.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, OerError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A length prefix.
    pub fn length(&mut self, what: &'static str) -> Result<usize, OerError> {
        let first = self.u8(what)?;
        if first < 0x80 {
            return Ok(usize::from(first));
        }
        let n = usize::from(first & 0x7f);
        if n == 0 || n > std::mem::size_of::<usize>() {
            return Err(OerError::Length(what));
        }
        let bytes = self.take(n, what)?;
        if bytes[0] == 0 {
            // A longer prefix than needed.
            return Err(OerError::Length(what));
        }
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return Err(OerError::Length(what));
        }
        Ok(len)
    }

    /// A variable-length octet string.
    pub fn var_octets(&mut self, what: &'static str) -> Result<&'a [u8], OerError> {
        let len = self.length(what)?;
        self.take(len, what)
    }

    /// A variable-length unsigned integer (at most 8 bytes).
    pub fn var_uint(&mut self, what: &'static str) -> Result<u64, OerError> {
        let bytes = self.var_octets(what)?;
        if bytes.is_empty() {
            return Err(OerError::Length(what));
        }
        if bytes.len() > 8 {
            return Err(OerError::TooLong(what));
        }
        Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

/// Appends a length prefix for `len`.
pub fn write_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Appends a variable-length octet string.
pub fn write_var_octets(out: &mut Vec<u8>, bytes: &[u8]) {
    write_length(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Appends a variable-length unsigned integer, in as few bytes as it takes (at least one).
pub fn write_var_uint(out: &mut Vec<u8>, n: u64) {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    write_var_octets(out, &bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_take_the_short_and_the_long_form() {
        for (len, prefix) in [
            (0usize, vec![0u8]),
            (127, vec![0x7f]),
            (128, vec![0x81, 0x80]),
            (256, vec![0x82, 0x01, 0x00]),
        ] {
            let mut out = Vec::new();
            write_length(&mut out, len);
            assert_eq!(out, prefix, "{len}");
            assert_eq!(Reader::new(&out).length("x").unwrap(), len);
        }
        // Not canonical: a long form for a short length, a leading zero.
        assert!(Reader::new(&[0x81, 0x05]).length("x").is_err());
        assert!(Reader::new(&[0x82, 0x00, 0x80]).length("x").is_err());
        assert!(Reader::new(&[0x80]).length("x").is_err());
        // A length beyond the bytes left is refused before anything is taken.
        assert!(matches!(
            Reader::new(&[0x84, 0x7f, 0xff, 0xff, 0xff]).var_octets("data"),
            Err(OerError::Short { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn var_uints_and_octets_round_trip(n in any::<u64>(), bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut out = Vec::new();
            write_var_uint(&mut out, n);
            write_var_octets(&mut out, &bytes);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.var_uint("n").unwrap(), n);
            prop_assert_eq!(r.var_octets("b").unwrap(), &bytes[..]);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn any_bytes_read_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            let _ = r.var_uint("n");
            let _ = r.var_octets("b");
        }
    }
}
