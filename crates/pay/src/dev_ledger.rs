//! The development wallet's ledger: **not money**. No Lightning node can run here, so tests and
//! demos settle zaps in this local ledger: accounts (one per wallet connection) with balances
//! in millisatoshis, regtest invoices it issues and settles between its own accounts, each
//! with a preimage it keeps. It is saved whole after every change, before the change is
//! reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use seedstr_client::files::durable::replace_file;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::invoice::{make_invoice, read_invoice, InvoiceError, NewInvoice};

/// The file's name in the wallet's folder.
pub const LEDGER_FILE: &str = "dev-wallet-ledger.json";
/// What a new account holds: 1,000,000 sats of play money.
pub const STARTING_BALANCE_MSAT: u64 = 1_000_000_000;
/// How long an invoice stays payable.
pub const INVOICE_EXPIRY: Duration = Duration::from_secs(3600);
/// The most invoices the ledger keeps.
pub const MAX_INVOICES: usize = 100_000;

/// Why a ledger operation failed; NIP-47 error codes in brackets.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Reading or writing the file.
    #[error("the development ledger {}: {why}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// [INSUFFICIENT_BALANCE]
    #[error("insufficient balance: {have} msat, {need} msat needed")]
    InsufficientBalance {
        /// What the account holds.
        have: u64,
        /// What the payment needs.
        need: u64,
    },
    /// [NOT_FOUND] an invoice this wallet did not issue.
    #[error("this development wallet did not issue that invoice (it pays only its own)")]
    NotOurs,
    /// [OTHER] paid already.
    #[error("that invoice is paid already")]
    AlreadyPaid,
    /// [OTHER] expired.
    #[error("that invoice expired")]
    Expired,
    /// [OTHER] no amount.
    #[error("that invoice names no amount")]
    NoAmount,
    /// [INTERNAL] too many invoices.
    #[error("the ledger holds {MAX_INVOICES} invoices already")]
    Full,
    /// [OTHER] the invoice does not read.
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
}

/// One invoice the wallet issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerInvoice {
    /// The invoice.
    pub bolt11: String,
    /// Which account it pays into (the connection's client key, hex).
    pub payee: String,
    /// Its amount.
    pub amount_msat: u64,
    /// The description hash it commits to (hex).
    pub description_hash: String,
    /// The preimage (hex), released when paid.
    pub preimage: String,
    /// When it was made.
    pub created_at: u64,
    /// When it stops being payable.
    pub expires_at: u64,
    /// When it was paid, once paid.
    pub settled_at: Option<u64>,
}

/// The ledger, as saved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    /// Balances per account (client key, hex), in msat.
    pub balances: BTreeMap<String, u64>,
    /// Invoices by payment hash (hex).
    pub invoices: BTreeMap<String, LedgerInvoice>,
    /// The connections the wallet serves (client keys, hex); any other is unauthorized.
    #[serde(default)]
    pub connections: std::collections::BTreeSet<String>,
}

/// A payment made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paid {
    /// The preimage (hex): the payer's proof.
    pub preimage: String,
    /// The invoice paid.
    pub invoice: LedgerInvoice,
}

/// The ledger in a folder, with the key that signs its invoices.
pub struct DevLedger {
    path: PathBuf,
    node_key: [u8; 32],
    state: Ledger,
}

