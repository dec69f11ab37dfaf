//! Claims: the sender's EIP-712 signature over a channel and a cumulative amount, which the
//! recipient alone may cash on-chain. The domain names the chain and the contract, so a claim is
//! good on one deployment only. Off-chain, a recipient takes a claim only when its signer is the
//! channel's sender, it asks more than the best claim taken so far and no more than the
//! deposit: what it adds is what the sender paid since.

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_sol_types::{Eip712Domain, SolStruct as _};
use k256::ecdsa::SigningKey;
use serde::{Deserialize, Serialize};

alloy_sol_types::sol! {
    /// What a claim's signature covers (`Claim(bytes32 channelId,uint256 cumulativeAmount)`).
    #[derive(Debug, PartialEq, Eq)]
    struct Claim {
        bytes32 channelId;
        uint256 cumulativeAmount;
    }
}

/// Half the secp256k1 group order: a signature with a larger `s` is the malleable twin of one
/// with a smaller, and the contract refuses it.
const HALF_ORDER: U256 = U256::from_be_bytes(alloy_primitives::hex!(
    "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0"
));

/// The EIP-712 domain of the contract at `contract` on chain `chain_id`.
pub fn domain(chain_id: u64, contract: Address) -> Eip712Domain {
    alloy_sol_types::eip712_domain! {
        name: "SeedstrChannel",
        version: "1",
        chain_id: chain_id,
        verifying_contract: contract,
    }
}

/// A signed claim as it travels between peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedClaim {
    /// The channel.
    pub channel: B256,
    /// Everything the sender has paid through the channel so far.
    pub cumulative: U256,
    /// r ‖ s ‖ v (v 27 or 28).
    #[serde(with = "signature_hex")]
    pub signature: [u8; 65],
}

mod signature_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sig: &[u8; 65], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(sig)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 65], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text.trim_start_matches("0x")).map_err(serde::de::Error::custom)?;
        <[u8; 65]>::try_from(bytes.as_slice())
            .map_err(|_| serde::de::Error::custom("a signature is 65 bytes"))
    }
}

/// Why a claim is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// For another channel.
    #[error("the claim is for channel {0}, not this one")]
    OtherChannel(B256),
    /// Not signed by the channel's sender (forged, or for another domain).
    #[error("the claim is not signed by the channel's sender ({0})")]
    NotTheSender(String),
    /// No more than a claim already taken (a replay, or an older claim).
    #[error("the claim asks {asked}, not more than the {taken} already taken")]
    NotMore {
        /// What it asks.
        asked: U256,
        /// The best claim taken.
        taken: U256,
    },
    /// More than the deposit.
    #[error("the claim asks {asked}, over the channel's deposit of {deposit}")]
    OverDeposit {
        /// What it asks.
        asked: U256,
        /// The deposit.
        deposit: U256,
    },
    /// The signature does not read.
    #[error("the claim's signature: {0}")]
    BadSignature(String),
}

/// The digest a claim's signature covers.
pub fn digest(domain: &Eip712Domain, channel: B256, cumulative: U256) -> B256 {
    Claim {
        channelId: channel,
        cumulativeAmount: cumulative,
    }
    .eip712_signing_hash(domain)
}

/// Signs a claim of `cumulative` on `channel` with the sender's key.
pub fn sign(
    key: &SigningKey,
    domain: &Eip712Domain,
    channel: B256,
    cumulative: U256,
) -> SignedClaim {
    let hash = digest(domain, channel, cumulative);
    let (sig, recovery) = key
        .sign_prehash_recoverable(hash.as_slice())
        .expect("signing a 32-byte digest");
    // k256 signs with a low s, which the contract asks for.
    let sig = sig.normalize_s().unwrap_or(sig);
    let mut signature = [0u8; 65];
    signature[..64].copy_from_slice(&sig.to_bytes());
    signature[64] = 27 + recovery.to_byte();
    SignedClaim {
        channel,
        cumulative,
        signature,
    }
}

/// The address a key signs as.
pub fn address_of(key: &SigningKey) -> Address {
    let point = key.verifying_key().to_encoded_point(false);
    Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..])
}

/// Who signed `claim` in `domain`, checked as the contract checks it (65 bytes, v 27 or 28, a
/// low s).
pub fn signer(domain: &Eip712Domain, claim: &SignedClaim) -> Result<Address, ClaimError> {
    let bad = |why: &str| ClaimError::BadSignature(why.to_owned());
    let s = U256::from_be_slice(&claim.signature[32..64]);
    if s > HALF_ORDER {
        return Err(bad("a high s (the malleable form)"));
    }
    let v = match claim.signature[64] {
        v @ (27 | 28) => v - 27,
        v @ (0 | 1) => v,
        _ => return Err(bad("v is not 27 or 28")),
    };
    let sig = k256::ecdsa::Signature::from_slice(&claim.signature[..64])
        .map_err(|e| bad(&e.to_string()))?;
    let recovery = k256::ecdsa::RecoveryId::from_byte(v).ok_or_else(|| bad("bad v"))?;
    let hash = digest(domain, claim.channel, claim.cumulative);
    let key = k256::ecdsa::VerifyingKey::recover_from_prehash(hash.as_slice(), &sig, recovery)
        .map_err(|e| bad(&e.to_string()))?;
    let point = key.to_encoded_point(false);
    Ok(Address::from_slice(
        &keccak256(&point.as_bytes()[1..])[12..],
    ))
}

/// A channel as its recipient keeps it: what it is and the best claim taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingChannel {
    /// The channel.
    pub id: B256,
    /// Who pays through it.
    pub sender: Address,
    /// Its deposit, as the chain last said.
    pub deposit: U256,
    /// The best claim taken, if any.
    pub best: Option<SignedClaim>,
}

