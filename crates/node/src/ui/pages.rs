//! The pages: home, search results, a project, a release, the node's status.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use seedstr_client::display::human_bytes;

use super::packages::package_link;
use super::zaps::{zap_count, zaps_section};
use super::{author_link, date, error_page, page, short, text_block};
use crate::api::collection::collection_view;
use crate::api::release::{project_view, release_view, ReleaseView, SeedersState};
use crate::api::search::{find, recent};
use crate::api::status::status_view;
use crate::api::zaps::project_zaps;
use crate::api::ApiState;
use seedstr_mods::search::{SearchHit, SearchParams};
use seedstr_proto::incident::IncidentView;

pub(super) fn project_link(author: &str, coordinate: &str) -> String {
    format!("/p/{author}/{coordinate}")
}

pub(super) fn release_link(author: &str, coordinate: &str, version: &str) -> String {
    format!("/r/{author}/{coordinate}@{version}")
}

/// A 1–5 rating as stars.
fn stars(rating: u8) -> String {
    let r = rating.min(5) as usize;
    format!("{}{}", "★".repeat(r), "☆".repeat(5 - r))
}

/// The API's download URL for one file, checked against the release before it is sent.
fn download_link(release: &str, path: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("release", release)
        .append_pair("path", path)
        .finish();
    format!("/api/v1/download?{query}")
}

/// `GET /` for a browser: search, and what this node holds most recently.
pub async fn home(state: Arc<ApiState>) -> Response {
    let recent_projects = recent(
        &state,
        &SearchParams {
            limit: Some(10),
            ..SearchParams::default()
        },
    )
    .await;
    let packages = recent(
        &state,
        &SearchParams {
            kind: Some("package".into()),
            limit: Some(10),
            ..SearchParams::default()
        },
    )
    .await;
    // Two figures the seeder already publishes; the full status reads the seed registry.
    let torrents = state.status.seeding_stats().torrents;
    let body = html! {
        h1 { "Find, verify and install" }
        p.muted {
            "This node relays signed releases and serves their bytes: "
            (torrents) " torrents seeded, DHT "
            (state.status.dht.get().as_str()) "."
        }
        h2 { "Recent projects" }
        @match recent_projects {
            Ok(r) => (results(&r.results)),
            Err(e) => p.error { (e.message()) },
        }
        p { a href="/search?type=project" { "All projects" } }
        h2 { "Recent packages" }
        @match packages {
            Ok(r) => (results(&r.results)),
            Err(e) => p.error { (e.message()) },
        }
        p { a href="/search?type=package" { "All packages" } }
    };
    page("Home", "", body).into_response()
}

/// Search results as cards.
pub(super) fn results(hits: &[SearchHit]) -> Markup {
    let by =
        |author: &str| html! { " by " a href=(author_link(author)) { code { (short(author)) } } };
    html! {
        @if hits.is_empty() {
            p.muted { "Nothing here yet." }
        }
        @for hit in hits {
            div.card.result {
                @match hit {
                    SearchHit::Project(p) => {
                        h3 { a href=(project_link(&p.author, &p.coordinate)) { (p.name) } }
                        div.meta { code { (p.coordinate) } (by(&p.author)) }
                        @if !p.summary.is_empty() { p { (p.summary) } }
                    }
                    SearchHit::Collection(c) => {
                        h3 { a href=(format!("/c/{}/{}", c.author, c.d)) { (c.name) } }
                        div.meta { code { (c.d) } (by(&c.author)) }
                        @if !c.summary.is_empty() { p { (c.summary) } }
                    }
                    SearchHit::Package(r) => {
                        @let package = r.package.as_deref().unwrap_or_default();
                        h3 {
                            a href=(package_link(&r.ns, package)) { (package) }
                            " "
                            a href=(release_link(&r.author, &r.coordinate, &r.version)) { (r.version) }
                        }
                        div.meta {
                            span.badge.info { (r.ns) } (by(&r.author))
                            " · " (human_bytes(r.size)) " · " (date(r.published_at))
                        }
                    }
                    SearchHit::Release(r) => {
                        @let title = r.package.as_deref().unwrap_or(&r.coordinate);
                        h3 {
                            a href=(release_link(&r.author, &r.coordinate, &r.version)) {
                                (title) " " (r.version)
                            }
                        }
                        div.meta {
                            code { (r.coordinate) } (by(&r.author))
                            " · " (human_bytes(r.size)) " · " (date(r.published_at))
                        }
                    }
                }
            }
        }
    }
}

