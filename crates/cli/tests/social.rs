//! O-Red private messages through the real binary and real relays: each copy goes to its
//! recipient's inbox relays (their kind 10050 list), only the recipient reads it, and what does
//! not open is reported without hiding the rest.

mod common;

use common::spine::Person;
use common::{event, RelayProcess};
use nostr::prelude::*;
use serde_json::Value;

/// `seedstr social discover <query>` as `p`, asking `directories`.
fn discover_through(p: &Person, directories: &[&str], query: &str) -> (bool, Value) {
    let mut args = vec![
        "social",
        "discover",
        query,
        "--relay-timeout",
        "3",
        "--json",
    ];
    for d in directories {
        args.extend(["--relay", d]);
    }
    json_of(p, &args)
}

fn json_of(p: &Person, args: &[&str]) -> (bool, Value) {
    let out = p.run(args);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "seedstr {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_messages_go_to_the_recipients_inbox_and_only_they_read_them() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (
        RelayProcess::start(dir_a.path(), &[]),
        RelayProcess::start(dir_b.path(), &[]),
    );
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    // Bob takes private messages at relay B, and says so where alice looks; his list also
    // names a web address and more relays than a sender contacts (refused ports).
    let mut tags: Vec<Vec<String>> = vec![
        vec!["relay".into(), "https://not-a-relay.example".into()],
        vec!["relay".into(), b.url.clone()],
    ];
    for n in 0..20 {
        tags.push(vec!["relay".into(), format!("ws://127.0.0.1:1/{n}")]);
    }
    let tags: Vec<Vec<&str>> = tags
        .iter()
        .map(|t| t.iter().map(String::as_str).collect())
        .collect();
    let tags: Vec<&[&str]> = tags.iter().map(Vec::as_slice).collect();
    let inbox = event(&bob.keys, 10_050, &tags, "");
    let (ok, msg) = a.connect().await.publish(&inbox).await.unwrap();
    assert!(ok, "{msg}");

    // The relays are processes of their own: running the CLI blocking here is fine.
    let (ok, sent) = json_of(
        &alice,
        &[
            "social",
            "dm",
            "send",
            &bob.hex(),
            "hello bob",
            "--relay",
            &a.url,
            "--json",
        ],
    );
    assert!(ok, "{sent}");
    let to_bob = sent["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["recipient"] == bob.keys.public_key().to_bech32().unwrap())
        .unwrap();
    assert_eq!(to_bob["to_inbox_list"], true);
    let answers = to_bob["answers"].as_array().unwrap();
    assert_eq!(
        answers.len(),
        8,
        "at most 8 inbox relays, web addresses left out"
    );
    assert_eq!(answers[0]["relay"], b.url);
    assert_eq!(answers[0]["accepted"], true);
    let own = sent["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["recipient"] == alice.keys.public_key().to_bech32().unwrap())
        .unwrap();
    assert_eq!(
        own["to_inbox_list"], false,
        "alice has no inbox list: her --relay"
    );
    assert_eq!(own["answers"][0]["relay"], a.url);

    // Something addressed to bob that is not a sealed message: reported, not hiding the rest.
    let junk = event(
        &Keys::generate(),
        1059,
        &[&["p", &bob.hex()]],
        "not an encrypted payload",
    );
    let (ok, msg) = b.connect().await.publish(&junk).await.unwrap();
    assert!(ok, "{msg}");

    let (ok, read) = json_of(&bob, &["social", "dm", "read", "--relay", &b.url, "--json"]);
    assert!(ok, "{read}");
    // Bob neither follows nor befriended alice: her message is in his requests folder.
    assert_eq!(read["messages"], serde_json::json!([]), "{read}");
    let messages = read["requests"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{read}");
    assert_eq!(messages[0]["text"], "hello bob");
    assert_eq!(messages[0]["from"], alice.hex());
    assert_eq!(read["unreadable"][0]["wrap"], junk.id.to_hex());
    assert!(
        read["unreadable"][0]["why"]
            .as_str()
            .unwrap()
            .contains("does not open"),
        "{read}"
    );
    // Alice keeps her own copy; carol, authenticated as herself, gets nothing of bob's.
    let (_, mine) = json_of(
        &alice,
        &["social", "dm", "read", "--relay", &a.url, "--json"],
    );
    assert_eq!(mine["messages"][0]["text"], "hello bob");
    let (ok, hers) = json_of(
        &carol,
        &["social", "dm", "read", "--relay", &b.url, "--json"],
    );
    assert!(ok, "{hers}");
    assert_eq!(hers["messages"], serde_json::json!([]));
    assert_eq!(hers["unreadable"], serde_json::json!([]));

    // Nobody to take it: refused, naming the recipient.
    let (ok, err) = json_of(
        &alice,
        &[
            "social",
            "dm",
            "send",
            &carol.hex(),
            "anyone there?",
            "--relay",
            "ws://127.0.0.1:1",
            "--relay-timeout",
            "2",
            "--json",
        ],
    );
    assert!(!ok);
    let why = err["error"].as_str().unwrap();
    assert!(why.contains("no relay took the copy"), "{why}");
    assert!(
        why.contains(&carol.keys.public_key().to_bech32().unwrap()),
        "{why}"
    );
}

/// The public side through the binary: follows kept as one list (the rest of it untouched),
/// posts and NIP-10 replies, a home timeline of the people followed and oneself, newest first,
/// with nobody else's posts in it, and profiles changed field by field.
#[test]
fn follows_posts_replies_the_home_timeline_and_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(dir.path(), &[]);
    let r = relay.url.as_str();
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    let ok = |p: &Person, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--relay", r, "--json"]);
        let (ok, v) = json_of(p, &all);
        assert!(ok, "seedstr {}: {v}", args.join(" "));
        v
    };
    let id = |v: &Value| v["post"]["id"].as_str().unwrap().to_owned();

    let followed = ok(&alice, &["social", "follow", &bob.hex()]);
    assert_eq!(followed["changed"], true);
    let again = ok(&alice, &["social", "follow", &bob.hex()]);
    assert_eq!(again["changed"], false, "following twice changes nothing");
    let both = ok(&alice, &["social", "follow", &carol.hex()]);
    assert_eq!(both["following"].as_array().unwrap().len(), 2);
    let one = ok(&alice, &["social", "unfollow", &carol.hex()]);
    assert_eq!(
        one["following"],
        serde_json::json!([bob.keys.public_key().to_bech32().unwrap()])
    );

    let hello = id(&ok(&bob, &["social", "post", "hello world"]));
    ok(&carol, &["social", "post", "carol's post nobody asked for"]);
    let reply = ok(&alice, &["social", "post", "hi bob", "--reply-to", &hello]);
    assert_eq!(reply["post"]["root"], hello);
    let second = ok(
        &bob,
        &["social", "post", "thanks", "--reply-to", &id(&reply)],
    );
    assert_eq!(second["post"]["root"], hello, "the thread's root is kept");
    assert_eq!(second["post"]["reply_to"], id(&reply));

    // The thread, from any of its posts, as a tree.
    let thread = ok(&carol, &["social", "thread", &id(&second)]);
    let shape: Vec<(u64, &str)> = thread["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["depth"].as_u64().unwrap(),
                p["post"]["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(shape, [(0, "hello world"), (1, "hi bob"), (2, "thanks")]);

    let feed = ok(&alice, &["social", "feed"]);
    let texts: Vec<&str> = feed["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{feed}");
    assert!(!texts.contains(&"carol's post nobody asked for"), "{feed}");
    for w in feed["posts"].as_array().unwrap().windows(2) {
        assert!(w[0]["created_at"].as_u64() >= w[1]["created_at"].as_u64());
    }
    // Profiles: fields set and kept, others' fields untouched, an empty value removes one.
    let other_client = event(
        &bob.keys,
        0,
        &[],
        r#"{"name":"bob","lud16":"bob@pay.example"}"#,
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (accepted, msg) = rt
        .block_on(async { relay.connect().await.publish(&other_client).await })
        .unwrap();
    assert!(accepted, "{msg}");
    let set = ok(
        &bob,
        &[
            "social",
            "profile",
            "set",
            "--about",
            "maps",
            "--display-name",
            "Bob",
        ],
    );
    assert_eq!(set["profile"]["fields"]["lud16"], "bob@pay.example");
    assert_eq!(set["profile"]["fields"]["about"], "maps");
    ok(&bob, &["social", "profile", "set", "--display-name", ""]);
    let shown = ok(&alice, &["social", "profile", "show", &bob.hex()]);
    assert_eq!(shown["fields"]["name"], "bob");
    assert_eq!(shown["fields"]["about"], "maps");
    assert!(shown["fields"].get("display_name").is_none(), "{shown}");
    // NIP-05: a domain (a web server on loopback) that gives bob's name bob's key verifies it;
    // a name it gives another key does not.
    let site = tempfile::tempdir().unwrap();
    let doc = serde_json::json!({"names": {"bob": bob.hex(), "carol": alice.hex()}});
    common::spine::write(
        site.path(),
        ".well-known/nostr.json",
        doc.to_string().as_bytes(),
    );
    let web = common::spine::WebMirror::start(site.path());
    let domain = web.url.trim_start_matches("http://").to_owned();
    ok(
        &bob,
        &[
            "social",
            "profile",
            "set",
            "--nip05",
            &format!("bob@{domain}"),
        ],
    );
    let shown = ok(&alice, &["social", "profile", "show", &bob.hex()]);
    assert_eq!(shown["nip05"]["verified"], true, "{shown}");
    ok(
        &carol,
        &[
            "social",
            "profile",
            "set",
            "--nip05",
            &format!("carol@{domain}"),
        ],
    );
    let shown = ok(&alice, &["social", "profile", "show", &carol.hex()]);
    assert_eq!(shown["nip05"]["verified"], false, "{shown}");
    assert!(
        shown["nip05"]["why"]
            .as_str()
            .unwrap()
            .contains("not this profile's"),
        "{shown}"
    );
    let none = ok(&Person::new(), &["social", "profile", "show"]);
    assert_eq!(none["fields"], serde_json::json!({}));

    // Replying to a post no relay holds is refused by name.
    let (ok_, err) = json_of(
        &alice,
        &[
            "social",
            "post",
            "hm",
            "--reply-to",
            &"ab".repeat(32),
            "--relay",
            r,
            "--json",
        ],
    );
    assert!(!ok_);
    assert!(
        err["error"].as_str().unwrap().contains("to reply to"),
        "{err}"
    );
}

/// Friends through the binary on one relay: a request, a rejection nobody hears of, an
/// acceptance completed on the asker's side, friends-only and private posts read by exactly
/// their readers (a follower who is not a friend gets wraps they cannot open), and a blocked
/// person's messages and requests hidden.
#[test]
fn friend_requests_friends_only_posts_and_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(dir.path(), &[]);
    let r = relay.url.as_str();
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    let ok = |p: &Person, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--relay", r, "--json"]);
        let (ok, v) = json_of(p, &all);
        assert!(ok, "seedstr {}: {v}", args.join(" "));
        v
    };
    let npub = |p: &Person| p.keys.public_key().to_bech32().unwrap();

    ok(
        &alice,
        &[
            "social",
            "friend",
            "request",
            &bob.hex(),
            "--note",
            "it's alice",
        ],
    );
    ok(&carol, &["social", "friend", "request", &bob.hex()]);
    let bobs = ok(&bob, &["social", "friend", "list"]);
    let from: Vec<&str> = bobs["incoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["from"].as_str().unwrap())
        .collect();
    assert_eq!(from.len(), 2, "{bobs}");
    assert!(from.contains(&npub(&alice).as_str()) && from.contains(&npub(&carol).as_str()));
    let alices = ok(&alice, &["social", "friend", "list"]);
    assert_eq!(alices["outgoing"][0]["to"], npub(&bob));
    assert_eq!(alices["outgoing"][0]["text"], "it's alice");

    ok(&bob, &["social", "friend", "reject", &carol.hex()]);
    let accepted = ok(&bob, &["social", "friend", "accept", &alice.hex()]);
    assert_eq!(accepted["friends"], serde_json::json!([npub(&alice)]));
    let bobs = ok(&bob, &["social", "friend", "list"]);
    assert_eq!(
        bobs["incoming"],
        serde_json::json!([]),
        "carol's turned down"
    );
    // Alice's side completes when she looks: bob accepted.
    let alices = ok(&alice, &["social", "friend", "list"]);
    assert_eq!(alices["newly_accepted"][0]["to"], npub(&bob), "{alices}");
    assert_eq!(alices["friends"], serde_json::json!([npub(&bob)]));
    let alices = ok(&alice, &["social", "friend", "list"]);
    assert_eq!(alices["newly_accepted"], serde_json::json!([]));
    assert_eq!(alices["outgoing"], serde_json::json!([]));
    // Accepting twice, or someone who never asked, is refused by name.
    let (done, err) = json_of(
        &bob,
        &[
            "social",
            "friend",
            "accept",
            &carol.hex(),
            "--relay",
            r,
            "--json",
        ],
    );
    assert!(!done);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("no pending friend request"),
        "{err}"
    );

    // Carol follows alice, so she sees alice's public posts, not her friends-only ones.
    ok(&carol, &["social", "follow", &alice.hex()]);
    ok(&alice, &["social", "post", "for everyone"]);
    let friends_only = ok(
        &alice,
        &["social", "post", "for friends", "--visibility", "friends"],
    );
    assert_eq!(friends_only["post"]["visibility"], "friends");
    assert_eq!(
        friends_only["deliveries"].as_array().unwrap().len(),
        2,
        "bob's copy and alice's"
    );
    ok(
        &alice,
        &["social", "post", "note to self", "--visibility", "private"],
    );
    let texts = |feed: &Value| -> Vec<String> {
        feed["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}:{}",
                    p["visibility"].as_str().unwrap(),
                    p["text"].as_str().unwrap()
                )
            })
            .collect()
    };
    let bobs_feed = texts(&ok(&bob, &["social", "feed"]));
    assert!(
        bobs_feed.contains(&"friends:for friends".to_owned()),
        "{bobs_feed:?}"
    );
    assert!(
        bobs_feed.contains(&"public:for everyone".to_owned()),
        "{bobs_feed:?}"
    );
    assert!(
        !bobs_feed.iter().any(|t| t.contains("note to self")),
        "{bobs_feed:?}"
    );
    let carols_feed = texts(&ok(&carol, &["social", "feed"]));
    assert_eq!(carols_feed, ["public:for everyone"], "{carols_feed:?}");
    let alices_feed = texts(&ok(&alice, &["social", "feed"]));
    for t in [
        "public:for everyone",
        "friends:for friends",
        "private:note to self",
    ] {
        assert!(alices_feed.contains(&t.to_owned()), "{alices_feed:?}");
    }
    // The relay holds the friends-only post only as wraps: nothing signed says it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stored = rt.block_on(async {
        relay
            .connect()
            .await
            .query("x", &[serde_json::json!({"kinds": [1]})])
            .await
            .unwrap()
    });
    assert!(
        stored.iter().all(|e| e.content == "for everyone"),
        "{stored:?}"
    );

    // A friend's message is a conversation, not a request; a blocked stranger's is hidden.
    ok(&alice, &["social", "dm", "send", &bob.hex(), "lunch?"]);
    let blocked = json_of(&bob, &["social", "friend", "block", &carol.hex(), "--json"]).1;
    assert_eq!(blocked["changed"], true);
    ok(&carol, &["social", "dm", "send", &bob.hex(), "hello?"]);
    ok(
        &carol,
        &["social", "friend", "request", &bob.hex(), "--note", "again"],
    );
    let read = ok(&bob, &["social", "dm", "read"]);
    assert_eq!(read["messages"][0]["text"], "lunch?", "{read}");
    assert_eq!(read["requests"], serde_json::json!([]), "{read}");
    assert_eq!(read["blocked"], 1);
    let bobs = ok(&bob, &["social", "friend", "list"]);
    assert_eq!(bobs["incoming"], serde_json::json!([]), "{bobs}");
    let unblocked = json_of(
        &bob,
        &["social", "friend", "unblock", &carol.hex(), "--json"],
    )
    .1;
    assert_eq!(unblocked["changed"], true);
    let bobs = ok(&bob, &["social", "friend", "list"]);
    assert_eq!(bobs["incoming"][0]["text"], "again", "{bobs}");
}

