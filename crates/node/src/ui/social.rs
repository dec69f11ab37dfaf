//! The owner's social pages (`/me/…`, signed in) and the public ones anyone may see (a person's
//! page, a thread). Every page calls the same operations as `seedstr social`; forms post plain
//! HTML (no script), each carrying the session's form token.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use nostr::prelude::{EventId, Keys, PublicKey};
use seedstr_client::relays::RelaySet;
use seedstr_client::resolve::target::{npub, parse_public_key};
use seedstr_social::directory::discover::{discover, Query as Who};
use seedstr_social::friends::{accept_friend, friendships, reject_friend, request_friend, settle};
use seedstr_social::inbox::{read_messages, send_message};
use seedstr_social::local::LocalState;
use seedstr_social::media::{prepare, Attachment};
use seedstr_social::notifications::{notifications, NotificationKind};
use seedstr_social::posts::{publish_post, thread, timeline, Post, Visibility};
use seedstr_social::private_message::PrivateMessage;

use super::date;
use super::session::{clear_cookie, form_token, set_cookie, Sessions};

/// What the social pages need: the owner, where to ask, their sessions.
pub struct SocialUi {
    /// The owner's key, unlocked at start.
    pub owner: Keys,
    /// The node's data folder (the owner's home).
    pub data: PathBuf,
    /// The node's own relay, then the directories.
    pub relays: RelaySet,
    /// The directories alone, for discovery.
    pub directories: RelaySet,
    /// The node's HTTP address, for attachments' web seed.
    pub http_base: String,
    /// Sign-in sessions.
    pub sessions: Sessions,
}

/// The social pages' routes.
pub fn router(ui: Arc<SocialUi>) -> Router {
    Router::new()
        .route("/me", get(home))
        .route("/me/signin", get(signin_page).post(signin))
        .route("/me/signout", post(signout))
        .route("/me/post", post(compose))
        .route("/me/friends", get(friends_page).post(friends_action))
        .route("/me/messages", get(messages_page))
        .route("/me/messages/{who}", get(conversation).post(send))
        .route("/me/notifications", get(notifications_page))
        .route("/me/discover", get(discover_page))
        .route("/people/{who}", get(person))
        .route("/thread/{id}", get(thread_page))
        .with_state(ui)
}

type Ui = State<Arc<SocialUi>>;
type Peer = ConnectInfo<SocketAddr>;

/// A social page: the owner's menu when signed in, the body.
fn layout(title: &str, signed_in: bool, body: Markup) -> Markup {
    let header = html! {
        a.brand href="/me" { "Seedstr" }
        nav aria-label="Social" {
            @if signed_in {
                a href="/me" { "Home" }
                a href="/me/friends" { "Friends" }
                a href="/me/messages" { "Messages" }
                a href="/me/notifications" { "Notifications" }
                a href="/me/discover" { "Discover" }
            } @else {
                a href="/me/signin" { "Sign in" }
            }
            a href="/" { "Releases" }
        }
    };
    super::document(title, header, body, None)
}

fn hidden_token(session: &str) -> Markup {
    html! { input type="hidden" name="token" value=(form_token(session)); }
}

fn failure(status: StatusCode, signed_in: bool, why: &str) -> Response {
    (
        status,
        layout(
            "Cannot do that",
            signed_in,
            html! { h1 { "Cannot do that" } p.error role="alert" { (why) } },
        ),
    )
        .into_response()
}

fn person_link(who: &str) -> Markup {
    html! { a href=(format!("/people/{who}")) { (super::short(who)) } }
}

fn post_card(p: &Post) -> Markup {
    html! {
        article.card.post {
            div.meta {
                (person_link(&p.author)) " · " (date(p.created_at))
                @if p.visibility != Visibility::Public {
                    span.badge.info { (p.visibility.as_str()) }
                }
                @if p.reactions > 0 { " · " (p.reactions) " reactions" }
                @if p.reposts > 0 { " · " (p.reposts) " reposts" }
            }
            p.text { (p.text) }
            @for a in &p.attachments {
                @if a.mime.starts_with("image/") {
                    img src=(a.url) alt=(a.name) style="max-width:100%";
                } @else {
                    a href=(a.url) { (a.name) }
                }
            }
            @if p.visibility == Visibility::Public {
                a.meta href=(format!("/thread/{}", p.id)) { "thread" }
            }
        }
    }
}

