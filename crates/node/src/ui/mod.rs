//! The web UI: server-rendered pages over the same views the API returns, so the two never
//! disagree. Plain HTML and one stylesheet, no script and no build step; maud escapes every
//! value it prints.

mod authors;
mod packages;
mod pages;
pub mod session;
pub mod social;
mod zaps;

use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};

use crate::api::{ApiError, ApiState};

pub use pages::home;

/// The web pages' routes.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/search", get(pages::search))
        .route("/p/{*target}", get(pages::project))
        .route("/r/{*target}", get(pages::release))
        .route("/c/{*target}", get(pages::collection))
        .route("/pkg/{ns}/{*name}", get(packages::package))
        .route("/u/{author}", get(authors::author))
        .route("/f/{author}", get(authors::feed))
        .route("/status", get(pages::status))
        .route("/style.css", get(style))
        .with_state(state)
}

const STYLE: &str = include_str!("style.css");

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
}

/// A whole document: the head, the header's content, the main part, the footer if any.
pub(crate) fn document(title: &str, header: Markup, body: Markup, footer: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Seedstr" }
                link rel="stylesheet" href="/style.css";
            }
            body {
                header { (header) }
                main { (body) }
                @if let Some(f) = footer { footer { (f) } }
            }
        }
    }
}

/// A whole page: header with the search box, then `body`.
fn page(title: &str, query: &str, body: Markup) -> Markup {
    let header = html! {
        a.brand href="/" { "Seedstr" }
        form.search action="/search" method="get" role="search" {
            input type="search" name="q" value=(query) placeholder="Search projects, packages, collections" aria-label="Search";
            button type="submit" { "Search" }
        }
        nav {
            a href="/search?type=project" { "Projects" }
            a href="/search?type=package" { "Packages" }
            a href="/search?type=collection" { "Collections" }
            a href="/status" { "Node" }
        }
    };
    document(
        title,
        header,
        body,
        Some("Signed metadata on Nostr and the Mainline DHT, bytes over BitTorrent, trust from signatures and SHA-256."),
    )
}

/// An error as a page, with the status it deserves.
fn error_page(e: ApiError) -> Response {
    let status = e.status();
    let body = page(
        "Not here",
        "",
        html! {
            h1 { (if status == StatusCode::NOT_FOUND { "Not found" } else { "Cannot show this" }) }
            p.error { (e.message()) }
        },
    );
    (status, body).into_response()
}

/// An author's page.
fn author_link(npub: &str) -> String {
    format!("/u/{npub}")
}

/// `1a2b3c…` for long hex strings and keys.
fn short(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() > 20 {
        let head: String = chars[..12].iter().collect();
        let tail: String = chars[chars.len() - 6..].iter().collect();
        format!("{head}…{tail}")
    } else {
        s.to_owned()
    }
}

/// A Unix time as an HTTP date, in UTC.
fn date(secs: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Text with line breaks kept (changelogs, descriptions): escaped, never interpreted.
fn text_block(s: &str) -> Markup {
    html! { pre.text { (s) } }
}
