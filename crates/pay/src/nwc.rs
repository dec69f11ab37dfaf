//! Nostr Wallet Connect (NIP-47): the real wallet protocol. [`WalletClient`] asks any NWC
//! wallet, through the relay its connection URI names, to make, pay and look up invoices, and
//! hears its payment notifications; requests are NIP-44-encrypted kind 23194 events signed by
//! the connection's secret, answers kind 23195 from the wallet's key. nostr's `nip47` types do
//! the encoding; this module does the round trips, bounded by a timeout.

use std::time::Duration;

use nostr::nips::nip47::{
    GetBalanceResponse, LookupInvoiceRequest, LookupInvoiceResponse, MakeInvoiceRequest,
    MakeInvoiceResponse, Nip47Ciphers, NostrWalletConnectUri, Notification, PayInvoiceRequest,
    PayInvoiceResponse, Request, Response,
};
use nostr::prelude::Keys;
use seedstr_client::relays::conn::RelayConn;
use serde_json::{json, Value};

/// NIP-47's request kind.
pub const REQUEST_KIND: u16 = 23194;
/// NIP-47's response kind.
pub const RESPONSE_KIND: u16 = 23195;
/// NIP-47's notification kinds (NIP-04, NIP-44).
pub const NOTIFICATION_KINDS: [u16; 2] = [23196, 23197];
/// NIP-47's wallet info kind.
pub const INFO_KIND: u16 = 13194;

/// Why a wallet call failed.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The connection URI does not read.
    #[error("not a wallet connection URI (nostr+walletconnect://…): {0}")]
    BadUri(String),
    /// The URI names no relay.
    #[error("the wallet connection names no relay")]
    NoRelay,
    /// The relay could not be reached or dropped the request.
    #[error("the wallet's relay {relay}: {why}")]
    Relay {
        /// The relay.
        relay: String,
        /// Why.
        why: String,
    },
    /// No answer in time.
    #[error("the wallet did not answer within {0:?}")]
    Timeout(Duration),
    /// The wallet answered with an error.
    #[error("the wallet refused: {0}")]
    Refused(String),
    /// The answer does not read.
    #[error("the wallet's answer does not read: {0}")]
    BadAnswer(String),
}

/// A connection to one NWC wallet.
#[derive(Debug, Clone)]
pub struct WalletClient {
    /// The connection: wallet key, relays, the client's secret.
    pub uri: NostrWalletConnectUri,
    /// How long to wait for each answer.
    pub timeout: Duration,
}

impl WalletClient {
    /// A client for `uri` (`nostr+walletconnect://<wallet>?relay=…&secret=…`).
    pub fn new(uri: &str, timeout: Duration) -> Result<WalletClient, WalletError> {
        let uri =
            NostrWalletConnectUri::parse(uri).map_err(|e| WalletError::BadUri(e.to_string()))?;
        if uri.relays.is_empty() {
            return Err(WalletError::NoRelay);
        }
        Ok(WalletClient { uri, timeout })
    }

    /// The connection's own key (the account the wallet knows it by).
    pub fn client_keys(&self) -> Keys {
        Keys::new(self.uri.secret.clone())
    }

    fn relay(&self) -> String {
        self.uri.relays[0].to_string()
    }

    /// Sends `request` and waits for the wallet's answer to it.
    pub async fn call(&self, request: Request) -> Result<Response, WalletError> {
        let relay = self.relay();
        let fail = |why: String| WalletError::Relay {
            relay: relay.clone(),
            why,
        };
        let event = request
            .to_event(&self.uri, Nip47Ciphers::NIP44V2)
            .map_err(|e| WalletError::BadAnswer(e.to_string()))?;
        let ask = async {
            let mut conn = RelayConn::connect(&relay)
                .await
                .map_err(|e| fail(e.to_string()))?;
            conn.timeout = self.timeout;
            // Listen for the answer before asking, so it cannot slip by.
            let filter = json!({
                "kinds": [RESPONSE_KIND],
                "authors": [self.uri.public_key.to_hex()],
                "#e": [event.id.to_hex()],
            });
            conn.send(&json!(["REQ", "nwc", filter]))
                .await
                .map_err(|e| fail(e.to_string()))?;
            let (taken, why) = conn
                .publish(&event)
                .await
                .map_err(|e| fail(e.to_string()))?;
            if !taken {
                return Err(fail(why));
            }
            loop {
                let m = conn.recv().await.map_err(|e| fail(e.to_string()))?;
                if m.first().and_then(Value::as_str) != Some("EVENT")
                    || m.get(1).and_then(Value::as_str) != Some("nwc")
                {
                    continue;
                }
                let Some(answer) = m
                    .get(2)
                    .and_then(|e| nostr::prelude::Event::from_json(e.to_string()).ok())
                else {
                    continue;
                };
                if answer.verify().is_err() || answer.pubkey != self.uri.public_key {
                    continue;
                }
                // We ask in NIP-44; the wallet answers in the same.
                let response = Response::from_event(&self.uri, &answer, Nip47Ciphers::NIP44V2)
                    .map_err(|e| WalletError::BadAnswer(e.to_string()))?;
                return Ok(response);
            }
        };
        match tokio::time::timeout(self.timeout, ask).await {
            Ok(r) => r,
            Err(_) => Err(WalletError::Timeout(self.timeout)),
        }
    }