/// Reactions, reposts, deletion requests, notifications and statuses through the binary: the
/// timeline counts one reaction per person, a deleted post leaves it, only one's own events
/// can be deleted, and a blocked person's reaction is counted nowhere.
#[test]
fn reactions_reposts_deletions_notifications_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(dir.path(), &[]);
    let r = relay.url.as_str();
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    let run = |p: &Person, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--relay", r, "--json"]);
        json_of(p, &all)
    };
    let ok = |p: &Person, args: &[&str]| {
        let (ok, v) = run(p, args);
        assert!(ok, "seedstr {}: {v}", args.join(" "));
        v
    };
    let npub = |p: &Person| p.keys.public_key().to_bech32().unwrap();

    let hello = ok(&bob, &["social", "post", "hello"])["post"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&alice, &["social", "follow", &bob.hex()]);
    ok(&alice, &["social", "react", &hello]);
    ok(&alice, &["social", "react", &hello, "--with", "🔥"]);
    ok(&carol, &["social", "react", &hello, "--with", "-"]);
    ok(&alice, &["social", "repost", &hello]);
    ok(
        &carol,
        &["social", "post", "nice one", "--reply-to", &hello],
    );

    let feed = ok(&alice, &["social", "feed"]);
    let post = feed["posts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == hello)
        .unwrap()
        .clone();
    assert_eq!(post["reactions"], 2, "alice once, carol once: {post}");
    assert_eq!(post["reposts"], 1);

    let notes = ok(&bob, &["social", "notifications"]);
    let kinds: Vec<(&str, &str)> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["kind"].as_str().unwrap(), n["from"].as_str().unwrap()))
        .collect();
    let alice_n = npub(&alice);
    let carol_n = npub(&carol);
    for want in [
        ("reaction", alice_n.as_str()),
        ("repost", alice_n.as_str()),
        ("reaction", carol_n.as_str()),
        ("reply", carol_n.as_str()),
    ] {
        assert!(kinds.contains(&want), "{want:?} in {kinds:?}");
    }
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    // Blocked: carol's reaction and reply concern bob no more.
    json_of(&bob, &["social", "friend", "block", &carol.hex(), "--json"]);
    let notes = ok(&bob, &["social", "notifications"]);
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["from"] != carol_n),
        "{notes}"
    );

    // Statuses.
    ok(&bob, &["social", "status", "set", "mapping the north"]);
    let shown = ok(&alice, &["social", "status", "show", &bob.hex()]);
    assert_eq!(shown["text"], "mapping the north");
    ok(&bob, &["social", "status", "set", ""]);
    assert_eq!(
        ok(&alice, &["social", "status", "show", &bob.hex()])["text"],
        ""
    );

    // Deleting: only one's own; the deleted post leaves the timeline.
    let (done, err) = run(&alice, &["social", "delete", &hello]);
    assert!(!done);
    assert!(
        err["error"].as_str().unwrap().contains("not yours"),
        "{err}"
    );
    ok(&bob, &["social", "delete", &hello, "--reason", "typo"]);
    let feed = ok(&alice, &["social", "feed"]);
    assert!(
        feed["posts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != hello),
        "{feed}"
    );
}

