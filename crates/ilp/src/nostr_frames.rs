//! Nostr messages in STREAM data (Nostr over ILP): each message (a NIP-01 JSON array: EVENT,
//! REQ, CLOSE, EOSE, OK, AUTH…) is written into a stream as a length-prefixed record (OER's
//! length prefix, then the UTF-8 JSON), so a reader cuts the stream's bytes back into whole
//! messages whatever packets carried them. Bounded: a record over [`MAX_MESSAGE_BYTES`] is
//! refused before it is buffered.

use crate::oer::{write_var_octets, OerError, Reader};

/// The largest Nostr message carried.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Why a stream's bytes are not Nostr messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A record longer than [`MAX_MESSAGE_BYTES`].
    #[error("a Nostr message of {0} bytes, over {MAX_MESSAGE_BYTES}")]
    TooLong(usize),
    /// A record that is not UTF-8.
    #[error("a Nostr message that is not UTF-8")]
    NotText,
    /// A length prefix that does not read.
    #[error("{0}")]
    Prefix(#[from] OerError),
}

/// One message as stream bytes.
pub fn encode_message(json: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 4);
    write_var_octets(&mut out, json.as_bytes());
    out
}

/// Cuts a stream's bytes, as they arrive, into whole messages.
#[derive(Debug, Default, Clone)]
pub struct MessageReader {
    pending: Vec<u8>,
}

impl MessageReader {
    /// Takes the next bytes of the stream; the messages they complete, in order. After an
    /// error the stream is no longer read (its framing is lost).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, FrameError> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            let mut r = Reader::new(&self.pending);
            let len = match r.length("message length") {
                Ok(len) => len,
                // Not all of the prefix is here yet.
                Err(OerError::Short { .. }) => break,
                Err(e) => return Err(e.into()),
            };
            if len > MAX_MESSAGE_BYTES {
                return Err(FrameError::TooLong(len));
            }
            let header = self.pending.len() - r.rest().len();
            if r.rest().len() < len {
                break;
            }
            let body = self.pending[header..header + len].to_vec();
            self.pending.drain(..header + len);
            out.push(String::from_utf8(body).map_err(|_| FrameError::NotText)?);
        }
        Ok(out)
    }

    /// Bytes held for a message not yet whole.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_long_record_is_refused_before_it_is_held() {
        let mut big = Vec::new();
        crate::oer::write_length(&mut big, MAX_MESSAGE_BYTES + 1);
        let mut r = MessageReader::default();
        assert_eq!(
            r.push(&big),
            Err(FrameError::TooLong(MAX_MESSAGE_BYTES + 1))
        );
        let mut r = MessageReader::default();
        assert_eq!(r.push(&[2, 0xff, 0xfe]), Err(FrameError::NotText));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn messages_come_back_whole_however_the_bytes_are_cut(
            messages in proptest::collection::vec(".{0,300}", 1..8),
            cuts in proptest::collection::vec(1usize..50, 1..40),
        ) {
            let bytes: Vec<u8> = messages.iter().flat_map(|m| encode_message(m)).collect();
            let mut reader = MessageReader::default();
            let mut got = Vec::new();
            let mut at = 0;
            for c in cuts.iter().cycle() {
                if at >= bytes.len() {
                    break;
                }
                let end = (at + c).min(bytes.len());
                got.extend(reader.push(&bytes[at..end]).unwrap());
                at = end;
            }
            prop_assert_eq!(got, messages);
            prop_assert_eq!(reader.pending(), 0);
        }

        #[test]
        fn any_bytes_read_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = MessageReader::default().push(&bytes);
        }
    }
}