/// `GET /search?q=&type=`.
pub async fn search(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<SearchParams>,
) -> Response {
    let kind = params.kind.clone().unwrap_or_else(|| "project".into());
    let found = find(&state, &params).await;
    let body = html! {
        form.filters action="/search" method="get" {
            input type="hidden" name="q" value=(params.q);
            select name="type" aria-label="What to search" {
                @for (value, label) in [("project", "Projects"), ("release", "Releases"), ("package", "Packages"), ("collection", "Collections")] {
                    option value=(value) selected[kind == value] { (label) }
                }
            }
            button type="submit" { "Filter" }
        }
        @if params.q.trim().is_empty() {
            h1 { (match kind.as_str() { "package" => "Packages", "release" => "Releases", "collection" => "Collections", _ => "Projects" }) }
        } @else {
            h1 { "Results for “" (params.q) "”" }
        }
        @match found {
            Ok(r) => (results(&r.results)),
            Err(e) => p.error { (e.message()) },
        }
    };
    page("Search", &params.q, body).into_response()
}

/// The banners of the incidents in `incidents` (authoritative ones block installs).
pub(super) fn incident_banners(incidents: &[IncidentView]) -> Markup {
    html! {
        @for i in incidents.iter().filter(|i| !i.withdrawn) {
            div class=(if i.authoritative { "banner incident" } else { "banner warning" }) role="alert" {
                strong {
                    (if i.authoritative { "Security incident" } else { "Reported by someone else" })
                    " (" (i.severity.as_str()) ", versions " (i.versions) "): " (i.summary)
                }
                @if !i.instructions.is_empty() { span { (i.instructions) } }
                @if i.authoritative {
                    " " span.muted { "Installs of these versions are refused." }
                } @else {
                    " " span.muted { "Not signed by the author: shown, not enforced. Signed by " (short(&i.signer)) "." }
                }
            }
        }
    }
}

/// What the swarm said of a release, or that it is being asked.
fn seeders(state: &SeedersState) -> Markup {
    let checked = match state {
        SeedersState::Checked(checked) => checked,
        SeedersState::Checking { .. } => {
            return html! {
                "asking the swarm now — " a href="" { "reload" } " in a few seconds"
            }
        }
    };
    let counted = &checked.counted;
    let seeders = counted.seeders;
    html! {
        strong { (seeders) " seeder" (if seeders == 1 { "" } else { "s" }) }
        ", " (counted.partial) " downloading, " (counted.unreachable) " unreachable"
        @if counted.tracker_seeders > 0 { "; trackers count " (counted.tracker_seeders) }
        " " span.muted {
            "(peers from " (if checked.dht_asked { "the DHT and " } else { "" })
            "the trackers, each asked what it holds, " (date(checked.checked_at)) ")"
        }
        @let known: Vec<_> = counted.health.peers.iter()
            .filter_map(|p| p.reputation.as_ref().map(|r| (p, r))).collect();
        @if !known.is_empty() {
            ul.reputation {
                @for (p, r) in known {
                    li {
                        code { (p.addr) } " — seen here: "
                        (seedstr_client::display::human_bytes(r.delivered_bytes)) " in "
                        (r.transfers) " transfer" (if r.transfers == 1 { "" } else { "s" }) ", "
                        (r.good_pieces) " good, " (r.bad_pieces) " bad pieces"
                        @if let Some(ms) = r.first_piece_ms { ", first piece in " (ms) " ms" }
                        @if r.banned(checked.checked_at) { strong { " — left out after bad pieces" } }
                    }
                }
            }
        }
    }
}