/// Bob's node as his home (`seedstr node` with `social.owner`): it makes his relay and inbox
/// lists name it, so alice's message finds it by his key alone; it refuses what does not open
/// for him and what is dated outside its window, and drops a blocked sender's message while
/// answering OK, so the sender learns nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_node_keeps_their_inbox() {
    use common::node::{node_config, NodeProcess};
    use std::time::{Duration, Instant};
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    let config = node_config(&bob, &[("owner = false", "owner = true")]);
    let node = NodeProcess::start(bob.home.path(), &config);
    let url = node.relay();
    // Bob's lists, signed by his node at start, name the node.
    let deadline = Instant::now() + Duration::from_secs(30);
    let lists = loop {
        let got = seedstr_client::relays::conn::RelayConn::connect(&url)
            .await
            .unwrap()
            .query(
                "l",
                &[serde_json::json!({"kinds": [10002, 10050], "authors": [bob.hex()]})],
            )
            .await
            .unwrap();
        if got.len() == 2 {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "bob's node did not announce itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for l in &lists {
        let tag = if l.kind.as_u16() == 10002 {
            "r"
        } else {
            "relay"
        };
        assert!(
            l.tags
                .iter()
                .any(|t| t.as_slice() == [tag.to_owned(), url.clone()]),
            "{l:?}"
        );
    }
    let run = |p: &Person, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--relay", &url, "--json"]);
        json_of(p, &all)
    };
    // Alice sends by key; the copy goes to the inbox bob's list names.
    let (ok, sent) = run(&alice, &["social", "dm", "send", &bob.hex(), "hi bob"]);
    assert!(ok, "{sent}");
    let to_bob = sent["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["recipient"] == bob.keys.public_key().to_bech32().unwrap())
        .unwrap()
        .clone();
    assert_eq!(to_bob["to_inbox_list"], true, "{sent}");

    // Blocked: carol's message is answered OK and never stored.
    let (ok, v) = json_of(&bob, &["social", "friend", "block", &carol.hex(), "--json"]);
    assert!(ok, "{v}");
    let (ok, sent) = run(&carol, &["social", "dm", "send", &bob.hex(), "let me in"]);
    assert!(ok, "carol is told her message was taken: {sent}");
    let (ok, read) = run(&bob, &["social", "dm", "read"]);
    assert!(ok, "{read}");
    let texts: Vec<&str> = read["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hi bob"], "{read}");
    assert_eq!(read["blocked"], 0, "never stored, so nothing to hide");

    // What does not open for bob, and what is dated outside the window, is refused.
    let mut conn = seedstr_client::relays::conn::RelayConn::connect(&url)
        .await
        .unwrap();
    let junk = event(&Keys::generate(), 1059, &[&["p", &bob.hex()]], "junk");
    let (taken, why) = conn.publish(&junk).await.unwrap();
    assert!(!taken && why.contains("does not open"), "{why}");
    let old = EventBuilder::new(Kind::TextNote, "remember me?")
        .tag(Tag::public_key(bob.keys.public_key()))
        .custom_created_at(Timestamp::from(Timestamp::now().as_secs() - 30 * 86_400))
        .finalize(&alice.keys)
        .unwrap();
    let (taken, why) = conn.publish(&old).await.unwrap();
    assert!(!taken && why.contains("within 4 days"), "{why}");
    // Events that are not addressed to bob are the relay's business as before.
    let note = event(&carol.keys, 1, &[], "a public note");
    let (taken, why) = conn.publish(&note).await.unwrap();
    assert!(taken, "{why}");
}

