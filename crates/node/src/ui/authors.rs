//! An author's page (what this node holds of theirs) and their relay-less feed as the DHT
//! serves it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::pages::results;
use super::zaps::zap_count;
use super::{date, error_page, page, short};
use crate::api::author::author_view;
use crate::api::feed::feed_view;
use crate::api::ApiState;
use seedstr_pay::totals::TargetTotal;

/// `GET /u/<npub>`.
pub async fn author(State(state): State<Arc<ApiState>>, Path(key): Path<String>) -> Response {
    let a = match author_view(&state, &key).await {
        Ok(a) => a,
        Err(e) => return error_page(e),
    };
    let npub = a.author.clone();
    let profile = a.profile.as_ref();
    let name = profile
        .and_then(|p| p.name.clone())
        .unwrap_or_else(|| short(&npub));
    let body = html! {
        h1 { (name) }
        p.meta { code.hash { (npub) } }
        @if let Some(about) = profile.and_then(|p| p.about.as_ref()) { p { (about) } }
        @if let Some(site) = profile.and_then(|p| p.website.as_ref()) { p { "Website: " code { (site) } } }
        p { (zap_count(TargetTotal { msat: a.zaps.total_msat, zaps: a.zaps.zaps.len() })) }
        p { a href=(format!("/f/{npub}")) { "Read this author's feed from the DHT" }
            " " span.muted { "— what they publish without relays, checked against their key." } }
        h2 { "Projects" }
        (results(&a.projects))
        h2 { "Packages" }
        (results(&a.packages))
        h2 { "Collections" }
        (results(&a.collections))
    };
    page(&name, "", body).into_response()
}

/// `GET /f/<npub>`: waits for the DHT and the swarm when the feed was not read recently.
pub async fn feed(State(state): State<Arc<ApiState>>, Path(key): Path<String>) -> Response {
    let f = match feed_view(&state, &key).await {
        Ok(f) => f,
        Err(e) => return error_page(e),
    };
    let author = f.author.clone();
    let body = html! {
        h1 { "Feed of " a href=(format!("/u/{author}")) { code { (short(&author)) } } }
        p.muted {
            "Read from the Mainline DHT and the swarm at " (date(f.read_at))
            "; every event below is signed by this author and was checked."
        }
        dl.facts {
            dt { "Pointer" } dd { "sequence " (f.seq) ", signed " (date(u64::try_from(f.updated_at).unwrap_or_default())) }
            dt { "Index torrent" } dd.hash { (f.infohash) }
            dt { "Fetched from" } dd { (f.fetched_from) }
            dt { "Transport key from" } dd { (f.key_source.as_str()) }
            dt { "Events" } dd { (f.events.len()) @if !f.refused.is_empty() { ", " (f.refused.len()) " lines refused" } }
        }
        table.feed {
            thead { tr { th { "When" } th { "What" } th { "Event" } } }
            tbody {
                @for e in &f.events {
                    tr {
                        td { (date(e.created_at)) }
                        td { @match &e.link {
                            Some(link) => a href=(link) { (e.what) },
                            None => (e.what),
                        } }
                        td.hash { (short(&e.id)) }
                    }
                }
            }
        }
        @if !f.refused.is_empty() {
            h2 { "Refused lines" }
            ul { @for r in &f.refused { li { "line " (r.line) ": " (r.reason) } } }
        }
    };
    page("Feed", "", body).into_response()
}
