//! Targets for short texts from outside: payload paths (in releases, torrents and archives),
//! the names, versions, ranges and addresses typed on command lines or carried in tags and
//! HTTP paths, and NIP-11 documents.

use seedstr_client::resolve::target::Target;
use seedstr_proto::path::check_payload_path;
use seedstr_proto::release::{
    check_game_version, game_version_matches, parse_project_address, parse_version, Coordinate,
};

/// A payload path: accepted paths must be relative, normal and free of reserved names.
pub fn payload_path(data: &[u8]) {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    if check_payload_path(path).is_ok() {
        assert!(!path.starts_with('/'), "an absolute path passed: {path:?}");
        assert!(
            !path
                .split('/')
                .any(|c| c == ".." || c == "." || c.is_empty()),
            "a path with an empty, . or .. component passed: {path:?}"
        );
        assert!(
            !path.contains('\\'),
            "a path with a backslash passed: {path:?}"
        );
    }
}

/// Every parser of a short name or address, on the same text.
pub fn text_fields(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = s.parse::<Target>();
    let _ = Coordinate::parse(s);
    if let Ok(v) = parse_version(s) {
        assert_eq!(parse_version(&v.to_string()).as_ref(), Ok(&v));
    }
    let _ = parse_project_address(s);
    if check_game_version(s).is_ok() {
        let _ = game_version_matches(s, "1.20.1");
    }
    let _ = seedstr_mods::collections::parse_collection_address(s);
    let _ = seedstr_mods::governance::parse_proposal_address(s);
    let _ = seedstr_mods::events::ReleaseRef::parse_address(s);
    let _ = seedstr_pkg::install::parse_spec(s);
    if let Ok(range) = seedstr_pkg::resolve::parse_range(s) {
        let _ = range.to_string();
    }
    for eco in [seedstr_pkg::Ecosystem::Npm, seedstr_pkg::Ecosystem::Cargo] {
        let _ = seedstr_pkg::PackageName::parse(eco, s);
    }
}

/// A NIP-11 relay information document.
pub fn nip11(data: &[u8]) {
    let _ = seedstr_client::http::nip11_operator(data);
}

/// A query string as the node's search API and pages receive it (read the way axum's `Query`
/// reads it), turned into the relay filter the search runs.
pub fn http_query(data: &[u8]) {
    let Ok(params) = serde_urlencoded::from_bytes::<seedstr_mods::search::SearchParams>(data)
    else {
        return;
    };
    if let Ok(filter) = params.filter(seedstr_mods::search::DEFAULT_LIMIT) {
        seedstr_proto::filter::Filter::parse(&filter).expect("the search's own filter reads");
    }
}

/// NIP-50 search text: the same bytes as a query and as the content of a note and a profile.
/// Indexed words keep their bounds, and a query made of an event's own words matches it.
pub fn search_text(data: &[u8]) {
    use seedstr_proto::search::{
        indexed_words, matches, query_words, relevance, MAX_QUERY_WORDS, MAX_WORDS_PER_EVENT,
        MAX_WORD_BYTES,
    };
    let text = String::from_utf8_lossy(data);
    let query = query_words(&text);
    assert!(query.len() <= MAX_QUERY_WORDS);
    for kind in [0u16, 1, 30023] {
        let Some(event) = crate::events::signed_event(
            serde_json::json!({"kind": kind, "content": text, "tags": [["title", text]], "created_at": 1})
                .to_string()
                .as_bytes(),
        ) else {
            continue;
        };
        let words = indexed_words(&event);
        assert!(words.len() <= MAX_WORDS_PER_EVENT);
        assert!(words
            .iter()
            .all(|(w, _)| w.len() <= MAX_WORD_BYTES && !w.contains('\0')));
        let own: Vec<String> = words.iter().take(4).map(|(w, _)| w.clone()).collect();
        assert_eq!(matches(&event, &own), !own.is_empty());
        if matches(&event, &query) {
            assert!(relevance(&event, &query) > 0);
        }
    }
}
