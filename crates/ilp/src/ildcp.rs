//! ILDCP (RFC 31): a child asks its parent connector for its ILP address and asset with a
//! Prepare to `peer.config` (amount 0, the condition of 32 zero bytes); the parent fulfills
//! with 32 zero bytes and data holding the address, the asset scale and the asset code.

use crate::address::{Address, AddressError};
use crate::oer::{write_var_octets, OerError, Reader};
use crate::packet::{Fulfill, Prepare};
use crate::stream::crypto::condition;

/// Where ILDCP requests go.
pub const ILDCP_DESTINATION: &str = "peer.config";
/// Its fulfillment: 32 zero bytes.
pub const ILDCP_FULFILLMENT: [u8; 32] = [0; 32];

/// Why an ILDCP answer does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IldcpError {
    /// The encoding.
    #[error("ILDCP: {0}")]
    Oer(#[from] OerError),
    /// The address.
    #[error("ILDCP: {0}")]
    Address(#[from] AddressError),
    /// Not UTF-8.
    #[error("ILDCP: the {0} is not UTF-8")]
    Utf8(&'static str),
    /// A Fulfill whose fulfillment is not ILDCP's.
    #[error("ILDCP: the fulfillment is not 32 zero bytes")]
    Fulfillment,
}

/// What a parent tells its child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IldcpResponse {
    /// The child's ILP address.
    pub client_address: Address,
    /// The asset's scale.
    pub asset_scale: u8,
    /// The asset's code.
    pub asset_code: String,
}

/// The request: a Prepare to `peer.config` expiring at `expires_at` (Unix milliseconds).
pub fn request(expires_at: u64) -> Prepare {
    Prepare {
        amount: 0,
        expires_at,
        execution_condition: condition(&ILDCP_FULFILLMENT),
        destination: Address::new(ILDCP_DESTINATION).expect("a valid address"),
        data: Vec::new(),
    }
}

/// Whether `p` asks for ILDCP.
pub fn is_request(p: &Prepare) -> bool {
    p.destination.as_str() == ILDCP_DESTINATION
}

impl IldcpResponse {
    /// The Fulfill that answers a request.
    pub fn to_fulfill(&self) -> Fulfill {
        let mut data = Vec::new();
        write_var_octets(&mut data, self.client_address.as_str().as_bytes());
        data.push(self.asset_scale);
        write_var_octets(&mut data, self.asset_code.as_bytes());
        Fulfill {
            fulfillment: ILDCP_FULFILLMENT,
            data,
        }
    }

    /// Reads a parent's answer.
    pub fn from_fulfill(f: &Fulfill) -> Result<IldcpResponse, IldcpError> {
        if f.fulfillment != ILDCP_FULFILLMENT {
            return Err(IldcpError::Fulfillment);
        }
        let mut r = Reader::new(&f.data);
        let address = std::str::from_utf8(r.var_octets("clientAddress")?)
            .map_err(|_| IldcpError::Utf8("address"))?;
        let client_address = Address::new(address)?;
        let asset_scale = r.u8("assetScale")?;
        let asset_code = String::from_utf8(r.var_octets("assetCode")?.to_vec())
            .map_err(|_| IldcpError::Utf8("asset code"))?;
        Ok(IldcpResponse {
            client_address,
            asset_scale,
            asset_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_and_an_answer() {
        let req = request(1_700_000_000_000);
        assert!(is_request(&req));
        // SHA-256 of 32 zero bytes.
        assert_eq!(
            req.execution_condition[..4],
            [0x66, 0x68, 0x7a, 0xad],
            "the condition of the zero fulfillment"
        );
        let answer = IldcpResponse {
            client_address: Address::new("test.parent.child").unwrap(),
            asset_scale: 9,
            asset_code: "XRP".into(),
        };
        let f = answer.to_fulfill();
        // The layout ilp-protocol-ildcp writes: address, scale, code.
        let mut want = vec![17];
        want.extend_from_slice(b"test.parent.child");
        want.push(9);
        want.push(3);
        want.extend_from_slice(b"XRP");
        assert_eq!(f.data, want);
        assert_eq!(IldcpResponse::from_fulfill(&f).unwrap(), answer);
        let mut wrong = f.clone();
        wrong.fulfillment[0] = 1;
        assert_eq!(
            IldcpResponse::from_fulfill(&wrong),
            Err(IldcpError::Fulfillment)
        );
    }
}
