//! ILP timestamps: `YYYYMMDDHHmmSSfff` (an ASN.1 GeneralizedTime in UTC with milliseconds and no
//! zone letter, 17 characters), read to and from milliseconds since the Unix epoch.

/// Why a timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ILP timestamp {0:?} is not YYYYMMDDHHmmSSfff")]
pub struct TimestampError(pub String);

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Reads a 17-character ILP timestamp: milliseconds since the Unix epoch.
pub fn read_timestamp(s: &[u8]) -> Result<u64, TimestampError> {
    let bad = || TimestampError(String::from_utf8_lossy(s).into_owned());
    if s.len() != 17 || !s.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let n = |from: usize, to: usize| {
        s[from..to]
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'))
    };
    let (y, mo, d, h, mi, sec, ms) = (
        n(0, 4),
        n(4, 6),
        n(6, 8),
        n(8, 10),
        n(10, 12),
        n(12, 14),
        n(14, 17),
    );
    if y < 1970
        || !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo)
        || h > 23
        || mi > 59
        || sec > 59
    {
        return Err(bad());
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec;
    Ok((secs * 1000 + ms) as u64)
}

/// Writes milliseconds since the Unix epoch as a 17-character ILP timestamp (years past 9999
/// are written as 9999-12-31T23:59:59.999).
pub fn write_timestamp(millis: u64) -> [u8; 17] {
    let max = 253_402_300_799_999u64;
    let millis = millis.min(max) as i64;
    let (secs, ms) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let text = format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}{ms:03}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    let mut out = [0u8; 17];
    out.copy_from_slice(text.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_example_packet_s_expiry() {
        // ilp-packet's example 1: 2017-12-23T01:21:40.549Z.
        assert_eq!(
            read_timestamp(b"20171223012140549").unwrap(),
            1_513_992_100_549
        );
        assert_eq!(&write_timestamp(1_513_992_100_549), b"20171223012140549");
        for bad in [
            &b"2017122301214054"[..],
            b"2017-12-23012140",
            b"20171323012140549",
            b"20170230012140549",
        ] {
            assert!(read_timestamp(bad).is_err());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn timestamps_round_trip(ms in 0u64..253_402_300_799_999) {
            prop_assert_eq!(read_timestamp(&write_timestamp(ms)).unwrap(), ms);
        }
    }
}
