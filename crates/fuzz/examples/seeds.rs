//! Writes the seed corpus, `fuzz/corpus/<target>/seed-*`, from Seedstr's own encoders: valid
//! messages, events, records and archives for the fuzzer to mutate. Run from the repository's
//! root: `cargo run -p seedstr-fuzz --example seeds`. The files are committed; rerunning
//! rewrites the same names.

use std::path::Path;

use nostr::prelude::*;
use seedstr_dht::record::{FeedPointer, NameRecord};
use seedstr_fuzz::fuzz_keys;
use seedstr_mods::events::collection::{Collection, Pinned};
use seedstr_mods::events::curation::Review;
use seedstr_mods::events::ReleaseRef;
use seedstr_proto::incident::{Incident, Severity};
use seedstr_proto::release::{Coordinate, Project, Release, ReleaseFile, Version, VersionReq};
use serde_json::json;

fn write(target: &str, seeds: &[Vec<u8>]) {
    let dir = Path::new("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).expect("creating the corpus folder");
    for (n, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{n}")), seed).expect("writing a seed");
    }
}

fn sign(builder: EventBuilder) -> Event {
    builder
        .custom_created_at(Timestamp::from(1_700_000_000))
        .finalize(fuzz_keys())
        .expect("signing")
}

fn json_of(e: &Event) -> Vec<u8> {
    e.as_json().into_bytes()
}

fn release() -> Release {
    Release {
        coordinate: Coordinate::new("generic", "tool").unwrap(),
        version: Version::parse("1.2.0").unwrap(),
        files: vec![
            ReleaseFile {
                path: "Data/tool.esp".into(),
                sha256: [7; 32],
                size: 1234,
            },
            ReleaseFile {
                path: "readme.txt".into(),
                sha256: [9; 32],
                size: 0,
            },
        ],
        infohash: [3; 20],
        torrent_name: "tool-1.2.0".into(),
        trackers: vec!["udp://tracker.example:6969".into()],
        mirrors: vec!["https://mirror.example/tool/1.2.0".into()],
        seeders: vec!["seed.example.org:6881".into(), "[2001:db8::1]:51413".into()],
        supersedes: None,
        changelog: "fixes".into(),
        dependencies: vec![],
        game_versions: vec!["1.20.*".into()],
        zap_target: None,
        zap_splits: Vec::new(),
        package: None,
    }
}

fn main() {
    let author = fuzz_keys().public_key();
    let release_event = sign(release().to_builder(&author));
    let project = Project {
        coordinate: Coordinate::new("generic", "tool").unwrap(),
        name: "Tool".into(),
        summary: "a tool".into(),
        description: "long text".into(),
    };
    let release_ref = ReleaseRef {
        author,
        coordinate: Coordinate::new("generic", "tool").unwrap(),
        version: Version::parse("1.2.0").unwrap(),
    };
    let incident = Incident {
        project_author: author,
        coordinate: Coordinate::new("generic", "tool").unwrap(),
        id: "cve-1".into(),
        versions: VersionReq::parse(">=1.0.0, <1.2.1").unwrap(),
        severity: Severity::High,
        summary: "bad".into(),
        instructions: "update".into(),
        affected_events: vec![release_event.id],
        withdrawn: false,
    };
    let collection = Collection {
        game: "generic".into(),
        slug: "pack".into(),
        name: "Pack".into(),
        description: "a pack".into(),
        mods: vec![Pinned {
            release: release_ref.clone(),
            event_id: release_event.id,
            infohash: [3; 20],
        }],
        load_order: vec!["tool".into()],
        game_version: None,
        zap_splits: vec![seedstr_proto::zap_split::ZapSplit {
            pubkey: author,
            relay: String::new(),
            weight: Some(1),
        }],
    };
    let review = Review {
        release: release_ref,
        rating: 4,
        text: "good".into(),
    };
    let note = sign(EventBuilder::new(Kind::TextNote, "hello").tags([
        Tag::parse(["e", &"ab".repeat(32)]).unwrap(),
        Tag::parse(["t", "fuzz"]).unwrap(),
    ]));
    let note_json = note.as_json();

    write(
        "client_message",
        &[
            format!("[\"EVENT\",{note_json}]").into_bytes(),
            format!("[\"AUTH\",{note_json}]").into_bytes(),
            br##"["REQ","s",{"kinds":[1,30079],"authors":["0000000000000000000000000000000000000000000000000000000000000001"],"#e":["ab"],"since":1,"until":2000000000,"limit":10},{"ids":["00"]}]"##.to_vec(),
            br##"["COUNT","c",{"#t":["fuzz"]}]"##.to_vec(),
            br#"["NEG-OPEN","n",{"kinds":[1]},"6100000200"]"#.to_vec(),
            br#"["NEG-MSG","n","61"]"#.to_vec(),
            br#"["NEG-CLOSE","n"]"#.to_vec(),
            br#"["CLOSE","s"]"#.to_vec(),
        ],
    );
    write(
        "relay_answer",
        &[
            format!("[\"EVENT\",\"s\",{note_json}]").into_bytes(),
            br#"["EOSE","s"]"#.to_vec(),
            br#"["OK","ab",true,"duplicate: have it"]"#.to_vec(),
            br#"["CLOSED","s","auth-required: sign in"]"#.to_vec(),
            br#"["AUTH","challenge"]"#.to_vec(),
            br#"["NOTICE","hi"]"#.to_vec(),
            br#"["COUNT","c",{"count":3}]"#.to_vec(),
        ],
    );
    write(
        "filter",
        &[
            br#"{"kinds":[1],"limit":5}"#.to_vec(),
            br##"{"ids":["abababababababababababababababababababababababababababababababab"],"authors":["00"],"#d":["x"],"since":5,"until":9}"##.to_vec(),
            br##"{"#t":["a","b"],"#e":[]}"##.to_vec(),
        ],
    );
    write("event", &[json_of(&note), json_of(&release_event)]);
    write(
        "release_event",
        &[
            json_of(&release_event),
            json_of(&sign(project.to_builder())),
        ],
    );
    write("incident_event", &[json_of(&sign(incident.to_builder()))]);
    write(
        "collection_event",
        &[json_of(&sign(collection.to_builder()))],
    );
    write(
        "curation_events",
        &[
            json_of(&sign(review.to_builder())),
            json!({"kind": 30100, "tags": [["d", "generic:rules"], ["title", "t"], ["option", "yes"], ["option", "no"], ["closes", "1800000000"]], "content": "text"}).to_string().into_bytes(),
            json!({"kind": 30109, "tags": [["d", "x"], ["a", "30100:00:generic:rules"], ["option", "yes"]], "content": ""}).to_string().into_bytes(),
            json!({"kind": 30082, "tags": [["d", "x"], ["status", "works"]], "content": ""}).to_string().into_bytes(),
            json!({"kind": 30084, "tags": [["d", "x"], ["status", "open"]], "content": "crash"}).to_string().into_bytes(),
            json!({"kind": 30086, "tags": [["d", "generic"]], "content": ""}).to_string().into_bytes(),
            json_of(&sign(
                seedstr_mods::events::seeder_offer::SeederOffer {
                    project_author: author,
                    coordinate: Coordinate::new("generic", "tool").unwrap(),
                    versions: vec![Version::new(1, 0, 0)],
                    text: "seeding".into(),
                }
                .to_builder(),
            )),
        ],
    );
    write(
        "registry_events",
        &[
            json!({"kind": 30087, "tags": [["d", "libreseed"], ["p", author.to_hex(), "npm.left-pad"], ["revoked", author.to_hex(), "1700000000", "lost"]], "content": "registry"}).to_string().into_bytes(),
            json_of(&release_event),
        ],
    );
    write(
        "package_manifest",
        &[
            br#"{"name":"left-pad","version":"1.3.0","dependencies":{"a":"^1.0.0"},"bin":{"lp":"bin/lp.js"}}"#.to_vec(),
            b"[package]\nname = \"demo\"\nversion = \"0.1.0\"\n\n[dependencies]\nserde = \"1\"\n".to_vec(),
        ],
    );
    let torrent_dir = tempfile::tempdir().unwrap();
    std::fs::write(torrent_dir.path().join("a.txt"), b"hello").unwrap();
    std::fs::create_dir_all(torrent_dir.path().join("sub")).unwrap();
    std::fs::write(torrent_dir.path().join("sub/b.bin"), vec![1u8; 70_000]).unwrap();
    let torrent = seedstr_swarm::create(torrent_dir.path(), "payload").unwrap();
    write(
        "torrent_file",
        &[torrent.to_file_bytes(&["http://127.0.0.1:1/announce".into()])],
    );
    let peers = [127u8, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0x1a, 0xe2];
    let mut peers6 = vec![0u8; 15];
    peers6.extend([1, 0x1a, 0xe1]);
    let mut announce = b"\x00d8:completei3e10:incompletei1e8:intervali1800e5:peers12:".to_vec();
    announce.extend(peers);
    announce.extend(b"6:peers618:");
    announce.extend(&peers6);
    announce.push(b'e');
    let mut scrape = b"\x00d5:filesd20:".to_vec();
    scrape.extend([7u8; 20]);
    scrape.extend(b"d8:completei5e10:downloadedi9e10:incompletei2eeee");
    let ext = [&[20u8, 0][..], b"d1:v10:qBittorrente"].concat();
    let mut frames = vec![
        1u8,
        0,
        10,
        3,
        5,
        0xff,
        0xc0,
        5,
        4,
        0,
        0,
        0,
        9,
        ext.len() as u8,
    ];
    frames.extend(&ext);
    frames.extend([1, 14]);
    write(
        "tracker_and_peer_answers",
        &[
            announce,
            scrape,
            b"\x00d5:peersld2:ip9:127.0.0.14:porti6881eeee".to_vec(),
            b"\x00d14:failure reason6:no waye".to_vec(),
            frames,
        ],
    );
    let conversation = seedstr_fuzz::fuzz_conversation();
    write(
        "nip44_payload",
        &[
            conversation.encrypt("hello").unwrap().into_bytes(),
            conversation
                .encrypt(&"long ".repeat(20_000))
                .unwrap()
                .into_bytes(),
            b"#unsupported".to_vec(),
        ],
    );
    let mut rumor = EventBuilder::new(Kind::from(14), "hello")
        .tag(Tag::public_key(author))
        .custom_created_at(Timestamp::from(1_700_000_000))
        .finalize_unsigned(author);
    rumor.ensure_id();
    write(
        "private_message",
        &[
            rumor.as_json().into_bytes(),
            conversation.encrypt(&rumor.as_json()).unwrap().into_bytes(),
        ],
    );
    let sealed = |kind: u16, tags: Vec<Tag>, content: &str| {
        let mut r = EventBuilder::new(Kind::from(kind), content)
            .tags(tags)
            .custom_created_at(Timestamp::from(1_700_000_000))
            .finalize_unsigned(author);
        r.ensure_id();
        r.as_json().into_bytes()
    };
    let me = seedstr_fuzz::fuzz_keys().public_key();
    write(
        "sealed_rumor",
        &[
            sealed(
                1,
                vec![Tag::parse(["visibility", "friends"]).unwrap()],
                "hi friends",
            ),
            sealed(4100, vec![Tag::public_key(me)], "be my friend"),
            sealed(
                4101,
                vec![Tag::public_key(me), Tag::event(rumor.id.unwrap())],
                "",
            ),
            format!(r#"[["p","{}"],["t","x"]]"#, author.to_hex()).into_bytes(),
        ],
    );
    write(
        "directory_index",
        &[
            br#"{"name":"ann","display_name":"Ann Lee","nip05":"ann@example.org","about":"maps"}"#
                .to_vec(),
            b"ws://127.0.0.1:7447/".to_vec(),
            b"ann maps".to_vec(),
        ],
    );
    write(
        "imeta_tag",
        &[format!(
            "url http://127.0.0.1:7447/media/{ih}/cat.png\nm image/png\nx {x}\nsize 1234\ni {ih}",
            ih = "ab".repeat(20),
            x = "cd".repeat(32)
        )
        .into_bytes()],
    );
    let real_receipt = include_str!("../../pay/tests/vectors/real_zap_receipt.json");
    let receipt: serde_json::Value = serde_json::from_str(real_receipt).unwrap();
    let tag = |name: &str| {
        receipt["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t[0] == name)
            .unwrap()[1]
            .as_str()
            .unwrap()
            .as_bytes()
            .to_vec()
    };
    let ilp = |name: &str| {
        let path = format!("{}/../ilp/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        hex_bytes(v["binary"].as_str().unwrap())
    };
    write(
        "ilp_packet",
        &[
            ilp("ilp_prepare.example01.json"),
            ilp("ilp_fulfill.example01.json"),
            ilp("ilp_reject.example01.json"),
        ],
    );
    let fixtures: serde_json::Value = serde_json::from_str(include_str!(
        "../../ilp/tests/vectors/StreamPacketFixtures.json"
    ))
    .unwrap();
    let stream: Vec<Vec<u8>> = fixtures
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| {
            let name = v["name"].as_str().unwrap();
            name.ends_with(":max_uint_64")
                || !name.contains(':')
                || name.starts_with("frame:") && !name.contains(":0") && !name.contains("max_js")
        })
        .map(|v| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(v["buffer"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    let mut stream = stream;
    stream.push(
        seedstr_ilp::spsp::SpspDetails {
            destination: seedstr_ilp::address::Address::new("g.node.receiver.abc").unwrap(),
            shared_secret: [5; 32],
        }
        .to_json()
        .into_bytes(),
    );
    write("stream_packet", &stream);
    let announcement = seedstr_ilp::announcement::NodeInfo {
        address: seedstr_ilp::address::Address::new("g.seedstr.node").unwrap(),
        btp: "wss://node.example/btp".into(),
        asset_code: "SAT".into(),
        asset_scale: 0,
        settlement: vec![seedstr_ilp::announcement::Settlement::Evm {
            chain_id: 31337,
            contract: format!("0x{}", "ab".repeat(20)),
            recipient: format!("0x{}", "cd".repeat(20)),
        }],
        prices: seedstr_ilp::announcement::Prices {
            per_event: Some(1),
            per_subscription: Some((100, 86_400)),
            forward_ppm: Some(1000),
        },
        spsp: None,
        about: "a node".into(),
    };
    write(
        "ilp_announcement",
        &[
            json_of(&sign(announcement.to_builder())),
            seedstr_ilp::peer_auth::sign_token(
                &nostr::prelude::Keys::generate(),
                "ws://127.0.0.1:7448",
                1_800_000_000,
            )
            .into_bytes(),
        ],
    );
    write(
        "zap_events",
        &[
            real_receipt.as_bytes().to_vec(),
            tag("description"),
            tag("bolt11"),
            sign(EventBuilder::new(Kind::from(1u16), "shared tips").tags(
                seedstr_proto::zap_split::zap_split_tags(&[
                    seedstr_proto::zap_split::ZapSplit {
                        pubkey: author,
                        relay: "ws://127.0.0.1:7447/".into(),
                        weight: Some(3),
                    },
                    seedstr_proto::zap_split::ZapSplit {
                        pubkey: Keys::generate().public_key(),
                        relay: String::new(),
                        weight: Some(1),
                    },
                ]),
            ))
            .as_json()
            .into_bytes(),
        ],
    );
    write(
        "nwc_messages",
        &[
            br#"{"method":"pay_invoice","params":{"invoice":"lnbcrt210n1"}}"#.to_vec(),
            br#"{"method":"make_invoice","params":{"amount":21000,"description_hash":"07"}}"#
                .to_vec(),
            br#"{"result_type":"get_balance","result":{"balance":1000}}"#.to_vec(),
            format!(
                "nostr+walletconnect://{}?relay=ws%3A%2F%2F127.0.0.1%3A7447&secret={}",
                author.to_hex(),
                "11".repeat(32)
            )
            .into_bytes(),
        ],
    );
    write(
        "profile_content",
        &[
            br#"{"name":"ann","about":"mods and maps","nip05":"ann@example.org","lud16":"ann@pay.example"}"#.to_vec(),
            b"".to_vec(),
        ],
    );
    write(
        "nip05_document",
        &[
            format!(
                r#"{{"names":{{"bob":"{}"}},"relays":{{}}}}"#,
                author.to_hex()
            )
            .into_bytes(),
            b"bob@example.org".to_vec(),
        ],
    );
    let pointer = FeedPointer {
        ih: vec![3; 20],
        ts: 1_700_000_000,
        ws: vec!["http://127.0.0.1:1/feed".into()],
    };
    let record = NameRecord {
        n: "npm.left-pad".into(),
        v: "1.3.0".into(),
        e: release_event.id.as_bytes().to_vec(),
        ih: vec![3; 20],
        ts: 1_700_000_000,
    };
    write(
        "dht_record",
        &[pointer.encode().unwrap(), record.encode().unwrap()],
    );
    let mut reputation = seedstr_client::reputation::Reputation::default();
    reputation.record(
        &[
            seedstr_swarm::PeerDelivery {
                addr: "203.0.113.5:6881".parse().unwrap(),
                fetched_bytes: 2_000_000,
                good_pieces: 8,
                bad_pieces: 0,
                first_piece_ms: Some(12),
            },
            seedstr_swarm::PeerDelivery {
                addr: "[2001:db8::1]:51413".parse().unwrap(),
                fetched_bytes: 16_384,
                good_pieces: 0,
                bad_pieces: 1,
                first_piece_ms: None,
            },
        ],
        1_800_000_000,
    );
    write("peer_reputation", &[reputation.to_bytes()]);
    write(
        "dht_routing_table",
        &[seedstr_dht::routing_cache::encode_cached_nodes(&[
            "203.0.113.5:6881".parse().unwrap(),
            "198.51.100.7:51413".parse().unwrap(),
        ])
        .into_bytes()],
    );
    write(
        "feed_index",
        &[seedstr_client::feed::index::encode(&[
            note.clone(),
            release_event.clone(),
        ])],
    );
    write("npm_archive", &[npm_tgz()]);
    write(
        "payload_path",
        &[
            b"Data/tool.esp".to_vec(),
            b"a/b/c.txt".to_vec(),
            b"../x".to_vec(),
        ],
    );
    write(
        "text_fields",
        &[
            format!("{}/generic.tool@1.2.0", author.to_bech32().unwrap()).into_bytes(),
            format!("30079:{}:generic.tool@1.2.0", author.to_hex()).into_bytes(),
            format!("30078:{}:generic.tool", author.to_hex()).into_bytes(),
            b"@scope/name@^1.2.3 || ~2.0".to_vec(),
            b"1.2.3-beta.1+build".to_vec(),
            b"1.20.*".to_vec(),
        ],
    );
    write(
        "http_query",
        &[
            b"q=oak+trees&type=project&ns=skyrim-se&limit=20".to_vec(),
            format!("q=x&type=release&author={}", author.to_bech32().unwrap()).into_bytes(),
            b"type=package&q=left%20pad".to_vec(),
        ],
    );
    write(
        "nip11",
        &[br#"{"name":"relay","pubkey":"0000000000000000000000000000000000000000000000000000000000000001","supported_nips":[1,11]}"#.to_vec()],
    );
    // A claim as peers send it, a receipt's logs and a refusal as anvil answers them.
    let claim = seedstr_channel::claim::sign(
        &k256::ecdsa::SigningKey::from_slice(&[2; 32]).unwrap(),
        &seedstr_channel::claim::domain(31337, alloy_primitives::Address::repeat_byte(2)),
        alloy_primitives::B256::repeat_byte(7),
        alloy_primitives::U256::from(300),
    );
    write(
        "channel_claim",
        &[
            serde_json::to_vec(&claim).unwrap(),
            br#"{"status":"0x1","logs":[{"address":"0x5fbdb2315678afecb367f032d93f642f64180aa3","topics":["0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"],"data":"0x0000000000000000000000000000000000000000000000000000000000000064"}]}"#.to_vec(),
            br#"{"code":3,"message":"execution reverted: over the deposit","data":"0x08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000001076657220746865206465706f73697400000000000000000000000000000000"}"#.to_vec(),
        ],
    );
    write(
        "search_text",
        &[
            b"Otter Holts include:spam".to_vec(),
            "Wörld MAPS, \u{130}stanbul r\u{e9}sum\u{e9} 42"
                .as_bytes()
                .to_vec(),
            br#"{"name":"Ann","display_name":"Ann Lee","about":"maps"}"#.to_vec(),
        ],
    );
    let checkpoint = seedstr_store::lmdb::checkpoint::Checkpoint {
        txnid: 7,
        page_size: 512,
        meta: vec![0u8; 1024],
    };
    let mut journal = seedstr_store::lmdb::journal::encode_header(&checkpoint);
    let header = journal.clone();
    seedstr_store::lmdb::journal::encode_save(&mut journal, r#"{"kind":1,"content":"x"}"#);
    seedstr_store::lmdb::journal::encode_purge(&mut journal, 1_700_000_000);
    let mut torn = journal.clone();
    torn.truncate(torn.len() - 3);
    write("store_journal", &[header, journal, torn]);
}

fn npm_tgz() -> Vec<u8> {
    // The target gzips its input itself: the seed is the tar stream.
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in [
        (
            "package/package.json",
            &br#"{"name":"x","version":"1.0.0"}"#[..],
        ),
        ("package/index.js", b"module.exports = 1\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_path(path).unwrap();
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
