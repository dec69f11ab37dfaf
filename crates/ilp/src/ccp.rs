//! CCP, the connector-to-connector route protocol (as `ilp-protocol-ccp` implements it): a peer
//! asks for routes with a control request to `peer.route.control` and announces its routes with
//! updates to `peer.route.update`, both Prepares of 0 with the peer-protocol condition (the
//! SHA-256 of 32 zero bytes), answered by a Fulfill of 32 zero bytes.

use crate::address::{Address, AddressError};
use crate::ildcp::ILDCP_FULFILLMENT;
use crate::oer::{write_var_octets, write_var_uint, OerError, Reader};
use crate::packet::{Fulfill, Prepare};
use crate::stream::crypto::condition;

/// Where route control requests go.
pub const CONTROL_DESTINATION: &str = "peer.route.control";
/// Where route updates go.
pub const UPDATE_DESTINATION: &str = "peer.route.update";
/// The most routes, hops, props or features read from one message.
pub const MAX_ITEMS: u64 = 10_000;

/// Why a CCP message does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CcpError {
    /// The encoding.
    #[error("CCP: {0}")]
    Oer(#[from] OerError),
    /// More items than [`MAX_ITEMS`] or than the bytes could hold.
    #[error("CCP: {0} {1} announced, more than taken")]
    Count(u64, &'static str),
    /// An address that is not RFC 15's.
    #[error("CCP: {0}")]
    Address(#[from] AddressError),
    /// Text that is not ASCII or UTF-8.
    #[error("CCP: the {0} is not text")]
    Text(&'static str),
}

/// A property of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteProp {
    /// Flags: optional (0x80), transitive (0x40), partial (0x20), UTF-8 (0x10).
    pub meta: u8,
    /// Its id.
    pub id: u16,
    /// Its value.
    pub value: Vec<u8>,
}

/// A route a peer announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The addresses it reaches.
    pub prefix: Address,
    /// The connectors it passes, the announcing one first.
    pub path: Vec<String>,
    /// 32 bytes of authentication (unused: zeros).
    pub auth: [u8; 32],
    /// Its properties.
    pub props: Vec<RouteProp>,
}

/// A route update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteUpdate {
    /// The speaker's routing table (a UUID's 16 bytes).
    pub routing_table_id: [u8; 16],
    /// Its current epoch.
    pub current_epoch: u32,
    /// The first epoch this update covers.
    pub from_epoch: u32,
    /// The epoch after the last it covers.
    pub to_epoch: u32,
    /// How long the routes hold without a new update, in milliseconds.
    pub hold_down_time: u32,
    /// Who speaks.
    pub speaker: Address,
    /// Routes added or changed.
    pub new_routes: Vec<Route>,
    /// Prefixes withdrawn.
    pub withdrawn_routes: Vec<String>,
}

/// A route control request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteControl {
    /// 0 idle, 1 sync (send me updates).
    pub mode: u8,
    /// The routing table the asker last saw.
    pub last_known_routing_table_id: [u8; 16],
    /// The epoch it last saw.
    pub last_known_epoch: u32,
    /// Features it supports.
    pub features: Vec<String>,
}

fn count(r: &mut Reader<'_>, what: &'static str, min_bytes: usize) -> Result<u64, CcpError> {
    let n = r.var_uint(what)?;
    if n > MAX_ITEMS || n > (r.rest().len() / min_bytes.max(1)) as u64 {
        return Err(CcpError::Count(n, what));
    }
    Ok(n)
}

fn ascii(bytes: &[u8], what: &'static str) -> Result<String, CcpError> {
    if !bytes.is_ascii() {
        return Err(CcpError::Text(what));
    }
    Ok(String::from_utf8(bytes.to_vec()).expect("ASCII"))
}

/// A peer-protocol Prepare to `destination` carrying `data`, expiring at `expires_at`.
pub(crate) fn peer_prepare(destination: &str, data: Vec<u8>, expires_at: u64) -> Prepare {
    Prepare {
        amount: 0,
        expires_at,
        execution_condition: condition(&ILDCP_FULFILLMENT),
        destination: Address::new(destination).expect("a valid address"),
        data,
    }
}

/// The answer to a CCP request.
pub fn ccp_response() -> Fulfill {
    Fulfill {
        fulfillment: ILDCP_FULFILLMENT,
        data: Vec::new(),
    }
}

