//! BOLT11 invoices: read one (its signature checked, its amount, description hash and payment
//! hash taken out) and, for the development wallet, make one signed with a key of its own and
//! marked for regtest (`lnbcrt`) so that nobody takes it for money. `lightning-invoice` does the
//! encoding and the signature.

use std::str::FromStr as _;
use std::time::Duration;

use bitcoin::hashes::{sha256, Hash as _};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef, Currency, InvoiceBuilder};

/// The longest invoice read, in characters (BOLT11 invoices with many route hints stay far
/// below it).
pub const MAX_INVOICE_CHARS: usize = 7_089;

/// Why an invoice could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    /// Over the cap.
    #[error("the invoice has {0} characters, over the {MAX_INVOICE_CHARS}-character cap")]
    TooLong(usize),
    /// Not a valid signed BOLT11 invoice.
    #[error("not a valid BOLT11 invoice: {0}")]
    Invalid(String),
    /// Making one failed.
    #[error("making the invoice: {0}")]
    Make(String),
}

/// What an invoice says, its signature checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Invoice {
    /// The invoice as text.
    pub bolt11: String,
    /// Its amount, in millisatoshis, when it names one.
    pub amount_msat: Option<u64>,
    /// The SHA-256 its description hash commits to (hex), when it has one.
    pub description_hash: Option<String>,
    /// The payment hash (hex): the preimage's SHA-256.
    pub payment_hash: String,
    /// The node that signed it (33-byte compressed key, hex).
    pub payee: String,
    /// When it was made (Unix seconds).
    pub created_at: u64,
    /// When it stops being payable (Unix seconds).
    pub expires_at: u64,
    /// Which network: `bc` (bitcoin), `tb` (testnet), `bcrt` (regtest: the development
    /// wallet), `tbs` (signet).
    pub network: String,
}

/// Reads `bolt11`, refusing it unless its signature holds.
pub fn read_invoice(bolt11: &str) -> Result<Invoice, InvoiceError> {
    let text = bolt11.trim();
    let chars = text.chars().count();
    if chars > MAX_INVOICE_CHARS {
        return Err(InvoiceError::TooLong(chars));
    }
    let invoice =
        Bolt11Invoice::from_str(text).map_err(|e| InvoiceError::Invalid(e.to_string()))?;
    let description_hash = match invoice.description() {
        Bolt11InvoiceDescriptionRef::Hash(h) => Some(hex::encode(h.0.to_byte_array())),
        Bolt11InvoiceDescriptionRef::Direct(_) => None,
    };
    let created_at = invoice.duration_since_epoch().as_secs();
    Ok(Invoice {
        bolt11: text.to_owned(),
        amount_msat: invoice.amount_milli_satoshis(),
        description_hash,
        payment_hash: hex::encode(invoice.payment_hash().to_byte_array()),
        payee: hex::encode(invoice.recover_payee_pub_key().serialize()),
        created_at,
        expires_at: created_at.saturating_add(invoice.expiry_time().as_secs()),
        network: match invoice.currency() {
            Currency::Bitcoin => "bc",
            Currency::BitcoinTestnet => "tb",
            Currency::Regtest => "bcrt",
            Currency::Simnet => "sb",
            Currency::Signet => "tbs",
        }
        .to_owned(),
    })
}

/// What the development wallet puts in an invoice it makes.
#[derive(Debug, Clone)]
pub struct NewInvoice {
    /// The amount, in millisatoshis.
    pub amount_msat: u64,
    /// The SHA-256 of the description (for a zap, of the zap request's JSON).
    pub description_hash: [u8; 32],
    /// The payment hash: SHA-256 of the preimage the wallet keeps.
    pub payment_hash: [u8; 32],
    /// The payment secret (BOLT11 `s`).
    pub payment_secret: [u8; 32],
    /// When it is made (Unix seconds); passed in, so tests need no clock.
    pub created_at: u64,
    /// How long it stays payable.
    pub expiry: Duration,
}

/// Makes a regtest (`lnbcrt`) invoice signed with `node_key`: only the development wallet
/// makes invoices, and they must never pass for money.
pub fn make_invoice(node_key: &[u8; 32], new: &NewInvoice) -> Result<String, InvoiceError> {
    let key = SecretKey::from_slice(node_key).map_err(|e| InvoiceError::Make(e.to_string()))?;
    let invoice = InvoiceBuilder::new(Currency::Regtest)
        .description_hash(sha256::Hash::from_byte_array(new.description_hash))
        .payment_hash(sha256::Hash::from_byte_array(new.payment_hash))
        .payment_secret(lightning_invoice::PaymentSecret(new.payment_secret))
        .duration_since_epoch(Duration::from_secs(new.created_at))
        .min_final_cltv_expiry_delta(144)
        .amount_milli_satoshis(new.amount_msat)
        .expiry_time(new.expiry)
        .build_signed(|hash| Secp256k1::new().sign_ecdsa_recoverable(hash, &key))
        .map_err(|e| InvoiceError::Make(e.to_string()))?;
    Ok(invoice.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn new(amount_msat: u64) -> NewInvoice {
        NewInvoice {
            amount_msat,
            description_hash: [7; 32],
            payment_hash: [9; 32],
            payment_secret: [3; 32],
            created_at: 1_700_000_000,
            expiry: Duration::from_secs(3600),
        }
    }

    #[test]
    fn what_is_made_reads_back_and_is_marked_regtest() {
        let text = make_invoice(&[1; 32], &new(21_000)).unwrap();
        assert!(text.starts_with("lnbcrt210n1"), "{text}");
        let read = read_invoice(&text).unwrap();
        assert_eq!(read.amount_msat, Some(21_000));
        assert_eq!(read.description_hash, Some(hex::encode([7; 32])));
        assert_eq!(read.payment_hash, hex::encode([9; 32]));
        assert_eq!(read.network, "bcrt");
        assert_eq!(read.created_at, 1_700_000_000);
        assert_eq!(read.expires_at, 1_700_003_600);
    }

    #[test]
    fn a_tampered_or_oversized_invoice_is_refused() {
        let text = make_invoice(&[1; 32], &new(21_000)).unwrap();
        // Another amount under the same signature.
        let forged = text.replacen("lnbcrt210n", "lnbcrt990n", 1);
        assert!(read_invoice(&forged).is_err());
        assert!(matches!(
            read_invoice(&"a".repeat(MAX_INVOICE_CHARS + 1)),
            Err(InvoiceError::TooLong(_))
        ));
        assert!(read_invoice("lnbc1").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..ProptestConfig::default()
        })]

        /// Any amount made reads back; any text reads or is refused, never a panic.
        #[test]
        fn amounts_read_back_and_junk_is_refused(msat in 1u64..2_100_000_000_000_000, junk in "\\PC{0,200}") {
            let text = make_invoice(&[2; 32], &new(msat)).unwrap();
            prop_assert_eq!(read_invoice(&text).unwrap().amount_msat, Some(msat));
            let _ = read_invoice(&junk);
        }
    }
}