/// `GET /p/<npub>/<ns>.<slug>`.
pub async fn project(State(state): State<Arc<ApiState>>, Path(target): Path<String>) -> Response {
    let p = match project_view(&state, &target).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let zaps = match project_zaps(&state, &p).await {
        Ok(z) => z,
        Err(e) => return error_page(e),
    };
    let (author, coordinate) = (p.author.as_str(), p.coordinate.as_str());
    let title = p.name.clone().unwrap_or_else(|| coordinate.to_owned());
    let body = html! {
        (incident_banners(&p.incidents))
        h1 { (title) }
        p.meta { code { (coordinate) } " by " a href=(author_link(author)) { code { (author) } } }
        @if let Some(summary) = &p.summary { p { (summary) } }
        @if let Some(d) = &p.description { @if !d.is_empty() { (text_block(d)) } }
        (zaps_section(&zaps, &[]))
        h2 { "Versions" }
        table {
            thead { tr { th { "Version" } th { "Published" } th { "Size" } th { "Zaps" } } }
            tbody {
                @for v in &p.versions {
                    tr {
                        td {
                            a href=(release_link(author, coordinate, &v.version)) { (v.version) }
                            @if v.blocked_by.is_some() { span.badge.bad { "incident" } }
                        }
                        td { (date(v.published_at)) }
                        td { (human_bytes(v.size)) }
                        td { (zap_count(zaps.on(&v.address))) }
                    }
                }
            }
        }
    };
    page(&title, "", body).into_response()
}

/// A release's facts: what was checked, where its bytes are.
fn facts(r: &ReleaseView) -> Markup {
    let v = &r.verification;
    let chain = v.chain.links.len();
    html! {
        dl.facts {
            dt { "Signature" } dd { "valid (checked by this node)" }
            dt { "Supersedes chain" } dd {
                (chain) " earlier release" (if chain == 1 { "" } else { "s" }) " linked"
                @if let Some(from) = &v.chain.unverified_from { ", not checked from " (from) }
            }
            dt { "Seeded here" } dd { (if r.seeded_here { "yes" } else { "no" }) }
            dt { "Seeders" } dd.seeders { (seeders(&r.seeders)) }
            dt { "Size" } dd { (human_bytes(r.size)) }
            dt { "Infohash" } dd.hash { (r.infohash) }
            dt { "Magnet" } dd { a.hash href=(r.magnet) { "magnet link" } }
            @if let Some(package) = &r.package {
                dt { "Integrity" } dd.hash { (package.integrity) }
            }
            dt { "Event" } dd.hash { (r.event_id) }
        }
    }
}

