//! A small ILP node for tests: it answers ILDCP for its peers and hands every other Prepare to
//! a STREAM receiver, keeping what was delivered.

use std::sync::Mutex;

use seedstr_ilp::address::Address;
use seedstr_ilp::btp_session::PacketHandler;
use seedstr_ilp::ildcp::{is_request, IldcpResponse};
use seedstr_ilp::packet::{Fulfill, Prepare, Reject};
use seedstr_ilp::stream::receiver::{Delivered, ReceiverLimits, StreamReceiver};

pub struct TestNode {
    pub address: Address,
    pub receiver: Mutex<StreamReceiver>,
    pub delivered: Mutex<Vec<Delivered>>,
}

impl TestNode {
    pub fn new(address: &str) -> TestNode {
        let address = Address::new(address).unwrap();
        TestNode {
            receiver: Mutex::new(StreamReceiver::new(
                address.with_segment("receiver").unwrap(),
                rand_secret(),
                "SAT",
                0,
                ReceiverLimits::default(),
            )),
            address,
            delivered: Mutex::new(Vec::new()),
        }
    }

    pub fn money(&self) -> u64 {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .map(|d| match d {
                Delivered::Money { amount, .. } => *amount,
                _ => 0,
            })
            .sum()
    }

    pub fn data(&self) -> Vec<u8> {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .flat_map(|d| match d {
                Delivered::Data { bytes, .. } => bytes.clone(),
                _ => Vec::new(),
            })
            .collect()
    }
}

fn rand_secret() -> [u8; 32] {
    let mut s = [0u8; 32];
    for (i, b) in s.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    s
}

impl PacketHandler for TestNode {
    async fn handle(&self, account: &str, prepare: Prepare) -> Result<Fulfill, Reject> {
        if is_request(&prepare) {
            return Ok(IldcpResponse {
                client_address: self.address.with_segment(account).unwrap(),
                asset_scale: 0,
                asset_code: "SAT".into(),
            }
            .to_fulfill());
        }
        let handled = self.receiver.lock().unwrap().handle(&prepare);
        self.delivered.lock().unwrap().extend(handled.delivered);
        handled.reply
    }
}
