// SPDX-License-Identifier: MIT
// Seedstr's unidirectional payment channels (docs/channels.md): a sender deposits, signs EIP-712
// claims of a cumulative amount off-chain, and the recipient alone cashes the latest one. The
// sender gets back what is unclaimed by closing, after a challenge period in which the recipient
// can still cash a later claim, or at once after the channel's expiry.
pragma solidity 0.8.37;

contract UnidirectionalChannel {
    struct Channel {
        address sender;
        address recipient;
        uint256 deposit;
        // Paid out to the recipient so far: the highest cumulative amount cashed.
        uint256 claimed;
        uint64 challengePeriod;
        // After it the sender may take back what is unclaimed without a challenge.
        uint64 expiresAt;
        // Set when the sender starts closing: claims are taken until then.
        uint64 closesAt;
    }

    bytes32 public constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant CLAIM_TYPEHASH = keccak256("Claim(bytes32 channelId,uint256 cumulativeAmount)");
    // Half the secp256k1 group order: signatures with a larger s are the malleable twin.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    mapping(bytes32 => Channel) public channels;
    mapping(address => uint256) public opened;

    event Opened(
        bytes32 indexed id,
        address indexed sender,
        address indexed recipient,
        uint256 deposit,
        uint64 challengePeriod,
        uint64 expiresAt
    );
    event ToppedUp(bytes32 indexed id, uint256 deposit, uint64 expiresAt);
    event Claimed(bytes32 indexed id, uint256 cumulativeAmount, uint256 paid);
    event CloseStarted(bytes32 indexed id, uint64 closesAt);
    event Closed(bytes32 indexed id, uint256 refunded);

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("SeedstrChannel"), keccak256("1"), block.chainid, address(this)
            )
        );
    }

    /// The digest a claim's signature covers (EIP-712).
    function claimDigest(bytes32 id, uint256 cumulativeAmount) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(CLAIM_TYPEHASH, id, cumulativeAmount));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// Opens a channel to `recipient` with the value sent as its deposit.
    function open(address recipient, uint64 challengePeriod, uint64 expiresAt) external payable returns (bytes32 id) {
        require(recipient != address(0) && recipient != msg.sender, "bad recipient");
        require(msg.value > 0, "no deposit");
        require(expiresAt > block.timestamp, "already expired");
        id = keccak256(abi.encode(block.chainid, address(this), msg.sender, recipient, opened[msg.sender]++));
        channels[id] = Channel(msg.sender, recipient, msg.value, 0, challengePeriod, expiresAt, 0);
        emit Opened(id, msg.sender, recipient, msg.value, challengePeriod, expiresAt);
    }

    /// Adds the value sent to the deposit, and moves the expiry later (never earlier).
    function topUp(bytes32 id, uint64 expiresAt) external payable {
        Channel storage c = channels[id];
        require(c.sender == msg.sender, "only the sender tops up");
        require(c.closesAt == 0, "closing");
        c.deposit += msg.value;
        if (expiresAt > c.expiresAt) {
            c.expiresAt = expiresAt;
        }
        emit ToppedUp(id, c.deposit, c.expiresAt);
    }

    /// Cashes a claim: the recipient is paid what it adds to what was cashed before.
    function claim(bytes32 id, uint256 cumulativeAmount, bytes calldata signature) external {
        Channel storage c = channels[id];
        require(c.recipient != address(0), "no such channel");
        require(msg.sender == c.recipient, "only the recipient claims");
        require(cumulativeAmount > c.claimed, "not more than already claimed");
        require(cumulativeAmount <= c.deposit, "over the deposit");
        require(signer(claimDigest(id, cumulativeAmount), signature) == c.sender, "not signed by the sender");
        uint256 pay = cumulativeAmount - c.claimed;
        c.claimed = cumulativeAmount;
        emit Claimed(id, cumulativeAmount, pay);
        (bool ok,) = c.recipient.call{value: pay}("");
        require(ok, "payment failed");
    }

    /// The sender starts closing: after the challenge period it may take back the rest.
    function startClose(bytes32 id) external {
        Channel storage c = channels[id];
        require(c.sender == msg.sender, "only the sender closes");
        require(c.closesAt == 0, "already closing");
        c.closesAt = uint64(block.timestamp) + c.challengePeriod;
        emit CloseStarted(id, c.closesAt);
    }

    /// Ends a channel whose challenge period is over, or that expired: what is unclaimed goes
    /// back to the sender.
    function finishClose(bytes32 id) external {
        Channel memory c = channels[id];
        require(c.sender != address(0), "no such channel");
        require(
            (c.closesAt != 0 && block.timestamp >= c.closesAt) || block.timestamp >= c.expiresAt,
            "still open"
        );
        delete channels[id];
        uint256 refund = c.deposit - c.claimed;
        emit Closed(id, refund);
        if (refund > 0) {
            (bool ok,) = c.sender.call{value: refund}("");
            require(ok, "refund failed");
        }
    }

    function signer(bytes32 digest, bytes calldata signature) private pure returns (address) {
        require(signature.length == 65, "a signature is 65 bytes");
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) {
            v += 27;
        }
        require(v == 27 || v == 28, "bad signature v");
        require(uint256(s) <= HALF_ORDER, "malleable signature");
        address who = ecrecover(digest, v, r, s);
        require(who != address(0), "bad signature");
        return who;
    }
}
