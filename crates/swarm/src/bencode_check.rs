//! A structural check of bencode before librqbit's parser sees it. librqbit-bencode 9.1 reads
//! a byte string's length with an unchecked multiply: a length of twenty digits overflows, which
//! panics where overflow checks are on (debug builds, fuzzing) and wraps, then fails, in
//! release. Found by our `torrent_file` fuzz target. This check refuses such input first, with
//! a clear reason, and bounds nesting.

/// The deepest nesting of lists and dictionaries accepted; real torrents use four or five.
pub const MAX_DEPTH: usize = 64;

/// Checks that `bytes` is exactly one well-formed bencoded value: integers `i<digits>e`, byte
/// strings `<len>:<bytes>` whose length fits in what follows, lists `l…e` and dictionaries
/// `d…e`, nested at most [`MAX_DEPTH`] deep. Keys are not checked for order or type here.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut at = 0usize;
    let mut depth = 0usize;
    loop {
        let Some(&b) = bytes.get(at) else {
            return Err(format!("ends early at byte {at}"));
        };
        match b {
            b'i' => {
                let digits = &bytes[at + 1..];
                let body = digits
                    .iter()
                    .position(|&c| c == b'e')
                    .ok_or_else(|| format!("an integer at byte {at} never ends"))?;
                let text = &digits[..body];
                let unsigned = text.strip_prefix(b"-").unwrap_or(text);
                if unsigned.is_empty() || !unsigned.iter().all(u8::is_ascii_digit) {
                    return Err(format!("a malformed integer at byte {at}"));
                }
                // librqbit reads integers with the same unchecked multiply: only what fits in
                // an i64 (every size and date a torrent holds) goes through.
                if std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .is_none()
                {
                    return Err(format!("an integer at byte {at} does not fit in 64 bits"));
                }
                at += body + 2;
            }
            b'0'..=b'9' => {
                let colon = bytes[at..]
                    .iter()
                    .take(21)
                    .position(|&c| c == b':')
                    .ok_or_else(|| {
                        format!("a byte string's length at byte {at} is malformed or too long")
                    })?;
                let digits = &bytes[at..at + colon];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return Err(format!(
                        "a byte string's length at byte {at} is not a number"
                    ));
                }
                let len = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse::<usize>().ok())
                    .ok_or_else(|| format!("a byte string's length at byte {at} is too large"))?;
                let start = at + colon + 1;
                if len > bytes.len() - start {
                    return Err(format!(
                        "a byte string at byte {at} claims {len} bytes; {} follow",
                        bytes.len() - start
                    ));
                }
                at = start + len;
            }
            b'l' | b'd' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("nested more than {MAX_DEPTH} deep"));
                }
                at += 1;
                continue;
            }
            b'e' if depth > 0 => {
                depth -= 1;
                at += 1;
            }
            other => return Err(format!("unexpected byte {other:#04x} at byte {at}")),
        }
        // A value ended: within a container, read on; at the top, it must be the last byte.
        if depth == 0 {
            return if at == bytes.len() {
                Ok(())
            } else {
                Err(format!("{} bytes follow the value", bytes.len() - at))
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn well_formed_values_pass_and_the_fuzzers_finding_is_refused() {
        for ok in [
            &b"i42e"[..],
            b"i-3e",
            b"4:spam",
            b"0:",
            b"le",
            b"de",
            b"d3:cow3:moo4:spaml1:a1:bee",
        ] {
            assert_eq!(check(ok), Ok(()), "{}", String::from_utf8_lossy(ok));
        }
        let found =
            b"d8:2222222222222222222222222222222222222222222222announce27:http://127.0.0.1:";
        assert!(check(found).is_err());
        let e = check(b"99999999999999999999999:x").unwrap_err();
        assert!(e.contains("too large") || e.contains("too long"), "{e}");
        assert!(check(b"5:abc")
            .unwrap_err()
            .contains("claims 5 bytes; 3 follow"));
        assert!(check(&[b'l'; 100])
            .unwrap_err()
            .contains("nested more than 64"));
        assert!(check(b"i1ei2e").unwrap_err().contains("follow the value"));
        assert!(check(b"e").is_err());
        let e = check(b"i99999999999999999999e").unwrap_err();
        assert!(e.contains("does not fit in 64 bits"), "{e}");
    }

    /// A bencoded value built from a small tree.
    fn value() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(|n| format!("i{n}e").into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(|b| {
                let mut out = format!("{}:", b.len()).into_bytes();
                out.extend(b);
                out
            }),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(|items| {
                    let mut out = vec![b'l'];
                    items.into_iter().for_each(|i| out.extend(i));
                    out.push(b'e');
                    out
                }),
                proptest::collection::vec(("[a-z]{1,6}", inner), 0..6).prop_map(|pairs| {
                    let mut out = vec![b'd'];
                    for (k, v) in pairs {
                        out.extend(format!("{}:{k}", k.len()).into_bytes());
                        out.extend(v);
                    }
                    out.push(b'e');
                    out
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever an encoder writes passes, and librqbit reads it too.
        #[test]
        fn encoded_values_pass(v in value()) {
            prop_assert_eq!(check(&v), Ok(()));
            prop_assert!(librqbit_bencode::from_bytes::<librqbit_bencode::BencodeValueOwned>(&v).is_ok());
        }

        /// Arbitrary bytes never make the check panic, and what it passes librqbit can parse
        /// without overflowing.
        #[test]
        fn arbitrary_bytes_are_judged_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if check(&bytes).is_ok() {
                let _ = librqbit_bencode::from_bytes::<librqbit_bencode::BencodeValueOwned>(&bytes);
            }
        }
    }
}