impl DevLedger {
    /// Opens (or starts) the ledger in `dir`; `node_key` signs its invoices.
    pub fn open(dir: &Path, node_key: [u8; 32]) -> Result<DevLedger, LedgerError> {
        let path = dir.join(LEDGER_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| LedgerError::File {
                path: path.clone(),
                why: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ledger::default(),
            Err(e) => {
                return Err(LedgerError::File {
                    path,
                    why: e.to_string(),
                })
            }
        };
        Ok(DevLedger {
            path,
            node_key,
            state,
        })
    }

    /// The ledger as it stands.
    pub fn state(&self) -> &Ledger {
        &self.state
    }

    fn save(&self) -> Result<(), LedgerError> {
        let bytes = serde_json::to_vec_pretty(&self.state).expect("the ledger serializes");
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| LedgerError::File {
                path: self.path.clone(),
                why: e.to_string(),
            })?;
        }
        replace_file(&self.path, &bytes).map_err(|e| LedgerError::File {
            path: self.path.clone(),
            why: e.to_string(),
        })
    }

    /// The balance of `account`, opening it with the starting balance if it is new.
    pub fn balance(&mut self, account: &str) -> Result<u64, LedgerError> {
        if !self.state.balances.contains_key(account) {
            self.state
                .balances
                .insert(account.to_owned(), STARTING_BALANCE_MSAT);
            self.save()?;
        }
        Ok(self.state.balances[account])
    }

    /// Issues an invoice of `amount_msat` into `account` over `description_hash`, at `now`.
    pub fn make_invoice(
        &mut self,
        account: &str,
        amount_msat: u64,
        description_hash: [u8; 32],
        preimage: [u8; 32],
        now: u64,
    ) -> Result<LedgerInvoice, LedgerError> {
        if self.state.invoices.len() >= MAX_INVOICES {
            return Err(LedgerError::Full);
        }
        self.balance(account)?;
        let payment_hash: [u8; 32] = Sha256::digest(preimage).into();
        let bolt11 = make_invoice(
            &self.node_key,
            &NewInvoice {
                amount_msat,
                description_hash,
                payment_hash,
                payment_secret: Sha256::digest(payment_hash).into(),
                created_at: now,
                expiry: INVOICE_EXPIRY,
            },
        )?;
        let invoice = LedgerInvoice {
            bolt11,
            payee: account.to_owned(),
            amount_msat,
            description_hash: hex::encode(description_hash),
            preimage: hex::encode(preimage),
            created_at: now,
            expires_at: now + INVOICE_EXPIRY.as_secs(),
            settled_at: None,
        };
        self.state
            .invoices
            .insert(hex::encode(payment_hash), invoice.clone());
        self.save()?;
        Ok(invoice)
    }

    /// Pays `bolt11` from `account` at `now`: only an unpaid, unexpired invoice this wallet
    /// issued, within the balance. The balances move and the invoice is marked paid in one save.
    pub fn pay_invoice(
        &mut self,
        account: &str,
        bolt11: &str,
        now: u64,
    ) -> Result<Paid, LedgerError> {
        let read = read_invoice(bolt11)?;
        let amount = read.amount_msat.ok_or(LedgerError::NoAmount)?;
        let invoice = self
            .state
            .invoices
            .get(&read.payment_hash)
            .filter(|i| i.bolt11 == read.bolt11)
            .cloned()
            .ok_or(LedgerError::NotOurs)?;
        if invoice.settled_at.is_some() {
            return Err(LedgerError::AlreadyPaid);
        }
        if now > invoice.expires_at {
            return Err(LedgerError::Expired);
        }
        let have = self.balance(account)?;
        if have < amount {
            return Err(LedgerError::InsufficientBalance { have, need: amount });
        }
        let mut next = self.state.clone();
        *next.balances.get_mut(account).expect("opened above") -= amount;
        *next
            .balances
            .entry(invoice.payee.clone())
            .or_insert(STARTING_BALANCE_MSAT) += amount;
        let paid = next
            .invoices
            .get_mut(&read.payment_hash)
            .expect("found above");
        paid.settled_at = Some(now);
        let paid = paid.clone();
        let before = std::mem::replace(&mut self.state, next);
        if let Err(e) = self.save() {
            self.state = before;
            return Err(e);
        }
        Ok(Paid {
            preimage: paid.preimage.clone(),
            invoice: paid,
        })
    }

    /// Adds a connection (its client key, hex).
    pub fn add_connection(&mut self, client: &str) -> Result<(), LedgerError> {
        self.state.connections.insert(client.to_owned());
        self.save()
    }

    /// Whether `client` (hex) is a connection this wallet serves.
    pub fn serves(&self, client: &str) -> bool {
        self.state.connections.contains(client)
    }

    /// The invoice with `payment_hash` (hex), if this wallet issued it.
    pub fn lookup(&self, payment_hash: &str) -> Option<&LedgerInvoice> {
        self.state.invoices.get(payment_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoices_are_paid_once_within_balance_and_survive_a_reopen() {
        let dir = std::env::temp_dir().join(format!("seedstr-ledger-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut ledger = DevLedger::open(&dir, [1; 32]).unwrap();
        let (bob, alice) = ("b".repeat(64), "a".repeat(64));
        let inv = ledger
            .make_invoice(&bob, 21_000, [7; 32], [9; 32], 1_000)
            .unwrap();
        assert!(inv.bolt11.starts_with("lnbcrt"), "regtest: never money");
        let paid = ledger.pay_invoice(&alice, &inv.bolt11, 1_010).unwrap();
        assert_eq!(paid.preimage, hex::encode([9; 32]));
        assert_eq!(
            ledger.balance(&alice).unwrap(),
            STARTING_BALANCE_MSAT - 21_000
        );
        assert_eq!(
            ledger.balance(&bob).unwrap(),
            STARTING_BALANCE_MSAT + 21_000
        );
        assert!(matches!(
            ledger.pay_invoice(&alice, &inv.bolt11, 1_020),
            Err(LedgerError::AlreadyPaid)
        ));
        // Reopened: the same state.
        let mut again = DevLedger::open(&dir, [1; 32]).unwrap();
        assert_eq!(again.balance(&bob).unwrap(), STARTING_BALANCE_MSAT + 21_000);
        let h = hex::encode(Sha256::digest([9u8; 32]));
        assert_eq!(again.lookup(&h).unwrap().settled_at, Some(1_010));
        // Expired, too large, or someone else's invoice: refused by name.
        let late = again
            .make_invoice(&bob, 1_000, [7; 32], [8; 32], 2_000)
            .unwrap();
        assert!(matches!(
            again.pay_invoice(&alice, &late.bolt11, 2_000 + 3_601),
            Err(LedgerError::Expired)
        ));
        let big = again
            .make_invoice(&bob, STARTING_BALANCE_MSAT * 2, [7; 32], [6; 32], 2_000)
            .unwrap();
        assert!(matches!(
            again.pay_invoice(&alice, &big.bolt11, 2_001),
            Err(LedgerError::InsufficientBalance { .. })
        ));
        let foreign = make_invoice(
            &[2; 32],
            &NewInvoice {
                amount_msat: 1,
                description_hash: [0; 32],
                payment_hash: [5; 32],
                payment_secret: [5; 32],
                created_at: 2_000,
                expiry: INVOICE_EXPIRY,
            },
        )
        .unwrap();
        assert!(matches!(
            again.pay_invoice(&alice, &foreign, 2_001),
            Err(LedgerError::NotOurs)
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
