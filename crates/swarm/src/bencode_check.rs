//! A structural check of bencode before librqbit's parser sees it. librqbit-bencode 9.1 and
//! librqbit-core read numbers with unchecked multiplies: a byte string length of twenty digits,
//! or a piece length past `u32`, overflows, which panics where overflow checks are on (debug
//! builds, fuzzing) and wraps, then fails, in release. Found by our `torrent_file` fuzz target.
//! This check refuses such input first, with a clear reason, and bounds nesting.

/// The deepest nesting of lists and dictionaries accepted; real torrents use four or five.
pub const MAX_DEPTH: usize = 64;

/// Dictionary keys whose integer value librqbit reads into a `u32`.
const U32_KEYS: [&[u8]; 1] = [b"piece length"];

enum Frame<'a> {
    List,
    /// A dictionary: whether a key comes next, and the last key read.
    Dict {
        key_next: bool,
        key: &'a [u8],
    },
}

/// Checks that `bytes` is exactly one well-formed bencoded value: integers `i<digits>e` that fit
/// in an `i64` (a `u32` under `piece length`), byte strings `<len>:<bytes>` whose length fits in
/// what follows, lists `l…e` and dictionaries `d…e` with byte-string keys, nested at most
/// [`MAX_DEPTH`] deep. Key order is not checked here.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut at = 0usize;
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let Some(&b) = bytes.get(at) else {
            return Err(format!("ends early at byte {at}"));
        };
        let key_next = matches!(stack.last(), Some(Frame::Dict { key_next: true, .. }));
        if key_next && b != b'e' && !b.is_ascii_digit() {
            return Err(format!(
                "a dictionary key at byte {at} is not a byte string"
            ));
        }
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
                let value = std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .ok_or_else(|| format!("an integer at byte {at} does not fit in 64 bits"))?;
                if let Some(Frame::Dict { key, .. }) = stack.last() {
                    if U32_KEYS.contains(key) && u32::try_from(value).is_err() {
                        return Err(format!(
                            "{:?} at byte {at} does not fit in 32 bits",
                            String::from_utf8_lossy(key)
                        ));
                    }
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
                if key_next {
                    if let Some(Frame::Dict { key_next, key }) = stack.last_mut() {
                        *key_next = false;
                        *key = &bytes[start..at];
                    }
                    continue;
                }
            }
            b'l' | b'd' => {
                if stack.len() == MAX_DEPTH {
                    return Err(format!("nested more than {MAX_DEPTH} deep"));
                }
                stack.push(if b == b'l' {
                    Frame::List
                } else {
                    Frame::Dict {
                        key_next: true,
                        key: &[],
                    }
                });
                at += 1;
                continue;
            }
            b'e' if !stack.is_empty() => {
                if matches!(
                    stack.last(),
                    Some(Frame::Dict {
                        key_next: false,
                        ..
                    })
                ) {
                    return Err(format!("a dictionary key at byte {at} has no value"));
                }
                stack.pop();
                at += 1;
            }
            other => return Err(format!("unexpected byte {other:#04x} at byte {at}")),
        }
        // A value ended: in a dictionary, a key comes next; at the top, it must be the last
        // byte.
        match stack.last_mut() {
            Some(Frame::Dict { key_next, .. }) => *key_next = true,
            Some(Frame::List) => {}
            None => {
                return if at == bytes.len() {
                    Ok(())
                } else {
                    Err(format!("{} bytes follow the value", bytes.len() - at))
                };
            }
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
        let e = check(b"d12:piece lengthi4294967296ee").unwrap_err();
        assert!(e.contains("does not fit in 32 bits"), "{e}");
        assert_eq!(check(b"d12:piece lengthi4294967295ee"), Ok(()));
        assert!(check(b"di1ei2ee")
            .unwrap_err()
            .contains("not a byte string"));
        assert!(check(b"d1:ae").unwrap_err().contains("has no value"));
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
