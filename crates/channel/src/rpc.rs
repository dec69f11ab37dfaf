//! A chain node over Ethereum JSON-RPC (anvil on loopback in the tests): transactions signed
//! here (EIP-155 legacy transactions, so the key never leaves the process), sent raw, and
//! waited for until their receipt; calls, balances and the clock read back. Answers are bounded
//! (1 MiB) and every field is checked as it is read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy_primitives::{keccak256, Address, Bytes, Log, LogData, B256, U256};
use alloy_rlp::{Encodable, Header};
use serde_json::{json, Value};

use crate::chain::{Chain, ChainError, Outcome, Wallet};

/// The largest answer read.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// How long a transaction may take to be mined.
const MINED_WITHIN: Duration = Duration::from_secs(60);

/// A chain node reached over JSON-RPC.
pub struct RpcChain {
    url: String,
    client: reqwest::Client,
    chain_id: u64,
    next_id: AtomicU64,
}

fn rpc_error(why: impl std::fmt::Display) -> ChainError {
    ChainError::Rpc(why.to_string())
}

fn quantity(v: &Value, what: &str) -> Result<U256, ChainError> {
    let text = v
        .as_str()
        .ok_or_else(|| rpc_error(format!("{what}: not a hex quantity: {v}")))?;
    U256::from_str_radix(text.trim_start_matches("0x"), 16)
        .map_err(|e| rpc_error(format!("{what}: {e}")))
}

fn small(v: &Value, what: &str) -> Result<u64, ChainError> {
    let n = quantity(v, what)?;
    u64::try_from(n).map_err(|_| rpc_error(format!("{what}: {n} is too large")))
}

fn hex_bytes(v: &Value, what: &str) -> Result<Bytes, ChainError> {
    let text = v
        .as_str()
        .ok_or_else(|| rpc_error(format!("{what}: not hex: {v}")))?;
    hex::decode(text.trim_start_matches("0x"))
        .map(Bytes::from)
        .map_err(|e| rpc_error(format!("{what}: {e}")))
}

/// The contract's reason in a JSON-RPC error (anvil puts the revert data in `data`).
pub fn refusal(error: &Value) -> ChainError {
    let message = error["message"].as_str().unwrap_or("an error").to_owned();
    let reason = error["data"]
        .as_str()
        .and_then(|d| hex::decode(d.trim_start_matches("0x")).ok())
        .and_then(|d| crate::contract::revert_reason(&d));
    match reason {
        Some(r) => ChainError::Reverted(r),
        None if message.contains("revert") => ChainError::Reverted(message),
        None => ChainError::Rpc(message),
    }
}

/// An EIP-155 legacy transaction.
struct LegacyTx<'a> {
    chain_id: u64,
    nonce: u64,
    gas_price: U256,
    gas: u64,
    to: Option<Address>,
    value: U256,
    data: &'a [u8],
}

impl LegacyTx<'_> {
    /// Its RLP list, ending in `tail`'s fields.
    fn rlp(&self, tail: &dyn Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut payload = Vec::new();
        self.nonce.encode(&mut payload);
        self.gas_price.encode(&mut payload);
        self.gas.encode(&mut payload);
        match self.to {
            Some(a) => a.encode(&mut payload),
            None => payload.push(alloy_rlp::EMPTY_STRING_CODE),
        }
        self.value.encode(&mut payload);
        self.data.encode(&mut payload);
        tail(&mut payload);
        let mut out = Vec::new();
        Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend(payload);
        out
    }

    /// Signed with `key`: what `eth_sendRawTransaction` takes.
    fn signed(&self, key: &k256::ecdsa::SigningKey) -> Vec<u8> {
        let unsigned = self.rlp(&|p| {
            self.chain_id.encode(p);
            0u8.encode(p);
            0u8.encode(p);
        });
        let hash = keccak256(&unsigned);
        let (sig, recovery) = key
            .sign_prehash_recoverable(hash.as_slice())
            .expect("signing a 32-byte digest");
        let sig = sig.normalize_s().unwrap_or(sig);
        let bytes = sig.to_bytes();
        let (r, s) = (
            U256::from_be_slice(&bytes[..32]),
            U256::from_be_slice(&bytes[32..]),
        );
        let v = self.chain_id * 2 + 35 + u64::from(recovery.to_byte() & 1);
        self.rlp(&|p| {
            v.encode(p);
            r.encode(p);
            s.encode(p);
        })
    }
}

