//! Percent-encoding for the URI parts Seedstr writes: magnet parameters, web mirror paths and
//! tracker queries. RFC 3986's unreserved characters pass; every other byte is encoded.

use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `bytes` as one URI component: a path segment, or a query name or value.
pub fn component(bytes: &[u8]) -> String {
    percent_encode(bytes, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_pass_and_everything_else_is_encoded() {
        assert_eq!(component(b"a-Z_0.9~"), "a-Z_0.9~");
        assert_eq!(component(b"a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(component(&[0x00, 0xff]), "%00%FF");
        assert_eq!(component("é".as_bytes()), "%C3%A9");
    }
}
