//! The package page: versions as installs see them, who may publish, what it needs and what
//! needs it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use seedstr_client::display::human_bytes;

use super::pages::incident_banners;
use super::{author_link, date, error_page, page, short};
use crate::api::package::package_view;
use crate::api::ApiState;

/// Where the package page of `name` in `ns` lives (scoped npm names keep their slash).
pub(super) fn package_link(ns: &str, name: &str) -> String {
    format!("/pkg/{ns}/{name}")
}

/// `GET /pkg/<ns>/<name>`.
pub async fn package(
    State(state): State<Arc<ApiState>>,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    let p = match package_view(&state, &ns, &name).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let name = p.name.clone();
    let install = match ns.as_str() {
        "npm" => format!("seedstr pkg install {name}"),
        _ => format!(
            "{name} = \"{}\"  # in Cargo.toml, with the node's index as a source",
            p.latest.as_deref().unwrap_or("*")
        ),
    };
    let body = html! {
        (incident_banners(&p.incidents))
        @if let Some(why) = &p.check_error {
            div.banner.warning role="alert" {
                strong { "Not checked against a publisher registry: " (why) }
                " " span.muted { "The versions below are shown as signed, but installs would refuse them until a trusted registry maps their publisher." }
            }
        }
        h1 { (name)
            @if let Some(latest) = &p.latest { " " span.muted { (latest) } }
        }
        p.meta { span.badge.info { (ns) } " package" }
        pre.text.install { (install) }
        h2 { "Publishers" }
        @if p.publishers.is_empty() {
            p.muted { "No trusted registry names a publisher for this package." }
        }
        ul.publishers {
            @for k in &p.publishers {
                li {
                    a href=(author_link(&k.key)) { code { (short(&k.key)) } }
                    @if !k.mapped_by.is_empty() {
                        " " span.muted { "mapped by " @for r in &k.mapped_by { code { (short(r)) } " " } }
                    }
                }
            }
        }
        h2 { "Versions" }
        @if p.versions.is_empty() { p.muted { "No version can be installed." } }
        table.versions {
            thead { tr { th { "Version" } th { "Publisher" } th { "Published" } th { "Size" } th { "Integrity" } } }
            tbody {
                @for v in &p.versions {
                    tr {
                        td { a href=(format!("/r/{}", v.release)) { (v.version) } }
                        td { code { (short(&v.signer)) } }
                        td { (date(v.published_at)) }
                        td { (human_bytes(v.size)) }
                        td.hash { (short(&v.integrity)) }
                    }
                }
            }
        }
        @if !p.refused.is_empty() {
            h2 { "Refused" }
            ul.refused { @for r in &p.refused { li { code { (r.spec) } ": " (r.why) } } }
        }
        h2 { "Dependencies" }
        @if p.dependencies.is_empty() { p.muted { "None." } }
        ul.dependencies {
            @for d in &p.dependencies {
                li { a href=(package_link(&ns, &d.name)) { (d.name) } " " code { (d.range) }
                     @if d.kind != "normal" { " " span.muted { "(" (d.kind) ")" } } }
            }
        }
        h2 { "Dependents" }
        @if p.dependents.is_empty() { p.muted { "No package this node holds depends on it." } }
        ul.dependents {
            @for d in &p.dependents {
                li { a href=(package_link(&ns, &d.name)) { (d.name) } " " (d.version)
                     " needs " code { (d.range) } }
            }
        }
    };
    page(&name, "", body).into_response()
}
