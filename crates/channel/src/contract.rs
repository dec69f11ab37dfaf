//! The channel contract (`contracts/UnidirectionalChannel.sol`): its calls as Rust types and its
//! bytecode, compiled by npm `solc` (`contracts/build.mjs`) and committed with the compiler's
//! version, so building Seedstr needs no Solidity compiler.

use alloy_primitives::Bytes;

alloy_sol_types::sol! {
    /// The contract's functions and events (a subset of its ABI: what Seedstr calls).
    #[derive(Debug, PartialEq, Eq)]
    interface UnidirectionalChannel {
        function open(address recipient, uint64 challengePeriod, uint64 expiresAt) external payable returns (bytes32 id);
        function topUp(bytes32 id, uint64 expiresAt) external payable;
        function claim(bytes32 id, uint256 cumulativeAmount, bytes signature) external;
        function startClose(bytes32 id) external;
        function finishClose(bytes32 id) external;
        function channels(bytes32 id) external view returns (address sender, address recipient, uint256 deposit, uint256 claimed, uint64 challengePeriod, uint64 expiresAt, uint64 closesAt);
        function claimDigest(bytes32 id, uint256 cumulativeAmount) external view returns (bytes32);
        event Opened(bytes32 indexed id, address indexed sender, address indexed recipient, uint256 deposit, uint64 challengePeriod, uint64 expiresAt);
        event Claimed(bytes32 indexed id, uint256 cumulativeAmount, uint256 paid);
        event CloseStarted(bytes32 indexed id, uint64 closesAt);
        event Closed(bytes32 indexed id, uint256 refunded);
        error Error(string message);
    }
}

/// The artifact `contracts/build.mjs` writes.
const ARTIFACT: &str = include_str!("../contract/UnidirectionalChannel.json");

/// The compiled contract.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The compiler that made it (`solc 0.8.x+commit…`).
    pub compiler: String,
    /// The creation bytecode (deploy it).
    pub bytecode: Bytes,
    /// The code the deployed contract holds.
    pub deployed_bytecode: Bytes,
}

/// The committed artifact.
pub fn artifact() -> Artifact {
    let v: serde_json::Value =
        serde_json::from_str(ARTIFACT).expect("the committed artifact is JSON");
    let bytes = |name: &str| -> Bytes {
        let text = v[name].as_str().expect("the artifact has its bytecode");
        hex::decode(text.trim_start_matches("0x"))
            .expect("the artifact's bytecode is hex")
            .into()
    };
    Artifact {
        compiler: v["compiler"].as_str().unwrap_or_default().to_owned(),
        bytecode: bytes("bytecode"),
        deployed_bytecode: bytes("deployed_bytecode"),
    }
}

/// A revert's reason (`Error(string)`), when the return data carries one.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    use alloy_sol_types::SolError as _;
    UnidirectionalChannel::Error::abi_decode(data)
        .ok()
        .map(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artifact_is_the_committed_compilers_output() {
        let a = artifact();
        assert!(a.compiler.starts_with("solc 0.8.37"), "{}", a.compiler);
        assert!(a.bytecode.len() > a.deployed_bytecode.len());
        assert!(!a.deployed_bytecode.is_empty());
    }
}
