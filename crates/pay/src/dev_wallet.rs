//! `seedstr wallet dev`: the development wallet, **not money**. A NIP-47 wallet service over a
//! relay that settles in [`crate::dev_ledger`]: it answers `make_invoice`, `pay_invoice`,
//! `lookup_invoice` and `get_balance` from the connections it issued, and notifies the payee's
//! connection (`payment_received`) and the payer's (`payment_sent`) when an invoice is paid.
//! Any NWC client works with it; tests and demos use it where no Lightning node can run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nostr::nips::nip47::{
    ErrorCode, GetBalanceResponse, LookupInvoiceResponse, MakeInvoiceResponse, Method, NIP47Error,
    Nip47Ciphers, NostrWalletConnectUri, Notification, NotificationResult, NotificationType,
    PayInvoiceResponse, PaymentNotification, Request, RequestParams, Response, ResponseResult,
    TransactionState, TransactionType,
};
use nostr::prelude::{
    Event, EventBuilder, FinalizeEvent as _, Keys, Kind, PublicKey, RelayUrl, SecretKey, Tag,
    Timestamp,
};
use seedstr_client::relays::live::{subscribe, LiveNote};
use seedstr_client::relays::publish_all;
use sha2::{Digest as _, Sha256};
use tokio::sync::Mutex;

use crate::dev_ledger::{DevLedger, LedgerError, LedgerInvoice};
use crate::nwc::{cipher_of, INFO_KIND, REQUEST_KIND, RESPONSE_KIND};

/// The wallet's key file in its folder (play money: kept plain).
pub const KEY_FILE: &str = "dev-wallet.key";

/// Why the wallet could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevWalletError {
    /// Its key or ledger.
    #[error("{0}")]
    Files(String),
}

/// The wallet's key in `dir`, made on first use.
pub fn wallet_keys(dir: &Path) -> Result<Keys, DevWalletError> {
    let path = dir.join(KEY_FILE);
    let files =
        |e: &dyn std::fmt::Display| DevWalletError::Files(format!("{}: {e}", path.display()));
    match std::fs::read_to_string(&path) {
        Ok(hex) => SecretKey::from_hex(hex.trim())
            .map(Keys::new)
            .map_err(|e| files(&e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| files(&e))?;
            let keys = Keys::generate();
            seedstr_client::files::durable::replace_file(
                &path,
                keys.secret_key().to_secret_hex().as_bytes(),
            )
            .map_err(|e| files(&e))?;
            Ok(keys)
        }
        Err(e) => Err(files(&e)),
    }
}

/// The key that signs the wallet's invoices, derived from its Nostr key.
fn node_key(wallet: &Keys) -> [u8; 32] {
    Sha256::digest(
        [
            b"seedstr-dev-wallet-node:".as_slice(),
            wallet.secret_key().as_secret_bytes(),
        ]
        .concat(),
    )
    .into()
}

/// Opens the ledger of the wallet in `dir`.
pub fn open_ledger(dir: &Path, wallet: &Keys) -> Result<DevLedger, DevWalletError> {
    DevLedger::open(dir, node_key(wallet)).map_err(|e| DevWalletError::Files(e.to_string()))
}

/// Issues a new connection to the wallet in `dir`, reached through `relay`: its URI (the
/// client's secret inside) and the client key the wallet knows it by.
pub fn new_connection(dir: &Path, relay: &str) -> Result<String, DevWalletError> {
    let wallet = wallet_keys(dir)?;
    let mut ledger = open_ledger(dir, &wallet)?;
    let client = Keys::generate();
    ledger
        .add_connection(&client.public_key().to_hex())
        .map_err(|e| DevWalletError::Files(e.to_string()))?;
    let relay = RelayUrl::parse(relay).map_err(|e| DevWalletError::Files(e.to_string()))?;
    let uri = NostrWalletConnectUri::new(
        wallet.public_key(),
        vec![relay],
        client.secret_key().clone(),
        None,
    );
    Ok(uri.to_string())
}