    /// Asks for an invoice of `amount_msat` committing to `description_hash` (hex).
    pub async fn make_invoice(
        &self,
        amount_msat: u64,
        description_hash: &str,
    ) -> Result<MakeInvoiceResponse, WalletError> {
        let r = self
            .call(Request::make_invoice(MakeInvoiceRequest {
                amount: amount_msat,
                description: None,
                description_hash: Some(description_hash.to_owned()),
                expiry: None,
            }))
            .await?;
        refused(&r)?;
        r.to_make_invoice()
            .map_err(|e| WalletError::BadAnswer(e.to_string()))
    }

    /// Pays `bolt11`; the preimage.
    pub async fn pay_invoice(&self, bolt11: &str) -> Result<PayInvoiceResponse, WalletError> {
        let r = self
            .call(Request::pay_invoice(PayInvoiceRequest::new(bolt11)))
            .await?;
        refused(&r)?;
        r.to_pay_invoice()
            .map_err(|e| WalletError::BadAnswer(e.to_string()))
    }

    /// Looks up the invoice with `payment_hash` (hex).
    pub async fn lookup_invoice(
        &self,
        payment_hash: &str,
    ) -> Result<LookupInvoiceResponse, WalletError> {
        let r = self
            .call(Request::lookup_invoice(LookupInvoiceRequest {
                payment_hash: Some(payment_hash.to_owned()),
                invoice: None,
            }))
            .await?;
        refused(&r)?;
        r.to_lookup_invoice()
            .map_err(|e| WalletError::BadAnswer(e.to_string()))
    }

    /// The balance, in millisatoshis.
    pub async fn get_balance(&self) -> Result<GetBalanceResponse, WalletError> {
        let r = self.call(Request::get_balance()).await?;
        refused(&r)?;
        r.to_get_balance()
            .map_err(|e| WalletError::BadAnswer(e.to_string()))
    }

    /// Reads a notification event addressed to this connection.
    pub fn notification(&self, event: &nostr::prelude::Event) -> Result<Notification, WalletError> {
        Notification::from_event(&self.uri, event)
            .map_err(|e| WalletError::BadAnswer(e.to_string()))
    }
}

fn refused(r: &Response) -> Result<(), WalletError> {
    match &r.error {
        Some(e) => Err(WalletError::Refused(e.to_string())),
        None => Ok(()),
    }
}

/// The cipher an NWC event says it uses: NIP-44 v2 when its `encryption` tag says so, else
/// NIP-04 (the protocol's default).
pub fn cipher_of(event: &nostr::prelude::Event) -> Nip47Ciphers {
    let nip44 = event.tags.iter().any(|t| {
        matches!(t.as_slice(), [n, v, ..] if n == "encryption" && v.split_whitespace().any(|c| c == "nip44_v2"))
    });
    if nip44 {
        Nip47Ciphers::NIP44V2
    } else {
        Nip47Ciphers::NIP04
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 128,
            ..ProptestConfig::default()
        })]

        /// Any text is a connection or is refused by name, never a panic; a URI we write reads.
        #[test]
        fn connection_uris_read_or_are_refused(junk in "\\PC{0,200}", secret in any::<[u8; 32]>()) {
            let _ = WalletClient::new(&junk, Duration::from_secs(1));
            if let Ok(secret) = nostr::prelude::SecretKey::from_slice(&secret) {
                let uri = NostrWalletConnectUri::new(
                    Keys::generate().public_key(),
                    vec![nostr::prelude::RelayUrl::parse("ws://127.0.0.1:7447").unwrap()],
                    secret,
                    None,
                );
                prop_assert!(WalletClient::new(&uri.to_string(), Duration::from_secs(1)).is_ok());
            }
        }
    }
}