/// What people said of a release: reviews and compatibility reports.
fn community(r: &ReleaseView) -> Markup {
    html! {
        h2 { "Reviews" }
        @let reviews = &r.reviews.items;
        @if reviews.is_empty() {
            p.muted { "No reviews yet." }
        } @else {
            p { (format!("{:.1}", r.reviews.mean_rating.unwrap_or_default())) " / 5 from " (reviews.len()) " review" (if reviews.len() == 1 { "" } else { "s" }) }
            @for x in reviews {
                div.card.review {
                    strong { (stars(x.rating)) } " " span.meta { code { (short(&x.author)) } " · " (date(x.at)) }
                    @if !x.text.is_empty() { p { (x.text) } }
                }
            }
        }
        @if !r.compatibility.is_empty() {
            h2 { "Compatibility" }
            table.compat {
                thead { tr { th { "Game version" } th { "Status" } th { "Tested with" } th { "Notes" } th { "Reporter" } } }
                tbody {
                    @for c in &r.compatibility {
                        tr {
                            td { code { (c.game_version) } }
                            td { span class=(format!("badge {}", match c.status { "works" => "ok", "broken" => "bad", _ => "info" })) { (c.status) } }
                            td { @for w in &c.with { code { (short(w)) } " " } }
                            td { (c.notes) }
                            td { code { (short(&c.reporter)) } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /r/<npub>/<ns>.<slug>[@<version>]`.
pub async fn release(State(state): State<Arc<ApiState>>, Path(target): Path<String>) -> Response {
    let r = match release_view(&state, &target).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let (author, coordinate, version) = (&r.author, &r.coordinate, &r.version);
    let v = &r.verification;
    let title = match (&r.package, &r.name) {
        (Some(package), _) => format!("{} {version}", package.name),
        (None, Some(name)) => format!("{name} {version}"),
        _ => format!("{coordinate} {version}"),
    };
    let blocked = v.blocked_by.is_some();
    let body = html! {
        (incident_banners(&v.incidents))
        h1 { (title)
            @if blocked { span.badge.bad { "blocked" } } @else { span.badge.ok { "verified" } }
        }
        p.meta {
            a href=(project_link(author, coordinate)) { code { (coordinate) } }
            " by " a href=(author_link(author)) { code { (author) } } " · published " (date(r.published_at))
            @if let Some(package) = &r.package {
                " · " a href=(package_link(coordinate.split('.').next().unwrap_or_default(), &package.name)) { "package page" }
            }
        }
        (facts(&r))
        h2 { "Files" }
        @let spec = format!("{author}/{coordinate}@{version}");
        table.files {
            thead { tr { th { "Path" } th { "Size" } th { "SHA-256" } } }
            tbody {
                @for f in &r.files {
                    tr {
                        td {
                            code { (f.path) }
                            @if !blocked {
                                " " a.download href=(download_link(&spec, &f.path)) { "download" }
                            }
                        }
                        td { (human_bytes(f.size)) }
                        td.hash { (f.sha256) }
                    }
                }
            }
        }
        @if !r.changelog.is_empty() {
            h2 { "Changelog" }
            (text_block(&r.changelog))
        }
        @if !r.dependencies.is_empty() {
            h2 { "Dependencies" }
            ul { @for d in &r.dependencies { li { code { (d.address) } " " (d.versions) " (" (d.kind) ")" } } }
        }
        (zaps_section(&r.zaps, &r.zap_splits))
        (community(&r))
        @if !v.rejected.is_empty() {
            h2 { "Refused events claiming this project" }
            ul { @for x in &v.rejected { li { code { (short(&x.event_id)) } ": " (x.reason) } } }
        }
    };
    page(&title, "", body).into_response()
}

/// `GET /c/<npub>/<game>.collection.<slug>`.
pub async fn collection(
    State(state): State<Arc<ApiState>>,
    Path(target): Path<String>,
) -> Response {
    let c = match collection_view(&state, &target).await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let title = c.name.clone();
    let body = html! {
        @for m in &c.mods {
            @if let Some(i) = &m.incident {
                div.banner.incident role="alert" {
                    strong {
                        "Security incident in " (m.coordinate) " " (m.version)
                        " (" (i.severity.as_str()) "): " (i.summary)
                    }
                    span { (i.instructions) }
                    " " span.muted { "Installing this collection is refused until the curator replaces it." }
                }
            }
        }
        h1 { (title) }
        p.meta {
            "A collection for " code { (c.game) }
            @if let Some(v) = &c.game_version { ", tested on " code { (v) } }
            " by " code { (c.author) } " · updated " (date(c.updated_at))
        }
        @if !c.description.is_empty() { (text_block(&c.description)) }
        h2 { "Mods, in install order" }
        table.mods {
            thead { tr { th { "#" } th { "Release" } th { "Author" } th { "Infohash" } } }
            tbody {
                @for (i, m) in c.mods.iter().enumerate() {
                    tr {
                        td { (i + 1) }
                        td {
                            a href=(release_link(&m.author, &m.coordinate, &m.version)) {
                                (m.coordinate) " " (m.version)
                            }
                            @if m.blocked_by.is_some() { span.badge.bad { "incident" } }
                        }
                        td { code { (short(&m.author)) } }
                        td.hash { (m.infohash) }
                    }
                }
            }
        }
        @if !c.load_order.is_empty() {
            h2 { "Load order" }
            ol { @for p in &c.load_order { li { code { (p) } } } }
        }
        (zaps_section(&c.zaps, &c.zap_splits))
    };
    page(&title, "", body).into_response()
}

/// `GET /status`.
pub async fn status(State(state): State<Arc<ApiState>>) -> Response {
    let st = status_view(&state);
    let body = html! {
        h1 { "This node" }
        dl.facts {
            dt { "Version" } dd { (st.version) }
            dt { "Up for" } dd { (st.uptime_secs) " s" }
            dt { "Relay" } dd { (st.relay.connections) " connections, " (st.relay.subscriptions) " subscriptions, " (st.relay.events_saved) " events stored since start" }
            dt { "BitTorrent" } dd { "peers connect to " code { (st.seeding.listen) } "; " (st.seeding.peers) " connected, " (human_bytes(st.seeding.uploaded_bytes)) " uploaded" }
            dt { "DHT" } dd { (st.dht.state.as_str()) ", " (st.dht.announces) " announces, " (st.dht.records_kept) " records kept" }
            dt { "Relays asked" } dd { @for r in &st.relays { code { (r) } " " } }
        }
        @if let Some(ilp) = &state.ilp {
            @let v = ilp.view();
            h2 { "Interledger" }
            p.meta { "Address " code { (v.address) } ", BTP at " code { (v.btp) } ", in " (v.asset.0) " (scale " (v.asset.1) "). Its receiver took " (v.received.money) "." }
            table.ilp {
                thead { tr { th { "Peer" } th { "Owes us" } th { "Received" } th { "Paid" } th { "Settled to us" } th { "Settled by us" } th { "In flight" } } }
                tbody {
                    @for (peer, a) in &v.accounts {
                        tr {
                            td { code { (peer) } }
                            td { (a.balance) }
                            td { (a.received) }
                            td { (a.paid) }
                            td { (a.settled) }
                            td { (a.settled_out) }
                            td { (a.pending_in) " in, " (a.pending_out) " out" }
                        }
                    }
                }
            }
            @if !v.due_for_settlement.is_empty() {
                p { "Due for settlement: " @for (peer, amount) in &v.due_for_settlement { code { (peer) } " " (amount) " " } }
            }
            p.meta { "Served over STREAM: " (v.served.sessions) " sessions, " (v.served.messages) " messages, " (v.served.pushed) " answers pushed, " (v.served.refunded) " refunded." }
            @if !v.following.is_empty() {
                table.ilp {
                    thead { tr { th { "Following" } th { "Their node" } th { "Peered" } th { "State" } th { "Paid" } th { "Events" } } }
                    tbody {
                        @for f in &v.following {
                            tr { td { code { (f.person) } } td { code { (f.node) } } td { (if f.peered { "yes" } else { "through peers" }) } td { (f.state) } td { (f.paid) } td { (f.events) } }
                        }
                    }
                }
            }
            @if let Some(s) = &v.settlement {
                h3 { "Payment channels" }
                p.meta { "Settles on chain " (s.chain_id) " through " code { (s.contract.to_string()) } " as " code { (s.address.to_string()) } "." }
                table.ilp {
                    thead { tr { th { "Peer" } th { "Way" } th { "Channel" } th { "Deposit" } th { "Claimed" } th { "Cashed" } } }
                    tbody {
                        @for (peer, o) in &s.channels.outgoing {
                            tr { td { code { (peer) } } td { "we pay" } td.hash { (o.id.to_string()) } td { (o.deposit.to_string()) } td { (o.acknowledged.to_string()) } td { "" } }
                        }
                        @for (peer, i) in &s.channels.incoming {
                            tr { td { code { (peer) } } td { "pays us" } td.hash { (i.channel.id.to_string()) } td { (i.channel.deposit.to_string()) } td { (i.channel.taken().to_string()) } td { (i.cashed.to_string()) } }
                        }
                    }
                }
            }
        }
        h2 { "Seeding" }
        table {
            thead { tr { th { "Release" } th { "Origin" } th { "Infohash" } } }
            tbody {
                @for p in &st.seeding.registered {
                    tr { td { code { (p.release) } } td { (p.origin.as_str()) } td.hash { (p.infohash) } }
                }
            }
        }
    };
    page("Node status", "", body).into_response()
}