/// The wallet serving on a relay.
pub struct DevWallet {
    keys: Keys,
    ledger: Mutex<DevLedger>,
    relay: String,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl DevWallet {
    /// The wallet in `dir`, on `relay`, dating by `clock` (Unix seconds).
    pub fn open(
        dir: &Path,
        relay: &str,
        clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> Result<DevWallet, DevWalletError> {
        let keys = wallet_keys(dir)?;
        let ledger = open_ledger(dir, &keys)?;
        Ok(DevWallet {
            keys,
            ledger: Mutex::new(ledger),
            relay: relay.to_owned(),
            clock,
        })
    }

    /// The wallet's public key.
    pub fn public_key(&self) -> PublicKey {
        self.keys.public_key()
    }

    /// Serves until the process ends: announces what it does (13194), then answers every
    /// request addressed to it.
    pub async fn serve(self: Arc<Self>) {
        let info = EventBuilder::new(
            Kind::from(INFO_KIND),
            "pay_invoice make_invoice lookup_invoice get_balance notifications",
        )
        .tags([
            Tag::parse(["encryption", "nip44_v2 nip04"]).expect("a valid tag"),
            Tag::parse(["notifications", "payment_received payment_sent"]).expect("a valid tag"),
        ])
        .finalize(&self.keys)
        .expect("signing with our own key");
        let relays = vec![self.relay.clone()];
        publish_all(&relays, &[info], std::time::Duration::from_secs(10)).await;
        let filter = serde_json::json!({
            "kinds": [REQUEST_KIND],
            "#p": [self.keys.public_key().to_hex()],
            "since": (self.clock)().saturating_sub(60),
        });
        let mut live = subscribe(&relays, vec![filter]);
        while let Some(note) = live.recv().await {
            if let LiveNote::Event { event, .. } = note {
                let out = self.answer(event.event()).await;
                if !out.is_empty() {
                    publish_all(&relays, &out, std::time::Duration::from_secs(10)).await;
                }
            }
        }
    }

    /// The answer to one request event, and any notifications it causes.
    pub async fn answer(&self, request: &Event) -> Vec<Event> {
        let client = request.pubkey;
        let cipher = cipher_of(request);
        let plain = match cipher.decrypt(self.keys.secret_key(), &client, &request.content) {
            Ok(p) => p,
            Err(_) => return Vec::new(),
        };
        let parsed = Request::from_json(&plain);
        let mut out = Vec::new();
        let response = match parsed {
            Err(e) => error(
                Method::GetInfo,
                ErrorCode::Other,
                &format!("unreadable request: {e}"),
            ),
            Ok(req) => {
                if !self.ledger.lock().await.serves(&client.to_hex()) {
                    error(
                        req.method,
                        ErrorCode::Unauthorized,
                        "this development wallet did not issue that connection",
                    )
                } else {
                    let (r, notes) = self.run(&client, req).await;
                    out.extend(notes);
                    r
                }
            }
        };
        if let Some(e) = self.sealed(
            RESPONSE_KIND,
            &client,
            cipher,
            &response_json(&response),
            Some(request),
        ) {
            out.insert(0, e);
        }
        out
    }

    async fn run(&self, client: &PublicKey, req: Request) -> (Response, Vec<Event>) {
        let account = client.to_hex();
        let now = (self.clock)();
        let mut ledger = self.ledger.lock().await;
        let method = req.method;
        let ok = |result| Response {
            result_type: method.clone(),
            error: None,
            result: Some(result),
        };
        match req.params {
            RequestParams::MakeInvoice(p) => {
                let Some(hash) = p
                    .description_hash
                    .as_deref()
                    .and_then(|h| hex::decode(h).ok())
                    .and_then(|h| <[u8; 32]>::try_from(h).ok())
                else {
                    return (
                        error(
                            method.clone(),
                            ErrorCode::Other,
                            "this wallet makes invoices with a description_hash only",
                        ),
                        Vec::new(),
                    );
                };
                let preimage: [u8; 32] = rand_bytes();
                match ledger.make_invoice(&account, p.amount, hash, preimage, now) {
                    Ok(inv) => (ok(ResponseResult::MakeInvoice(made(&inv))), Vec::new()),
                    Err(e) => (ledger_error(method.clone(), e), Vec::new()),
                }
            }
            RequestParams::PayInvoice(p) => match ledger.pay_invoice(&account, &p.invoice, now) {
                Ok(paid) => {
                    let notes = [
                        (
                            NotificationType::PaymentReceived,
                            paid.invoice.payee.clone(),
                            TransactionType::Incoming,
                        ),
                        (
                            NotificationType::PaymentSent,
                            account.clone(),
                            TransactionType::Outgoing,
                        ),
                    ]
                    .into_iter()
                    .filter_map(|(kind, to, direction)| {
                        let to = PublicKey::from_hex(&to).ok()?;
                        let note = Notification {
                            notification_type: kind,
                            notification: match kind {
                                NotificationType::PaymentSent => NotificationResult::PaymentSent(
                                    notified(&paid.invoice, direction),
                                ),
                                _ => NotificationResult::PaymentReceived(notified(
                                    &paid.invoice,
                                    direction,
                                )),
                            },
                        };
                        let json = serde_json::to_string(&note).ok()?;
                        self.sealed(23197, &to, Nip47Ciphers::NIP44V2, &json, None)
                    })
                    .collect();
                    (
                        ok(ResponseResult::PayInvoice(PayInvoiceResponse {
                            preimage: paid.preimage,
                            fees_paid: Some(0),
                        })),
                        notes,
                    )
                }
                Err(e) => (ledger_error(method.clone(), e), Vec::new()),
            },
            RequestParams::LookupInvoice(p) => {
                let found = p
                    .payment_hash
                    .as_deref()
                    .and_then(|h| ledger.lookup(h))
                    .cloned();
                match found {
                    Some(inv) => (
                        ok(ResponseResult::LookupInvoice(looked_up(&inv))),
                        Vec::new(),
                    ),
                    None => (
                        error(method.clone(), ErrorCode::NotFound, "no such invoice"),
                        Vec::new(),
                    ),
                }
            }
            RequestParams::GetBalance => match ledger.balance(&account) {
                Ok(balance) => (
                    ok(ResponseResult::GetBalance(GetBalanceResponse { balance })),
                    Vec::new(),
                ),
                Err(e) => (ledger_error(method.clone(), e), Vec::new()),
            },
            _ => (
                error(
                    method.clone(),
                    ErrorCode::NotImplemented,
                    "the development wallet does not do that",
                ),
                Vec::new(),
            ),
        }
    }

    /// An event of `kind` to `to`, its content encrypted with `cipher`, answering `request`.
    fn sealed(
        &self,
        kind: u16,
        to: &PublicKey,
        cipher: Nip47Ciphers,
        json: &str,
        request: Option<&Event>,
    ) -> Option<Event> {
        let content = cipher
            .encrypt(self.keys.secret_key(), to, &json.to_owned())
            .ok()?;
        let mut tags = vec![Tag::public_key(*to)];
        if let Some(r) = request {
            tags.push(Tag::event(r.id));
        }
        EventBuilder::new(Kind::from(kind), content)
            .tags(tags)
            .finalize(&self.keys)
            .ok()
    }
}

fn rand_bytes() -> [u8; 32] {
    let k = Keys::generate();
    let mut out = [0u8; 32];
    out.copy_from_slice(k.secret_key().as_secret_bytes());
    out
}

fn response_json(r: &Response) -> String {
    serde_json::to_string(r).expect("a response serializes")
}

fn error(method: Method, code: ErrorCode, message: &str) -> Response {
    Response {
        result_type: method,
        error: Some(NIP47Error {
            code,
            message: format!("{message} (development wallet: not money)"),
        }),
        result: None,
    }
}

fn ledger_error(method: Method, e: LedgerError) -> Response {
    let code = match &e {
        LedgerError::InsufficientBalance { .. } => ErrorCode::InsufficientBalance,
        LedgerError::NotOurs => ErrorCode::NotFound,
        LedgerError::File { .. } | LedgerError::Full => ErrorCode::Internal,
        _ => ErrorCode::Other,
    };
    error(method, code, &e.to_string())
}

fn made(inv: &LedgerInvoice) -> MakeInvoiceResponse {
    MakeInvoiceResponse {
        invoice: inv.bolt11.clone(),
        payment_hash: Some(payment_hash(inv)),
        description: None,
        description_hash: Some(inv.description_hash.clone()),
        preimage: None,
        amount: Some(inv.amount_msat),
        created_at: Some(Timestamp::from(inv.created_at)),
        expires_at: Some(Timestamp::from(inv.expires_at)),
    }
}

fn looked_up(inv: &LedgerInvoice) -> LookupInvoiceResponse {
    LookupInvoiceResponse {
        transaction_type: Some(TransactionType::Incoming),
        state: Some(if inv.settled_at.is_some() {
            TransactionState::Settled
        } else {
            TransactionState::Pending
        }),
        invoice: Some(inv.bolt11.clone()),
        description: None,
        description_hash: Some(inv.description_hash.clone()),
        preimage: inv.settled_at.map(|_| inv.preimage.clone()),
        payment_hash: payment_hash(inv),
        amount: inv.amount_msat,
        fees_paid: 0,
        created_at: Timestamp::from(inv.created_at),
        expires_at: Some(Timestamp::from(inv.expires_at)),
        settled_at: inv.settled_at.map(Timestamp::from),
        metadata: None,
    }
}

fn notified(inv: &LedgerInvoice, direction: TransactionType) -> PaymentNotification {
    PaymentNotification {
        transaction_type: Some(direction),
        state: Some(TransactionState::Settled),
        invoice: inv.bolt11.clone(),
        description: None,
        description_hash: Some(inv.description_hash.clone()),
        preimage: inv.preimage.clone(),
        payment_hash: payment_hash(inv),
        amount: inv.amount_msat,
        fees_paid: 0,
        created_at: Timestamp::from(inv.created_at),
        expires_at: Some(Timestamp::from(inv.expires_at)),
        settled_at: Timestamp::from(inv.settled_at.unwrap_or(inv.created_at)),
        metadata: None,
    }
}

fn payment_hash(inv: &LedgerInvoice) -> String {
    let preimage = hex::decode(&inv.preimage).unwrap_or_default();
    hex::encode(Sha256::digest(preimage))
}

/// Where a wallet keeps its files by default: `<home>/dev-wallet`.
pub fn default_dir(home: &Path) -> PathBuf {
    home.join("dev-wallet")
}