/// The session, or the sign-in page to go to.
fn signed_in(
    ui: &SocialUi,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<String, Box<Response>> {
    ui.sessions
        .session(headers, peer.ip())
        .ok_or_else(|| Box::new(Redirect::to("/me/signin").into_response()))
}

/// The form's fields, when its token is the session's.
fn form(body: &[u8], session: &str) -> Result<BTreeMap<String, String>, Box<Response>> {
    let fields: BTreeMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if fields.get("token") != Some(&form_token(session)) {
        return Err(Box::new(failure(
            StatusCode::FORBIDDEN,
            true,
            "this form is stale or not from this node: reload the page",
        )));
    }
    Ok(fields)
}

fn local(ui: &SocialUi) -> LocalState {
    LocalState::load(&ui.data).unwrap_or_default()
}

async fn signin_page(State(ui): Ui, ConnectInfo(peer): Peer, headers: HeaderMap) -> Response {
    if ui.sessions.session(&headers, peer.ip()).is_some() {
        return Redirect::to("/me").into_response();
    }
    if !ui.sessions.allowed_from(peer.ip()) {
        return failure(
            StatusCode::FORBIDDEN,
            false,
            "sign-in is only allowed from this machine",
        );
    }
    layout(
        "Sign in",
        false,
        html! {
            h1 { "Sign in" }
            p.muted { "This node is the home of " code { (npub(&ui.owner.public_key())) } ". Its owner signs in with their key's passphrase." }
            form method="post" action="/me/signin" {
                label { "Passphrase " input type="password" name="passphrase" autocomplete="current-password" required; }
                " "
                button type="submit" { "Sign in" }
            }
        },
    )
    .into_response()
}

async fn signin(State(ui): Ui, ConnectInfo(peer): Peer, body: Bytes) -> Response {
    let fields: BTreeMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let passphrase = fields.get("passphrase").cloned().unwrap_or_default();
    match ui
        .sessions
        .sign_in(peer.ip(), passphrase, ui.owner.public_key())
        .await
    {
        Ok(token) => (
            [(header::SET_COOKIE, set_cookie(&token))],
            Redirect::to("/me"),
        )
            .into_response(),
        Err(e) => failure(StatusCode::UNAUTHORIZED, false, &e.to_string()),
    }
}

async fn signout(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let session = match signed_in(&ui, &headers, peer) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Err(r) = form(&body, &session) {
        return *r;
    }
    ui.sessions.sign_out(&session);
    (
        [(header::SET_COOKIE, clear_cookie())],
        Redirect::to("/me/signin"),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct Page {
    until: Option<u64>,
}

/// The home timeline: friends' and follows' posts, newest first, 50 a page, and the composer.
async fn home(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> Response {
    let session = match signed_in(&ui, &headers, peer) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let t = timeline(&ui.owner, &ui.relays, 50, page.until, &local(&ui)).await;
    let body = html! {
        h1 { "Home" }
        form.card method="post" action="/me/post" enctype="multipart/form-data" aria-label="Compose" {
            (hidden_token(&session))
            textarea name="text" rows="3" style="width:100%" placeholder="What's new?" aria-label="Post text" {}
            div.filters {
                select name="visibility" aria-label="Visibility" {
                    option value="public" { "Public" }
                    option value="friends" { "Friends only" }
                    option value="private" { "Only me" }
                }
                input type="file" name="attachment" aria-label="Attachment";
                button type="submit" { "Post" }
            }
        }
        form method="post" action="/me/signout" { (hidden_token(&session)) button type="submit" { "Sign out" } }
        @match &t {
            Ok(t) => {
                @if t.posts.is_empty() { p.muted { "Nothing yet: follow people or make friends." } }
                @for p in &t.posts { (post_card(p)) }
                @if let Some(last) = t.posts.last().filter(|_| t.posts.len() == 50) {
                    a href=(format!("/me?until={}", last.created_at.saturating_sub(1))) { "Older posts" }
                }
            }
            Err(e) => p.error { (e.to_string()) },
        }
    };
    layout("Home", true, body).into_response()
}

async fn compose(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    mut parts: Multipart,
) -> Response {
    let session = match signed_in(&ui, &headers, peer) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let mut fields = BTreeMap::new();
    let mut attachments: Vec<Attachment> = Vec::new();
    while let Ok(Some(field)) = parts.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "attachment" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let Ok(bytes) = field.bytes().await else {
                return failure(
                    StatusCode::BAD_REQUEST,
                    true,
                    "the attachment did not arrive whole",
                );
            };
            if file_name.is_empty() || bytes.is_empty() {
                continue;
            }
            let staging = match tempfile::tempdir() {
                Ok(d) => d,
                Err(e) => return failure(StatusCode::INTERNAL_SERVER_ERROR, true, &e.to_string()),
            };
            let path = staging
                .path()
                .join(file_name.replace(['/', '\\', ' '], "_"));
            if let Err(e) = std::fs::write(&path, &bytes) {
                return failure(StatusCode::INTERNAL_SERVER_ERROR, true, &e.to_string());
            }
            match prepare(&ui.data, &path, &ui.http_base) {
                Ok(a) => attachments.push(a),
                Err(e) => return failure(StatusCode::BAD_REQUEST, true, &e.to_string()),
            }
        } else if let Ok(text) = field.text().await {
            fields.insert(name, text);
        }
    }
    if fields.get("token") != Some(&form_token(&session)) {
        return failure(
            StatusCode::FORBIDDEN,
            true,
            "this form is stale or not from this node: reload the page",
        );
    }
    let visibility = match fields.get("visibility").map(String::as_str) {
        Some("friends") => Visibility::Friends,
        Some("private") => Visibility::Private,
        _ => Visibility::Public,
    };
    let text = fields.get("text").cloned().unwrap_or_default();
    match publish_post(
        &ui.owner,
        text.trim(),
        None,
        visibility,
        &attachments,
        &ui.relays,
        &local(&ui),
    )
    .await
    {
        Ok(_) => Redirect::to("/me").into_response(),
        Err(e) => failure(StatusCode::BAD_REQUEST, true, &e.to_string()),
    }
}

async fn friends_page(State(ui): Ui, ConnectInfo(peer): Peer, headers: HeaderMap) -> Response {
    let session = match signed_in(&ui, &headers, peer) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let state = match friendships(&ui.owner, &ui.relays, &local(&ui)).await {
        Ok(s) => s,
        Err(e) => return failure(StatusCode::BAD_GATEWAY, true, &e.to_string()),
    };
    // Requests the other side accepted are completed on sight, as `friend list` does.
    let friends = match settle(&ui.owner, &ui.relays, &state).await {
        Ok(added) => added.friends,
        Err(_) => state.friends.clone(),
    };
    let action = |what: &str, who: &str, label: &str| {
        html! {
            form.inline method="post" action="/me/friends" style="display:inline" {
                (hidden_token(&session))
                input type="hidden" name="action" value=(what);
                input type="hidden" name="who" value=(who);
                button type="submit" { (label) }
            }
        }
    };
    let body = html! {
        h1 { "Friends" }
        form.card method="post" action="/me/friends" aria-label="Friend request" {
            (hidden_token(&session))
            input type="hidden" name="action" value="request";
            input type="text" name="who" placeholder="npub…" aria-label="Who" required;
            input type="text" name="note" placeholder="A note" aria-label="Note";
            button type="submit" { "Send friend request" }
        }
        @if !state.incoming.is_empty() {
            h2 { "Requests to you" }
            @for r in &state.incoming {
                div.card.request {
                    (person_link(&r.from))
                    @if !r.text.is_empty() { ": " (r.text) }
                    " " (action("accept", &r.from, "Accept")) " " (action("reject", &r.from, "Reject")) " " (action("block", &r.from, "Block"))
                }
            }
        }
        @if !state.outgoing.is_empty() {
            h2 { "Your requests waiting" }
            @for r in &state.outgoing { div.card { (person_link(&r.to)) } }
        }
        h2 { "Your friends" }
        @if friends.is_empty() { p.muted { "No friends yet." } }
        ul.friends { @for f in &friends { li { (person_link(f)) " " a href=(format!("/me/messages/{f}")) { "message" } } } }
    };
    layout("Friends", true, body).into_response()
}

async fn friends_action(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let session = match signed_in(&ui, &headers, peer) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let fields = match form(&body, &session) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let Some(who) = fields
        .get("who")
        .and_then(|w| parse_public_key(w.trim()).ok())
    else {
        return failure(
            StatusCode::BAD_REQUEST,
            true,
            "that is not a key (npub or hex)",
        );
    };
    let mut state = local(&ui);
    let done: Result<(), String> = match fields.get("action").map(String::as_str) {
        Some("request") => {
            let note = fields.get("note").cloned().unwrap_or_default();
            request_friend(&ui.owner, who, &note, &ui.relays)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Some("accept") => accept_friend(&ui.owner, who, &ui.relays, &state)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Some("reject") => match reject_friend(&ui.owner, who, &ui.relays, &mut state).await {
            Ok(_) => state.save(&ui.data).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
        Some("block") => state
            .block(who)
            .map_err(|e| e.to_string())
            .and_then(|_| state.save(&ui.data).map_err(|e| e.to_string())),
        _ => Err("unknown action".into()),
    };
    match done {
        Ok(()) => Redirect::to("/me/friends").into_response(),
        Err(why) => failure(StatusCode::BAD_REQUEST, true, &why),
    }
}

/// Who a message is with, seen from `me`.
fn counterpart(m: &PrivateMessage, me: &PublicKey) -> PublicKey {
    if m.from == *me {
        m.to.iter().find(|p| *p != me).copied().unwrap_or(*me)
    } else {
        m.from
    }
}

async fn messages_page(State(ui): Ui, ConnectInfo(peer): Peer, headers: HeaderMap) -> Response {
    if let Err(r) = signed_in(&ui, &headers, peer) {
        return *r;
    }
    let inbox = match read_messages(&ui.owner, &ui.relays, &local(&ui)).await {
        Ok(i) => i,
        Err(e) => return failure(StatusCode::BAD_GATEWAY, true, &e.to_string()),
    };
    let me = ui.owner.public_key();
    let mut last: BTreeMap<PublicKey, &PrivateMessage> = BTreeMap::new();
    for m in &inbox.messages {
        last.insert(counterpart(m, &me), m);
    }
    let body = html! {
        h1 { "Messages" }
        @if last.is_empty() { p.muted { "No conversations yet." } }
        @for (who, m) in &last {
            div.card.conversation {
                a href=(format!("/me/messages/{}", npub(who))) { (super::short(&npub(who))) }
                div.meta { (date(m.created_at)) ": " (m.text) }
            }
        }
        @if !inbox.requests.is_empty() {
            h2 { "Requests (from people you neither follow nor befriended)" }
            @for m in &inbox.requests {
                div.card { (person_link(&npub(&m.from))) ": " (m.text) }
            }
        }
    };
    layout("Messages", true, body).into_response()
}

async fn conversation(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Path(who): Path<String>,
) -> Response {
    let session = match signed_in(&ui, &headers, peer) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let Ok(with) = parse_public_key(&who) else {
        return failure(
            StatusCode::BAD_REQUEST,
            true,
            "that is not a key (npub or hex)",
        );
    };
    let inbox = match read_messages(&ui.owner, &ui.relays, &local(&ui)).await {
        Ok(i) => i,
        Err(e) => return failure(StatusCode::BAD_GATEWAY, true, &e.to_string()),
    };
    let me = ui.owner.public_key();
    let body = html! {
        h1 { "Conversation with " (super::short(&npub(&with))) }
        @for m in inbox.messages.iter().chain(&inbox.requests).filter(|m| counterpart(m, &me) == with) {
            div.card.message {
                div.meta { @if m.from == me { "you" } @else { (super::short(&npub(&m.from))) } " · " (date(m.created_at)) }
                p.text { (m.text) }
            }
        }
        form.card method="post" action=(format!("/me/messages/{}", npub(&with))) aria-label="Write" {
            (hidden_token(&session))
            textarea name="text" rows="2" style="width:100%" aria-label="Message" required {}
            button type="submit" { "Send" }
        }
    };
    layout("Conversation", true, body).into_response()
}

async fn send(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Path(who): Path<String>,
    body: Bytes,
) -> Response {
    let session = match signed_in(&ui, &headers, peer) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let fields = match form(&body, &session) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let Ok(to) = parse_public_key(&who) else {
        return failure(
            StatusCode::BAD_REQUEST,
            true,
            "that is not a key (npub or hex)",
        );
    };
    let text = fields.get("text").cloned().unwrap_or_default();
    match send_message(&ui.owner, &[to], text.trim(), &ui.relays).await {
        Ok(_) => Redirect::to(&format!("/me/messages/{}", npub(&to))).into_response(),
        Err(e) => failure(StatusCode::BAD_GATEWAY, true, &e.to_string()),
    }
}

async fn notifications_page(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = signed_in(&ui, &headers, peer) {
        return *r;
    }
    let list = notifications(&ui.owner, &ui.relays, 100, &local(&ui)).await;
    let body = html! {
        h1 { "Notifications" }
        @match &list {
            Ok(list) if list.is_empty() => p.muted { "Nothing new." },
            Ok(list) => @for n in list {
                div.card {
                    (person_link(&n.from)) " "
                    (match n.kind {
                        NotificationKind::Reply => "replied",
                        NotificationKind::Mention => "mentioned you",
                        NotificationKind::Reaction => "reacted",
                        NotificationKind::Repost => "reposted your post",
                    })
                    " · " (date(n.created_at))
                    @if !n.text.is_empty() { p.text { (n.text) } }
                }
            },
            Err(e) => p.error { (e.to_string()) },
        }
    };
    layout("Notifications", true, body).into_response()
}

#[derive(serde::Deserialize)]
struct Search {
    q: Option<String>,
}

async fn discover_page(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Query(s): Query<Search>,
) -> Response {
    let session = match signed_in(&ui, &headers, peer) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let q = s.q.unwrap_or_default();
    let found = if q.trim().is_empty() {
        None
    } else {
        Some(discover(&ui.directories, &Who::parse(q.trim()), 20, Some(&ui.data)).await)
    };
    let body = html! {
        h1 { "Discover people" }
        form.search method="get" action="/me/discover" role="search" {
            input type="search" name="q" value=(q) placeholder="A name, name@domain or npub" aria-label="Find people";
            button type="submit" { "Find" }
        }
        @match &found {
            None => p.muted { "Directories: " (ui.directories.urls.join(", ")) },
            Some(Err(e)) => p.error { (e.to_string()) },
            Some(Ok(d)) => {
                @if d.people.is_empty() { p.muted { "Nobody found." } }
                @for p in &d.people {
                    div.card.person {
                        h3 { (p.profile.get("name").and_then(|v| v.as_str()).unwrap_or("(no name)")) }
                        div.meta { (person_link(&p.npub)) }
                        @if let Some(n) = &p.node {
                            div.meta { "node " code { (n.url) } " "
                                @if n.confirmed { span.badge.ok { "confirmed" } } @else { span.badge.bad { "unconfirmed" } } }
                        }
                        form method="post" action="/me/friends" style="display:inline" {
                            (hidden_token(&session))
                            input type="hidden" name="action" value="request";
                            input type="hidden" name="who" value=(p.npub);
                            button type="submit" { "Send friend request" }
                        }
                    }
                }
            }
        }
    };
    layout("Discover", true, body).into_response()
}

/// A person's public page: their profile and public posts, for anyone.
async fn person(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Path(who): Path<String>,
) -> Response {
    let signed = ui.sessions.session(&headers, peer.ip()).is_some();
    let Ok(key) = parse_public_key(&who) else {
        return failure(
            StatusCode::BAD_REQUEST,
            signed,
            "that is not a key (npub or hex)",
        );
    };
    let profile = seedstr_social::profile::profile(&ui.relays, &key).await;
    let filter = serde_json::json!({"kinds": [1], "authors": [key.to_hex()], "limit": 50});
    let found =
        seedstr_client::relays::query_all(&ui.relays.urls, &filter, ui.relays.timeout).await;
    let mut posts: Vec<Post> = found
        .events
        .iter()
        .filter(|e| e.pubkey == key && e.kind.as_u16() == 1)
        .map(|e| Post::of(e))
        .collect();
    posts.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let name = profile
        .as_ref()
        .ok()
        .and_then(|p| {
            p.fields
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| super::short(&npub(&key)));
    let body = html! {
        h1 { (name) }
        p.meta { code { (npub(&key)) } }
        @if let Ok(p) = &profile {
            @if let Some(about) = p.fields.get("about").and_then(|v| v.as_str()) { p { (about) } }
            @if let Some(c) = &p.nip05 {
                p.meta { (c.identifier) " " @if c.verified { span.badge.ok { "verified" } } @else { span.badge.bad { "not verified" } } }
            }
        }
        h2 { "Posts" }
        @if posts.is_empty() { p.muted { "No public posts here." } }
        @for p in &posts { (post_card(p)) }
    };
    layout(&name, signed, body).into_response()
}

/// A public thread, for anyone.
async fn thread_page(
    State(ui): Ui,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let signed = ui.sessions.session(&headers, peer.ip()).is_some();
    let Ok(id) = EventId::from_hex(&id) else {
        return failure(StatusCode::BAD_REQUEST, signed, "that is not an event id");
    };
    match thread(&ui.relays, id).await {
        Ok(t) => layout(
            "Thread",
            signed,
            html! {
                h1 { "Thread" }
                @for tp in &t.posts {
                    div style=(format!("margin-left:{}rem", tp.depth.min(8) * 2)) { (post_card(&tp.post)) }
                }
                @if t.orphans > 0 { p.muted { (t.orphans) " replies whose parent nobody holds" } }
            },
        )
        .into_response(),
        Err(e) => failure(StatusCode::NOT_FOUND, signed, &e.to_string()),
    }
}