impl RpcChain {
    /// Connects to the node at `url` and asks its chain id.
    pub async fn connect(url: &str) -> Result<RpcChain, ChainError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(rpc_error)?;
        let mut chain = RpcChain {
            url: url.to_owned(),
            client,
            chain_id: 0,
            next_id: AtomicU64::new(1),
        };
        chain.chain_id = small(&chain.rpc("eth_chainId", json!([])).await?, "chain id")?;
        Ok(chain)
    }

    /// One JSON-RPC call: its result, or the node's error.
    pub async fn rpc(&self, method: &str, params: Value) -> Result<Value, ChainError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
            )
            .send()
            .await
            .map_err(|e| rpc_error(format!("{method}: {e}")))?;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| rpc_error(format!("{method}: {e}")))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(rpc_error(format!(
                    "{method}: an answer over {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let answer: Value = serde_json::from_slice(&body)
            .map_err(|e| rpc_error(format!("{method}: not JSON-RPC: {e}")))?;
        if let Some(error) = answer.get("error") {
            return Err(refusal(error));
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| rpc_error(format!("{method}: no result")))
    }

    async fn receipt(&self, hash: &str) -> Result<Value, ChainError> {
        let deadline = tokio::time::Instant::now() + MINED_WITHIN;
        loop {
            let r = self.rpc("eth_getTransactionReceipt", json!([hash])).await?;
            if !r.is_null() {
                return Ok(r);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(rpc_error(format!(
                    "transaction {hash} not mined within {MINED_WITHIN:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn call_object(from: Option<Address>, to: Option<Address>, value: U256, data: &[u8]) -> Value {
    let mut o = json!({"value": format!("{value:#x}"), "data": format!("0x{}", hex::encode(data))});
    if let Some(f) = from {
        o["from"] = json!(f.to_string());
    }
    if let Some(t) = to {
        o["to"] = json!(t.to_string());
    }
    o
}

/// The logs of a transaction receipt as a node answers it (`logs`: address, topics, data),
/// each field checked.
pub fn receipt_logs(receipt: &Value) -> Result<Vec<Log>, ChainError> {
    let Some(logs) = receipt["logs"].as_array() else {
        return Ok(Vec::new());
    };
    logs.iter()
        .map(|l| {
            let address: Address = l["address"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| rpc_error("a log without an address"))?;
            let topics = l["topics"]
                .as_array()
                .ok_or_else(|| rpc_error("a log without topics"))?
                .iter()
                .map(|t| {
                    t.as_str()
                        .and_then(|t| t.parse::<B256>().ok())
                        .ok_or_else(|| rpc_error("a topic that is not 32 bytes"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let data = hex_bytes(&l["data"], "log data")?;
            let data = LogData::new(topics, data).ok_or_else(|| rpc_error("over 4 topics"))?;
            Ok(Log { address, data })
        })
        .collect()
}

impl Chain for RpcChain {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    async fn send(
        &self,
        from: &Wallet,
        to: Option<Address>,
        value: U256,
        data: Bytes,
    ) -> Result<Outcome, ChainError> {
        let nonce = small(
            &self
                .rpc(
                    "eth_getTransactionCount",
                    json!([from.address.to_string(), "pending"]),
                )
                .await?,
            "nonce",
        )?;
        let gas_price = quantity(&self.rpc("eth_gasPrice", json!([])).await?, "gas price")?;
        // Estimating runs the transaction: a refusal comes back here with its reason.
        let estimate = small(
            &self
                .rpc(
                    "eth_estimateGas",
                    json!([call_object(Some(from.address), to, value, &data)]),
                )
                .await?,
            "gas estimate",
        )?;
        let raw = LegacyTx {
            chain_id: self.chain_id,
            nonce,
            gas_price,
            gas: estimate + estimate / 5,
            to,
            value,
            data: &data,
        }
        .signed(&from.key);
        let hash = self
            .rpc(
                "eth_sendRawTransaction",
                json!([format!("0x{}", hex::encode(raw))]),
            )
            .await?;
        let hash = hash
            .as_str()
            .ok_or_else(|| rpc_error("no transaction hash"))?
            .to_owned();
        let receipt = self.receipt(&hash).await?;
        if receipt["status"].as_str() != Some("0x1") {
            return Err(ChainError::Reverted(format!(
                "transaction {hash} failed on the chain"
            )));
        }
        Ok(Outcome {
            created: receipt["contractAddress"]
                .as_str()
                .and_then(|a| a.parse().ok()),
            logs: receipt_logs(&receipt)?,
            gas_used: small(&receipt["gasUsed"], "gas used")?,
            fee: quantity(&receipt["gasUsed"], "gas used")?
                * quantity(&receipt["effectiveGasPrice"], "gas price")?,
            hash: Some(hash),
        })
    }

    async fn call(&self, to: Address, data: Bytes) -> Result<Bytes, ChainError> {
        let out = self
            .rpc(
                "eth_call",
                json!([call_object(None, Some(to), U256::ZERO, &data), "latest"]),
            )
            .await?;
        hex_bytes(&out, "call result")
    }

    async fn balance(&self, who: Address) -> Result<U256, ChainError> {
        quantity(
            &self
                .rpc("eth_getBalance", json!([who.to_string(), "latest"]))
                .await?,
            "balance",
        )
    }

    async fn now(&self) -> Result<u64, ChainError> {
        let block = self
            .rpc("eth_getBlockByNumber", json!(["latest", false]))
            .await?;
        small(&block["timestamp"], "block time")
    }

    async fn advance(&self, secs: u64) -> Result<(), ChainError> {
        self.rpc("evm_increaseTime", json!([secs])).await?;
        self.rpc("evm_mine", json!([])).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_transaction_signs_as_eip155_says() {
        // EIP-155's own example: nonce 9, gas price 20 gwei, gas 21000, to 0x3535…, value
        // 1 ether, no data, chain 1, key 0x4646….
        let key = k256::ecdsa::SigningKey::from_slice(&[0x46; 32]).unwrap();
        let raw = LegacyTx {
            chain_id: 1,
            nonce: 9,
            gas_price: U256::from(20_000_000_000u64),
            gas: 21_000,
            to: Some(Address::repeat_byte(0x35)),
            value: U256::from(10u64.pow(18)),
            data: &[],
        }
        .signed(&key);
        assert_eq!(
            hex::encode(raw),
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        );
    }
}