/// Two directories and an owner's node: the node registers its owner with the directory it
/// names (profile and lists, sent on as they change); a stranger finds him by name or key
/// through both directories, newest lists winning, his node confirming itself, and the
/// directories' status reports saying when it was last seen. An impostor with his name, and a
/// stale list one directory holds, do not mislead; once his node is down, discovery says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_find_people_and_their_nodes_without_being_trusted() {
    use common::node::{node_config, DirectoryProcess, NodeProcess};
    use std::time::{Duration, Instant};
    let (op_a, op_b) = (Person::new(), Person::new());
    let (dir_a_data, dir_b_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dir_a = DirectoryProcess::start(&op_a, dir_a_data.path(), 1);
    let dir_b = DirectoryProcess::start(&op_b, dir_b_data.path(), 1);
    let (alice, bob, mallory) = (Person::new(), Person::new(), Person::new());
    // A DHT of its own on loopback, which bob's node joins and writes his feed to.
    let net = seedstr_dht::Testnet::builder(10).build().unwrap();
    let bootstrap = format!(
        "bootstrap = [{}]",
        net.bootstrap
            .iter()
            .map(|b| format!("\"{b}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let config = node_config(
        &bob,
        &[
            ("owner = false", "owner = true"),
            (
                "directories = []",
                &format!("directories = [\"{}\"]", dir_a.url),
            ),
            ("bootstrap = []", &bootstrap),
        ],
    );
    let node = NodeProcess::start(bob.home.path(), &config);
    let home = node.relay();
    let (ok, v) = json_of(
        &bob,
        &[
            "social",
            "profile",
            "set",
            "--name",
            "bob builder",
            "--relay",
            &home,
            "--json",
        ],
    );
    assert!(ok, "{v}");

    // A public post sent to a directory alone (which takes no posts) still reaches the node
    // his relay list names (NIP-65).
    let deadline = Instant::now() + Duration::from_secs(30);
    let posted = loop {
        let (ok, v) = json_of(
            &bob,
            &[
                "social",
                "post",
                "through my lists",
                "--relay",
                &dir_a.url,
                "--json",
            ],
        );
        if ok {
            break v;
        }
        assert!(Instant::now() < deadline, "{v}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let took: Vec<&str> = posted["answers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["accepted"] == true)
        .map(|a| a["relay"].as_str().unwrap())
        .collect();
    assert_eq!(took, [home.as_str()], "{posted}");

    // An impostor named bob, and a stale inbox list of bob's, on the other directory.
    let mut b = seedstr_client::relays::conn::RelayConn::connect(&dir_b.url)
        .await
        .unwrap();
    for e in [
        event(&mallory.keys, 0, &[], r#"{"name":"bob"}"#),
        event(&mallory.keys, 10050, &[&["relay", "ws://127.0.0.1:1/"]], ""),
        EventBuilder::new(Kind::from(10050), "")
            .tag(Tag::parse(["relay", "ws://127.0.0.1:1/"]).unwrap())
            .custom_created_at(Timestamp::from(Timestamp::now().as_secs() - 3_600))
            .finalize(&bob.keys)
            .unwrap(),
    ] {
        let (taken, why) = b.publish(&e).await.unwrap();
        assert!(taken, "{why}");
    }
    // The directory takes only what it is for.
    let note = event(&mallory.keys, 1, &[], "spam");
    let (taken, why) = b.publish(&note).await.unwrap();
    assert!(!taken && why.contains("kind 1"), "{why}");

    let discover = |query: &str| discover_through(&alice, &[&dir_a.url, &dir_b.url], query);
    let bob_npub = bob.keys.public_key().to_bech32().unwrap();
    let find_bob = |v: &Value| {
        v["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["npub"] == bob_npub)
            .cloned()
    };
    // Registration and the first probe take a moment: poll with a deadline.
    let deadline = Instant::now() + Duration::from_secs(60);
    let found = loop {
        let (ok, v) = discover("bob");
        assert!(ok, "{v}");
        if let Some(p) = find_bob(&v) {
            if p["node"]["confirmed"] == true
                && !p["node"]["reports"].as_array().unwrap().is_empty()
            {
                break v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "bob was not found confirmed: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let people = found["people"].as_array().unwrap();
    assert_eq!(people.len(), 2, "bob and the impostor: {found}");
    let bob_found = find_bob(&found).unwrap();
    assert_eq!(bob_found["profile"]["name"], "bob builder");
    assert_eq!(
        bob_found["inbox"],
        serde_json::json!([home]),
        "the newest list wins"
    );
    assert_eq!(bob_found["node"]["url"], home);
    let report = &bob_found["node"]["reports"][0];
    assert_eq!(
        report["directory"],
        op_a.keys.public_key().to_bech32().unwrap()
    );
    let impostor = people.iter().find(|p| p["npub"] != bob_npub).unwrap();
    assert_eq!(impostor["node"]["confirmed"], false, "{impostor}");
    assert!(
        impostor["node"]["why"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{impostor}"
    );
    // Every relay searches what it holds (NIP-50 over its word index): bob's node finds his
    // own profile.
    let mut at_home = seedstr_client::relays::conn::RelayConn::connect(&home)
        .await
        .unwrap();
    let found = at_home
        .query(
            "s",
            &[serde_json::json!({"kinds": [0], "search": "builder"})],
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].content.contains("bob builder"));
    // By key: the same answer; meeting him keeps his transport-key attestation (sent by his
    // node with his lists; polled, since it travels beside them).
    let kept = alice
        .home
        .path()
        .join(format!("dht/attestations/{}.json", bob.hex()));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ok, by_key) = discover(&bob.hex());
        assert!(ok, "{by_key}");
        assert_eq!(by_key["people"][0]["node"]["confirmed"], true, "{by_key}");
        if kept.is_file() {
            break;
        }
        assert!(Instant::now() < deadline, "no attestation kept: {by_key}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Both directories go down: alice, who met bob once (his transport key remembered from
    // the directories), finds his node by key through his feed on the DHT.
    drop(dir_a);
    drop(dir_b);
    let mut dht_args = vec!["social", "discover", bob_npub.as_str(), "--dht", "--json"];
    for b in &net.bootstrap {
        dht_args.extend(["--dht-bootstrap", b.as_str()]);
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let through_dht = loop {
        let (ok, v) = json_of(&alice, &dht_args);
        if ok && v["people"][0]["node"]["confirmed"] == true {
            break v;
        }
        assert!(Instant::now() < deadline, "not found through the DHT: {v}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(
        through_dht["people"][0]["node"]["url"], home,
        "{through_dht}"
    );
    assert_eq!(
        through_dht["people"][0]["profile"]["name"], "bob builder",
        "from his node"
    );

    // Bob's node goes down: discovery says it did not answer; the last report stays.
    let dir_a = DirectoryProcess::start(&op_a, dir_a_data.path(), 1);
    let dir_b = DirectoryProcess::start(&op_b, dir_b_data.path(), 1);
    let discover = |query: &str| discover_through(&alice, &[&dir_a.url, &dir_b.url], query);
    drop(node);
    let (ok, down) = discover(&bob.hex());
    assert!(ok, "{down}");
    let node = &down["people"][0]["node"];
    assert_eq!(node["confirmed"], false, "{down}");
    assert!(
        !node["reports"].as_array().unwrap().is_empty(),
        "last seen stays: {down}"
    );
}

/// Content sync: alice's node is down while bob posts, replies in a thread she lacks, posts to
/// friends and writes to her; his copies for her wait on his node. When her node comes back it
/// catches up from his (NIP-77: his public posts, and the wraps addressed to her after AUTH),
/// fetches the missing root of the thread, and her timeline, thread and messages are whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_catches_up_from_its_friends_nodes_after_downtime() {
    use common::node::{node_config, DirectoryProcess, NodeProcess};
    use std::time::{Duration, Instant};
    let op = Person::new();
    let dir_data = tempfile::tempdir().unwrap();
    let dir = DirectoryProcess::start(&op, dir_data.path(), 3600);
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    let owner_config = |p: &Person| {
        node_config(
            p,
            &[
                ("owner = false", "owner = true"),
                (
                    "directories = []",
                    &format!("directories = [\"{}\"]", dir.url),
                ),
                ("sync_secs = 600", "sync_secs = 1"),
            ],
        )
    };
    let (a_config, b_config) = (owner_config(&alice), owner_config(&bob));
    let a_node = NodeProcess::start(alice.home.path(), &a_config);
    let b_node = NodeProcess::start(bob.home.path(), &b_config);
    let (a, b) = (a_node.relay(), b_node.relay());
    let ok = |p: &Person, relay: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--relay", relay, "--json"]);
        let (ok, v) = json_of(p, &all);
        assert!(ok, "seedstr {}: {v}", args.join(" "));
        v
    };
    // Each knows where the other lives only through the directory: wait for registration.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v) = json_of(
            &alice,
            &[
                "social",
                "discover",
                &bob.hex(),
                "--relay",
                &dir.url,
                "--json",
            ],
        );
        let (_, w) = json_of(
            &bob,
            &[
                "social",
                "discover",
                &alice.hex(),
                "--relay",
                &dir.url,
                "--json",
            ],
        );
        if v["people"][0]["node"]["confirmed"] == true
            && w["people"][0]["node"]["confirmed"] == true
        {
            break;
        }
        assert!(Instant::now() < deadline, "not registered: {v} {w}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Friends, through their own nodes (each copy goes to the other's inbox list: their node).
    let both = [a.as_str(), dir.url.as_str()];
    let alice_at = |args: &[&str]| {
        let mut all = args.to_vec();
        for r in both {
            all.extend(["--relay", r]);
        }
        all.push("--json");
        let (ok, v) = json_of(&alice, &all);
        assert!(ok, "seedstr {}: {v}", args.join(" "));
        v
    };
    alice_at(&["social", "friend", "request", &bob.hex()]);
    let bob_dirs = [b.as_str(), dir.url.as_str()];
    let bob_at = |args: &[&str]| {
        let mut all = args.to_vec();
        for r in bob_dirs {
            all.extend(["--relay", r]);
        }
        all.push("--json");
        let (ok, v) = json_of(&bob, &all);
        assert!(ok, "seedstr {}: {v}", args.join(" "));
        v
    };
    bob_at(&["social", "friend", "accept", &alice.hex()]);
    let listed = alice_at(&["social", "friend", "list"]);
    assert_eq!(listed["friends"].as_array().unwrap().len(), 1, "{listed}");

    // Carol's post lives on bob's node only.
    let root = ok(&carol, &b, &["social", "post", "carol's question"])["post"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Alice's node goes down.
    drop(a_node);
    let reply = bob_at(&["social", "post", "bob's answer", "--reply-to", &root]);
    let reply_id = reply["post"]["id"].as_str().unwrap().to_owned();
    bob_at(&[
        "social",
        "post",
        "for friends only",
        "--visibility",
        "friends",
    ]);
    let sent = bob_at(&["social", "dm", "send", &alice.hex(), "are you there?"]);
    let to_alice = sent["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["recipient"] == alice.keys.public_key().to_bech32().unwrap())
        .unwrap()
        .clone();
    assert_eq!(to_alice["held_for_pickup"], true, "{sent}");

    // Back up: it catches up from bob's node.
    let a_node = NodeProcess::start(alice.home.path(), &a_config);
    let a = a_node.relay();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (feed, read) = loop {
        let feed = ok(&alice, &a, &["social", "feed"]);
        let read = ok(&alice, &a, &["social", "dm", "read"]);
        let texts: Vec<&str> = feed["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["text"].as_str().unwrap())
            .collect();
        if texts.contains(&"bob's answer")
            && texts.contains(&"for friends only")
            && !read["messages"].as_array().unwrap().is_empty()
        {
            break (feed, read);
        }
        assert!(
            Instant::now() < deadline,
            "alice's node did not catch up: {feed} {read}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(read["messages"][0]["text"], "are you there?", "{read}");
    assert!(feed["posts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["visibility"] == "friends"));
    // The thread's root, carol's, was fetched too: the thread reads whole from alice's node.
    let thread = ok(&alice, &a, &["social", "thread", &reply_id]);
    let texts: Vec<&str> = thread["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["post"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["carol's question", "bob's answer"], "{thread}");
}

/// Attachments: alice's post carries a file her node seeds, described by an imeta tag whose web
/// seed is her node; bob fetches it from the swarm, carol (with no peer) from the web seed, each
/// copy checked by its SHA-256 and registered for seeding; her node serves byte ranges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_are_torrents_seeded_by_the_authors_node_and_by_viewers() {
    use common::node::{node_config, NodeProcess};
    use sha2::Digest as _;
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    let config = node_config(
        &alice,
        &[
            ("owner = false", "owner = true"),
            ("enabled = true", "enabled = false"),
        ],
    );
    let node = NodeProcess::start(alice.home.path(), &config);
    let relay = node.relay();
    let work = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = work.path().join("album.png");
    std::fs::write(&file, &bytes).unwrap();
    let (ok, posted) = json_of(
        &alice,
        &[
            "social",
            "post",
            "my album",
            "--attach",
            file.to_str().unwrap(),
            "--relay",
            &relay,
            "--json",
        ],
    );
    assert!(ok, "{posted}");
    let att = posted["post"]["attachments"][0].clone();
    assert_eq!(att["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(att["size"], bytes.len());
    assert_eq!(att["mime"], "image/png");
    let url = att["url"].as_str().unwrap().to_owned();
    assert!(
        posted["post"]["text"].as_str().unwrap().ends_with(&url),
        "NIP-92: the url in the text"
    );
    let id = posted["post"]["id"].as_str().unwrap().to_owned();

    // Her node serves it, whole and by range.
    let http = reqwest::Client::new();
    let whole = http.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap(), bytes);
    let part = http
        .get(&url)
        .header("Range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap(), bytes[1000..2000]);

    // Bob from the swarm (her node's torrent address), carol from the web seed alone.
    let fetched = |p: &Person, extra: &[&str]| {
        let mut args = vec![
            "social", "media", "get", &id, "--relay", &relay, "--no-dht", "--json",
        ];
        args.extend(extra);
        let (ok, v) = json_of(p, &args);
        assert!(ok, "{v}");
        let path = v[0]["file"].as_str().unwrap().to_owned();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        v
    };
    fetched(&bob, &["--peer", &node.torrent]);
    fetched(&carol, &["--stall-timeout", "1"]);
    for p in [&bob, &carol] {
        let seeds = std::fs::read_dir(p.home.path().join("seeds"))
            .unwrap()
            .count();
        assert!(seeds >= 1, "registered for seeding");
    }
}

/// The whole of O-Red on loopback: three people's nodes, two directories and a DHT of their
/// own. They register and find one another, alice and bob become friends, a friends-only post
/// reaches bob and not carol, a message is read only by its recipient, a blocked sender is
/// dropped, bob's node catches up after being down, and with both directories stopped carol
/// still finds alice's node through the DHT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_and_two_directories() {
    use common::node::{node_config, DirectoryProcess, NodeProcess};
    use std::time::{Duration, Instant};
    let (op_a, op_b) = (Person::new(), Person::new());
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dir_a = DirectoryProcess::start(&op_a, da.path(), 1);
    let dir_b = DirectoryProcess::start(&op_b, db.path(), 1);
    let net = seedstr_dht::Testnet::builder(10).build().unwrap();
    let bootstrap = format!(
        "bootstrap = [{}]",
        net.bootstrap
            .iter()
            .map(|b| format!("\"{b}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    let config = |p: &Person, dir: &str| {
        node_config(
            p,
            &[
                ("owner = false", "owner = true"),
                ("directories = []", &format!("directories = [\"{dir}\"]")),
                ("bootstrap = []", &bootstrap),
                ("sync_secs = 600", "sync_secs = 1"),
            ],
        )
    };
    let (ca, cb, cc) = (
        config(&alice, &dir_a.url),
        config(&bob, &dir_b.url),
        config(&carol, &dir_a.url),
    );
    let a_node = NodeProcess::start(alice.home.path(), &ca);
    let mut b_node = NodeProcess::start(bob.home.path(), &cb);
    let c_node = NodeProcess::start(carol.home.path(), &cc);
    let dirs = [dir_a.url.clone(), dir_b.url.clone()];
    // Each person speaks through their own node and the directories.
    let at = |p: &Person, node: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--relay", node]);
        for d in &dirs {
            all.extend(["--relay", d.as_str()]);
        }
        all.push("--json");
        json_of(p, &all)
    };
    let ok = |p: &Person, node: &str, args: &[&str]| {
        let (ok, v) = at(p, node, args);
        assert!(ok, "seedstr {}: {v}", args.join(" "));
        v
    };
    let (a, c) = (a_node.relay(), c_node.relay());
    let mut b = b_node.relay();
    ok(&bob, &b, &["social", "profile", "set", "--name", "bob"]);
    ok(&alice, &a, &["social", "profile", "set", "--name", "alice"]);

    // Registered: each found by key through the directories, confirmed by their node.
    let deadline = Instant::now() + Duration::from_secs(60);
    for (who, finder) in [(&bob, &alice), (&alice, &carol), (&carol, &bob)] {
        loop {
            let (_, v) = at(
                finder,
                "ws://127.0.0.1:1/",
                &["social", "discover", &who.hex()],
            );
            if v["people"][0]["node"]["confirmed"] == true {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} not registered: {v}",
                who.hex()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // By name: alice finds bob, registered with the other directory.
    let found = ok(&alice, &a, &["social", "discover", "bob"]);
    assert_eq!(
        found["people"][0]["npub"],
        bob.keys.public_key().to_bech32().unwrap()
    );

    // Friends.
    ok(&alice, &a, &["social", "friend", "request", &bob.hex()]);
    ok(&bob, &b, &["social", "friend", "accept", &alice.hex()]);
    let listed = ok(&alice, &a, &["social", "friend", "list"]);
    assert_eq!(listed["friends"].as_array().unwrap().len(), 1, "{listed}");
    ok(&carol, &c, &["social", "follow", &alice.hex()]);

    // A friends-only post: bob reads it, carol (who follows alice) does not.
    ok(
        &alice,
        &a,
        &["social", "post", "friends only", "--visibility", "friends"],
    );
    ok(&alice, &a, &["social", "post", "for all"]);
    let texts = |v: &Value| -> Vec<String> {
        v["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let bobs = texts(&ok(&bob, &b, &["social", "feed"]));
    assert!(bobs.contains(&"friends only".to_owned()), "{bobs:?}");
    let carols = texts(&ok(&carol, &c, &["social", "feed"]));
    assert!(carols.contains(&"for all".to_owned()), "{carols:?}");
    assert!(!carols.contains(&"friends only".to_owned()), "{carols:?}");

    // A message read only by its recipient: carol, authenticated on bob's node, gets nothing.
    ok(
        &alice,
        &a,
        &["social", "dm", "send", &bob.hex(), "just for bob"],
    );
    let read = ok(&bob, &b, &["social", "dm", "read"]);
    assert_eq!(read["messages"][0]["text"], "just for bob", "{read}");
    let (_, hers) = json_of(&carol, &["social", "dm", "read", "--relay", &b, "--json"]);
    assert_eq!(hers["messages"], serde_json::json!([]), "{hers}");
    assert_eq!(hers["requests"], serde_json::json!([]), "{hers}");

    // Blocked: bob blocks carol; her message is taken and dropped.
    let (ok_, v) = json_of(&bob, &["social", "friend", "block", &carol.hex(), "--json"]);
    assert!(ok_, "{v}");
    ok(
        &carol,
        &c,
        &["social", "dm", "send", &bob.hex(), "let me in"],
    );
    let read = ok(&bob, &b, &["social", "dm", "read"]);
    let all = format!("{read}");
    assert!(!all.contains("let me in"), "{read}");

    // Bob's node is down while alice writes and posts; back up, it catches up from hers.
    drop(b_node);
    let sent = ok(
        &alice,
        &a,
        &["social", "dm", "send", &bob.hex(), "while you were out"],
    );
    assert!(
        sent["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["held_for_pickup"] == true),
        "{sent}"
    );
    ok(&alice, &a, &["social", "post", "posted while bob was away"]);
    b_node = NodeProcess::start(bob.home.path(), &cb);
    b = b_node.relay();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let read = ok(&bob, &b, &["social", "dm", "read"]);
        let (_, feed) = json_of(&bob, &["social", "feed", "--relay", &b, "--json"]);
        let caught = format!("{read}").contains("while you were out")
            && format!("{feed}").contains("posted while bob was away");
        if caught {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bob's node did not catch up: {read} {feed}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Both directories stop; carol, who met alice through one, finds her node on the DHT.
    drop(dir_a);
    drop(dir_b);
    let mut dht = vec!["social", "discover", alice.hex().leak(), "--dht", "--json"];
    for n in &net.bootstrap {
        dht.extend(["--dht-bootstrap", n.as_str()]);
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (ok_, v) = json_of(&carol, &dht);
        if ok_ && v["people"][0]["node"]["confirmed"] == true {
            assert_eq!(v["people"][0]["node"]["url"], a, "{v}");
            break;
        }
        assert!(Instant::now() < deadline, "not found through the DHT: {v}");
        std::thread::sleep(Duration::from_millis(500));
    }
}