impl IncomingChannel {
    /// What the best claim taken adds up to.
    pub fn taken(&self) -> U256 {
        self.best.as_ref().map_or(U256::ZERO, |c| c.cumulative)
    }

    /// Takes `claim` if it is the sender's, for this channel, more than the best taken and
    /// within the deposit: what it adds (the sender's payment since the last claim).
    pub fn take(&mut self, domain: &Eip712Domain, claim: &SignedClaim) -> Result<U256, ClaimError> {
        if claim.channel != self.id {
            return Err(ClaimError::OtherChannel(claim.channel));
        }
        let taken = self.taken();
        if claim.cumulative <= taken {
            return Err(ClaimError::NotMore {
                asked: claim.cumulative,
                taken,
            });
        }
        if claim.cumulative > self.deposit {
            return Err(ClaimError::OverDeposit {
                asked: claim.cumulative,
                deposit: self.deposit,
            });
        }
        let by = signer(domain, claim)?;
        if by != self.sender {
            return Err(ClaimError::NotTheSender(by.to_string()));
        }
        self.best = Some(claim.clone());
        Ok(claim.cumulative - taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_slice(&[byte; 32]).unwrap()
    }

    fn setup() -> (Eip712Domain, SigningKey, IncomingChannel) {
        let domain = domain(31337, Address::repeat_byte(0xcc));
        let sender = key(1);
        let channel = IncomingChannel {
            id: B256::repeat_byte(7),
            sender: address_of(&sender),
            deposit: U256::from(1000),
            best: None,
        };
        (domain, sender, channel)
    }

    #[test]
    fn claims_are_taken_in_increasing_amounts_from_the_sender_only() {
        let (d, sender, mut ch) = setup();
        let id = ch.id;
        assert_eq!(
            ch.take(&d, &sign(&sender, &d, id, U256::from(100))),
            Ok(U256::from(100))
        );
        assert_eq!(
            ch.take(&d, &sign(&sender, &d, id, U256::from(250))),
            Ok(U256::from(150))
        );
        // Replayed, older, over the deposit, forged, another channel, another domain.
        let replay = sign(&sender, &d, id, U256::from(250));
        assert!(matches!(
            ch.take(&d, &replay),
            Err(ClaimError::NotMore { .. })
        ));
        let older = sign(&sender, &d, id, U256::from(200));
        assert!(matches!(
            ch.take(&d, &older),
            Err(ClaimError::NotMore { .. })
        ));
        let over = sign(&sender, &d, id, U256::from(1001));
        assert!(matches!(
            ch.take(&d, &over),
            Err(ClaimError::OverDeposit { .. })
        ));
        let forged = sign(&key(2), &d, id, U256::from(300));
        assert!(matches!(
            ch.take(&d, &forged),
            Err(ClaimError::NotTheSender(_))
        ));
        let elsewhere = sign(&sender, &d, B256::repeat_byte(8), U256::from(300));
        assert!(matches!(
            ch.take(&d, &elsewhere),
            Err(ClaimError::OtherChannel(_))
        ));
        let other_chain = domain(1, Address::repeat_byte(0xcc));
        let wrong_domain = sign(&sender, &other_chain, id, U256::from(300));
        assert!(matches!(
            ch.take(&d, &wrong_domain),
            Err(ClaimError::NotTheSender(_))
        ));
        // A changed amount no longer matches its signature.
        let mut altered = sign(&sender, &d, id, U256::from(300));
        altered.cumulative = U256::from(400);
        assert!(matches!(
            ch.take(&d, &altered),
            Err(ClaimError::NotTheSender(_))
        ));
        assert_eq!(ch.taken(), U256::from(250));
    }

    #[test]
    fn the_malleable_twin_is_refused() {
        let (d, sender, mut ch) = setup();
        let good = sign(&sender, &d, ch.id, U256::from(5));
        let mut twin = good.clone();
        let n = U256::from_be_bytes(alloy_primitives::hex!(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"
        ));
        let s = U256::from_be_slice(&good.signature[32..64]);
        twin.signature[32..64].copy_from_slice(&(n - s).to_be_bytes::<32>());
        twin.signature[64] ^= 1;
        assert!(matches!(
            ch.take(&d, &twin),
            Err(ClaimError::BadSignature(_))
        ));
        assert_eq!(ch.take(&d, &good), Ok(U256::from(5)));
    }

    #[test]
    fn a_claim_travels_as_json() {
        let (d, sender, ch) = setup();
        let c = sign(&sender, &d, ch.id, U256::from(42));
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<SignedClaim>(&text).unwrap(), c);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
            failure_persistence: None,
            cases: 64,
            ..ProptestConfig::default()
        })]

        #[test]
        fn signed_claims_recover_their_signer(seed in 1u8..=255, amount in any::<u64>()) {
            let (d, _, ch) = setup();
            let k = key(seed);
            let c = sign(&k, &d, ch.id, U256::from(amount));
            prop_assert_eq!(signer(&d, &c), Ok(address_of(&k)));
        }

        #[test]
        fn any_bytes_as_a_claim_are_read_or_refused(json in ".{0,300}", sig in proptest::collection::vec(any::<u8>(), 65)) {
            let _ = serde_json::from_str::<SignedClaim>(&json);
            let (d, _, mut ch) = setup();
            let c = SignedClaim { channel: ch.id, cumulative: U256::from(1), signature: sig.try_into().unwrap() };
            let _ = ch.take(&d, &c);
        }
    }
}