impl RouteUpdate {
    /// The update's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Vec::new();
        w.extend_from_slice(&self.routing_table_id);
        for n in [
            self.current_epoch,
            self.from_epoch,
            self.to_epoch,
            self.hold_down_time,
        ] {
            w.extend_from_slice(&n.to_be_bytes());
        }
        write_var_octets(&mut w, self.speaker.as_str().as_bytes());
        write_var_uint(&mut w, self.new_routes.len() as u64);
        for route in &self.new_routes {
            write_var_octets(&mut w, route.prefix.as_str().as_bytes());
            write_var_uint(&mut w, route.path.len() as u64);
            for hop in &route.path {
                write_var_octets(&mut w, hop.as_bytes());
            }
            w.extend_from_slice(&route.auth);
            write_var_uint(&mut w, route.props.len() as u64);
            for p in &route.props {
                w.push(p.meta);
                w.extend_from_slice(&p.id.to_be_bytes());
                write_var_octets(&mut w, &p.value);
            }
        }
        write_var_uint(&mut w, self.withdrawn_routes.len() as u64);
        for prefix in &self.withdrawn_routes {
            write_var_octets(&mut w, prefix.as_bytes());
        }
        w
    }

    /// Reads an update.
    pub fn read(bytes: &[u8]) -> Result<RouteUpdate, CcpError> {
        let mut r = Reader::new(bytes);
        let routing_table_id = r.array("routingTableId")?;
        let current_epoch = r.u32("currentEpochIndex")?;
        let from_epoch = r.u32("fromEpochIndex")?;
        let to_epoch = r.u32("toEpochIndex")?;
        let hold_down_time = r.u32("holdDownTime")?;
        let speaker = Address::new(&ascii(r.var_octets("speaker")?, "speaker")?)?;
        let n = count(&mut r, "routes", 36)?;
        let mut new_routes = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let prefix = Address::new(&ascii(r.var_octets("prefix")?, "prefix")?)?;
            let hops = count(&mut r, "hops", 1)?;
            let mut path = Vec::with_capacity(hops as usize);
            for _ in 0..hops {
                path.push(ascii(r.var_octets("path")?, "path")?);
            }
            let auth = r.array("auth")?;
            let props_n = count(&mut r, "props", 4)?;
            let mut props = Vec::with_capacity(props_n as usize);
            for _ in 0..props_n {
                props.push(RouteProp {
                    meta: r.u8("meta")?,
                    id: r.u16("id")?,
                    value: r.var_octets("value")?.to_vec(),
                });
            }
            new_routes.push(Route {
                prefix,
                path,
                auth,
                props,
            });
        }
        let w = count(&mut r, "withdrawn routes", 1)?;
        let mut withdrawn_routes = Vec::with_capacity(w as usize);
        for _ in 0..w {
            let prefix = r.var_octets("withdrawn")?;
            withdrawn_routes.push(
                String::from_utf8(prefix.to_vec())
                    .map_err(|_| CcpError::Text("withdrawn route"))?,
            );
        }
        Ok(RouteUpdate {
            routing_table_id,
            current_epoch,
            from_epoch,
            to_epoch,
            hold_down_time,
            speaker,
            new_routes,
            withdrawn_routes,
        })
    }

    /// The Prepare that carries it.
    pub fn to_prepare(&self, expires_at: u64) -> Prepare {
        peer_prepare(UPDATE_DESTINATION, self.to_bytes(), expires_at)
    }
}

impl RouteControl {
    /// The request's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = vec![self.mode];
        w.extend_from_slice(&self.last_known_routing_table_id);
        w.extend_from_slice(&self.last_known_epoch.to_be_bytes());
        write_var_uint(&mut w, self.features.len() as u64);
        for f in &self.features {
            write_var_octets(&mut w, f.as_bytes());
        }
        w
    }

    /// Reads a request.
    pub fn read(bytes: &[u8]) -> Result<RouteControl, CcpError> {
        let mut r = Reader::new(bytes);
        let mode = r.u8("mode")?;
        let last_known_routing_table_id = r.array("lastKnownRoutingTableId")?;
        let last_known_epoch = r.u32("lastKnownEpoch")?;
        let n = count(&mut r, "features", 1)?;
        let mut features = Vec::with_capacity(n as usize);
        for _ in 0..n {
            features.push(
                String::from_utf8(r.var_octets("feature")?.to_vec())
                    .map_err(|_| CcpError::Text("feature"))?,
            );
        }
        Ok(RouteControl {
            mode,
            last_known_routing_table_id,
            last_known_epoch,
            features,
        })
    }

    /// The Prepare that carries it.
    pub fn to_prepare(&self, expires_at: u64) -> Prepare {
        peer_prepare(CONTROL_DESTINATION, self.to_bytes(), expires_at)
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
            ..ProptestConfig::default()
        })]

        #[test]
        fn updates_round_trip(
            id in any::<[u8; 16]>(),
            epochs in any::<[u32; 4]>(),
            prefixes in proptest::collection::vec("[a-z]{1,8}", 0..5),
            withdrawn in proptest::collection::vec("test\\\\.[a-z]{1,8}", 0..3),
            value in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let u = RouteUpdate {
                routing_table_id: id,
                current_epoch: epochs[0],
                from_epoch: epochs[1],
                to_epoch: epochs[2],
                hold_down_time: epochs[3],
                speaker: Address::new("test.b").unwrap(),
                new_routes: prefixes
                    .iter()
                    .map(|p| Route {
                        prefix: Address::new(&format!("test.{p}")).unwrap(),
                        path: vec!["test.b".into(), format!("test.{p}")],
                        auth: [0; 32],
                        props: vec![RouteProp { meta: 0x50, id: 1, value: value.clone() }],
                    })
                    .collect(),
                withdrawn_routes: withdrawn,
            };
            prop_assert_eq!(RouteUpdate::read(&u.to_bytes()).unwrap(), u);
        }

        #[test]
        fn any_bytes_read_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = RouteUpdate::read(&bytes);
            let _ = RouteControl::read(&bytes);
        }
    }

    #[test]
    fn a_control_request_round_trips() {
        let c = RouteControl {
            mode: 1,
            last_known_routing_table_id: [0; 16],
            last_known_epoch: 0,
            features: vec!["a".into()],
        };
        assert_eq!(RouteControl::read(&c.to_bytes()).unwrap(), c);
        let p = c.to_prepare(1);
        assert_eq!(p.destination.as_str(), CONTROL_DESTINATION);
        assert_eq!(p.execution_condition[..4], [0x66, 0x68, 0x7a, 0xad]);
    }
}
